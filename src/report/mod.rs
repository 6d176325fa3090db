//! The daily report (docs/legacy-semantics.md §10): the records of one period, as an
//! AsciiDoc-like text and a self-contained HTML document, sent together as
//! one `multipart/alternative` mail by [`mail::report_message`].
//!
//! It opens with the picture of the period when there were failures or
//! bans ([`day`]: per hour and per service, an inline SVG chart and a table
//! with the same numbers), then three sections, always in this order and
//! always present (an empty one says `(nothing)`, so the reader knows the
//! report is complete):
//!
//! - `WARN` and `INFO`: one row per distinct message, sorted by message in
//!   code point order, with the number of occurrences and their times as the
//!   record's `details` asks: `ALL` every time, `NONE` none, `FIRST`
//!   `From : t`, `LAST` `Until: t`, `FIRSTLAST` both lines (or every time,
//!   as `ALL`, when there is a single occurrence). An unknown mode counts as
//!   `ALL`, Pyruse's default. A message of a shape ([`shape`]) with more
//!   than [`collect::MAX_VARIANTS`] distinct messages is one row: the shape,
//!   an example, the count, first and last time (as `details` allows). An
//!   `ALL` row lists the first and last [`collect::TIMES_KEPT`] times and
//!   how many between them.
//! - `OTHER` (any level but `WARN` and `INFO`): one row per shape, in the
//!   order of its first occurrence: `time: message` for a line seen once,
//!   else the first and last time, the count, the shape and an example.
//!
//! Choices made here:
//!
//! - Records are first put in chronological order (a stable sort on
//!   `time_us`, so records of the same microsecond keep their order). When
//!   one message was recorded with several `details` modes, its row uses the
//!   mode of its earliest record.
//! - Records are not filtered by the period: the caller hands over the
//!   records of the period; the bounds are only shown in the heading.
//! - Times render as `2024-03-02 00:00:06` in `tz`, to the second; the
//!   heading names the zone (its IANA name, or its UTC offset).
//! - Log text is never trusted. In both parts, control characters (C0 other
//!   than tab, DEL, C1), Unicode line/paragraph separators and bidirectional
//!   embedding/override/isolate controls (which would reorder the displayed
//!   report) become U+FFFD `�`. In the HTML part, `& < > " '` are escaped.
//!   Rows are still grouped and sorted by the original message.
//! - A message longer than [`MAX_MESSAGE_CHARS`] characters is cut there,
//!   followed by a visible note giving its full length, in both parts.
//! - **Size cap**: each part stays within `max_bytes`
//!   (`dailyReport.maxSize`). Rows are laid out WARN first, then INFO, then
//!   OTHER; the first row that does not fit in the text or in the HTML part
//!   ends the report there, in both parts alike: each section says how many
//!   rows and lines it lost, and so does the summary at the top.
//! - Lines: the HTML source has a newline after each row and cell; long
//!   messages still make long source lines, which the mail's
//!   quoted-printable encoding folds (see [`mail`]).

pub mod collect;
pub mod day;
pub mod mail;
pub mod shape;

use std::fmt::Write as _;

use jiff::tz::TimeZone;
use jiff::Timestamp;

pub use collect::Collector;
use collect::{Collected, OtherRow, Row, Times, Unkept};
pub use day::HourCount;

/// Messages longer than this (in characters) are cut, with a visible note.
pub const MAX_MESSAGE_CHARS: usize = 4096;
/// The default size cap of each part of the report, in bytes.
pub const DEFAULT_MAX_BYTES: usize = 256 * 1024;
/// The smallest size cap `dailyReport.maxSize` accepts, in bytes.
pub const MIN_MAX_BYTES: usize = 64 * 1024;
/// Bytes of each part kept for the section headings, the opening of their
/// tables and the notes of what was cut.
const RESERVE: usize = 4096;

/// One `dailyReport` record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// `"WARN"`, `"INFO"`, or anything else for the `OTHER` section.
    pub level: String,
    pub message: String,
    /// `ALL` (default), `NONE`, `FIRST`, `LAST` or `FIRSTLAST`.
    pub details: String,
    /// Microseconds since the Unix epoch.
    pub time_us: i64,
}

/// The two alternatives of the report mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// AsciiDoc-like plain text, `\n` line ends.
    pub text: String,
    /// A complete HTML document, `\n` line ends.
    pub html: String,
}

/// What a report is made of besides its records.
pub struct Options<'a> {
    /// The host named in the heading.
    pub host: &'a str,
    /// The zone times render in.
    pub tz: &'a TimeZone,
    /// The period, shown in the heading (µs).
    pub start_us: i64,
    pub end_us: i64,
    /// Failures and bans per hour and service, for the picture.
    pub hours: &'a [HourCount],
    /// The size cap of each part, in bytes.
    pub max_bytes: usize,
}

/// Renders times in one zone.
struct Clock<'a> {
    tz: &'a TimeZone,
}

impl Clock<'_> {
    fn time(&self, us: i64) -> String {
        match Timestamp::from_microsecond(us) {
            Ok(ts) => {
                let d = self.tz.to_datetime(ts);
                format!(
                    "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                    d.year(),
                    d.month(),
                    d.day(),
                    d.hour(),
                    d.minute(),
                    d.second()
                )
            }
            Err(_) => format!("(time out of range: {us} µs)"),
        }
    }

    /// The zone as the heading names it.
    fn zone_name(&self, at_us: i64) -> String {
        if let Some(name) = self.tz.iana_name() {
            return clean(name).text;
        }
        let at = Timestamp::from_microsecond(at_us).unwrap_or(Timestamp::UNIX_EPOCH);
        let secs = self.tz.to_offset(at).seconds();
        let sign = if secs < 0 { '-' } else { '+' };
        let secs = secs.unsigned_abs();
        format!("UTC{sign}{:02}:{:02}", secs / 3600, secs % 3600 / 60)
    }
}

/// Log text made safe to show: see the module documentation.
struct Clean {
    text: String,
    /// The length in characters of the original, when it was cut.
    cut_from: Option<usize>,
}

fn unsafe_char(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn clean(s: &str) -> Clean {
    let mut text = String::with_capacity(s.len().min(MAX_MESSAGE_CHARS * 4));
    let mut chars = s.chars();
    for c in chars.by_ref().take(MAX_MESSAGE_CHARS) {
        text.push(if unsafe_char(c) { '\u{fffd}' } else { c });
    }
    let rest = chars.count();
    Clean {
        text,
        cut_from: (rest > 0).then_some(MAX_MESSAGE_CHARS + rest),
    }
}

fn truncation_note(total: usize) -> String {
    format!("[… cut at {MAX_MESSAGE_CHARS} of {total} characters]")
}

/// `& < > " '` escaped, for text and attribute values alike.
fn escape(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape(&mut out, s);
    out
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Build the report of a period from its records; `tz` is the zone times
/// render in; `host` and the period bounds appear in the heading. No
/// picture, the default size cap.
pub fn build(
    records: &[Record],
    period_start_us: i64,
    period_end_us: i64,
    host: &str,
    tz: &TimeZone,
) -> Report {
    let mut sorted: Vec<&Record> = records.iter().collect();
    sorted.sort_by_key(|r| r.time_us);
    let mut c = Collector::new();
    for r in sorted {
        c.add(&r.level, &r.message, &r.details, r.time_us);
    }
    render(
        c,
        &Options {
            host,
            tz,
            start_us: period_start_us,
            end_us: period_end_us,
            hours: &[],
            max_bytes: DEFAULT_MAX_BYTES,
        },
    )
}

/// The report of what `c` gathered.
pub fn render(c: Collector, o: &Options) -> Report {
    let col = c.finish();
    let head = Heading {
        host: clean(o.host).text,
        start: o.start_us,
        end: o.end_us,
        clock: Clock { tz: o.tz },
    };
    // The charts give way to the rows when they would take more than half
    // of the cap (many services over many hours and a small cap).
    let picture = day::Day::new(o.hours, o.start_us, o.end_us).map(|d| {
        let full = d.render(&head.clock, true);
        if full.1.len() > o.max_bytes / 2 {
            d.render(&head.clock, false)
        } else {
            full
        }
    });
    let (pic_t, pic_h) = picture.unwrap_or_default();
    let fixed_t = text_head(&head, &col, &[], 0).len() + pic_t.len() + 1;
    let fixed_h = html_head(&head, &col, &[], 0).len() + pic_h.len() + html_foot(&head).len();
    let mut body = Body {
        text: String::new(),
        html: String::new(),
        room_t: o.max_bytes.saturating_sub(fixed_t + RESERVE),
        room_h: o.max_bytes.saturating_sub(fixed_h + RESERVE),
        full: false,
        cuts: Vec::new(),
        max_bytes: o.max_bytes,
    };
    for (i, key) in ["WARN", "INFO"].into_iter().enumerate() {
        let s = Section {
            key,
            title: ["Warnings", "Information"][i],
            rows: &col.sections[i],
            records: col.records[i],
            unkept: col.unkept[i],
        };
        body.section(&head.clock, &s);
    }
    body.others(&head.clock, &col);
    let cuts = std::mem::take(&mut body.cuts);
    let mut text = text_head(&head, &col, &cuts, o.max_bytes);
    text.push_str(&pic_t);
    text.push_str(&body.text);
    let mut html = html_head(&head, &col, &cuts, o.max_bytes);
    html.push_str(&pic_h);
    html.push_str(&body.html);
    html.push_str(&html_foot(&head));
    Report { text, html }
}

struct Heading<'a> {
    host: String,
    start: i64,
    end: i64,
    clock: Clock<'a>,
}

impl Heading<'_> {
    fn period(&self) -> String {
        format!(
            "{} to {}",
            self.clock.time(self.start),
            self.clock.time(self.end)
        )
    }
}

