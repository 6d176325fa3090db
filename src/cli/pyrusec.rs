//! The command line of `pyrusec`.

use crate::replay::{Kinds, Selector};
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "pyrusec",
    version,
    about = "Check, migrate, replay and disassemble Pyruse rules"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// Text for a terminal.
    Human,
    /// One JSON object per line.
    Json,
}

#[derive(Subcommand)]
pub enum Command {
    /// Check rule files (.pyr, a directory of .pyr, or pyruse.json): exit 0 when
    /// clean or warnings only, 1 on errors, 2 on usage or I/O problems.
    Check {
        /// The rule files or directories to check, each on its own.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Diagnostics as text for a terminal, or one JSON object per line.
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
    },
    /// Print the .pyr equivalent of a legacy pyruse.json.
    Migrate {
        /// The legacy pyruse.json to migrate.
        file: PathBuf,
        /// Write to this file instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Run journal entries (journalctl -o json lines) through the rules and print
    /// the effect trace instead of carrying the effects out.
    Replay {
        /// A .pyr file, a directory of .pyr files, or a legacy pyruse.json.
        rules: PathBuf,
        /// Entries file; standard input when absent or "-".
        entries: Option<PathBuf>,
        /// Leave out the `rule` location of each effect line.
        #[arg(long)]
        no_rule: bool,
        /// Resolve userExists against this passwd-format file instead of the
        /// system's users (to reproduce another machine).
        #[arg(long)]
        passwd: Option<PathBuf>,
        /// At the end, print on standard error the steps that took the most
        /// time (share of the time in steps, calls, time per call, where).
        #[arg(long)]
        profile: bool,
        #[command(flatten)]
        log: LogArgs,
        #[command(flatten)]
        view: ReplayView,
    },
    /// Run the examples written in the rule files (`example "…" => ADDRESS`)
    /// through the rules: exit 0 when all pass, 1 when some fail, 2 when the
    /// rules do not check.
    Test {
        /// A rule file or directory [default: the daemon's rules].
        rules: Option<PathBuf>,
        /// Also list the examples that pass.
        #[arg(short, long)]
        verbose: bool,
        /// Run the examples with your overrides of the services' parameters
        /// (ignore list, modes, thresholds…) instead of the defaults they
        /// are written for.
        #[arg(long)]
        as_configured: bool,
    },
    /// Print the compiled bytecode of the rules.
    Disasm {
        /// A .pyr file, a directory of .pyr files, or a legacy pyruse.json.
        rules: PathBuf,
    },
    /// List the builtin filters and actions with their arguments.
    Builtins {
        /// Print their reference in Markdown instead, as docs/language.md
        /// holds it: argument kinds, operator forms, full descriptions.
        #[arg(long)]
        markdown: bool,
    },
    /// The bans pyrused recorded (and restores at start).
    Bans {
        #[command(subcommand)]
        command: BansCommand,
    },
    /// The daily report.
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
    /// What the daemon is doing, read from its state (beside a running
    /// daemon, without disturbing it): rules, input, rate, outbox, errors,
    /// counters and bans.
    Status {
        #[command(flatten)]
        state: StateArgs,
        /// Text for a person, or one JSON object (see docs/status.md).
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
        /// Keys shown per counter, the highest counts first.
        #[arg(long, default_value_t = 10)]
        top: usize,
    },
    /// The counters of the rules, as the state holds them.
    Counters {
        #[command(subcommand)]
        command: CountersCommand,
    },
    /// Print the completion script of pyrusec (or pyrused) for a shell.
    Completions {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: clap_complete::aot::Shell,
        /// The program to complete.
        #[arg(long, value_enum, default_value = "pyrusec")]
        program: Program,
    },
    /// Write the man pages of pyrusec, of each of its commands, and of
    /// pyrused into a directory (pyrusec.1, pyrusec-check.1, …, pyrused.1).
    Man {
        /// The directory to write them in (created when absent), such as
        /// /usr/local/share/man/man1.
        dir: PathBuf,
    },
}

/// One of the two programs.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Program {
    /// The rule checker and tools.
    Pyrusec,
    /// The daemon.
    Pyrused,
}

#[derive(Subcommand)]
pub enum CountersCommand {
    /// The live keys of each counter (or of COUNTER), highest counts first,
    /// with their values and when they expire.
    List {
        /// Only this counter.
        counter: Option<String>,
        /// Keys shown per counter [default: all].
        #[arg(long)]
        top: Option<usize>,
        /// A table, or a JSON array of counters (as in `status --format json`).
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
        #[command(flatten)]
        state: StateArgs,
    },
    /// Forget a key of a counter, so that its next failure counts 1 again
    /// (a running daemon applies it within a second).
    Reset {
        /// The counter's name, as the rules give it (`sshd`).
        counter: String,
        /// The key, as `counters list` shows it (an address).
        key: String,
        #[command(flatten)]
        state: StateArgs,
    },
}

