//! The command line of `pyrused`.

use clap::{Parser, ValueEnum};
use std::path::PathBuf;

#[derive(Clone, Copy, ValueEnum)]
pub enum StartAt {
    /// The oldest entry.
    Head,
    /// The newest entry.
    Tail,
}

#[derive(Parser)]
#[command(
    name = "pyrused",
    version,
    about = "Follow the systemd journal and act on it: bans, mails, logs, the daily report"
)]
pub struct Cli {
    /// A .pyr file, a directory of .pyr files, or a legacy pyruse.json
    /// [default: /etc/pyruse/pyruse.pyr, else /etc/pyruse/rules.pyr, else /etc/pyruse/rules.d/, else /etc/pyruse/pyruse.json].
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Read the journal files of this directory (e.g. /var/log/journal/remote)
    /// instead of the local journal.
    #[arg(long, conflicts_with_all = ["file", "json"])]
    pub directory: Option<PathBuf>,
    /// Read this journal file (repeatable).
    #[arg(long, conflicts_with = "json")]
    pub file: Vec<PathBuf>,
    /// Read `journalctl -o json` lines from this file, or `-` for standard input.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Where to start when no cursor is saved, or to ignore the saved one
    /// [default: after the saved cursor; else the tail of the local journal,
    /// the head of anything else; the plain log files of logFiles: after
    /// their saved position, else their end].
    #[arg(long, value_enum)]
    pub start: Option<StartAt>,
    /// Process what exists, then exit.
    #[arg(long)]
    pub exit_at_end: bool,
    /// The state directory (counters, DNAT mappings, bans, report, cursor)
    /// [default: the rules' `storage` setting, /var/lib/pyruse].
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// Carry out no outside effect; print the effect trace on standard output.
    #[arg(long)]
    pub dry_run: bool,
    /// Commit the state at least every this many entries (while catching
    /// up; once caught up with the journal, every entry commits at once).
    #[arg(long, default_value_t = 100_000)]
    pub commit_every: usize,
    /// Commit the state at least every this many milliseconds.
    #[arg(long, default_value_t = 1000)]
    pub commit_interval_ms: u64,
    /// Resolve userExists against this passwd-format file instead of the
    /// system's users (dry runs that reproduce another machine).
    #[arg(long)]
    pub passwd: Option<PathBuf>,
    /// Print the systemd unit file to install, and exit. The unit keeps
    /// CAP_NET_ADMIN only when the rules (--rules, or the default ones)
    /// ban with a local nft or ipset, and CAP_DAC_READ_SEARCH only when
    /// they follow plain log files (logFiles).
    #[arg(long)]
    pub unit: bool,
}
