//! The picture of the period, at the top of the report: failures and bans
//! per hour and per service.
//!
//! The daemon counts them as the rules decide them (see
//! [`crate::state::store::Batch::count_hour`]): a **failure** is a counter
//! raised (`failure` raises its service's counter, `counterRaise` the
//! counter it names), under the counter's name; a **ban** is an `nftBan` or
//! `ipsetBan` decided, under the counter raised or reset just before it by
//! the same entry (so `failure`'s bans count for its service), else under
//! its set. Hours are UTC hours (so a zone with a half-hour offset shows
//! columns starting at :30).
//!
//! Each of the two is drawn as an inline SVG bar chart (stacked by service,
//! a legend naming each service and its total, no script, no external
//! resource, colors from the Okabe–Ito palette, which color-blind readers
//! tell apart) followed by a table with the same numbers, which mail
//! clients that do not show SVG still show; the text part has the tables.
//!
//! At most [`MAX_COLUMNS`] columns: a longer period (a report missed for
//! days) takes several hours per column. At most [`MAX_SERVICES`]
//! services: beyond, the smallest are summed as `other services`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{clean, esc, Clock};

pub const HOUR_US: i64 = 3_600_000_000;
/// Columns of the picture at most.
pub const MAX_COLUMNS: i64 = 36;
/// Services shown at most (the last one sums the rest when there are more).
pub const MAX_SERVICES: usize = 6;
const COLORS: [&str; MAX_SERVICES] = [
    "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9",
];
const OTHERS: &str = "other services";
const OTHERS_COLOR: &str = "#7f7f7f";

/// Failures and bans of one service in one hour.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HourCount {
    /// The start of the (UTC) hour, µs since the epoch.
    pub hour_us: i64,
    pub service: String,
    pub failures: u64,
    pub bans: u64,
}

/// The start of the UTC hour of `t_us`.
pub fn hour_of(t_us: i64) -> i64 {
    t_us.div_euclid(HOUR_US) * HOUR_US
}

/// The numbers of the picture.
pub(super) struct Day {
    /// Start of each column (µs).
    starts: Vec<i64>,
    services: Vec<String>,
    /// `[metric][column][service]`: failures, then bans.
    counts: [Vec<Vec<u64>>; 2],
    /// Whether the columns span several dates (labels then show the date).
    dated: bool,
}

/// The two metrics: title, noun, id.
const METRICS: [(&str, &str, &str); 2] = [
    ("Failures per hour, by service", "failures", "failures"),
    ("Bans per hour, by service", "bans", "bans"),
];

fn services(live: &[&HourCount]) -> Vec<String> {
    let mut totals: BTreeMap<&str, u64> = BTreeMap::new();
    for h in live {
        *totals.entry(h.service.as_str()).or_default() += h.failures.saturating_add(h.bans);
    }
    let mut names: Vec<(&str, u64)> = totals.into_iter().collect();
    names.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut out: Vec<String> = names.iter().map(|(n, _)| n.to_string()).collect();
    if out.len() > MAX_SERVICES {
        out.truncate(MAX_SERVICES - 1);
        out.push(OTHERS.into());
    }
    out
}

impl Day {
    /// `None` when nothing failed and nothing was banned.
    pub(super) fn new(hours: &[HourCount], start_us: i64, end_us: i64) -> Option<Day> {
        let live: Vec<&HourCount> = hours
            .iter()
            .filter(|h| h.failures > 0 || h.bans > 0)
            .collect();
        let lo_data = live.iter().map(|h| h.hour_us).min()?;
        let hi_data = live
            .iter()
            .map(|h| h.hour_us)
            .max()?
            .saturating_add(HOUR_US);
        // The period, extended to the data, with at most a day of quiet
        // hours on either side; a period that ends just after an hour
        // (a report sent at 00:00:03) does not open a column for it.
        let lo = hour_of(start_us).clamp(lo_data.saturating_sub(24 * HOUR_US), lo_data);
        let end = hour_of(end_us.saturating_sub(60_000_000)).saturating_add(HOUR_US);
        let hi = end.clamp(hi_data, hi_data.saturating_add(24 * HOUR_US));
        let n_hours = ((hi - lo) / HOUR_US).max(1);
        let step_h = (n_hours + MAX_COLUMNS - 1) / MAX_COLUMNS;
        let columns = ((n_hours + step_h - 1) / step_h) as usize;
        let step = step_h * HOUR_US;
        let services = services(&live);
        let mut counts = [
            vec![vec![0u64; services.len()]; columns],
            vec![vec![0u64; services.len()]; columns],
        ];
        for h in &live {
            let col = (((h.hour_us - lo) / step) as usize).min(columns - 1);
            let svc = services
                .iter()
                .position(|s| *s == h.service)
                .unwrap_or(services.len() - 1);
            counts[0][col][svc] += h.failures;
            counts[1][col][svc] += h.bans;
        }
        let starts: Vec<i64> = (0..columns as i64).map(|i| lo + i * step).collect();
        let dated = hi - lo > 24 * HOUR_US;
        Some(Day {
            starts,
            services,
            counts,
            dated,
        })
    }

