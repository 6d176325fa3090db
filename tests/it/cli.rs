//! The command lines: help text on every argument, man pages and shell
//! completions that cover every command and option. Generic over the clap
//! definitions, so that commands and options added later are covered too.

use crate::common::pyrusec;
use pyruse::cli::{arguments_without_help, command_paths, pyrusec_command, pyrused_command};
use std::process::Command;

/// The long options (`--state-dir`) and positional value names
/// (`ADDRESS`) of a command, as its man page and help show them.
fn options_of(cmd: &clap::Command) -> Vec<String> {
    cmd.get_arguments()
        .filter(|a| !a.is_hide_set())
        .map(|a| match a.get_long() {
            Some(long) => format!("--{long}"),
            None => a
                .get_value_names()
                .and_then(|v| v.first())
                .map_or_else(|| a.get_id().as_str().to_uppercase(), |v| v.to_string()),
        })
        .collect()
}

#[test]
fn every_argument_of_both_programs_has_help_text() {
    for root in [pyrusec_command(), pyrused_command()] {
        let missing = arguments_without_help(&root);
        assert!(
            missing.is_empty(),
            "arguments without help text (write a /// line above each): {missing:?}"
        );
    }
    // The walk reaches positional arguments of nested commands.
    let bare = clap::Command::new("p").subcommand(
        clap::Command::new("a").subcommand(
            clap::Command::new("b")
                .arg(clap::Arg::new("thing"))
                .arg(clap::Arg::new("other").long("other").help("Explained.")),
        ),
    );
    assert_eq!(arguments_without_help(&bare), ["p-a-b: thing"]);
}

#[test]
fn man_pages_cover_every_command_and_option() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let out_dir = dir.path().join("man1");
    let out = pyrusec(&["man", out_dir.to_str().expect("UTF-8 path")], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut expected = Vec::new();
    for root in [pyrusec_command(), pyrused_command()] {
        for (name, cmd) in command_paths(&root) {
            let page = out_dir.join(format!("{name}.1"));
            let text = std::fs::read_to_string(&page)
                .unwrap_or_else(|e| panic!("{}: {e}", page.display()));
            // roff writes `-` as `\-`, and changes fonts with `\fB`, `\fI`, `\fR`.
            let text = ["\\fB", "\\fI", "\\fR"]
                .iter()
                .fold(text.replace("\\-", "-"), |t, font| t.replace(font, ""));
            assert!(text.contains(&format!(".TH {name} 1")), "{name}: title");
            for option in options_of(&cmd) {
                assert!(text.contains(&option), "{name}.1 does not mention {option}");
            }
            for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
                assert!(
                    text.contains(sub.get_name()),
                    "{name}.1 does not mention its command {}",
                    sub.get_name()
                );
            }
            expected.push(format!("{name}.1"));
        }
    }
    for page in [
        "pyrusec.1",
        "pyrusec-replay.1",
        "pyrusec-bans-unban.1",
        "pyrused.1",
    ] {
        assert!(
            expected.iter().any(|p| p == page),
            "{page} is not among {expected:?}"
        );
    }
    let mut written: Vec<String> = std::fs::read_dir(&out_dir)
        .expect("man directory")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    expected.sort();
    assert_eq!(written, expected);
    // man itself reads them, when it is installed.
    if Command::new("man").arg("--version").output().is_ok() {
        let shown = Command::new("man")
            .arg("-l")
            .arg(out_dir.join("pyrusec-bans-unban.1"))
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "200")
            .output()
            .expect("man runs");
        let shown = String::from_utf8_lossy(&shown.stdout);
        assert!(
            shown.contains("The IPv4 or IPv6 address to unban"),
            "{shown}"
        );
    }
}

#[test]
fn completions_cover_every_command_and_option() {
    for (program, root) in [
        ("pyrusec", pyrusec_command()),
        ("pyrused", pyrused_command()),
    ] {
        for shell in ["bash", "zsh", "fish"] {
            let out = pyrusec(&["completions", shell, "--program", program], None);
            assert!(
                out.status.success(),
                "{shell}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let script = String::from_utf8_lossy(&out.stdout);
            for (name, cmd) in command_paths(&root) {
                assert!(script.contains(cmd.get_name()), "{shell}: {name} missing");
                for option in options_of(&cmd).iter().filter(|o| o.starts_with("--")) {
                    // fish writes `-l state-dir`, the others `--state-dir`.
                    let bare = &option[2..];
                    assert!(
                        script.contains(option.as_str()) || script.contains(&format!("-l {bare}")),
                        "{shell}: {name} {option} missing"
                    );
                }
            }
        }
    }
}

/// Bash completes commands and options from the script `pyrusec
/// completions bash` prints, as it would in an interactive shell.
#[test]
fn bash_completes_from_the_generated_script() {
    if Command::new("bash").arg("--version").output().is_err() {
        eprintln!("skipping: no bash");
        return;
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let script = dir.path().join("pyrusec.bash");
    let out = pyrusec(&["completions", "bash"], None);
    std::fs::write(&script, &out.stdout).expect("script written");
    let complete = |words: &str, cword: usize| {
        let out = Command::new("bash")
            .arg("-c")
            .arg(format!(
                "source '{}'; COMP_WORDS=({words}); COMP_CWORD={cword}; \
                 _pyrusec pyrusec \"${{COMP_WORDS[$COMP_CWORD]}}\" \"${{COMP_WORDS[$COMP_CWORD-1]}}\"; \
                 echo \"${{COMPREPLY[@]}}\"",
                script.display()
            ))
            .output()
            .expect("bash runs");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    assert_eq!(complete("pyrusec re", 1), "replay report");
    assert_eq!(complete("pyrusec bans unban --st", 3), "--state-dir");
    assert_eq!(complete("pyrusec check --format ''", 3), "human json");
}

#[test]
fn output_cut_short_by_its_reader_ends_quietly() {
    use std::io::{BufRead, BufReader};
    // `pyrusec disasm rules/ | head -1`: the reader goes after one line.
    let root = env!("CARGO_MANIFEST_DIR");
    let mut child = Command::new(env!("CARGO_BIN_EXE_pyrusec"))
        .args(["disasm", &format!("{root}/rules")])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("pyrusec");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("first line");
    assert!(!first.is_empty());
    let out = child.wait_with_output().expect("pyrusec exits");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.status.success(), "{:?}: {err}", out.status);
}
