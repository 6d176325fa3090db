//! The parser: mirrors `re._parser._parse_sub` and `_parse`, with the same
//! error cases and the same group numbering.

use super::checks::check;
use super::parsed::{flag_of, is_alpha_token, At, Cat, Item, Node, Parsed, Rep, Span};
use super::tokenizer::{escaped_char, first_char, is_identifier, is_oct, Source};
use super::{
    perr, PResult, PatternError, F_A, F_L, F_T, F_U, F_X, GLOBAL_FLAGS, MAXGROUPS, MAXREPEAT,
    TYPE_FLAGS,
};

struct Parser<'a> {
    src: Source<'a>,
    /// Global flags (`state.flags`).
    flags: u16,
    /// Span of the global flag group that last set a type flag (`a`, `u`).
    type_flag_span: Span,
    names: Vec<(String, usize)>,
    /// `closed[g]`: group `g` has been closed (index 0 is the whole match).
    closed: Vec<bool>,
    lookbehind_groups: Option<usize>,
    /// Conditional references by number, first position of each.
    groupref_pos: Vec<(u64, Span)>,
    /// Where the (unsupported) TEMPLATE flag was set.
    template_span: Option<Span>,
}

pub(super) fn parse(pattern: &str) -> PResult<Parsed> {
    let mut p = Parser {
        src: Source::new(pattern)?,
        flags: 0,
        type_flag_span: (0, 0),
        names: Vec::new(),
        closed: vec![false],
        lookbehind_groups: None,
        groupref_pos: Vec::new(),
        template_span: None,
    };
    let root = p.parse_sub(false, 0)?;
    // fix_flags
    if p.flags & F_A != 0 && p.flags & F_U != 0 {
        let (s, e) = p.type_flag_span;
        return Err(perr(
            s,
            e,
            "ASCII and UNICODE flags are incompatible",
            "use only one of (?a) and (?u)",
        ));
    }
    if let Some((s, e)) = p.src.next {
        return Err(perr(
            s,
            e,
            "unbalanced parenthesis",
            "remove this ')' or escape it as \\)",
        ));
    }
    let groups = p.closed.len() as u64;
    for &(g, (s, e)) in &p.groupref_pos {
        if g >= groups {
            return Err(perr(
                s,
                e,
                format!("invalid group reference {g}"),
                format!("the pattern has {} group(s)", groups - 1),
            ));
        }
    }
    if let Some((s, e)) = p.template_span {
        return Err(perr(
            s,
            e,
            "the TEMPLATE flag (?t) is not supported",
            "remove the 't' flag",
        ));
    }
    let mut names: Vec<(usize, String)> = p.names.into_iter().map(|(n, i)| (i, n)).collect();
    names.sort();
    let parsed = Parsed {
        root,
        flags: p.flags,
        group_count: p.closed.len() - 1,
        names,
    };
    let mut widths = vec![(0, 0); parsed.group_count + 1];
    check(&parsed.root, parsed.flags, &mut widths)?;
    Ok(parsed)
}

impl<'a> Parser<'a> {
    fn groups(&self) -> usize {
        self.closed.len()
    }

    fn checkgroup(&self, gid: usize) -> bool {
        gid < self.groups() && self.closed[gid]
    }

    fn checklookbehindgroup(&self, gid: usize, span: Span) -> PResult<()> {
        if let Some(lb) = self.lookbehind_groups {
            if !self.checkgroup(gid) {
                return Err(perr(
                    span.0,
                    span.1,
                    "cannot refer to an open group",
                    "a group can only be referred to after its closing parenthesis",
                ));
            }
            if gid >= lb {
                return Err(perr(
                    span.0,
                    span.1,
                    "cannot refer to group defined in the same lookbehind subpattern",
                    "move the group out of the look-behind",
                ));
            }
        }
        Ok(())
    }

    fn checkgroupname(&self, name: &str, start: usize) -> PResult<()> {
        if is_identifier(name) {
            Ok(())
        } else {
            Err(perr(
                start,
                start + name.len(),
                format!("bad character in group name '{name}'"),
                "a group name must be an identifier: letters, digits and '_', not starting with a digit",
            ))
        }
    }