    fn label(&self, clock: &Clock, col: usize) -> String {
        let t = clock.time(self.starts[col]);
        let range = if self.dated { 5..16 } else { 11..16 };
        t.get(range).map_or(t.clone(), str::to_string)
    }

    fn total(&self, m: usize) -> u64 {
        self.counts[m].iter().flatten().sum()
    }

    fn service_total(&self, m: usize, s: usize) -> u64 {
        self.counts[m].iter().map(|c| c[s]).sum()
    }

    /// The picture as (text, HTML); the HTML without its charts when
    /// `charts` is false (the tables alone).
    pub(super) fn render(&self, clock: &Clock, charts: bool) -> (String, String) {
        let mut text = String::from("\n== Failures and bans per hour\n");
        let mut html = String::from(
            "<h2 id=\"day\">Failures and bans per hour</h2>\n<div class=\"picture\">\n",
        );
        for (m, (title, noun, _)) in METRICS.iter().enumerate() {
            let _ = write!(text, "\n{title}");
            let _ = writeln!(html, "<h3>{title}</h3>");
            if self.total(m) == 0 {
                let _ = writeln!(text, ": none.");
                let _ = writeln!(html, "<p class=\"nothing\">No {noun} in this period.</p>");
                continue;
            }
            let _ = writeln!(text, " (- is none; hours without any are left out):\n");
            self.table_text(&mut text, clock, m);
            if charts {
                self.svg(&mut html, clock, m);
                html.push_str("<p class=\"meta\">The same numbers (- is none; hours without any are left out):</p>\n");
            } else {
                html.push_str("<p class=\"meta\">(- is none; hours without any are left out; no chart: it would take more than half of dailyReport.maxSize)</p>\n");
            }
            self.table_html(&mut html, clock, m);
        }
        html.push_str("</div>\n");
        (text, html)
    }