/// WARN or INFO, ready to lay out.
struct Section<'a> {
    key: &'static str,
    title: &'static str,
    rows: &'a [Row],
    records: u64,
    unkept: Unkept,
}

impl Section<'_> {
    fn subtitle(&self) -> String {
        match self.records {
            0 => "nothing".into(),
            n => format!(
                "{} of {}",
                plural(n, "occurrence", "occurrences"),
                rows_word(self.rows.len() as u64, shapes(self.rows) > 0)
            ),
        }
    }
}

fn shapes(rows: &[Row]) -> usize {
    rows.iter().filter(|r| r.example.is_some()).count()
}

fn rows_word(n: u64, any_shape: bool) -> String {
    if any_shape {
        plural(n, "row", "rows")
    } else {
        plural(n, "message", "messages")
    }
}

/// What the size cap cut from a section.
struct Cut {
    key: &'static str,
    rows: u64,
    lines: u64,
}

fn summary_parts(col: &Collected) -> Vec<String> {
    let mut parts: Vec<String> = ["WARN", "INFO"]
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let (n, rows) = (col.records[i], &col.sections[i]);
            if n == 0 {
                format!("{key} 0")
            } else if shapes(rows) > 0 {
                format!("{key} {n} ({})", plural(rows.len() as u64, "row", "rows"))
            } else {
                format!(
                    "{key} {n} ({})",
                    plural(rows.len() as u64, "message", "distinct messages")
                )
            }
        })
        .collect();
    parts.push(format!("OTHER {}", col.records[2]));
    parts
}

fn cut_summary(cuts: &[Cut], max_bytes: usize) -> Option<String> {
    if cuts.is_empty() {
        return None;
    }
    let what: Vec<String> = cuts
        .iter()
        .map(|c| {
            format!(
                "{} {} ({})",
                c.key,
                plural(c.rows, "row", "rows"),
                plural(c.lines, "line", "lines")
            )
        })
        .collect();
    Some(format!(
        "cut to {max_bytes} bytes (dailyReport.maxSize): {}",
        what.join(", ")
    ))
}

fn cut_note(c: &Cut, max_bytes: usize) -> String {
    format!(
        "[… {} more {} ({}) not shown: the report is limited to {max_bytes} bytes (dailyReport.maxSize)]",
        c.rows,
        if c.rows == 1 { "row" } else { "rows" },
        plural(c.lines, "line", "lines")
    )
}

fn unkept_note(u: &Unkept, clock: &Clock) -> String {
    format!(
        "[… {} of further shapes, {} to {}, not grouped: more than {} shapes]",
        plural(u.lines, "line", "lines"),
        clock.time(u.first),
        clock.time(u.last),
        collect::MAX_SHAPES
    )
}

/// The sections, laid out within the size cap.
struct Body {
    text: String,
    html: String,
    /// Bytes left for rows in each part.
    room_t: usize,
    room_h: usize,
    /// A row did not fit: every later row is cut.
    full: bool,
    cuts: Vec<Cut>,
    max_bytes: usize,
}

impl Body {
    /// Add a row to both parts if it fits in both.
    fn fits(&mut self, t: &str, h: &str) -> bool {
        if self.full || t.len() > self.room_t || h.len() > self.room_h {
            self.full = true;
            return false;
        }
        self.room_t -= t.len();
        self.room_h -= h.len();
        self.text.push_str(t);
        self.html.push_str(h);
        true
    }

    /// Lay out rows with `each`, which renders a row as (text, HTML); the
    /// HTML table opens with `open` before the first row. Returns how many
    /// rows were laid out.
    fn rows<R>(
        &mut self,
        rows: &[R],
        open: &str,
        mut each: impl FnMut(&R, &mut String, &mut String),
    ) -> usize {
        let (mut t, mut h) = (String::new(), String::new());
        for (i, r) in rows.iter().enumerate() {
            t.clear();
            h.clear();
            if i == 0 {
                h.push_str(open);
            }
            each(r, &mut t, &mut h);
            if !self.fits(&t, &h) {
                if i > 0 {
                    self.html.push_str("</tbody>\n</table>\n");
                }
                return i;
            }
        }
        if !rows.is_empty() {
            self.html.push_str("</tbody>\n</table>\n");
        }
        rows.len()
    }

    /// The notes after a section: what the cap cut, the unkept shapes.
    fn notes(&mut self, clock: &Clock, cut: Option<Cut>, unkept: &Unkept) {
        let mut notes = Vec::new();
        if let Some(c) = cut {
            notes.push(cut_note(&c, self.max_bytes));
            self.cuts.push(c);
        }
        if unkept.lines > 0 {
            notes.push(unkept_note(unkept, clock));
        }
        for n in notes {
            let _ = writeln!(self.text, "{n}");
            let _ = writeln!(self.html, "<p class=\"cut\">{}</p>", esc(&n));
        }
    }

    fn section(&mut self, clock: &Clock, s: &Section) {
        section_heading(self, s);
        let width = s
            .rows
            .iter()
            .map(|r| r.count.to_string().len())
            .max()
            .unwrap_or(0)
            .max("Count".len());
        if !s.rows.is_empty() {
            let _ = writeln!(self.text, "| {:>width$} | Message", "Count");
            let _ = writeln!(self.text, "|-{:->width$}-|--------", "");
        }
        let open = "<table class=\"list\">\n<thead><tr><th class=\"count\" scope=\"col\">Count</th>\
             <th scope=\"col\">Message</th><th class=\"when\" scope=\"col\">Times</th></tr></thead>\n<tbody>\n";
        let shown = self.rows(s.rows, open, |r, t, h| {
            row_as_text(t, clock, r, width);
            row_as_html(h, clock, r);
        });
        let rest = &s.rows[shown..];
        let cut = (!rest.is_empty()).then(|| Cut {
            key: s.key,
            rows: rest.len() as u64,
            lines: rest.iter().map(|r| r.count).sum(),
        });
        self.notes(clock, cut, &s.unkept);
    }