    fn parse_sub(&mut self, verbose: bool, nested: usize) -> PResult<Node> {
        let start = self.src.tell();
        let mut verbose = verbose;
        let mut items = Vec::new();
        loop {
            let first = nested == 0 && items.is_empty();
            items.push(self.parse_seq(verbose, nested + 1, first)?);
            if !self.src.matches("|")? {
                break;
            }
            if nested == 0 {
                verbose = self.flags & F_X != 0;
            }
        }
        if items.len() == 1 {
            return Ok(items.pop().expect("one item"));
        }
        Ok(Node::Alt {
            branches: items,
            span: (start, self.src.tell()),
        })
    }

    fn parse_seq(&mut self, verbose: bool, nested: usize, first: bool) -> PResult<Node> {
        let seq_start = self.src.tell();
        let mut verbose = verbose;
        let mut seq: Vec<Node> = Vec::new();
        while let Some(this) = self.src.peek() {
            if this == "|" || this == ")" {
                break;
            }
            let start = self.src.tell();
            self.src.advance()?;
            if verbose {
                if matches!(this, " " | "\t" | "\n" | "\r" | "\x0B" | "\x0C") {
                    continue;
                }
                if this == "#" {
                    loop {
                        match self.src.get()? {
                            None | Some((_, "\n")) => break,
                            _ => {}
                        }
                    }
                    continue;
                }
            }
            let c = first_char(this);
            if c == '\\' {
                let node = self.escape(this, start)?;
                seq.push(node);
            } else if !".[{()*+?^$|".contains(c) {
                seq.push(Node::Lit {
                    c: c as u32,
                    span: (start, self.src.tell()),
                });
            } else if c == '[' {
                let node = self.parse_class(start)?;
                seq.push(node);
            } else if "*+?{".contains(c) {
                self.parse_repeat(c, start, &mut seq)?;
            } else if c == '.' {
                seq.push(Node::Any {
                    span: (start, self.src.tell()),
                });
            } else if c == '(' {
                match self.parse_group(start, verbose, nested, first && seq.is_empty())? {
                    GroupOutcome::Node(node) => seq.push(node),
                    GroupOutcome::Nothing => {}
                    GroupOutcome::GlobalFlags => verbose = self.flags & F_X != 0,
                }
            } else if c == '^' {
                seq.push(Node::At {
                    at: At::Beginning,
                    span: (start, self.src.tell()),
                });
            } else {
                // '$'
                seq.push(Node::At {
                    at: At::End,
                    span: (start, self.src.tell()),
                });
            }
        }
        Ok(Node::Seq {
            items: seq,
            span: (seq_start, self.src.tell()),
        })
    }
}

enum GroupOutcome {
    Node(Node),
    /// A comment `(?#…)`.
    Nothing,
    /// Global flags `(?i)`; `Parser::flags` was updated.
    GlobalFlags,
}

/// What the opening of a group with contents says about it: `(`, `(?:`,
/// `(?>`, `(?P<name>` or `(?flags:`.
struct GroupHead {
    capture: bool,
    atomic: bool,
    name: Option<(String, usize)>,
    add: u16,
    del: u16,
}

impl<'a> Parser<'a> {
    fn escape(&mut self, this: &'a str, start: usize) -> PResult<Node> {
        let c = escaped_char(this);
        let at = |at: At, p: &Self| Node::At {
            at,
            span: (start, p.src.tell()),
        };
        match c {
            'A' => return Ok(at(At::BeginString, self)),
            'b' => return Ok(at(At::Boundary, self)),
            'B' => return Ok(at(At::NonBoundary, self)),
            'Z' => return Ok(at(At::EndString, self)),
            _ => {}
        }
        if let Some(cat) = category(c) {
            return Ok(Node::Class {
                negate: false,
                items: vec![Item::Cat(cat)],
                span: (start, self.src.tell()),
            });
        }
        let lit = |v: u32, p: &Self| Node::Lit {
            c: v,
            span: (start, p.src.tell()),
        };
        if let Some(v) = simple_escape(c) {
            return Ok(lit(v, self));
        }
        match c {
            'x' | 'u' | 'U' | 'N' => {
                let v = self.escape_code(c, start)?;
                Ok(lit(v, self))
            }
            '0' => {
                let digits = self.src.getwhile(2, is_oct)?;
                let v = u32::from_str_radix(&format!("0{digits}"), 8).unwrap_or(0);
                Ok(lit(v, self))
            }
            '1'..='9' => self.escape_number(c, start),
            c if c.is_ascii_alphabetic() => Err(bad_escape(this, start, self.src.tell())),
            c => Ok(lit(c as u32, self)),
        }
    }

