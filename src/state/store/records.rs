//! The records the store keeps besides the engine's state: bans, report
//! lines, outbox items.

use serde_json::Value as J;

/// The firewall command a ban was made with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BanKind {
    Nft,
    Ipset,
}

impl BanKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BanKind::Nft => "nft",
            BanKind::Ipset => "ipset",
        }
    }

    pub fn parse(s: &str) -> Option<BanKind> {
        match s {
            "nft" => Some(BanKind::Nft),
            "ipset" => Some(BanKind::Ipset),
            _ => None,
        }
    }
}

/// One ban in force (or to be restored at start).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BanRecord {
    pub kind: BanKind,
    pub set: String,
    pub ip: String,
    /// End of the ban (µs since the epoch), `None` for forever.
    pub end_us: Option<i64>,
    /// Where the rule that banned is (e.g. `rules.pyr:12:5`).
    pub rule: String,
}

/// What the firewall made of a ban.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BanStatus {
    /// Recorded, not carried out yet (or not since the daemon started).
    Pending,
    /// The firewall took it: in force.
    Applied,
    /// The firewall refused it (or could not be reached): not in force.
    /// The error; the ban is tried again when the error may pass.
    Failed(String),
}

impl BanStatus {
    /// How `pyrusec bans list` names it.
    pub fn name(&self) -> &'static str {
        match self {
            BanStatus::Pending => "pending",
            BanStatus::Applied => "in force",
            BanStatus::Failed(_) => "failed",
        }
    }
}

/// The outcome of carrying out a ban, to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BanOutcome {
    pub kind: BanKind,
    pub set: String,
    pub ip: String,
    /// `Err`: the firewall's error.
    pub result: Result<(), String>,
}

/// One line for the daily report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportRecord {
    pub level: String,
    pub message: String,
    /// The details mode (`ALL`, `FIRST`, `LAST`, `NONE`, …).
    pub details: String,
    pub time_us: i64,
}

/// An effect waiting in the outbox.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboxItem {
    pub id: i64,
    pub kind: String,
    pub payload: J,
    /// Failed attempts so far.
    pub attempts: u32,
    pub next_at_us: i64,
    pub last_error: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct NewOutbox {
    pub(super) kind: String,
    pub(super) payload: J,
    pub(super) next_at_us: i64,
}