/// What `replay` writes on standard output: the trace, or explanations.
#[derive(clap::Args)]
pub struct ReplayView {
    /// Instead of the trace, explain how the rules handled the entries
    /// SELECTOR picks, step by step: an entry number (the `entry` of the
    /// trace: the input line number minus one), or /REGEX/ searched in
    /// MESSAGE. Repeat it to pick more entries.
    #[arg(long, value_name = "SELECTOR")]
    pub explain: Vec<Selector>,
    /// Keep only these effect kinds in the trace (comma-separated).
    #[arg(
        long,
        value_name = "KIND,…",
        value_delimiter = ',',
        value_parser = clap::builder::PossibleValuesParser::new(crate::effects::KINDS)
    )]
    pub effects: Vec<String>,
    /// Leave the `noop` effects out of the trace.
    #[arg(long)]
    pub no_noop: bool,
}

impl ReplayView {
    /// The kinds the trace keeps.
    pub fn kinds(&self) -> Kinds {
        let kinds = if self.effects.is_empty() {
            Kinds::ALL
        } else {
            // The parser accepts only known kinds.
            Kinds::parse(self.effects.iter().map(String::as_str)).unwrap_or(Kinds::ALL)
        };
        if self.no_noop {
            kinds.without("noop")
        } else {
            kinds
        }
    }
}

/// `replay --log`: the lines of a plain log file instead of journal entries.
#[derive(clap::Args)]
pub struct LogArgs {
    /// Replay the lines of this plain log file (an nginx access.log…), each
    /// an entry with MESSAGE and SYSLOG_IDENTIFIER, as pyrused reads the
    /// files of the logFiles setting; `-` for standard input.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "entries",
        requires = "identifier"
    )]
    pub log: Option<PathBuf>,
    /// The SYSLOG_IDENTIFIER of the lines of --log (e.g. nginx).
    #[arg(long, value_name = "NAME", requires = "log")]
    pub identifier: Option<String>,
    /// The time format of the lines of --log: clf (or nginx, apache),
    /// nginx-error, apache-error, syslog, iso8601, epoch, or a strftime
    /// pattern like "%d/%b/%Y:%H:%M:%S %z" [default: each line is timed
    /// when it is read].
    #[arg(long, value_name = "FMT", requires = "log")]
    pub time_format: Option<String>,
}

/// Where the state is: `--state-dir`, else the `storage` setting of the rules.
#[derive(clap::Args)]
pub struct StateArgs {
    /// The state directory [default: the rules' `storage` setting, /var/lib/pyruse].
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// The rules (for the state directory, the nft/ipset commands and the
    /// mail settings) [default: /etc/pyruse/pyruse.pyr, else /etc/pyruse/rules.pyr, else /etc/pyruse/rules.d/, else /etc/pyruse/pyruse.json].
    #[arg(long)]
    pub rules: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum BansCommand {
    /// Address, set, end time, status and rule of each ban not over yet.
    /// Status: `in force` (the firewall took it), `pending` (not carried out
    /// yet), or `failed` (the firewall refused it or could not be reached;
    /// the next line gives its error, and the daemon retries).
    List {
        #[command(flatten)]
        state: StateArgs,
    },
    /// Ban an address now, through the ban command of the rules, and record
    /// the ban as the daemon records its own (listed, restored at start).
    Ban {
        /// The IPv4 or IPv6 address.
        address: String,
        /// How long, as the rules write durations (90s, 10m, 2h, 5d, 1w)
        /// [default: no end, until unbanned].
        #[arg(long = "for", value_name = "DURATION")]
        duration: Option<String>,
        /// The set: `family table set` for nft, a name for ipset [default:
        /// the one set the rules ban this address family into, else
        /// `inet pyruse ban4` or `inet pyruse ban6`].
        #[arg(long)]
        set: Option<String>,
        #[command(flatten)]
        state: StateArgs,
    },
    /// Remove an address from every set it is banned in, and from the store
    /// so that a restart does not restore it.
    Unban {
        /// The IPv4 or IPv6 address to unban.
        address: String,
        #[command(flatten)]
        state: StateArgs,
    },
}

#[derive(Subcommand)]
pub enum ReportCommand {
    /// Print the pending report (text, or the HTML part).
    Preview {
        /// Print the HTML part instead of the text.
        #[arg(long)]
        html: bool,
        #[command(flatten)]
        state: StateArgs,
    },
    /// Send the pending report now and start a new period.
    Send {
        #[command(flatten)]
        state: StateArgs,
    },
}