    /// An escape `\` followed by the digit `c` (1 to 9): an octal escape
    /// when three octal digits follow the `\`, else a group reference (the
    /// `c in DIGITS` case of `_escape`).
    fn escape_number(&mut self, c: char, start: usize) -> PResult<Node> {
        let mut digits = String::from(c);
        if let Some(d) = self.src.peek_char_if(|d| d.is_ascii_digit()) {
            self.src.advance()?;
            digits.push(d);
            if is_oct(c) && is_oct(d) {
                if let Some(e) = self.src.peek_char_if(is_oct) {
                    self.src.advance()?;
                    digits.push(e);
                    let v = u32::from_str_radix(&digits, 8).unwrap_or(u32::MAX);
                    if v > 0o377 {
                        return Err(perr(
                            start,
                            self.src.tell(),
                            format!("octal escape value \\{digits} outside of range 0-0o377"),
                            "octal escapes go up to \\377; use \\uXXXX for larger code points",
                        ));
                    }
                    return Ok(Node::Lit {
                        c: v,
                        span: (start, self.src.tell()),
                    });
                }
            }
        }
        let group: usize = digits.parse().unwrap_or(usize::MAX);
        let span = (start, self.src.tell());
        if group < self.groups() {
            if !self.checkgroup(group) {
                return Err(perr(
                    span.0,
                    span.1,
                    "cannot refer to an open group",
                    "a back-reference must come after the closing parenthesis of its group",
                ));
            }
            self.checklookbehindgroup(group, span)?;
            return Ok(Node::Backref { group, span });
        }
        Err(perr(
            start + 1,
            span.1,
            format!("invalid group reference {group}"),
            format!(
                "only {} group(s) are defined before this point; write \\0{} or [{}] for an octal escape",
                self.groups() - 1,
                &digits,
                &digits
            ),
        ))
    }

    /// `\x..`, `\u....`, `\U........` and `\N{...}` (rejected).
    fn escape_code(&mut self, c: char, start: usize) -> PResult<u32> {
        if c == 'N' {
            if !self.src.matches("{")? {
                return Err(perr(
                    start,
                    self.src.tell(),
                    "missing {",
                    "write \\N{CHARACTER NAME}",
                ));
            }
            self.src.getuntil('}', "character name")?;
            return Err(perr(
                start,
                self.src.tell(),
                "named Unicode escapes \\N{...} are not supported",
                "write the character itself, or its code as \\uXXXX or \\UXXXXXXXX",
            ));
        }
        let n = match c {
            'x' => 2,
            'u' => 4,
            _ => 8,
        };
        let digits = self.src.getwhile(n, |d| d.is_ascii_hexdigit())?;
        if digits.len() != n {
            return Err(perr(
                start,
                self.src.tell(),
                format!("incomplete escape \\{c}{digits}"),
                format!("\\{c} needs exactly {n} hexadecimal digits"),
            ));
        }
        let v = u32::from_str_radix(&digits, 16).unwrap_or(u32::MAX);
        if v > 0x10FFFF {
            return Err(perr(
                start,
                self.src.tell(),
                format!("bad escape \\{c}{digits}"),
                "Unicode code points go up to \\U0010FFFF",
            ));
        }
        Ok(v)
    }

    fn class_escape(&mut self, this: &'a str, start: usize) -> PResult<Item> {
        let c = escaped_char(this);
        if c == 'b' {
            return Ok(Item::Lit(8));
        }
        if let Some(v) = simple_escape(c) {
            return Ok(Item::Lit(v));
        }
        if let Some(cat) = category(c) {
            return Ok(Item::Cat(cat));
        }
        match c {
            'x' | 'u' | 'U' | 'N' => Ok(Item::Lit(self.escape_code(c, start)?)),
            '0'..='7' => {
                let digits = self.src.getwhile(2, is_oct)?;
                let v = u32::from_str_radix(&format!("{c}{digits}"), 8).unwrap_or(u32::MAX);
                if v > 0o377 {
                    return Err(perr(
                        start,
                        self.src.tell(),
                        format!("octal escape value \\{c}{digits} outside of range 0-0o377"),
                        "octal escapes go up to \\377; use \\uXXXX for larger code points",
                    ));
                }
                Ok(Item::Lit(v))
            }
            c if c.is_ascii_alphanumeric() => Err(bad_escape(this, start, self.src.tell())),
            c => Ok(Item::Lit(c as u32)),
        }
    }

