//! `pyrused`: the Pyruse daemon.

use clap::{Parser, ValueEnum};
use pyruse::daemon::{self, input::InputSpec, Options};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Clone, Copy, ValueEnum)]
enum StartAt {
    Head,
    Tail,
}

#[derive(Parser)]
#[command(
    name = "pyrused",
    version,
    about = "Follow the systemd journal and act on it: bans, mails, logs, the daily report"
)]
struct Cli {
    /// A .pyr file, a directory of .pyr files, or a legacy pyruse.json
    /// [default: /etc/pyruse/pyruse.pyr, else /etc/pyruse/rules.pyr, else /etc/pyruse/rules.d/, else /etc/pyruse/pyruse.json].
    #[arg(long)]
    rules: Option<PathBuf>,
    /// Read the journal files of this directory (e.g. /var/log/journal/remote)
    /// instead of the local journal.
    #[arg(long, conflicts_with_all = ["file", "json"])]
    directory: Option<PathBuf>,
    /// Read this journal file (repeatable).
    #[arg(long, conflicts_with = "json")]
    file: Vec<PathBuf>,
    /// Read `journalctl -o json` lines from this file, or `-` for standard input.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Where to start when no cursor is saved, or to ignore the saved one
    /// [default: after the saved cursor; else the tail of the local journal,
    /// the head of anything else; the plain log files of logFiles: after
    /// their saved position, else their end].
    #[arg(long, value_enum)]
    start: Option<StartAt>,
    /// Process what exists, then exit.
    #[arg(long)]
    exit_at_end: bool,
    /// The state directory (counters, DNAT mappings, bans, report, cursor)
    /// [default: the rules' `storage` setting, /var/lib/pyruse].
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// Carry out no outside effect; print the effect trace on standard output.
    #[arg(long)]
    dry_run: bool,
    /// Commit the state at least every this many entries (while catching
    /// up; once caught up with the journal, every entry commits at once).
    #[arg(long, default_value_t = 100_000)]
    commit_every: usize,
    /// Commit the state at least every this many milliseconds.
    #[arg(long, default_value_t = 1000)]
    commit_interval_ms: u64,
    /// Resolve userExists against this passwd-format file instead of the
    /// system's users (dry runs that reproduce another machine).
    #[arg(long)]
    passwd: Option<PathBuf>,
    /// Print the systemd unit file to install, and exit. The unit keeps
    /// CAP_NET_ADMIN only when the rules (--rules, or the default ones)
    /// ban with a local nft or ipset, and CAP_DAC_READ_SEARCH only when
    /// they follow plain log files (logFiles).
    #[arg(long)]
    unit: bool,
}

const UNIT: &str = include_str!("../daemon/pyrused.service");

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.unit {
        let rules = cli.rules.clone().unwrap_or_else(daemon::default_rules);
        print!("{}", daemon::unit_file(UNIT, &rules));
        return ExitCode::SUCCESS;
    }
    let input = if let Some(d) = cli.directory {
        InputSpec::Directory(d)
    } else if !cli.file.is_empty() {
        InputSpec::Files(cli.file)
    } else if let Some(j) = cli.json {
        InputSpec::Json(j)
    } else {
        InputSpec::System
    };
    let rules = cli.rules.unwrap_or_else(daemon::default_rules);
    let state_dir = cli.state_dir.unwrap_or_else(|| daemon::storage_of(&rules));
    let opts = Options {
        rules: rules.clone(),
        input,
        start_head: cli.start.map(|s| matches!(s, StartAt::Head)),
        exit_at_end: cli.exit_at_end,
        state_dir,
        dry_run: cli.dry_run,
        commit_every: cli.commit_every.max(1),
        commit_interval: Duration::from_millis(cli.commit_interval_ms),
        passwd: cli.passwd,
    };
    ExitCode::from(daemon::run(&opts))
}