    fn table_text(&self, out: &mut String, clock: &Clock, m: usize) {
        let cell = |n: u64| if n == 0 { "-".into() } else { n.to_string() };
        let mut header: Vec<String> = vec!["Hour".into()];
        header.extend(self.services.iter().map(|s| clean(s).text));
        header.push("All".into());
        let mut rows: Vec<Vec<String>> = Vec::new();
        for (c, counts) in self.counts[m].iter().enumerate() {
            if counts.iter().all(|&n| n == 0) {
                continue;
            }
            let mut row = vec![self.label(clock, c)];
            row.extend(counts.iter().map(|&n| cell(n)));
            row.push(cell(counts.iter().sum()));
            rows.push(row);
        }
        let mut total = vec!["Total".to_string()];
        total.extend((0..self.services.len()).map(|s| cell(self.service_total(m, s))));
        total.push(cell(self.total(m)));
        rows.push(total);
        let widths: Vec<usize> = (0..header.len())
            .map(|i| {
                rows.iter()
                    .map(|r| r[i].chars().count())
                    .chain([header[i].chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |out: &mut String, r: &[String]| {
            for (i, c) in r.iter().enumerate() {
                let w = widths[i];
                let pad = w.saturating_sub(c.chars().count());
                if i == 0 {
                    let _ = write!(out, "| {c}{} ", " ".repeat(pad));
                } else {
                    let _ = write!(out, "| {}{c} ", " ".repeat(pad));
                }
            }
            out.push_str("|\n");
        };
        line(out, &header);
        for w in &widths {
            let _ = write!(out, "|{}", "-".repeat(w + 2));
        }
        out.push_str("|\n");
        for r in &rows {
            line(out, r);
        }
    }

    fn table_html(&self, out: &mut String, clock: &Clock, m: usize) {
        let cell = |n: u64| if n == 0 { "-".into() } else { n.to_string() };
        let id = METRICS[m].2;
        let _ = write!(
            out,
            "<div class=\"day\">\n<table class=\"day\" id=\"{id}-table\">\n<thead><tr><th scope=\"col\">Hour</th>"
        );
        for s in &self.services {
            let _ = write!(out, "<th scope=\"col\">{}</th>", esc(&clean(s).text));
        }
        out.push_str("<th scope=\"col\">All</th></tr></thead>\n<tbody>\n");
        for (c, counts) in self.counts[m].iter().enumerate() {
            if counts.iter().all(|&n| n == 0) {
                continue;
            }
            let _ = write!(out, "<tr><td>{}</td>", esc(&self.label(clock, c)));
            for n in counts {
                let _ = write!(out, "<td>{}</td>", cell(*n));
            }
            let _ = writeln!(out, "<td>{}</td></tr>", cell(counts.iter().sum()));
        }
        out.push_str("<tr><th scope=\"row\">Total</th>");
        for s in 0..self.services.len() {
            let _ = write!(out, "<td>{}</td>", cell(self.service_total(m, s)));
        }
        let _ = write!(
            out,
            "<td>{}</td></tr>\n</tbody>\n</table>\n</div>\n",
            cell(self.total(m))
        );
    }

    fn color(&self, s: usize) -> &'static str {
        if self.services[s] == OTHERS && s == self.services.len() - 1 {
            OTHERS_COLOR
        } else {
            COLORS[s % COLORS.len()]
        }
    }

    /// A stacked bar chart: one column per hour (or group of hours), one
    /// bar segment per service, a legend on the right.
    fn svg(&self, out: &mut String, clock: &Clock, m: usize) {
        let (title, noun, id) = METRICS[m];
        let (x0, x1, y0, y1) = (44.0, 540.0, 14.0, 184.0);
        let max = nice(
            self.counts[m]
                .iter()
                .map(|c| c.iter().sum())
                .max()
                .unwrap_or(0),
        );
        let cols = self.starts.len();
        let cw = (x1 - x0) / cols as f64;
        let _ = writeln!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" id=\"{id}-chart\" width=\"720\" height=\"214\" \
             viewBox=\"0 0 720 214\" role=\"img\" aria-labelledby=\"{id}-title\" font-family=\"sans-serif\" font-size=\"11\">\n\
             <title id=\"{id}-title\">{title}: {} in all</title>\n\
             <line x1=\"{x0}\" y1=\"{y0}\" x2=\"{x1}\" y2=\"{y0}\" stroke=\"#d0d0d0\"/>\n\
             <text class=\"ymax\" x=\"38\" y=\"{}\" text-anchor=\"end\" fill=\"#333333\">{max}</text>\n\
             <text x=\"38\" y=\"{}\" text-anchor=\"end\" fill=\"#333333\">0</text>",
            self.total(m),
            y0 + 4.0,
            y1 + 4.0
        );
        for (c, counts) in self.counts[m].iter().enumerate() {
            // Bars at most 28 wide, centered in their column.
            let bw = (cw * 0.75).min(28.0);
            let x = x0 + c as f64 * cw + (cw - bw) / 2.0;
            let mut top = y1;
            for (s, &n) in counts.iter().enumerate().filter(|(_, n)| **n > 0) {
                let h = n as f64 / max as f64 * (y1 - y0);
                top -= h;
                let svc = esc(&clean(&self.services[s]).text);
                let _ = writeln!(
                    out,
                    "<rect x=\"{x:.2}\" y=\"{top:.2}\" width=\"{bw:.2}\" height=\"{h:.2}\" fill=\"{}\" \
                     data-col=\"{c}\" data-service=\"{svc}\"><title>{svc}, {}: {n} {noun}</title></rect>",
                    self.color(s),
                    esc(&self.label(clock, c)),
                );
            }
        }
        let _ = writeln!(
            out,
            "<line x1=\"{x0}\" y1=\"{y1}\" x2=\"{x1}\" y2=\"{y1}\" stroke=\"#555555\"/>"
        );
        let every = cols.div_ceil(8);
        for c in (0..cols).step_by(every) {
            let _ = writeln!(
                out,
                "<text x=\"{:.2}\" y=\"{}\" text-anchor=\"middle\" fill=\"#333333\">{}</text>",
                x0 + (c as f64 + 0.5) * cw,
                y1 + 16.0,
                esc(&self.label(clock, c))
            );
        }
        self.legend(out, m);
        out.push_str("</svg>\n");
    }

    fn legend(&self, out: &mut String, m: usize) {
        for (s, name) in self.services.iter().enumerate() {
            let y = 16 + s * 20;
            let mut short: String = clean(name).text.chars().take(18).collect();
            if name.chars().count() > 18 {
                short.push('…');
            }
            let _ = writeln!(
                out,
                "<rect x=\"556\" y=\"{y}\" width=\"12\" height=\"12\" fill=\"{}\"/>\
                 <text x=\"574\" y=\"{}\" fill=\"#1a1a1a\">{} ({})</text>",
                self.color(s),
                y + 10,
                esc(&short),
                self.service_total(m, s)
            );
        }
    }
}

/// The axis maximum: the smallest 1, 2 or 5 × 10ⁿ at least `n`.
fn nice(n: u64) -> u64 {
    let mut p: u64 = 1;
    loop {
        for f in [1, 2, 5] {
            match p.checked_mul(f) {
                Some(v) if v >= n => return v,
                Some(_) => {}
                None => return n.max(1),
            }
        }
        match p.checked_mul(10) {
            Some(q) => p = q,
            None => return n.max(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_axis() {
        assert_eq!(
            [0, 1, 2, 3, 7, 10, 11, 51, 99, 1000, 1001].map(nice),
            [1, 1, 2, 5, 10, 10, 20, 100, 100, 1000, 2000]
        );
        assert_eq!(nice(u64::MAX), u64::MAX);
    }
}