    fn parse_class(&mut self, here: usize) -> PResult<Node> {
        let unterminated = |_: &Self| {
            perr(
                here,
                here + 1,
                "unterminated character set",
                "close the set opened here with ']' (a literal '[' is written \\[)",
            )
        };
        let mut set: Vec<Item> = Vec::new();
        let negate = self.src.matches("^")?;
        loop {
            let Some((tstart, this)) = self.src.get()? else {
                return Err(unterminated(self));
            };
            if this == "]" && !set.is_empty() {
                break;
            }
            let code1 = if this.starts_with('\\') {
                self.class_escape(this, tstart)?
            } else {
                Item::Lit(first_char(this) as u32)
            };
            if self.src.matches("-")? {
                let Some((ustart, that)) = self.src.get()? else {
                    return Err(unterminated(self));
                };
                if that == "]" {
                    set.push(code1);
                    set.push(Item::Lit('-' as u32));
                    break;
                }
                let code2 = if that.starts_with('\\') {
                    self.class_escape(that, ustart)?
                } else {
                    Item::Lit(first_char(that) as u32)
                };
                let bad = |p: &Self| {
                    perr(
                        tstart,
                        p.src.tell(),
                        format!("bad character range {this}-{that}"),
                        "a range goes from a lower to a higher single character; escape a literal '-' as \\-",
                    )
                };
                match (code1, code2) {
                    (Item::Lit(lo), Item::Lit(hi)) if lo <= hi => set.push(Item::Range(lo, hi)),
                    _ => return Err(bad(self)),
                }
            } else {
                set.push(code1);
            }
        }
        Ok(Node::Class {
            negate,
            items: set,
            span: (here, self.src.tell()),
        })
    }

    /// A repeat of the last item of `seq`: the `REPEAT_CHARS` branch of
    /// `_parse`.
    fn parse_repeat(&mut self, c: char, start: usize, seq: &mut Vec<Node>) -> PResult<()> {
        let here = self.src.tell();
        let (min, max) = match c {
            '?' => (0, 1),
            '*' => (0, MAXREPEAT),
            '+' => (1, MAXREPEAT),
            _ => match self.parse_brace_counts(start, here)? {
                Some(counts) => counts,
                None => {
                    seq.push(Node::Lit {
                        c: '{' as u32,
                        span: (start, here),
                    });
                    return Ok(());
                }
            },
        };
        let item = match seq.pop() {
            None | Some(Node::At { .. }) => return Err(perr(
                start,
                self.src.tell(),
                "nothing to repeat",
                "a repeat must follow something that consumes text; escape a literal one with \\",
            )),
            Some(Node::Repeat { .. }) => {
                return Err(perr(
                    start,
                    self.src.tell(),
                    "multiple repeat",
                    "wrap the repeated part in (?:...) before repeating it again",
                ))
            }
            Some(item) => item,
        };
        let rep = if self.src.matches("?")? {
            Rep::Lazy
        } else if self.src.matches("+")? {
            Rep::Possessive
        } else {
            Rep::Greedy
        };
        let end = self.src.tell();
        seq.push(Node::Repeat {
            min,
            max,
            rep,
            span: (item.span().0, end),
            body: Box::new(item),
            qspan: (start, end),
        });
        Ok(())
    }

    /// The counts of `{min,max}` once `{` is read at `start` (`here` is
    /// just after it), or `None` when the `{` is a literal (the source is
    /// then back at `here`).
    fn parse_brace_counts(&mut self, start: usize, here: usize) -> PResult<Option<(u64, u64)>> {
        if self.src.peek() == Some("}") {
            return Ok(None);
        }
        let lo = self.src.getwhile(usize::MAX, |d| d.is_ascii_digit())?;
        let hi = if self.src.matches(",")? {
            self.src.getwhile(usize::MAX, |d| d.is_ascii_digit())?
        } else {
            lo.clone()
        };
        if !self.src.matches("}")? {
            self.src.seek(here)?;
            return Ok(None);
        }
        let count = |digits: &str, p: &Self| -> PResult<u64> {
            match digits.parse::<u64>() {
                Ok(v) if v < MAXREPEAT => Ok(v),
                _ => Err(perr(
                    start,
                    p.src.tell(),
                    "the repetition number is too large",
                    format!("repeat counts must be below {MAXREPEAT}"),
                )),
            }
        };
        let min = if lo.is_empty() { 0 } else { count(&lo, self)? };
        let max = if hi.is_empty() {
            MAXREPEAT
        } else {
            let max = count(&hi, self)?;
            if max < min {
                return Err(perr(
                    here,
                    self.src.tell(),
                    "min repeat greater than max repeat",
                    "write {min,max} with min <= max",
                ));
            }
            max
        };
        Ok(Some((min, max)))
    }

