//! Emission of the Rust pattern, for the `regex` crate or `fancy-regex`.

use std::fmt;

use super::checks::zero_width;
use super::parsed::{combine, At, Cat, Item, Node, Parsed, Rep};
use super::{Engine, SpanMap, Translated, F_A, F_I, F_M, F_S, MAXREPEAT};

/// The pattern needs the fancy engine.
pub(super) struct NeedFancy;

/// A class that never matches (used for lone surrogates, which no Rust string
/// holds).
const NEVER: &str = r"[^\x00-\x{10FFFF}]";
/// Python's `\s` for str patterns (`str.isspace` characters).
const SPACE_ITEMS: &str = r"\x09-\x0D\x1C-\x20\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}";
const ASCII_WORD: &str = "[0-9A-Za-z_]";

struct Emitter {
    out: String,
    spans: Vec<SpanMap>,
    fancy: bool,
    /// Translate for an empty subject, where Python's `\B` never matches.
    empty_subject: bool,
    /// Write Unicode `\b`/`\B` with Python's word characters (look-arounds).
    exact_words: bool,
    next_group: usize,
    slots: Vec<usize>,
    newline_groups: Vec<usize>,
    has_non_boundary: bool,
    has_rust_boundary: bool,
    /// Number of enclosing repeats that may run their body more than once.
    loops: usize,
    /// A case-insensitive back-reference was emitted.
    casei_backref: bool,
}

fn rust_i(flags: u16) -> bool {
    flags & F_I != 0 && flags & F_A == 0
}

/// What a translation is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The main translation.
    Normal,
    /// For the empty subject, where Python's `\B` never matches.
    EmptySubject,
    /// For subjects holding a character of
    /// [`WORD_MISMATCH`](super::WORD_MISMATCH): word boundaries with
    /// Python's word characters, as look-arounds.
    ExactWords,
}

struct Emitted {
    translated: Translated,
    /// A `\B` was emitted.
    has_non_boundary: bool,
    /// A `\b` or `\B` with Rust's Unicode word characters was emitted.
    has_rust_boundary: bool,
}

fn emit(parsed: &Parsed, source: &str, engine: Engine, mode: Mode) -> Result<Emitted, NeedFancy> {
    let mut e = Emitter {
        out: String::new(),
        spans: Vec::new(),
        fancy: engine == Engine::Fancy,
        empty_subject: mode == Mode::EmptySubject,
        exact_words: mode == Mode::ExactWords || (mode == Mode::Normal && engine == Engine::Fancy),
        next_group: 1,
        slots: vec![0; parsed.group_count + 1],
        newline_groups: Vec::new(),
        has_non_boundary: false,
        has_rust_boundary: false,
        loops: 0,
        casei_backref: false,
    };
    if rust_i(parsed.flags) {
        e.out.push_str("(?i)");
    }
    e.node(&parsed.root, parsed.flags, true)?;
    Ok(Emitted {
        translated: Translated {
            source: source.to_string(),
            pattern: e.out,
            engine,
            spans: e.spans,
            group_count: parsed.group_count,
            group_names: parsed.names.clone(),
            group_slots: e.slots,
            newline_groups: e.newline_groups,
            for_empty_subject: None,
            for_word_mismatch: None,
            ascii_subjects_only: e.casei_backref,
        },
        has_non_boundary: e.has_non_boundary,
        has_rust_boundary: e.has_rust_boundary,
    })
}

/// The main translation (for the given engine, else the `regex` one when
/// possible) with its variants.
pub(super) fn emit_all(
    parsed: &Parsed,
    source: &str,
    engine: Option<Engine>,
) -> Result<Translated, NeedFancy> {
    let emit_any = |mode| {
        emit(parsed, source, Engine::Regex, mode)
            .or_else(|NeedFancy| emit(parsed, source, Engine::Fancy, mode))
    };
    let main = match engine {
        Some(engine) => emit(parsed, source, engine, Mode::Normal)?,
        None => emit_any(Mode::Normal)?,
    };
    let mut t = main.translated;
    if main.has_rust_boundary {
        t.for_word_mismatch = Some(Box::new(
            emit(parsed, source, Engine::Fancy, Mode::ExactWords)?.translated,
        ));
    }
    if main.has_non_boundary {
        t.for_empty_subject = Some(Box::new(emit_any(Mode::EmptySubject)?.translated));
    }
    Ok(t)
}

