//! The time the backtracking regexes of one entry may take together.
//!
//! Each backtracking match is bounded by
//! [`BACKTRACK_LIMIT`](super::BACKTRACK_LIMIT) steps; on top of that, once
//! the backtracking matches of an entry have taken [`ENTRY_BUDGET`], the
//! next ones of that entry fail at once (their filters take their `else`),
//! so that no entry, whatever its rules and text, holds the engine for
//! long. The VM calls [`new_entry`] for each entry; the clock is only read
//! around backtracking matches, which most rule sets do not have.

use std::cell::Cell;
use std::time::{Duration, Instant};

/// Backtracking time allowed to one entry.
pub const ENTRY_BUDGET: Duration = Duration::from_millis(50);

thread_local! {
    /// Time spent by the current entry's backtracking matches; `None`
    /// outside an entry (a matcher used on its own has no budget).
    static SPENT: Cell<Option<Duration>> = const { Cell::new(None) };
}

/// A new entry starts: its budget is whole again.
pub fn new_entry() {
    SPENT.with(|s| s.set(Some(Duration::ZERO)));
}

/// The entry is over.
pub fn end_entry() {
    SPENT.with(|s| s.set(None));
}

/// Run one backtracking match within the entry's budget.
pub fn spend<T>(run: impl FnOnce() -> T) -> Result<T, String> {
    let Some(spent) = SPENT.with(Cell::get) else {
        return Ok(run());
    };
    if spent >= ENTRY_BUDGET {
        return Err(format!(
            "the backtracking regexes of this entry took more than {} ms; skipped",
            ENTRY_BUDGET.as_millis()
        ));
    }
    let start = Instant::now();
    let out = run();
    SPENT.with(|s| s.set(Some(spent + start.elapsed())));
    Ok(out)
}