    fn others(&mut self, clock: &Clock, col: &Collected) {
        let rows = &col.other;
        let records = col.records[2];
        let sub = match records {
            0 => "nothing".into(),
            n if rows.len() as u64 == n => plural(n, "event", "events"),
            n => format!(
                "{} in {}",
                plural(n, "event", "events"),
                plural(rows.len() as u64, "line", "lines")
            ),
        };
        let _ = write!(self.text, "\n== Other events (OTHER): {sub}\n\n");
        let _ = writeln!(
            self.html,
            "<h2 class=\"other\" id=\"other\">Other events (OTHER) <span class=\"sub\">— {sub}</span></h2>"
        );
        if rows.is_empty() && col.unkept[2].lines == 0 {
            self.text.push_str("(nothing)\n");
            self.html.push_str("<p class=\"nothing\">(nothing)</p>\n");
            return;
        }
        let open = "<table class=\"list\">\n<thead><tr><th class=\"when\" scope=\"col\">Time</th>\
             <th class=\"count\" scope=\"col\">Count</th><th scope=\"col\">Message</th></tr></thead>\n<tbody>\n";
        let shown = self.rows(rows, open, |r, t, h| {
            other_as_text(t, clock, r);
            other_as_html(h, clock, r);
        });
        let rest = &rows[shown..];
        let cut = (!rest.is_empty()).then(|| Cut {
            key: "OTHER",
            rows: rest.len() as u64,
            lines: rest.iter().map(|r| r.count).sum(),
        });
        self.notes(clock, cut, &col.unkept[2]);
    }
}

fn section_heading(b: &mut Body, s: &Section) {
    let sub = s.subtitle();
    let _ = write!(b.text, "\n== {} ({}): {sub}\n\n", s.title, s.key);
    let class = s.key.to_ascii_lowercase();
    let _ = writeln!(
        b.html,
        "<h2 class=\"{class}\" id=\"{class}\">{} ({}) <span class=\"sub\">— {sub}</span></h2>",
        s.title, s.key,
    );
    if s.rows.is_empty() && s.unkept.lines == 0 {
        b.text.push_str("(nothing)\n");
        b.html.push_str("<p class=\"nothing\">(nothing)</p>\n");
    }
}

// ---------------------------------------------------------------- text --

fn text_head(head: &Heading, col: &Collected, cuts: &[Cut], max_bytes: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "= Pyruse report for {}", head.host);
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Period:  {} (times in {})",
        head.period(),
        head.clock.zone_name(head.end)
    );
    let _ = writeln!(out, "Summary: {}", summary_parts(col).join(", "));
    if let Some(c) = cut_summary(cuts, max_bytes) {
        let _ = writeln!(out, "Note:    {c}");
    }
    out
}

/// A message (or shape, with its example), cleaned, with its cut note.
fn message_text(out: &mut String, message: &str) {
    let m = clean(message);
    out.push_str(&m.text);
    if let Some(total) = m.cut_from {
        let _ = write!(out, " {}", truncation_note(total));
    }
}

/// A WARN or INFO row as table lines: count and message, the example, the
/// times.
fn row_as_text(out: &mut String, clock: &Clock, r: &Row, width: usize) {
    let blank = "";
    let _ = write!(out, "| {:>width$} | ", r.count);
    message_text(out, &r.message);
    out.push('\n');
    if let Some(e) = &r.example {
        let _ = write!(out, "| {blank:>width$} |   e.g. ");
        message_text(out, e);
        out.push('\n');
    }
    let line = |out: &mut String, label: &str, t: i64| {
        let _ = writeln!(out, "| {blank:>width$} |   {label}{}", clock.time(t));
    };
    match &r.times {
        Times::Each {
            head,
            skipped,
            tail,
        } => {
            head.iter().for_each(|t| line(out, "", *t));
            if *skipped > 0 {
                let _ = writeln!(out, "| {blank:>width$} |   … {skipped} more …");
            }
            tail.iter().for_each(|t| line(out, "", *t));
        }
        Times::From(t) => line(out, "From : ", *t),
        Times::Until(t) => line(out, "Until: ", *t),
        Times::FromUntil(a, b) => {
            line(out, "From : ", *a);
            line(out, "Until: ", *b);
        }
        Times::Hidden => {}
    }
}

/// An OTHER row: `time: message` once, else first and last time and count.
fn other_as_text(out: &mut String, clock: &Clock, r: &OtherRow) {
    if r.count == 1 {
        let _ = write!(out, "{}: ", clock.time(r.first));
    } else if r.first == r.last {
        let _ = write!(out, "{}, {} times: ", clock.time(r.first), r.count);
    } else {
        let _ = write!(
            out,
            "{} to {}, {} times: ",
            clock.time(r.first),
            clock.time(r.last),
            r.count
        );
    }
    message_text(out, &r.message);
    out.push('\n');
    if let Some(e) = &r.example {
        out.push_str("    e.g. ");
        message_text(out, e);
        out.push('\n');
    }
}

// ---------------------------------------------------------------- html --

