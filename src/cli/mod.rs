//! The command lines of `pyrusec` and `pyrused`, and what is generated from
//! them: shell completions and man pages.

pub mod pyrusec;
pub mod pyrused;

use clap::CommandFactory;
use std::path::{Path, PathBuf};

/// The clap definition of `pyrusec`.
pub fn pyrusec_command() -> clap::Command {
    pyrusec::Cli::command()
}

/// The clap definition of `pyrused`.
pub fn pyrused_command() -> clap::Command {
    pyrused::Cli::command()
}

/// The completion script of a program for a shell.
pub fn completions(shell: clap_complete::aot::Shell, program: pyrusec::Program) -> Vec<u8> {
    let (mut cmd, name) = match program {
        pyrusec::Program::Pyrusec => (pyrusec_command(), "pyrusec"),
        pyrusec::Program::Pyrused => (pyrused_command(), "pyrused"),
    };
    let mut out = Vec::new();
    clap_complete::aot::generate(shell, &mut cmd, name, &mut out);
    out
}

/// Writes the man pages of both programs and of every subcommand into
/// `dir` (created when absent): `pyrusec.1`, `pyrusec-check.1`,
/// `pyrusec-bans-list.1`…, `pyrused.1`. Returns the files written, sorted.
pub fn write_man_pages(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    for cmd in [pyrusec_command(), pyrused_command()] {
        clap_mangen::generate_to(cmd, dir)?;
    }
    let mut written = Vec::new();
    for (name, _) in command_paths(&pyrusec_command())
        .into_iter()
        .chain(command_paths(&pyrused_command()))
    {
        written.push(dir.join(format!("{name}.1")));
    }
    written.sort();
    Ok(written)
}

/// Every command of a tree with its page name (`pyrusec-bans-list`), the
/// root first; clap's own `help` subcommand left out.
pub fn command_paths(root: &clap::Command) -> Vec<(String, clap::Command)> {
    fn walk(cmd: &clap::Command, prefix: &str, out: &mut Vec<(String, clap::Command)>) {
        let name = if prefix.is_empty() {
            cmd.get_name().to_owned()
        } else {
            format!("{prefix}-{}", cmd.get_name())
        };
        out.push((name.clone(), cmd.clone()));
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            if sub.get_name() != "help" {
                walk(sub, &name, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, "", &mut out);
    out
}

/// The arguments, positional ones included, that have no help text, as
/// `pyrusec-bans-unban: address`: each argument must say what it is, in
/// `--help`, the completions and the man pages.
pub fn arguments_without_help(root: &clap::Command) -> Vec<String> {
    let mut missing = Vec::new();
    for (name, cmd) in command_paths(root) {
        for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
            if arg.get_help().is_none() && arg.get_long_help().is_none() {
                missing.push(format!("{name}: {}", arg.get_id()));
            }
        }
    }
    missing
}
