//! `pyrused`: the Pyruse daemon.

use clap::Parser;
use pyruse::cli::pyrused::{Cli, StartAt};
use pyruse::daemon::{self, input::InputSpec, Options};
use std::process::ExitCode;
use std::time::Duration;

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
    let rules_given = cli.rules.is_some();
    let rules = cli.rules.unwrap_or_else(daemon::default_rules);
    let state_dir = cli.state_dir.unwrap_or_else(|| daemon::storage_of(&rules));
    let opts = Options {
        rules: rules.clone(),
        rules_given,
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