/// Colors: text on its background is above 7:1 everywhere; the level is
/// always spelled out too (section titles, summary), never shown by color
/// alone. The narrow-screen rules stack the cells of a row of the lists;
/// the tables of the picture scroll sideways instead.
const CSS: &str = "\
body{margin:0;padding:16px;background:#ffffff;color:#1a1a1a;\
font:15px/1.45 -apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif}
main{max-width:1100px;margin:0 auto}
h1{font-size:1.4em;margin:0 0 .3em}
h2{font-size:1.15em;margin:1.6em 0 .5em;padding:.3em .6em;border-left:6px solid #555555;background:#f0f0f0;color:#1a1a1a}
h2 .sub{font-weight:normal;font-size:.85em;color:#3d3d3d}
h2.warn{border-left-color:#9b1c1c;background:#fcecec;color:#6b0f0f}
h2.info{border-left-color:#1d4e89;background:#e9f1fa;color:#0f3360}
h3{font-size:1em;margin:1em 0 .4em}
p.meta{margin:.2em 0;color:#333333}
p.summary{margin:.8em 0;padding:.5em .7em;background:#f6f6f6;border:1px solid #d0d0d0}
p.nothing{margin:.3em 0 .3em .6em;color:#3d3d3d;font-style:italic}
p.cut{margin:.4em 0;color:#6b0f0f;font-style:italic}
table{border-collapse:collapse;width:100%;table-layout:auto}
th,td{border:1px solid #c8c8c8;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#eaeaea;color:#1a1a1a}
tbody tr:nth-child(even) td{background:#f8f8f8}
.count{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums;font-weight:bold;width:1%}
.msg{overflow-wrap:anywhere;word-break:break-word;unicode-bidi:plaintext}
.eg{color:#3d3d3d}
.when{white-space:nowrap;font-variant-numeric:tabular-nums;width:1%}
.cut{color:#6b0f0f;font-style:italic;white-space:nowrap}
.hidden{color:#3d3d3d}
.day{overflow-x:auto}
svg.chart{display:block;max-width:100%;height:auto;margin:.4em 0}
table.day{width:auto}
table.day td,table.day th{text-align:right;font-variant-numeric:tabular-nums;padding:.15em .5em}
table.day th:first-child,table.day td:first-child{text-align:left}
footer{margin-top:2em;font-size:.85em;color:#3d3d3d}
@media (max-width:640px){body{padding:8px}
table.list,.list thead,.list tbody,.list tr,.list th,.list td{display:block;width:auto}
.list thead{display:none}
.list tr{border:1px solid #c8c8c8;margin:0 0 .5em}
.list td{border:0;padding:.15em .5em}
.list td.count{text-align:left;width:auto}
.list td.count::before{content:'Count: ';font-weight:normal}
.list td.when{white-space:normal;width:auto}}
";

fn html_head(head: &Heading, col: &Collected, cuts: &[Cut], max_bytes: usize) -> String {
    let host = esc(&head.host);
    let period = esc(&head.period());
    let zone = esc(&head.clock.zone_name(head.end));
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"color-scheme\" content=\"light\">\n\
         <title>Pyruse report for {host}, {period}</title>\n<style>\n{CSS}</style>\n\
         </head>\n<body>\n<main>\n<h1>Pyruse report for {host}</h1>\n\
         <p class=\"meta\">Period: {period} (times in {zone})</p>\n"
    );
    let _ = write!(
        out,
        "<p class=\"summary\"><strong>Summary:</strong> {}",
        esc(&summary_parts(col).join(" · "))
    );
    if let Some(c) = cut_summary(cuts, max_bytes) {
        let _ = write!(out, "<br>\n<strong>Note:</strong> {}", esc(&c));
    }
    out.push_str("</p>\n");
    out
}

fn html_foot(head: &Heading) -> String {
    let host = esc(&head.host);
    let zone = esc(&head.clock.zone_name(head.end));
    format!(
        "<footer>Sent by Pyruse from {host}. Times are in {zone}.</footer>\n\
         </main>\n</body>\n</html>\n"
    )
}

/// A WARN or INFO row: count, message (and example), times.
fn row_as_html(out: &mut String, clock: &Clock, r: &Row) {
    let _ = write!(
        out,
        "<tr>\n<td class=\"count\">{}</td>\n<td class=\"msg\">",
        r.count
    );
    message_cell(out, &r.message, r.example.as_deref());
    out.push_str("</td>\n<td class=\"when\">");
    times_cell(out, clock, &r.times);
    out.push_str("</td>\n</tr>\n");
}

fn times_cell(out: &mut String, clock: &Clock, times: &Times) {
    let t = |t: i64| esc(&clock.time(t));
    match times {
        Times::Each {
            head,
            skipped,
            tail,
        } => {
            let mut lines: Vec<String> = head.iter().map(|x| t(*x)).collect();
            if *skipped > 0 {
                lines.push(format!("… {skipped} more …"));
            }
            lines.extend(tail.iter().map(|x| t(*x)));
            out.push_str(&lines.join("<br>\n"));
        }
        Times::From(a) => {
            let _ = write!(out, "From: {}", t(*a));
        }
        Times::Until(b) => {
            let _ = write!(out, "Until: {}", t(*b));
        }
        Times::FromUntil(a, b) => {
            let _ = write!(out, "From: {}<br>\nUntil: {}", t(*a), t(*b));
        }
        Times::Hidden => out.push_str("<span class=\"hidden\">(not listed)</span>"),
    }
}

/// An OTHER row: time (or first and last), count, message (and example).
fn other_as_html(out: &mut String, clock: &Clock, r: &OtherRow) {
    out.push_str("<tr>\n<td class=\"when\">");
    if r.first == r.last {
        escape(out, &clock.time(r.first));
    } else {
        let _ = write!(
            out,
            "From: {}<br>\nUntil: {}",
            esc(&clock.time(r.first)),
            esc(&clock.time(r.last))
        );
    }
    let _ = write!(
        out,
        "</td>\n<td class=\"count\">{}</td>\n<td class=\"msg\">",
        r.count
    );
    message_cell(out, &r.message, r.example.as_deref());
    out.push_str("</td>\n</tr>\n");
}

fn message_cell(out: &mut String, message: &str, example: Option<&str>) {
    let one = |out: &mut String, s: &str| {
        let m = clean(s);
        escape(out, &m.text);
        if let Some(total) = m.cut_from {
            out.push_str(" <span class=\"cut\">");
            escape(out, &truncation_note(total));
            out.push_str("</span>");
        }
    };
    one(out, message);
    if let Some(e) = example {
        out.push_str("<br>\n<span class=\"eg\">e.g. ");
        one(out, e);
        out.push_str("</span>");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;
    use std::process::{Command, Stdio};

    /// 2024-03-02 h:m:s UTC, in microseconds.
    fn at(h: i64, m: i64, s: i64) -> i64 {
        let day = "2024-03-02T00:00:00Z".parse::<Timestamp>().unwrap();
        day.as_microsecond() + ((h * 60 + m) * 60 + s) * 1_000_000
    }

    fn rec(level: &str, message: &str, details: &str, time_us: i64) -> Record {
        Record {
            level: level.into(),
            message: message.into(),
            details: details.into(),
            time_us,
        }
    }

    fn report(records: &[Record]) -> Report {
        build(
            records,
            at(0, 0, 0),
            at(24, 0, 0),
            "gw.example",
            &TimeZone::UTC,
        )
    }

    /// The text of one section: from its title to the next title.
    fn text_section<'a>(text: &'a str, key: &str) -> &'a str {
        let start = text
            .find(&format!("({key}):"))
            .unwrap_or_else(|| panic!("no {key} section in\n{text}"));
        let rest = &text[start..];
        &rest[..rest[1..].find("\n== ").map_or(rest.len(), |i| i + 1)]
    }

    /// Parse the HTML with Python's html.parser: tags seen, text of each
    /// message cell, and whether table/tr/td tags balance.
    fn parse_html(html: &str) -> serde_json::Value {
        const SCRIPT: &str = r#"
import sys, json
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.stack, self.cells, self.cell, self.bad = [], [], [], None, []
    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag in ("table", "tr", "td", "th", "tbody", "thead"):
            self.stack.append(tag)
        if tag == "td" and ("class", "msg") in attrs:
            self.cell = []
    def handle_endtag(self, tag):
        if tag in ("table", "tr", "td", "th", "tbody", "thead"):
            if not self.stack or self.stack.pop() != tag:
                self.bad.append(tag)
        if tag == "td" and self.cell is not None:
            self.cells.append("".join(self.cell))
            self.cell = None
    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)
p = P()
p.feed(sys.stdin.read())
p.close()
print(json.dumps({"tags": sorted(set(p.tags)), "cells": p.cells, "balanced": not p.bad and not p.stack}))
"#;
        let mut child = Command::new("python3")
            .args(["-c", SCRIPT])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 is needed by this test");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(html.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        serde_json::from_slice(&out.stdout).unwrap()
    }

    #[test]
    fn rows_sorted_by_code_point_with_counts() {
        let r = report(&[
            rec("WARN", "zeta", "ALL", at(1, 0, 0)),
            rec("WARN", "Éclair", "ALL", at(2, 0, 0)),
            rec("WARN", "alpha", "ALL", at(3, 0, 0)),
            rec("WARN", "Zulu", "ALL", at(4, 0, 0)),
            rec("WARN", "zeta", "ALL", at(5, 0, 0)),
            rec("WARN", "zeta", "ALL", at(6, 0, 0)),
        ]);
        let warn = text_section(&r.text, "WARN");
        let order: Vec<usize> = [
            "|     1 | Zulu",
            "|     1 | alpha",
            "|     3 | zeta",
            "|     1 | Éclair",
        ]
        .iter()
        .map(|row| {
            warn.find(row)
                .unwrap_or_else(|| panic!("{row:?} in\n{warn}"))
        })
        .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{warn}");
        assert!(warn.contains("6 occurrences of 4 messages"), "{warn}");
        assert!(r
            .text
            .contains("Summary: WARN 6 (4 distinct messages), INFO 0, OTHER 0"));
        let cells = parse_html(&r.html)["cells"].clone();
        assert_eq!(
            cells,
            serde_json::json!(["Zulu", "alpha", "zeta", "Éclair"])
        );
        assert!(r.html.contains("<td class=\"count\">3</td>"));
    }

    #[test]
    fn count_column_widens_and_stays_right_aligned() {
        let records: Vec<Record> = (0..123_456)
            .map(|i| rec("INFO", "many", "NONE", at(0, 0, 0) + i))
            .chain([rec("INFO", "one", "NONE", at(0, 0, 1))])
            .collect();
        let r = report(&records);
        let info = text_section(&r.text, "INFO");
        assert!(info.contains("|  Count | Message\n"), "{info}");
        assert!(info.contains("| 123456 | many\n"), "{info}");
        assert!(info.contains("|      1 | one\n"), "{info}");
    }

    #[test]
    fn each_details_mode() {
        let mut records = Vec::new();
        for (msg, details) in [
            ("all", "ALL"),
            ("none", "NONE"),
            ("first", "FIRST"),
            ("last", "LAST"),
            ("firstlast", "FIRSTLAST"),
        ] {
            // Out of order on purpose: times are sorted.
            for t in [at(9, 0, 0), at(7, 0, 6), at(8, 30, 0)] {
                records.push(rec("INFO", msg, details, t));
            }
        }
        let r = report(&records);
        let info = text_section(&r.text, "INFO");
        let expected = "\
| Count | Message
|-------|--------
|     3 | all
|       |   2024-03-02 07:00:06
|       |   2024-03-02 08:30:00
|       |   2024-03-02 09:00:00
|     3 | first
|       |   From : 2024-03-02 07:00:06
|     3 | firstlast
|       |   From : 2024-03-02 07:00:06
|       |   Until: 2024-03-02 09:00:00
|     3 | last
|       |   Until: 2024-03-02 09:00:00
|     3 | none
";
        assert!(info.ends_with(&format!("\n\n{expected}")), "{info}");
        let h = &r.html;
        assert!(h.contains(
            "2024-03-02 07:00:06<br>\n2024-03-02 08:30:00<br>\n2024-03-02 09:00:00</td>"
        ));
        assert!(h.contains(">From: 2024-03-02 07:00:06</td>"));
        assert!(h.contains(">Until: 2024-03-02 09:00:00</td>"));
        assert!(h.contains(">From: 2024-03-02 07:00:06<br>\nUntil: 2024-03-02 09:00:00</td>"));
        assert!(h.contains("(not listed)"));
    }

    #[test]
    fn firstlast_with_one_occurrence_lists_it_as_all() {
        let r = report(&[rec("WARN", "once", "FIRSTLAST", at(3, 4, 5))]);
        let warn = text_section(&r.text, "WARN");
        assert!(
            warn.contains("|     1 | once\n|       |   2024-03-02 03:04:05\n"),
            "{warn}"
        );
        assert!(!warn.contains("From") && !warn.contains("Until"));
        assert!(r
            .html
            .contains("<td class=\"when\">2024-03-02 03:04:05</td>"));
    }

    #[test]
    fn mixed_modes_use_the_earliest_record() {
        let r = report(&[
            rec("WARN", "m", "NONE", at(2, 0, 0)),
            rec("WARN", "m", "LAST", at(1, 0, 0)),
            rec("WARN", "m", "ALL", at(3, 0, 0)),
        ]);
        let warn = text_section(&r.text, "WARN");
        assert!(
            warn.contains("|     3 | m\n|       |   Until: 2024-03-02 03:00:00\n"),
            "{warn}"
        );
    }

    #[test]
    fn unknown_details_mode_is_all() {
        let r = report(&[rec("INFO", "m", "SOMETIMES", at(1, 0, 0))]);
        assert!(text_section(&r.text, "INFO").contains("|       |   2024-03-02 01:00:00\n"));
    }

    #[test]
    fn other_is_chronological_and_takes_every_other_level() {
        let r = report(&[
            rec("OTHER", "third", "ALL", at(3, 0, 0)),
            rec("ERROR", "first", "NONE", at(1, 0, 0)),
            rec("warn", "second", "FIRST", at(2, 0, 0)),
            rec("", "same time, kept in order", "ALL", at(3, 0, 0)),
        ]);
        let other = text_section(&r.text, "OTHER");
        assert!(
            other.ends_with(
                "\n2024-03-02 01:00:00: first\n2024-03-02 02:00:00: second\n\
                 2024-03-02 03:00:00: third\n2024-03-02 03:00:00: same time, kept in order\n"
            ),
            "{other}"
        );
        assert!(r.text.contains("\n== Other events (OTHER): 4 events\n"));
        let cells = parse_html(&r.html)["cells"].clone();
        assert_eq!(
            cells,
            serde_json::json!(["first", "second", "third", "same time, kept in order"])
        );
    }

    #[test]
    fn empty_sections_say_nothing() {
        let r = report(&[]);
        for key in ["WARN", "INFO", "OTHER"] {
            let s = text_section(&r.text, key);
            assert!(s.contains(": nothing\n\n(nothing)\n"), "{key}: {s}");
        }
        assert_eq!(
            r.html.matches("<p class=\"nothing\">(nothing)</p>").count(),
            3
        );
        assert!(!r.html.contains("<table"));
        // Order of the sections.
        let w = r.text.find("(WARN)").unwrap();
        let i = r.text.find("(INFO)").unwrap();
        let o = r.text.find("(OTHER)").unwrap();
        assert!(w < i && i < o);
        let only_info = report(&[rec("INFO", "x", "ALL", at(1, 0, 0))]);
        assert!(text_section(&only_info.text, "WARN").contains("(nothing)"));
        assert!(text_section(&only_info.text, "OTHER").contains("(nothing)"));
        assert_eq!(only_info.html.matches("(nothing)").count(), 2);
    }

    #[test]
    fn heading_names_host_period_and_zone() {
        let r = report(&[]);
        assert!(r.text.starts_with(
            "= Pyruse report for gw.example\n\n\
             Period:  2024-03-02 00:00:00 to 2024-03-03 00:00:00 (times in UTC)\n"
        ));
        assert!(r.html.contains("<h1>Pyruse report for gw.example</h1>"));
        assert!(r
            .html
            .contains("Period: 2024-03-02 00:00:00 to 2024-03-03 00:00:00 (times in UTC)"));
        let paris = TimeZone::fixed(jiff::tz::offset(1));
        let r = build(
            &[rec("OTHER", "m", "ALL", at(23, 30, 0))],
            at(0, 0, 0),
            at(24, 0, 0),
            "h<o>st",
            &paris,
        );
        assert!(r
            .text
            .contains("Period:  2024-03-02 01:00:00 to 2024-03-03 01:00:00 (times in UTC+01:00)"));
        assert!(r.text.contains("2024-03-03 00:30:00: m\n"));
        assert!(r.html.contains("<h1>Pyruse report for h&lt;o&gt;st</h1>"));
        let minus = TimeZone::fixed(jiff::tz::offset(-5));
        let r = build(&[], 0, 0, "h", &minus);
        assert!(
            r.text.contains("1969-12-31 19:00:00 (times in UTC-05:00)"),
            "{}",
            r.text
        );
    }

    #[test]
    fn out_of_range_time_does_not_panic() {
        let r = build(
            &[rec("OTHER", "m", "ALL", i64::MAX)],
            i64::MIN,
            0,
            "h",
            &TimeZone::UTC,
        );
        assert!(r.text.contains("(time out of range"));
    }

    #[test]
    fn hostile_text_is_escaped_in_html() {
        let hostile = [
            "<script>alert(1)</script>",
            "</td></tr></table><img src=x onerror=alert(1)>",
            "&amp; is not &",
            "quotes \" and ' in \"attr\"='x'",
            "nul\0bell\x07esc\x1b[31mred\x1b[0m cr\rlf\nend\ttab",
            "del\x7f c1\u{85}\u{9b} ls\u{2028} rlo\u{202e}evil\u{2066}iso",
        ];
        let mut records: Vec<Record> = hostile
            .iter()
            .map(|m| rec("WARN", m, "ALL", at(1, 0, 0)))
            .collect();
        records.extend(hostile.iter().map(|m| rec("OTHER", m, "ALL", at(2, 0, 0))));
        let r = report(&records);
        let h = &r.html;
        assert!(!h.contains("<script") && !h.contains("<img"));
        assert!(h.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(
            h.contains("&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;img src=x onerror=alert(1)&gt;")
        );
        assert!(h.contains("&amp;amp; is not &amp;"));
        assert!(h.contains("quotes &quot; and &#39; in &quot;attr&quot;=&#39;x&#39;"));
        let cleaned = [
            "nul\u{fffd}bell\u{fffd}esc\u{fffd}[31mred\u{fffd}[0m cr\u{fffd}lf\u{fffd}end\ttab",
            "del\u{fffd} c1\u{fffd}\u{fffd} ls\u{fffd} rlo\u{fffd}evil\u{fffd}iso",
        ];
        for c in cleaned {
            assert!(h.contains(c), "{c:?}");
            assert!(r.text.contains(c), "{c:?}");
        }
        for s in [&r.text, h] {
            assert!(
                !s.chars().any(|c| unsafe_char(c) && c != '\n'),
                "raw control left"
            );
        }
        // A real HTML parser sees the same cells, with the text intact.
        let parsed = parse_html(h);
        assert_eq!(parsed["balanced"], true);
        let tags: Vec<String> = serde_json::from_value(parsed["tags"].clone()).unwrap();
        assert!(
            !tags.iter().any(|t| t == "script" || t == "img"),
            "{tags:?}"
        );
        let mut warn: Vec<String> = hostile.iter().map(|m| clean(m).text).collect();
        warn.sort_by(|a, b| {
            // Sorted by original message; map back through the original.
            let ia = hostile.iter().position(|m| clean(m).text == *a).unwrap();
            let ib = hostile.iter().position(|m| clean(m).text == *b).unwrap();
            hostile[ia].cmp(hostile[ib])
        });
        let other: Vec<String> = hostile.iter().map(|m| clean(m).text).collect();
        let cells: Vec<String> = serde_json::from_value(parsed["cells"].clone()).unwrap();
        assert_eq!(cells, [warn, other].concat());
    }

    #[test]
    fn huge_message_is_cut_with_a_note() {
        let huge = "x".repeat(1 << 20) + "<tail>";
        let r = report(&[
            rec("WARN", &huge, "ALL", at(1, 0, 0)),
            rec("OTHER", &huge, "ALL", at(1, 0, 0)),
        ]);
        let note = format!("[… cut at 4096 of {} characters]", (1 << 20) + 6);
        assert!(r.text.contains(&format!("| {} {note}\n", "x".repeat(4096))));
        assert!(r.text.contains(&format!(": {} {note}\n", "x".repeat(4096))));
        assert_eq!(
            r.html
                .matches(&format!("<span class=\"cut\">{note}</span>"))
                .count(),
            2
        );
        assert!(!r.html.contains("tail") && !r.text.contains("tail"));
        assert!(r.html.len() < 30_000 && r.text.len() < 20_000);
        // The cut counts characters, not bytes.
        let wide = "é".repeat(5000);
        let r = report(&[rec("INFO", &wide, "NONE", 0)]);
        assert!(r
            .text
            .contains(&format!("{} [… cut at 4096 of 5000", "é".repeat(4096))));
    }

    #[test]
    fn html_is_a_complete_self_contained_document() {
        let r = report(&[rec("WARN", "w", "ALL", at(1, 0, 0))]);
        let h = &r.html;
        assert!(
            h.starts_with("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">")
        );
        assert!(h.ends_with("</html>\n"));
        assert!(h.contains("<meta name=\"viewport\""));
        for banned in [
            "<script", "<link", "<img", "src=", "href=", "url(", "@import",
        ] {
            assert!(!h.contains(banned), "{banned}");
        }
        // Sensibly line-broken: no long lines without a message in them.
        assert!(h.lines().all(|l| l.len() < 400), "long HTML source line");
        assert!(parse_html(h)["balanced"] == true);
    }

    #[test]
    fn write_sample_html() {
        let mut records = vec![
            rec(
                "WARN",
                "Ban 203.0.113.7 from sshd (5 failed logins)",
                "ALL",
                at(0, 0, 6),
            ),
            rec(
                "WARN",
                "Ban 203.0.113.7 from sshd (5 failed logins)",
                "ALL",
                at(13, 12, 44),
            ),
            rec(
                "WARN",
                "Ban 2001:db8::42 from nginx <script>alert('x')</script>",
                "FIRSTLAST",
                at(2, 3, 4),
            ),
            rec("WARN", "Disk /var is 95 % full", "LAST", at(22, 59, 1)),
            rec(
                "INFO",
                "Unknown user \"oracle\" tried to log in",
                "FIRST",
                at(4, 0, 0),
            ),
            rec(
                "INFO",
                "Unknown user \"oracle\" tried to log in",
                "FIRST",
                at(5, 0, 0),
            ),
            rec(
                "INFO",
                "Certificate renewed for mail.example.org",
                "NONE",
                at(6, 0, 0),
            ),
            rec(
                "INFO",
                &format!("Very long line: {}", "abcdefghij".repeat(500)),
                "ALL",
                at(7, 0, 0),
            ),
        ];
        for i in 0..4 {
            records.push(rec(
                "INFO",
                "Postfix: relay access denied",
                "FIRSTLAST",
                at(8 + i, 0, 0),
            ));
        }
        records.push(rec(
            "OTHER",
            "systemd: Started Daily apt upgrade",
            "ALL",
            at(6, 30, 0),
        ));
        records.push(rec(
            "OTHER",
            "kernel: eth0 link up \x1b[1m(1 Gbps)",
            "ALL",
            at(1, 0, 0),
        ));
        records.extend(timeout_day());
        let paris = TimeZone::get("Europe/Paris").unwrap_or(TimeZone::UTC);
        let mut c = Collector::new();
        records.sort_by_key(|r| r.time_us);
        for r in &records {
            c.add(&r.level, &r.message, &r.details, r.time_us);
        }
        let r = render(
            c,
            &Options {
                host: "gw.example.org",
                tz: &paris,
                start_us: at(0, 0, 0) - 3_600_000_000,
                end_us: at(23, 0, 0),
                hours: &hours(),
                max_bytes: DEFAULT_MAX_BYTES,
            },
        );
        let dir = std::env::temp_dir();
        std::fs::write(dir.join("report-sample.html"), &r.html).unwrap();
        std::fs::write(dir.join("report-sample.txt"), &r.text).unwrap();
    }

    fn render_with(records: &[Record], hours: &[HourCount], max_bytes: usize) -> Report {
        let mut c = Collector::new();
        let mut sorted: Vec<&Record> = records.iter().collect();
        sorted.sort_by_key(|r| r.time_us);
        for r in sorted {
            c.add(&r.level, &r.message, &r.details, r.time_us);
        }
        render(
            c,
            &Options {
                host: "gw.example",
                tz: &TimeZone::UTC,
                start_us: at(0, 0, 0),
                end_us: at(24, 0, 0),
                hours,
                max_bytes,
            },
        )
    }

    /// A day of sshd timeouts (IPv4 and IPv6, each with its port) among
    /// other lines.
    fn timeout_day() -> Vec<Record> {
        let mut records = Vec::new();
        for i in 0..5936i64 {
            let addr = if i % 2 == 0 {
                format!("203.0.113.{}", i % 250)
            } else {
                format!("2001:db8::{i:x}")
            };
            records.push(rec(
                "OTHER",
                &format!(
                    "sshd: Timeout before authentication for {addr} port {}",
                    1024 + i
                ),
                "ALL",
                at(0, 0, 5) + i * 14_000_000,
            ));
        }
        for (t, port) in [(at(0, 0, 1), 22), (at(1, 0, 0), 23), (at(2, 0, 0), 24)] {
            records.push(rec(
                "OTHER",
                &format!("sshd: Connection closed by 198.51.100.7 port {port} [preauth]"),
                "ALL",
                t,
            ));
        }
        for t in [at(0, 0, 2), at(3, 0, 0)] {
            records.push(rec(
                "OTHER",
                "sshd: Connection reset by 198.51.100.7 port 22 [preauth]",
                "ALL",
                t,
            ));
        }
        for (t, id) in [(at(12, 0, 0), "4F2A31C0B2"), (at(13, 0, 0), "0A1B2C3D4E")] {
            records.push(rec(
                "OTHER",
                &format!("postfix/cleanup[1234]: {id}: message-id=<a@b>"),
                "ALL",
                t,
            ));
        }
        records
    }

    #[test]
    fn a_day_of_timeouts_is_one_line_with_count_times_and_example() {
        let r = report(&timeout_day());
        let other = text_section(&r.text, "OTHER");
        // 5936 timeouts (the last at 00:00:05 + 5935 × 14 s = 23:04:55),
        // 3 closed, 2 reset (a meaningful word apart: two lines), 2 postfix
        // lines with their queue ids: 5943 events, 4 lines, by first time.
        let expected = "\
(OTHER): 5943 events in 4 lines

2024-03-02 00:00:01 to 2024-03-02 02:00:00, 3 times: sshd: Connection closed by <IP> port <N> [preauth]
    e.g. sshd: Connection closed by 198.51.100.7 port 22 [preauth]
2024-03-02 00:00:02 to 2024-03-02 03:00:00, 2 times: sshd: Connection reset by 198.51.100.7 port 22 [preauth]
2024-03-02 00:00:05 to 2024-03-02 23:04:55, 5936 times: sshd: Timeout before authentication for <IP> port <N>
    e.g. sshd: Timeout before authentication for 203.0.113.0 port 1024
2024-03-02 12:00:00 to 2024-03-02 13:00:00, 2 times: postfix/cleanup[<N>]: <HEX>: message-id=<a@b>
    e.g. postfix/cleanup[1234]: 4F2A31C0B2: message-id=<a@b>
";
        assert_eq!(other, expected);
        assert!(r.text.contains("Summary: WARN 0, INFO 0, OTHER 5943\n"));
        let cells = parse_html(&r.html)["cells"].clone();
        assert_eq!(
            cells[2],
            "sshd: Timeout before authentication for <IP> port <N>\n\
             e.g. sshd: Timeout before authentication for 203.0.113.0 port 1024"
        );
        assert!(r.html.contains("<td class=\"count\">5936</td>"));
        assert!(r
            .html
            .contains("From: 2024-03-02 00:00:05<br>\nUntil: 2024-03-02 23:04:55</td>"));
        assert!(r.html.len() < 20_000, "{}", r.html.len());
    }

    #[test]
    fn warn_and_info_keep_a_few_messages_and_collapse_a_flood() {
        let mut records = Vec::new();
        // Six users: more than MAX_VARIANTS distinct messages of a shape.
        for (k, user) in ["admin", "oracle", "test", "guest", "ubnt", "pi"]
            .iter()
            .enumerate()
        {
            let k = k as i64;
            records.push(rec(
                "INFO",
                &format!("sshd: Invalid user {user} from 192.0.2.{k}"),
                "FIRSTLAST",
                at(1 + k, 0, 0),
            ));
        }
        // Five addresses: each keeps its row.
        for k in 0..5 {
            records.push(rec(
                "WARN",
                &format!("Ban 203.0.113.{k} from sshd"),
                "ALL",
                at(2, k, 0),
            ));
        }
        let r = report(&records);
        let info = text_section(&r.text, "INFO");
        assert!(
            info.ends_with(
                "\
| Count | Message
|-------|--------
|     6 | sshd: Invalid user <USER> from <IP>
|       |   e.g. sshd: Invalid user admin from 192.0.2.0
|       |   From : 2024-03-02 01:00:00
|       |   Until: 2024-03-02 06:00:00
"
            ),
            "{info}"
        );
        assert!(info.contains("6 occurrences of 1 row"), "{info}");
        let warn = text_section(&r.text, "WARN");
        for k in 0..5 {
            assert!(
                warn.contains(&format!(
                    "|     1 | Ban 203.0.113.{k} from sshd\n|       |   2024-03-02 02:0{k}:00\n"
                )),
                "{warn}"
            );
        }
        assert!(r
            .text
            .contains("Summary: WARN 5 (5 distinct messages), INFO 6 (1 row), OTHER 0"));
        // NONE still hides the times of a collapsed row.
        let none: Vec<Record> = (0..7)
            .map(|k| rec("INFO", &format!("job {k} done"), "NONE", at(k, 0, 0)))
            .collect();
        let info = text_section(&report(&none).text, "INFO").to_string();
        assert!(
            info.ends_with("|     7 | job <N> done\n|       |   e.g. job 0 done\n"),
            "{info}"
        );
    }

    #[test]
    fn all_lists_the_first_and_last_ten_times() {
        let records: Vec<Record> = (0..25)
            .map(|k| rec("WARN", "disk full", "ALL", at(0, k, 0)))
            .collect();
        let r = report(&records);
        let warn = text_section(&r.text, "WARN");
        let mut expected = String::from("|    25 | disk full\n");
        for k in (0..10).chain(["skip"].iter().map(|_| 99)).chain(15..25) {
            if k == 99 {
                expected += "|       |   … 5 more …\n";
            } else {
                expected += &format!("|       |   2024-03-02 00:{k:02}:00\n");
            }
        }
        assert!(warn.ends_with(&expected), "{warn}");
        assert!(r
            .html
            .contains("2024-03-02 00:09:00<br>\n… 5 more …<br>\n2024-03-02 00:15:00"));
    }

    #[test]
    fn the_size_cap_cuts_info_then_other_and_says_so() {
        let mut records = Vec::new();
        let word = |k: usize| -> String {
            // Distinct words, no digits: every line is its own shape.
            (0..4)
                .map(|d| (b'a' + (k / 26usize.pow(d) % 26) as u8) as char)
                .collect()
        };
        for k in 0..50 {
            records.push(rec(
                "WARN",
                &format!("warning {} {}", word(k), "w".repeat(80)),
                "NONE",
                at(1, 0, 0),
            ));
        }
        for k in 0..2000 {
            records.push(rec(
                "INFO",
                &format!("notice {} {}", word(k), "i".repeat(80)),
                "NONE",
                at(2, 0, 0),
            ));
        }
        for k in 0..2000 {
            records.push(rec(
                "OTHER",
                &format!("other {} {}", word(k), "o".repeat(80)),
                "ALL",
                at(3, 0, 0),
            ));
        }
        let cap = MIN_MAX_BYTES;
        let r = render_with(&records, &[], cap);
        assert!(
            r.text.len() <= cap && r.html.len() <= cap,
            "{} {}",
            r.text.len(),
            r.html.len()
        );
        // The largest picture (36 columns, 6 services) leaves room for rows
        // at the smallest cap: its charts give way.
        let big: Vec<HourCount> = (0..36 * 6)
            .map(|k| HourCount {
                hour_us: at(0, 0, 0) + (k / 6) * 3_600_000_000,
                service: format!("service-number-{}", k % 6),
                failures: 1000 + k as u64,
                bans: 100 + k as u64,
            })
            .collect();
        let b = render_with(&records, &big, cap);
        assert!(
            b.text.len() <= cap && b.html.len() <= cap,
            "{} {}",
            b.text.len(),
            b.html.len()
        );
        assert!(!b.html.contains("<svg") && b.html.contains("id=\"failures-table\""));
        assert!(b.html.contains("<td class=\"msg\">warning "));
        assert!(render_with(&records[..10], &big, DEFAULT_MAX_BYTES)
            .html
            .contains("<svg"));
        // WARN whole, INFO in part, OTHER not at all; in both parts alike.
        let shown = |s: &str, what: &str| s.matches(what).count();
        assert_eq!(shown(&r.text, "| warning "), 50);
        assert_eq!(shown(&r.html, "<td class=\"msg\">warning "), 50);
        let info = shown(&r.text, "| notice ");
        assert_eq!(shown(&r.html, "<td class=\"msg\">notice "), info);
        assert!(info > 10 && info < 2000, "{info}");
        assert_eq!(shown(&r.text, "other "), 0);
        let cut = 2000 - info;
        assert!(r.text.contains(&format!(
            "Note:    cut to 65536 bytes (dailyReport.maxSize): INFO {cut} rows ({cut} lines), OTHER 2000 rows (2000 lines)\n"
        )), "{}", &r.text[..400]);
        assert!(r.text.contains(&format!(
            "[… {cut} more rows ({cut} lines) not shown: the report is limited to 65536 bytes (dailyReport.maxSize)]\n\n== Other events (OTHER): 2000 events\n\n\
             [… 2000 more rows (2000 lines) not shown: the report is limited to 65536 bytes (dailyReport.maxSize)]\n"
        )), "{}", &r.text[r.text.len() - 600..]);
        assert_eq!(r.html.matches("<p class=\"cut\">[… ").count(), 2);
        assert!(r.html.contains("<strong>Note:</strong> cut to 65536 bytes"));
        for s in [&r.text, &r.html] {
            let w = s.find("(WARN)").unwrap();
            let i = s.find("(INFO)").unwrap();
            let o = s.find("(OTHER)").unwrap();
            assert!(w < i && i < o);
        }
        assert_eq!(parse_html(&r.html)["balanced"], true);
        // Under the default cap, these 500 rows are not cut.
        let r = report(&records[..500]);
        assert!(!r.text.contains("Note:") && !r.html.contains("class=\"cut\""));
    }

    #[test]
    fn shapes_beyond_the_cap_are_counted() {
        let mut c = Collector::new();
        for k in 0..collect::MAX_SHAPES + 3 {
            c.add(
                "OTHER",
                &format!("host w{k}x down"),
                "ALL",
                at(0, 0, 0) + k as i64,
            );
        }
        let col = c.finish();
        assert_eq!(col.other.len(), collect::MAX_SHAPES);
        assert_eq!(col.records[2], collect::MAX_SHAPES as u64 + 3);
        let first = at(0, 0, 0) + collect::MAX_SHAPES as i64;
        assert_eq!(
            col.unkept[2],
            Unkept {
                lines: 3,
                first,
                last: first + 2
            }
        );
    }

    /// sshd fails every hour (h + 1 times at hour h), postfix at 03:00 and
    /// 05:00; bans at 02:00 and 05:00.
    fn hours() -> Vec<HourCount> {
        let h = |hour: i64, service: &str, failures: u64, bans: u64| HourCount {
            hour_us: at(hour, 0, 0),
            service: service.into(),
            failures,
            bans,
        };
        let mut v: Vec<HourCount> = (0..24).map(|k| h(k, "sshd", k as u64 + 1, 0)).collect();
        v.push(h(3, "postfix", 40, 0));
        v.push(h(5, "postfix", 2, 1));
        v.push(h(2, "sshd", 0, 2));
        v
    }

    #[test]
    fn the_picture_opens_the_report_and_its_table_has_the_numbers() {
        let r = render_with(
            &[rec("WARN", "w", "ALL", at(1, 0, 0))],
            &hours(),
            DEFAULT_MAX_BYTES,
        );
        // Text: the tables, by hand: sshd 1..24 (300 in all), postfix 42.
        let t = &r.text;
        let pic = t.find("== Failures and bans per hour").unwrap();
        assert!(pic < t.find("(WARN)").unwrap());
        assert!(
            t.contains(
                "Failures per hour, by service (- is none; hours without any are left out):\n\n\
             | Hour  | sshd | postfix | All |\n\
             |-------|------|---------|-----|\n\
             | 00:00 |    1 |       - |   1 |\n\
             | 01:00 |    2 |       - |   2 |\n\
             | 02:00 |    3 |       - |   3 |\n\
             | 03:00 |    4 |      40 |  44 |\n"
            ),
            "{t}"
        );
        assert!(t.contains("| 23:00 |   24 |       - |  24 |\n| Total |  300 |      42 | 342 |\n"));
        assert!(
            t.contains(
                "| Hour  | sshd | postfix | All |\n\
             |-------|------|---------|-----|\n\
             | 02:00 |    2 |       - |   2 |\n\
             | 05:00 |    - |       1 |   1 |\n\
             | Total |    2 |       1 |   3 |\n"
            ),
            "{t}"
        );
        // HTML: the chart comes first, and each bar's height is its number
        // on the chart's scale, as in the table.
        let h = &r.html;
        assert!(h.find("<svg").unwrap() < h.find("id=\"warn\"").unwrap());
        for id in ["failures", "bans"] {
            let bars = svg_bars(h, id);
            let table = html_table(h, id);
            assert!(!bars.is_empty());
            let services = &table[0];
            for (hour, service, value) in &bars {
                let i = services.iter().position(|s| s == service).unwrap();
                let row = table.iter().find(|r| r[0] == *hour).unwrap();
                assert_eq!(row[i], value.to_string(), "{id} {hour} {service}");
            }
            // Every non-zero cell has its bar.
            let cells = table[1..table.len() - 1]
                .iter()
                .flat_map(|r| &r[1..r.len() - 1]);
            assert_eq!(cells.filter(|c| *c != "-").count(), bars.len(), "{id}");
        }
        assert_eq!(parse_html(h)["balanced"], true);
        // No failures, no bans: no picture.
        let r = render_with(&[], &[], DEFAULT_MAX_BYTES);
        assert!(!r.html.contains("<svg") && !r.text.contains("per hour"));
    }

    /// The bars of a chart: (hour, service, value from the geometry).
    fn svg_bars(html: &str, id: &str) -> Vec<(String, String, u64)> {
        let start = html.find(&format!("id=\"{id}-chart\"")).unwrap();
        let svg = &html[start..start + html[start..].find("</svg>").unwrap()];
        let attr = |tag: &str, name: &str| -> String {
            let k = tag.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
            tag[k..k + tag[k..].find('"').unwrap()].to_string()
        };
        let ymax: f64 = {
            let k = svg.find("class=\"ymax\"").unwrap();
            let rest = &svg[k..];
            let from = rest.find('>').unwrap() + 1;
            rest[from..from + rest[from..].find('<').unwrap()]
                .parse()
                .unwrap()
        };
        svg.split("<rect ")
            .skip(1)
            .filter(|t| t.contains("data-col"))
            .map(|t| {
                let height: f64 = attr(t, "height").parse().unwrap();
                let value = (height / 170.0 * ymax).round() as u64;
                // The title: `service, hour: n failures`.
                let title = &t[t.find("<title>").unwrap() + 7..t.find("</title>").unwrap()];
                let hour = title
                    .split(", ")
                    .nth(1)
                    .unwrap()
                    .split(": ")
                    .next()
                    .unwrap();
                (hour.to_string(), attr(t, "data-service"), value)
            })
            .collect()
    }

    /// The cells of a picture table, header row first.
    fn html_table(html: &str, id: &str) -> Vec<Vec<String>> {
        let start = html.find(&format!("id=\"{id}-table\"")).unwrap();
        let table = &html[start..start + html[start..].find("</table>").unwrap()];
        table
            .split("<tr>")
            .skip(1)
            .map(|row| {
                row.split(['<', '>'])
                    .collect::<Vec<_>>()
                    .windows(2)
                    .filter(|w| w[0].starts_with("td") || w[0].starts_with("th"))
                    .map(|w| w[1].to_string())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn many_services_sum_the_smallest() {
        let hours: Vec<HourCount> = (0..8u64)
            .map(|k| HourCount {
                hour_us: at(4, 0, 0),
                service: format!("svc{k}"),
                failures: 10 + k,
                bans: 0,
            })
            .collect();
        let r = render_with(&[], &hours, DEFAULT_MAX_BYTES);
        // The five largest by name, the three smallest (10 + 11 + 12).
        assert!(
            r.text
                .contains("| Hour  | svc7 | svc6 | svc5 | svc4 | svc3 | other services | All |"),
            "{}",
            r.text
        );
        assert!(r
            .text
            .contains("| Total |   17 |   16 |   15 |   14 |   13 |             33 | 108 |"));
        assert!(r.text.contains("Bans per hour, by service: none.\n"));
    }
}