    fn unterminated_group(&self, start: usize) -> PatternError {
        perr(
            start,
            start + 1,
            "missing ), unterminated subpattern",
            "close the group opened here with ')' (escape a literal parenthesis as \\()",
        )
    }

    fn unexpected_end(&self, start: usize) -> PatternError {
        perr(
            start,
            self.src.s.len(),
            "unexpected end of pattern",
            "complete the group opened here",
        )
    }

    /// The `(` branch of `_parse`: a group, or one of the `(?…)` extensions.
    fn parse_group(
        &mut self,
        start: usize,
        verbose: bool,
        nested: usize,
        at_start: bool,
    ) -> PResult<GroupOutcome> {
        let mut head = GroupHead {
            capture: true,
            atomic: false,
            name: None,
            add: 0,
            del: 0,
        };
        if self.src.matches("?")? {
            let Some((cstart, ch)) = self.src.get()? else {
                return Err(self.unexpected_end(start));
            };
            match ch {
                "P" => {
                    if self.src.matches("<")? {
                        let (n, ns) = self.src.getuntil('>', "group name")?;
                        self.checkgroupname(&n, ns)?;
                        head.name = Some((n, ns));
                    } else if self.src.matches("=")? {
                        return self.parse_named_backref(start).map(GroupOutcome::Node);
                    } else {
                        return Err(self.unknown_p_extension(start, cstart));
                    }
                }
                ":" => head.capture = false,
                "#" => return self.skip_comment(start),
                "=" | "!" | "<" => {
                    return self
                        .parse_lookaround(ch, start, cstart, verbose, nested)
                        .map(GroupOutcome::Node)
                }
                "(" => {
                    return self
                        .parse_conditional(start, verbose, nested)
                        .map(GroupOutcome::Node)
                }
                ">" => {
                    head.capture = false;
                    head.atomic = true;
                }
                t if flag_of(t).is_some() || t == "-" => match self.parse_flags(t, cstart)? {
                    None => return self.global_flags(start, at_start),
                    Some((add, del)) => {
                        head.add = add;
                        head.del = del;
                        head.capture = false;
                    }
                },
                t => return Err(unknown_extension(t, cstart)),
            }
        }
        self.parse_group_contents(start, head, verbose, nested)
            .map(GroupOutcome::Node)
    }

    /// The contents of a group up to its `)`, once its opening is read.
    fn parse_group_contents(
        &mut self,
        start: usize,
        head: GroupHead,
        verbose: bool,
        nested: usize,
    ) -> PResult<Node> {
        let GroupHead {
            capture,
            atomic,
            name,
            add,
            del,
        } = head;
        let group = if capture {
            Some(self.opengroup(name)?)
        } else {
            None
        };
        let sub_verbose = (verbose || add & F_X != 0) && del & F_X == 0;
        let body = self.parse_sub(sub_verbose, nested + 1)?;
        if !self.src.matches(")")? {
            return Err(self.unterminated_group(start));
        }
        if let Some(g) = group {
            self.closed[g] = true;
        }
        let span = (start, self.src.tell());
        let body = Box::new(body);
        Ok(if atomic {
            Node::Atomic { body, span }
        } else {
            Node::Group {
                index: group,
                add,
                del,
                body,
                span,
            }
        })
    }

    /// `State.opengroup`: the number of a new capturing group.
    fn opengroup(&mut self, name: Option<(String, usize)>) -> PResult<usize> {
        let gid = self.groups();
        self.closed.push(false);
        if let Some((n, ns)) = name {
            if let Some(old) = self.group_index(&n) {
                return Err(perr(
                    ns,
                    ns + n.len(),
                    format!("redefinition of group name '{n}' as group {gid}; was group {old}"),
                    "give each named group its own name",
                ));
            }
            self.names.push((n, gid));
        }
        Ok(gid)
    }