fn is_atom(node: &Node) -> bool {
    !matches!(
        node,
        Node::Seq { .. } | Node::At { .. } | Node::Repeat { .. }
    )
}

fn push_quantifier(out: &mut String, min: u64, max: u64) {
    use fmt::Write as _;
    match (min, max) {
        (0, MAXREPEAT) => out.push('*'),
        (1, MAXREPEAT) => out.push('+'),
        (0, 1) => out.push('?'),
        (m, MAXREPEAT) => {
            let _ = write!(out, "{{{m},}}");
        }
        (m, n) if m == n => {
            let _ = write!(out, "{{{m}}}");
        }
        (m, n) => {
            let _ = write!(out, "{{{m},{n}}}");
        }
    }
}

fn is_control(c: char) -> bool {
    c.is_control()
}

fn push_hex(out: &mut String, c: char) {
    use fmt::Write as _;
    let _ = write!(out, "\\x{{{:X}}}", c as u32);
}

/// A literal character outside a class.
fn push_lit(out: &mut String, c: char) {
    if r"\.+*?()|[]{}^$".contains(c) {
        out.push('\\');
        out.push(c);
    } else if is_control(c) {
        push_hex(out, c);
    } else {
        out.push(c);
    }
}

/// A literal character inside a class.
fn push_class_char(out: &mut String, c: char) {
    if r"\[]^-&~".contains(c) {
        out.push('\\');
        out.push(c);
    } else if is_control(c) {
        push_hex(out, c);
    } else {
        out.push(c);
    }
}

fn push_range(out: &mut String, lo: u32, hi: u32) {
    let lo = if (0xD800..=0xDFFF).contains(&lo) {
        0xE000
    } else {
        lo
    };
    let hi = if (0xD800..=0xDFFF).contains(&hi) {
        0xD7FF
    } else {
        hi
    };
    if lo > hi {
        return;
    }
    if let (Some(a), Some(b)) = (char::from_u32(lo), char::from_u32(hi)) {
        push_class_char(out, a);
        if a != b {
            out.push('-');
            push_class_char(out, b);
        }
    }
}

fn cat_standalone(cat: Cat, ascii: bool) -> String {
    match (cat, ascii) {
        (Cat::Digit, false) => r"\d".into(),
        (Cat::NotDigit, false) => r"\D".into(),
        (Cat::Digit, true) => "[0-9]".into(),
        (Cat::NotDigit, true) => "[^0-9]".into(),
        (Cat::Word, false) => r"[\p{L}\p{N}_]".into(),
        (Cat::NotWord, false) => r"[^\p{L}\p{N}_]".into(),
        (Cat::Word, true) => ASCII_WORD.into(),
        (Cat::NotWord, true) => "[^0-9A-Za-z_]".into(),
        (Cat::Space, false) => format!("[{SPACE_ITEMS}]"),
        (Cat::NotSpace, false) => format!("[^{SPACE_ITEMS}]"),
        (Cat::Space, true) => r"[\x09-\x0D ]".into(),
        (Cat::NotSpace, true) => r"[^\x09-\x0D ]".into(),
    }
}

fn cat_in_class(cat: Cat, ascii: bool) -> String {
    match (cat, ascii) {
        (Cat::Digit, false) => r"\d".into(),
        (Cat::NotDigit, false) => r"\D".into(),
        (Cat::Digit, true) => "0-9".into(),
        (Cat::Word, false) => r"\p{L}\p{N}_".into(),
        (Cat::Word, true) => "0-9A-Za-z_".into(),
        (Cat::Space, false) => SPACE_ITEMS.into(),
        (Cat::Space, true) => r"\x09-\x0D ".into(),
        (Cat::NotDigit | Cat::NotWord | Cat::NotSpace, _) => cat_standalone(cat, ascii),
    }
}