    /// `(?P=name)`, once `(?P=` is read.
    fn parse_named_backref(&mut self, start: usize) -> PResult<Node> {
        let (n, ns) = self.src.getuntil(')', "group name")?;
        self.checkgroupname(&n, ns)?;
        let nspan = (ns, ns + n.len());
        let Some(gid) = self.group_index(&n) else {
            return Err(perr(
                nspan.0,
                nspan.1,
                format!("unknown group name '{n}'"),
                "(?P=name) must name a group defined before it",
            ));
        };
        if !self.checkgroup(gid) {
            return Err(perr(
                nspan.0,
                nspan.1,
                "cannot refer to an open group",
                "a back-reference must come after the closing parenthesis of its group",
            ));
        }
        let span = (start, self.src.tell());
        self.checklookbehindgroup(gid, span)?;
        Ok(Node::Backref { group: gid, span })
    }

    /// The error for `(?P` followed by neither `<` nor `=`.
    fn unknown_p_extension(&mut self, start: usize, cstart: usize) -> PatternError {
        match self.src.get() {
            Err(e) => e,
            Ok(None) => self.unexpected_end(start),
            Ok(Some((s, t))) => perr(
                cstart - 1,
                s + t.len(),
                format!("unknown extension ?P{t}"),
                "write (?P<name>...) for a named group or (?P=name) for a back-reference",
            ),
        }
    }

    /// A comment `(?#…)`, skipped up to its `)`.
    fn skip_comment(&mut self, start: usize) -> PResult<GroupOutcome> {
        loop {
            if self.src.peek().is_none() {
                return Err(perr(
                    start,
                    start + 1,
                    "missing ), unterminated comment",
                    "end the comment with ')'",
                ));
            }
            if matches!(self.src.get()?, Some((_, ")"))) {
                return Ok(GroupOutcome::Nothing);
            }
        }
    }

    /// The look-ahead and look-behind assertions `(?=`, `(?!`, `(?<=`, `(?<!`;
    /// `ch` is the character after `?`.
    fn parse_lookaround(
        &mut self,
        ch: &str,
        start: usize,
        cstart: usize,
        verbose: bool,
        nested: usize,
    ) -> PResult<Node> {
        let mut negate = ch == "!";
        let mut saved = None;
        if ch == "<" {
            let Some((s2, c2)) = self.src.get()? else {
                return Err(self.unexpected_end(start));
            };
            if c2 != "=" && c2 != "!" {
                let help = if is_identifier(c2) {
                    "Python 3.11 does not accept (?<name>...): write (?P<name>...) for a named group"
                } else {
                    "write (?<=...) or (?<!...) for a look-behind"
                };
                return Err(perr(
                    cstart - 1,
                    s2 + c2.len(),
                    format!("unknown extension ?<{c2}"),
                    help,
                ));
            }
            negate = c2 == "!";
            saved = Some(self.lookbehind_groups);
            if self.lookbehind_groups.is_none() {
                self.lookbehind_groups = Some(self.groups());
            }
        }
        let body = self.parse_sub(verbose, nested + 1)?;
        if saved == Some(None) {
            self.lookbehind_groups = None;
        }
        if !self.src.matches(")")? {
            return Err(self.unterminated_group(start));
        }
        Ok(Node::Look {
            behind: saved.is_some(),
            negate,
            body: Box::new(body),
            span: (start, self.src.tell()),
        })
    }

    /// Global flags `(?flags)`, already applied by `parse_flags`: checks
    /// their place and records the spans reported later.
    fn global_flags(&mut self, start: usize, at_start: bool) -> PResult<GroupOutcome> {
        let span = (start, self.src.tell());
        if !at_start {
            return Err(perr(
                span.0,
                span.1,
                "global flags not at the start of the expression",
                "move these flags to the very start of the pattern, or scope them as (?flags:...)",
            ));
        }
        if self.flags & F_T != 0 && self.template_span.is_none() {
            self.template_span = Some(span);
        }
        if self.src.s[span.0..span.1].contains(['a', 'u']) {
            self.type_flag_span = span;
        }
        Ok(GroupOutcome::GlobalFlags)
    }

    fn group_index(&self, name: &str) -> Option<usize> {
        self.names.iter().find(|(n, _)| n == name).map(|&(_, i)| i)
    }