impl Emitter {
    fn need_fancy(&self) -> Result<(), NeedFancy> {
        if self.fancy {
            Ok(())
        } else {
            Err(NeedFancy)
        }
    }

    fn node(&mut self, node: &Node, flags: u16, tail: bool) -> Result<(), NeedFancy> {
        let start = self.out.len();
        match node {
            Node::Lit { c, .. } => self.lit(*c, flags),
            Node::Class { negate, items, .. } => self.class(*negate, items, flags),
            Node::Any { .. } => self
                .out
                .push_str(if flags & F_S != 0 { "(?s:.)" } else { "." }),
            Node::At { at, .. } => self.at(*at, flags, tail)?,
            Node::Group {
                index,
                add,
                del,
                body,
                ..
            } => self.group(*index, body, flags, combine(flags, *add, *del), tail)?,
            Node::Atomic { body, .. } => {
                self.need_fancy()?;
                self.out.push_str("(?>");
                self.node(body, flags, false)?;
                self.out.push(')');
            }
            Node::Seq { items, .. } => {
                let n = items.len();
                for (i, it) in items.iter().enumerate() {
                    self.node(it, flags, tail && i + 1 == n)?;
                }
            }
            Node::Alt { branches, .. } => {
                self.out.push_str("(?:");
                for (i, b) in branches.iter().enumerate() {
                    if i > 0 {
                        self.out.push('|');
                    }
                    self.node(b, flags, tail)?;
                }
                self.out.push(')');
            }
            Node::Repeat {
                min,
                max,
                rep,
                body,
                ..
            } => self.repeat(*min, *max, *rep, body, flags, tail)?,
            Node::Backref { group, .. } => self.backref(*group, flags)?,
            Node::Look {
                behind,
                negate,
                body,
                ..
            } => self.look(*behind, *negate, body, flags)?,
            Node::Cond { group, yes, no, .. } => {
                self.need_fancy()?;
                // fancy-regex reads `(?(1)|)` as "group 1 must have
                // matched" where Python always succeeds: emit nothing then.
                if !node.is_trivially_empty() {
                    self.cond(*group, yes, no.as_deref(), flags)?;
                }
            }
        }
        self.spans.push(SpanMap {
            rust: (start, self.out.len()),
            python: node.span(),
        });
        Ok(())
    }

    /// A group: capturing, or non-capturing with the flags `child` of its
    /// contents.
    fn group(
        &mut self,
        index: Option<usize>,
        body: &Node,
        flags: u16,
        child: u16,
        tail: bool,
    ) -> Result<(), NeedFancy> {
        match index {
            Some(g) => {
                // fancy-regex hands "easy" parts to the regex crate,
                // which forgets captures of groups that did not take
                // part in its match; in a loop that erases the value
                // of an earlier iteration, which Python keeps. An
                // empty look-ahead makes the group "hard".
                self.out.push_str(if self.fancy && self.loops > 0 {
                    "((?=)"
                } else {
                    "("
                });
                self.slots[g] = self.next_group;
                self.next_group += 1;
                self.node(body, child, false)?;
            }
            None => {
                self.out.push_str(match (rust_i(flags), rust_i(child)) {
                    (a, b) if a == b => "(?:",
                    (_, true) => "(?i:",
                    _ => "(?-i:",
                });
                self.node(body, child, tail)?;
            }
        }
        self.out.push(')');
        Ok(())
    }

    /// A repeat, written by the kind of part it repeats.
    fn repeat(
        &mut self,
        min: u64,
        max: u64,
        rep: Rep,
        body: &Node,
        flags: u16,
        tail: bool,
    ) -> Result<(), NeedFancy> {
        if body.is_trivially_empty() {
            // A repeat of nothing matches the empty string (fancy-regex
            // refuses `(?:)*`).
            Ok(())
        } else if zero_width(body) {
            self.zero_width_repeat(min, max, rep, body, flags)
        } else {
            self.quantified(min, max, rep, body, flags, tail)
        }
    }