    /// A conditional `(?(group)yes|no)`, once `(?(` is read.
    fn parse_conditional(&mut self, start: usize, verbose: bool, nested: usize) -> PResult<Node> {
        let (cond, ns) = self.src.getuntil(')', "group name")?;
        let nspan = (ns, ns + cond.len());
        let group = self.conditional_group(&cond, nspan)?;
        self.checklookbehindgroup(group, nspan)?;
        if group < self.groups() && !self.closed[group] {
            return Err(perr(
                nspan.0,
                nspan.1,
                "a conditional inside the group it tests is not supported",
                "fancy-regex and Python disagree on whether a group that is still open has matched: move the conditional after the group",
            ));
        }
        let yes = self.parse_seq(verbose, nested + 1, false)?;
        let no = if self.src.matches("|")? {
            let no = self.parse_seq(verbose, nested + 1, false)?;
            if self.src.peek() == Some("|") {
                let t = self.src.tell();
                return Err(perr(
                    t,
                    t + 1,
                    "conditional backref with more than two branches",
                    "a conditional has at most a yes and a no branch: wrap alternatives in (?:...)",
                ));
            }
            Some(Box::new(no))
        } else {
            None
        };
        if !self.src.matches(")")? {
            return Err(self.unterminated_group(start));
        }
        Ok(Node::Cond {
            group,
            yes: Box::new(yes),
            no,
            span: (start, self.src.tell()),
        })
    }

    /// The group a conditional tests, by name or number (`condname` in
    /// `_parse`).
    fn conditional_group(&mut self, cond: &str, nspan: Span) -> PResult<usize> {
        if is_identifier(cond) {
            return match self.group_index(cond) {
                Some(g) => Ok(g),
                None => Err(perr(
                    nspan.0,
                    nspan.1,
                    format!("unknown group name '{cond}'"),
                    "a conditional by name must name a group defined before it",
                )),
            };
        }
        if !cond.bytes().all(|b| b.is_ascii_digit()) {
            return Err(perr(
                nspan.0,
                nspan.1,
                format!("bad character in group name '{cond}'"),
                "write the group number with ASCII digits only, or a group name",
            ));
        }
        let g: u64 = cond.parse().unwrap_or(u64::MAX);
        if g == 0 {
            return Err(perr(
                nspan.0,
                nspan.1,
                "bad group number",
                "groups are numbered from 1",
            ));
        }
        if g >= MAXGROUPS {
            return Err(perr(
                nspan.0,
                nspan.1,
                format!("invalid group reference {cond}"),
                "the pattern does not have that many groups",
            ));
        }
        if !self.groupref_pos.iter().any(|&(x, _)| x == g) {
            self.groupref_pos.push((g, nspan));
        }
        Ok(g as usize)
    }

    /// Python's `_parse_flags`; `None` for global flags (already applied).
    fn parse_flags(&mut self, first: &'a str, first_start: usize) -> PResult<Option<(u16, u16)>> {
        let (add, (ch_start, ch)) = if first == "-" {
            (0, (first_start, first))
        } else {
            self.parse_add_flags(first, first_start)?
        };
        if ch == ")" {
            self.flags |= add;
            return Ok(None);
        }
        if add & GLOBAL_FLAGS != 0 {
            return Err(flag_error(
                ch_start,
                ch,
                "bad inline flags: cannot turn on global flag",
                "the t flag cannot be scoped",
            ));
        }
        let (del, (ch_start, ch)) = if ch == "-" {
            self.parse_del_flags()?
        } else {
            (0, (ch_start, ch))
        };
        if del & GLOBAL_FLAGS != 0 {
            return Err(flag_error(
                ch_start,
                ch,
                "bad inline flags: cannot turn off global flag",
                "the t flag cannot be scoped",
            ));
        }
        if add & del != 0 {
            return Err(flag_error(
                ch_start,
                ch,
                "bad inline flags: flag turned on and off",
                "a flag cannot be both added and removed",
            ));
        }
        Ok(Some((add, del)))
    }