    /// A repeat of a part that never consumes anything, written without a
    /// quantifier.
    fn zero_width_repeat(
        &mut self,
        min: u64,
        max: u64,
        rep: Rep,
        body: &Node,
        flags: u16,
    ) -> Result<(), NeedFancy> {
        // Python stops repeating after an empty iteration, and
        // further forced iterations at the same place change
        // nothing: X{0,n} is an optional X and X{m,n} is X.
        // fancy-regex refuses quantified look-arounds.
        let (open, close) = match (min, max, rep) {
            (_, 0, _) => ("(?:", "){0}"),
            (0, _, Rep::Greedy) => ("(?:", "|)"),
            (0, _, Rep::Lazy) => ("(?:|", ")"),
            (0, _, Rep::Possessive) => {
                self.need_fancy()?;
                ("(?>", "|)")
            }
            _ => ("(?:", ")"),
        };
        self.out.push_str(open);
        self.node(body, flags, false)?;
        self.out.push_str(close);
        Ok(())
    }

    /// A repeat written with its quantifier.
    fn quantified(
        &mut self,
        min: u64,
        max: u64,
        rep: Rep,
        body: &Node,
        flags: u16,
        tail: bool,
    ) -> Result<(), NeedFancy> {
        let possessive = rep == Rep::Possessive;
        if possessive {
            self.need_fancy()?;
            self.out.push_str("(?>");
        }
        // Python's possessive repeat also never backtracks into
        // an iteration: X{m,n}+ is (?>(?>X){m,n}).
        let atom = is_atom(body) && !possessive;
        if !atom {
            self.out.push_str(if possessive { "(?>" } else { "(?:" });
        }
        let looping = usize::from(max > 1);
        self.loops += looping;
        self.node(body, flags, tail && max <= 1 && !possessive)?;
        self.loops -= looping;
        if !atom {
            self.out.push(')');
        }
        push_quantifier(&mut self.out, min, max);
        if rep == Rep::Lazy {
            self.out.push('?');
        }
        if possessive {
            self.out.push(')');
        }
        Ok(())
    }

    fn backref(&mut self, group: usize, flags: u16) -> Result<(), NeedFancy> {
        use fmt::Write as _;
        // Only the fancy engine gets here, and it has no hidden groups:
        // Python group n is Rust group n.
        self.need_fancy()?;
        if flags & F_I != 0 {
            self.casei_backref = true;
        }
        // Under ASCII, IGNORECASE is not given to Rust (see `lit`),
        // but the back-reference needs it.
        let open = if flags & F_I != 0 && !rust_i(flags) {
            "(?i:"
        } else {
            "(?:"
        };
        let _ = write!(self.out, "{open}\\{group})");
        Ok(())
    }

    fn look(
        &mut self,
        behind: bool,
        negate: bool,
        body: &Node,
        flags: u16,
    ) -> Result<(), NeedFancy> {
        self.need_fancy()?;
        // Python's look-arounds are atomic: once one succeeds, its
        // inner choices are final. fancy-regex would backtrack into
        // a positive one, so make its body atomic.
        self.out.push_str(match (behind, negate) {
            (false, false) => "(?=(?>",
            (false, true) => "(?!",
            (true, false) => "(?<=(?>",
            (true, true) => "(?<!",
        });
        self.node(body, flags, false)?;
        self.out.push_str(if negate { ")" } else { "))" });
        Ok(())
    }

    /// A conditional that is not trivially empty.
    fn cond(
        &mut self,
        group: usize,
        yes: &Node,
        no: Option<&Node>,
        flags: u16,
    ) -> Result<(), NeedFancy> {
        use fmt::Write as _;
        let _ = write!(self.out, "(?({group})(?:");
        self.node(yes, flags, false)?;
        self.out.push_str(")|(?:");
        if let Some(no) = no {
            self.node(no, flags, false)?;
        }
        self.out.push_str("))");
        Ok(())
    }