    /// The flags turned on, from `first` up to the `)`, `-` or `:` that
    /// ends them (returned with them).
    fn parse_add_flags(
        &mut self,
        first: &'a str,
        first_start: usize,
    ) -> PResult<(u16, (usize, &'a str))> {
        let (mut ch_start, mut ch) = (first_start, first);
        let mut add = 0u16;
        loop {
            let flag = flag_of(ch).unwrap_or(0);
            if flag == F_L {
                return Err(flag_error(
                    ch_start,
                    ch,
                    "bad inline flags: cannot use 'L' flag with a str pattern",
                    "remove the L flag: str patterns are always matched with Unicode rules",
                ));
            }
            add |= flag;
            if flag & TYPE_FLAGS != 0 && add & TYPE_FLAGS != flag {
                return Err(flag_error(
                    ch_start,
                    ch,
                    "bad inline flags: flags 'a', 'u' and 'L' are incompatible",
                    "use only one of a and u",
                ));
            }
            (ch_start, ch) = self.next_flag_token("missing -, : or )")?;
            if ch == ")" || ch == "-" || ch == ":" {
                return Ok((add, (ch_start, ch)));
            }
            if flag_of(ch).is_none() {
                return Err(not_a_flag(ch_start, ch, "missing -, : or )"));
            }
        }
    }

    /// The flags turned off, after `-`, up to the `:` that ends them
    /// (returned with them).
    fn parse_del_flags(&mut self) -> PResult<(u16, (usize, &'a str))> {
        let (mut ch_start, mut ch) = self.next_flag_token("missing flag")?;
        if flag_of(ch).is_none() {
            return Err(not_a_flag(ch_start, ch, "missing flag"));
        }
        let mut del = 0u16;
        loop {
            let flag = flag_of(ch).unwrap_or(0);
            if flag & TYPE_FLAGS != 0 {
                return Err(flag_error(
                    ch_start,
                    ch,
                    "bad inline flags: cannot turn off flags 'a', 'u' and 'L'",
                    "turn on the other type flag instead, e.g. (?u:...) inside (?a)",
                ));
            }
            del |= flag;
            (ch_start, ch) = self.next_flag_token("missing :")?;
            if ch == ":" {
                return Ok((del, (ch_start, ch)));
            }
            if flag_of(ch).is_none() {
                return Err(not_a_flag(ch_start, ch, "missing :"));
            }
        }
    }

    /// The next token of a flag group; `missing` is the error at the end of
    /// the pattern.
    fn next_flag_token(&mut self, missing: &str) -> PResult<(usize, &'a str)> {
        match self.src.get()? {
            Some(token) => Ok(token),
            None => {
                let e = self.src.tell();
                Err(perr(e, e, missing, FLAGS_HELP))
            }
        }
    }
}

const FLAGS_HELP: &str =
    "flags are a, i, L, m, s, u, x: write (?flags), (?flags:...) or (?flags-flags:...)";

/// An error about the flag token `t` at `start`.
fn flag_error(start: usize, t: &str, message: &str, help: &str) -> PatternError {
    perr(start, start + t.len(), message, help)
}

/// A token that is not a flag where one may be: "unknown flag" for a
/// letter, else `missing`.
fn not_a_flag(start: usize, t: &str, missing: &str) -> PatternError {
    let message = if is_alpha_token(t) {
        "unknown flag"
    } else {
        missing
    };
    flag_error(start, t, message, FLAGS_HELP)
}

fn bad_escape(this: &str, start: usize, end: usize) -> PatternError {
    perr(
        start,
        end,
        format!("bad escape {this}"),
        "Python rejects unknown escapes of ASCII letters and digits; remove the backslash, or write \\\\ for a literal backslash",
    )
}

/// `(?` followed by `t`, which starts no known group kind.
fn unknown_extension(t: &str, cstart: usize) -> PatternError {
    perr(
        cstart - 1,
        cstart + t.len(),
        format!("unknown extension ?{t}"),
        "Python groups are (...), (?:...), (?P<name>...), (?P=name), (?#...), (?=...), (?!...), (?<=...), (?<!...), (?(group)yes|no), (?>...) and (?flags:...)",
    )
}

fn simple_escape(c: char) -> Option<u32> {
    Some(match c {
        'a' => 7,
        'f' => 12,
        'n' => 10,
        'r' => 13,
        't' => 9,
        'v' => 11,
        '\\' => 92,
        _ => return None,
    })
}

fn category(c: char) -> Option<Cat> {
    Some(match c {
        'd' => Cat::Digit,
        'D' => Cat::NotDigit,
        's' => Cat::Space,
        'S' => Cat::NotSpace,
        'w' => Cat::Word,
        'W' => Cat::NotWord,
        _ => return None,
    })
}