    fn lit(&mut self, c: u32, flags: u16) {
        match char::from_u32(c) {
            None => self.out.push_str(NEVER),
            Some(ch) if flags & F_A != 0 && flags & F_I != 0 && ch.is_ascii_alphabetic() => {
                self.out.push('[');
                self.out.push(ch.to_ascii_uppercase());
                self.out.push(ch.to_ascii_lowercase());
                self.out.push(']');
            }
            Some(ch) => push_lit(&mut self.out, ch),
        }
    }

    fn class(&mut self, negate: bool, items: &[Item], flags: u16) {
        let ascii = flags & F_A != 0;
        let fold = ascii && flags & F_I != 0;
        // Categories are not case-folded by Python; Rust would fold them.
        let only_cats = items.iter().all(|i| matches!(i, Item::Cat(_)));
        let wrap = only_cats && rust_i(flags);
        if wrap {
            self.out.push_str("(?-i:");
        }
        if let (false, [Item::Cat(cat)]) = (negate, items) {
            self.out.push_str(&cat_standalone(*cat, ascii));
        } else {
            let mut body = String::new();
            for item in items {
                match *item {
                    Item::Lit(c) => {
                        if let Some(ch) = char::from_u32(c) {
                            push_class_char(&mut body, ch);
                            if fold && ch.is_ascii_alphabetic() {
                                push_class_char(&mut body, (ch as u8 ^ 0x20) as char);
                            }
                        }
                    }
                    Item::Range(lo, hi) => {
                        push_range(&mut body, lo, hi);
                        if fold {
                            for (a, b) in [(0x41, 0x5A), (0x61, 0x7A)] {
                                let (l, h) = (lo.max(a), hi.min(b));
                                if l <= h {
                                    push_range(&mut body, l ^ 0x20, h ^ 0x20);
                                }
                            }
                        }
                    }
                    Item::Cat(cat) => body.push_str(&cat_in_class(cat, ascii)),
                }
            }
            if body.is_empty() {
                // Only lone surrogates: a set of nothing, or of everything.
                self.out.push_str(if negate { "(?s:.)" } else { NEVER });
            } else {
                self.out.push('[');
                if negate {
                    self.out.push('^');
                }
                self.out.push_str(&body);
                self.out.push(']');
            }
        }
        if wrap {
            self.out.push(')');
        }
    }

    fn at(&mut self, at: At, flags: u16, tail: bool) -> Result<(), NeedFancy> {
        let multiline = flags & F_M != 0;
        let ascii = flags & F_A != 0;
        match at {
            At::Beginning => self.out.push_str(if multiline { "(?m:^)" } else { r"\A" }),
            At::End if multiline => self.out.push_str("(?m:$)"),
            At::End if self.fancy => self.out.push_str(r"(?=\n?\z)"),
            At::End if tail => {
                // Consumes the final "\n" in a hidden group; `Matcher::search`
                // moves the end of group 0 back before it.
                self.out.push_str(r"(?:(\n)?\z)");
                self.newline_groups.push(self.next_group);
                self.next_group += 1;
            }
            At::End => return Err(NeedFancy),
            At::BeginString => self.out.push_str(r"\A"),
            At::EndString => self.out.push_str(r"\z"),
            At::Boundary | At::NonBoundary => {
                let non = at == At::NonBoundary;
                if non {
                    self.has_non_boundary = true;
                }
                if non && self.empty_subject {
                    self.out.push_str(NEVER);
                } else if ascii && !self.fancy {
                    self.out
                        .push_str(if non { r"(?-u:\B)" } else { r"(?-u:\b)" });
                } else if ascii || self.exact_words {
                    self.need_fancy()?;
                    let w = if ascii { ASCII_WORD } else { r"[\p{L}\p{N}_]" };
                    let (inside, outside) = if non { ("=", "!") } else { ("!", "=") };
                    let _ = fmt::Write::write_fmt(
                        &mut self.out,
                        format_args!("(?-i:(?<={w})(?{inside}{w})|(?<!{w})(?{outside}{w}))"),
                    );
                } else {
                    self.has_rust_boundary = true;
                    self.out.push_str(if non { r"\B" } else { r"\b" });
                }
            }
        }
        Ok(())
    }
}
