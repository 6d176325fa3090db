//! `pyrusec`: check, migrate, replay and disassemble Pyruse rules.

use clap::{Parser, Subcommand, ValueEnum};
use pyruse::builtins::user_exists::SystemUsers;
use pyruse::compile::{build, Built};
use pyruse::diag::{Code, Diagnostic};
use pyruse::host;
use pyruse::replay::{replay_with, ErrorLog, Kinds, Selector, View};
use pyruse::source::SourceMap;
use pyruse::state::store::{BanKind, Store};
use pyruse::syntax;
use pyruse::syntax::ast::Example;
use pyruse::vm::trace::TraceWriter;
use pyruse::vm::Machine;
use std::io::{BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "pyrusec",
    version,
    about = "Check, migrate, replay and disassemble Pyruse rules"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    Human,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Check rule files (.pyr, a directory of .pyr, or pyruse.json): exit 0 when
    /// clean or warnings only, 1 on errors, 2 on usage or I/O problems.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Diagnostics as text for a terminal, or one JSON object per line.
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
    },
    /// Print the .pyr equivalent of a legacy pyruse.json.
    Migrate {
        file: PathBuf,
        /// Write to this file instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Run journal entries (journalctl -o json lines) through the rules and print
    /// the effect trace instead of carrying the effects out.
    Replay {
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
    Disasm { rules: PathBuf },
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
}

/// What `replay` writes on standard output: the trace, or explanations.
#[derive(clap::Args)]
struct ReplayView {
    /// Instead of the trace, explain how the rules handled the entries
    /// SELECTOR picks, step by step: an entry number (the `entry` of the
    /// trace: the input line number minus one), or /REGEX/ searched in
    /// MESSAGE. Repeat it to pick more entries.
    #[arg(long, value_name = "SELECTOR")]
    explain: Vec<Selector>,
    /// Keep only these effect kinds in the trace (comma-separated).
    #[arg(
        long,
        value_name = "KIND,…",
        value_delimiter = ',',
        value_parser = clap::builder::PossibleValuesParser::new(pyruse::effects::KINDS)
    )]
    effects: Vec<String>,
    /// Leave the `noop` effects out of the trace.
    #[arg(long)]
    no_noop: bool,
}

impl ReplayView {
    /// The kinds the trace keeps.
    fn kinds(&self) -> Kinds {
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

/// Where the state is: `--state-dir`, else the `storage` setting of the rules.
#[derive(clap::Args)]
struct StateArgs {
    /// The state directory [default: the rules' `storage` setting, /var/lib/pyruse].
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// The rules (for the state directory, the nft/ipset commands and the
    /// mail settings) [default: /etc/pyruse/pyruse.pyr, else /etc/pyruse/rules.pyr, else /etc/pyruse/rules.d/, else /etc/pyruse/pyruse.json].
    #[arg(long)]
    rules: Option<PathBuf>,
}

#[derive(Subcommand)]
enum BansCommand {
    /// Address, set, end time and rule of each ban in force.
    List {
        #[command(flatten)]
        state: StateArgs,
    },
    /// Remove an address from every set it is banned in, and from the store
    /// so that a restart does not restore it.
    Unban {
        address: String,
        #[command(flatten)]
        state: StateArgs,
    },
}

#[derive(Subcommand)]
enum ReportCommand {
    /// Print the pending report (text, or the HTML part).
    Preview {
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { files, format } => cmd_check(&files, format),
        Command::Migrate { file, output } => cmd_migrate(&file, output.as_deref()),
        Command::Replay {
            rules,
            entries,
            no_rule,
            passwd,
            profile,
            view,
        } => cmd_replay(
            &rules,
            entries.as_deref(),
            no_rule,
            passwd.as_deref(),
            profile,
            view,
        ),
        Command::Test {
            rules,
            verbose,
            as_configured,
        } => cmd_test(rules, verbose, as_configured),
        Command::Disasm { rules } => cmd_disasm(&rules),
        Command::Builtins { markdown } => cmd_builtins(markdown),
        Command::Bans { command } => cmd_bans(command),
        Command::Report { command } => cmd_report(command),
    }
}

fn print_diags(diags: &[Diagnostic], sources: &SourceMap, format: Format) {
    let stderr = std::io::stderr();
    let color = stderr.is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut err = stderr.lock();
    for d in diags {
        let _ = match format {
            Format::Human => write!(err, "{}", d.render(sources, color)),
            Format::Json => writeln!(err, "{}", d.to_json(sources)),
        };
    }
}

/// Load and check; diagnostics go to stderr. Exit status on failure.
fn load_checked(path: &Path, format: Format) -> Result<(Built, SourceMap), ExitCode> {
    load_checked_with_examples(path, format, false).map(|(c, s, _, _)| (c, s))
}

/// [`load_checked`], with the examples of the rules and the services left
/// out.
fn load_checked_with_examples(
    path: &Path,
    format: Format,
    as_shipped: bool,
) -> Result<(Built, SourceMap, Vec<Example>, Vec<String>), ExitCode> {
    let (mut rules, mut diags) = if as_shipped {
        syntax::load_as_shipped(path)
    } else {
        syntax::load(path)
    };
    let examples = std::mem::take(&mut rules.examples);
    let disabled = std::mem::take(&mut rules.disabled_services);
    let sources = rules.sources.clone();
    if diags.iter().any(|d| d.code == Code::Io) {
        print_diags(&diags, &sources, format);
        return Err(ExitCode::from(2));
    }
    if diags.iter().any(Diagnostic::is_error) {
        print_diags(&diags, &sources, format);
        return Err(ExitCode::from(1));
    }
    let mut checked = build(rules);
    diags.append(&mut checked.diagnostics);
    checked.diagnostics = diags;
    Ok((checked, sources, examples, disabled))
}

fn cmd_test(rules: Option<PathBuf>, verbose: bool, as_configured: bool) -> ExitCode {
    let path = rules.unwrap_or_else(pyruse::daemon::default_rules);
    let (checked, sources, examples, disabled) =
        match load_checked_with_examples(&path, Format::Human, !as_configured) {
            Ok(c) => c,
            Err(_) => return ExitCode::from(2),
        };
    let Some(program) = checked.program else {
        print_diags(&checked.diagnostics, &sources, Format::Human);
        return ExitCode::from(2);
    };
    let outcomes = pyruse::examples::run(&program, &examples, &disabled);
    let mut failed = 0usize;
    for o in &outcomes {
        let at = sources.locate(o.span);
        match &o.failure {
            Some(why) => {
                failed += 1;
                println!("{at}: example failed: {why}");
            }
            None if verbose => println!("{at}: ok"),
            None => {}
        }
    }
    let skipped = examples.len() - outcomes.len();
    let services: std::collections::BTreeSet<_> = outcomes
        .iter()
        .filter_map(|o| o.service.as_deref())
        .collect();
    eprintln!(
        "{} examples of {} services{}",
        outcomes.len(),
        services.len(),
        if skipped > 0 {
            format!(
                "; {skipped} of disabled services ({}) not run",
                disabled.join(", ")
            )
        } else {
            String::new()
        }
    );
    println!("{} passed, {failed} failed", outcomes.len() - failed);
    if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn cmd_check(files: &[PathBuf], format: Format) -> ExitCode {
    let mut status = 0u8;
    for f in files {
        match load_checked(f, format) {
            Err(code) => {
                status = status.max(if code == ExitCode::from(2) { 2 } else { 1 });
            }
            Ok((checked, sources)) => {
                print_diags(&checked.diagnostics, &sources, format);
                if checked.has_errors() {
                    status = status.max(1);
                } else if format == Format::Human {
                    let warnings = checked.diagnostics.len();
                    eprintln!(
                        "{}: ok{}",
                        f.display(),
                        if warnings > 0 {
                            format!(
                                " ({warnings} warning{})",
                                if warnings == 1 { "" } else { "s" }
                            )
                        } else {
                            String::new()
                        }
                    );
                }
            }
        }
    }
    ExitCode::from(status)
}

fn cmd_migrate(file: &Path, output: Option<&Path>) -> ExitCode {
    let (rules, diags) = syntax::load(file);
    if diags.iter().any(Diagnostic::is_error) {
        print_diags(&diags, &rules.sources, Format::Human);
        return ExitCode::from(if diags.iter().any(|d| d.code == Code::Io) {
            2
        } else {
            1
        });
    }
    let unprintable = pyruse::print::unprintable(&rules);
    if !unprintable.is_empty() {
        print_diags(&unprintable, &rules.sources, Format::Human);
        return ExitCode::from(1);
    }
    let text = pyruse::print::print(&rules);
    let written = match output {
        Some(p) => std::fs::write(p, text.as_bytes()),
        None => std::io::stdout().lock().write_all(text.as_bytes()),
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pyrusec: cannot write the migrated rules: {e}");
            ExitCode::from(2)
        }
    }
}

/// The 25 costliest steps, on standard error.
fn print_profile(machine: &Machine, entries: u64) {
    let steps = machine.profile();
    if steps.is_empty() {
        return;
    }
    let total: u64 = steps.iter().map(|s| s.1).sum();
    let program = machine.program;
    eprintln!(
        "{:.3} s in steps for {entries} entries ({:.2} µs per entry); the costliest:",
        total as f64 / 1e9,
        total as f64 / 1e3 / entries.max(1) as f64
    );
    eprintln!("{:>6}  {:>10}  {:>8}  step", "time", "calls", "ns/call");
    for &(pc, ns, calls) in steps.iter().take(25) {
        let name = match program.code[pc.0 as usize] {
            pyruse::vm::Instr::Filter { step, .. } | pyruse::vm::Instr::Action { step, .. } => {
                program.step_names[step.0 as usize]
            }
            pyruse::vm::Instr::Stop => "stop",
        };
        eprintln!(
            "{:>5.1}%  {calls:>10}  {:>8}  {} {name}",
            ns as f64 * 100.0 / total.max(1) as f64,
            ns / calls.max(1),
            program.locate(pc)
        );
    }
}

/// The entries to replay (standard input when absent or "-"), and their
/// size in bytes when they are a file.
fn open_entries(
    entries: Option<&Path>,
) -> Result<(Box<dyn std::io::BufRead>, Option<u64>), ExitCode> {
    match entries {
        None => Ok((Box::new(std::io::stdin().lock()), None)),
        Some(p) if p == Path::new("-") => Ok((Box::new(std::io::stdin().lock()), None)),
        Some(p) => match std::fs::File::open(p) {
            Ok(f) => {
                let size = f.metadata().ok().filter(|m| m.is_file()).map(|m| m.len());
                Ok((Box::new(BufReader::with_capacity(1 << 16, f)), size))
            }
            Err(e) => {
                eprintln!("pyrusec: cannot read {}: {e}", p.display());
                Err(ExitCode::from(2))
            }
        },
    }
}

fn cmd_replay(
    rules: &Path,
    entries: Option<&Path>,
    no_rule: bool,
    passwd: Option<&Path>,
    profile: bool,
    view: ReplayView,
) -> ExitCode {
    let (checked, sources) = match load_checked(rules, Format::Human) {
        Ok(c) => c,
        Err(_) => return ExitCode::from(2),
    };
    let Some(program) = checked.program else {
        print_diags(&checked.diagnostics, &sources, Format::Human);
        return ExitCode::from(2);
    };
    let tz = jiff::tz::TimeZone::system();
    let mut machine = Machine::new(&program, tz, Box::new(SystemUsers));
    if profile {
        machine.start_profile();
    }
    if let Some(p) = passwd {
        match std::fs::read_to_string(p) {
            Ok(t) => machine.users = Box::new(pyruse::builtins::user_exists::PasswdFile::parse(&t)),
            Err(e) => {
                eprintln!("pyrusec: cannot read {}: {e}", p.display());
                return ExitCode::from(2);
            }
        }
    }
    let (input, size) = match open_entries(entries) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let stdout = std::io::stdout();
    let mut trace = TraceWriter::new(std::io::BufWriter::new(stdout.lock()), &program);
    trace.with_rule = !no_rule;
    let mut errors = ErrorLog::new(&program, std::io::stderr());
    let mut view = View {
        keep: view.kinds(),
        explain: view.explain,
        // When the output goes to the terminal too, it shows the progress.
        meter: pyruse::progress::Meter::on_terminal("entries", size)
            .filter(|_| !std::io::stdout().is_terminal()),
    };
    errors.erase_line = view.meter.is_some();
    match replay_with(&mut machine, input, &mut trace, &mut errors, &mut view) {
        Err(e) => {
            eprintln!("pyrusec: replay stopped: {e}");
            ExitCode::from(2)
        }
        Ok(summary) => {
            print_profile(&machine, summary.entries);
            for (line, why) in &summary.bad_lines {
                eprintln!("pyrusec: line {line} is not an entry ({why}); skipped");
            }
            for (at, what, n) in &summary.step_errors {
                if *n > 1 {
                    eprintln!("{at}: {what}: {n} times in all");
                }
            }
            for (selector, n) in view.explain.iter().zip(&summary.selected) {
                if *n == 0 {
                    eprintln!("pyrusec: --explain {selector} picked no entry");
                }
            }
            print_summary(&summary);
            if summary.bad_lines.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
    }
}

/// The end of a replay, on standard error: entries, effects by kind, the
/// most banned addresses, errors.
fn print_summary(summary: &pyruse::replay::Summary) {
    let tally = &summary.tally;
    let effects: u64 = tally.by_kind.iter().sum();
    let mut out = format!("summary: {} entries, {effects} effects\n", summary.entries);
    for (kind, n) in pyruse::effects::KINDS.iter().zip(tally.by_kind) {
        if n > 0 {
            out.push_str(&format!("  {n:>9}  {kind}\n"));
        }
    }
    let bans: u64 = tally.bans.values().sum();
    if bans > 0 {
        let top = tally.top_bans(10);
        out.push_str(&format!(
            "bans by address: {bans} bans of {} addresses{}\n",
            tally.bans.len(),
            if tally.bans.len() > top.len() {
                format!(", the {} most banned", top.len())
            } else {
                String::new()
            }
        ));
        for (address, n) in top {
            out.push_str(&format!("  {n:>9}  {address}\n"));
        }
    } else {
        out.push_str("bans by address: none\n");
    }
    let errors: u64 = summary.step_errors.iter().map(|e| e.2).sum();
    let bad = summary.bad_lines.len() as u64;
    let count = |n: u64, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    let mut told = Vec::new();
    if errors > 0 {
        let places = summary.step_errors.len() as u64;
        told.push(format!(
            "{} at {}",
            count(errors, "run-time error"),
            count(places, "step")
        ));
    }
    if bad > 0 {
        told.push(format!("{} not entries", count(bad, "line")));
    }
    if told.is_empty() {
        out.push_str("errors: none\n");
    } else {
        out.push_str(&format!("errors: {} (told above)\n", told.join(", ")));
    }
    eprint!("{out}");
}

fn cmd_disasm(rules: &Path) -> ExitCode {
    let (checked, sources) = match load_checked(rules, Format::Human) {
        Ok(c) => c,
        Err(code) => return code,
    };
    match checked.program {
        None => {
            print_diags(&checked.diagnostics, &sources, Format::Human);
            ExitCode::from(1)
        }
        Some(p) => {
            print!("{}", pyruse::vm::disasm::disasm(&p));
            ExitCode::SUCCESS
        }
    }
}

fn cmd_builtins(markdown: bool) -> ExitCode {
    if markdown {
        print!("{}", builtins_markdown());
        return ExitCode::SUCCESS;
    }
    for b in pyruse::builtins::BUILTINS {
        let params: Vec<String> = b
            .params
            .iter()
            .map(|p| format!("{}{}", p.name, if p.required { "" } else { "?" }))
            .collect();
        let kind = match b.kind {
            pyruse::builtins::Kind::Filter => "filter",
            pyruse::builtins::Kind::Action => "action",
        };
        println!(
            "{kind} {}({})\n    {}",
            b.name,
            params.join(", "),
            b.summary
        );
    }
    ExitCode::SUCCESS
}

/// The "Filters" and "Actions" subsections of the "Builtins" section of
/// docs/language.md, from the builtins' descriptors: for each builtin its
/// signature with the kinds of the arguments, its operator form, and its
/// reference text.
fn builtins_markdown() -> String {
    use pyruse::builtins::{Kind, BUILTINS};
    let mut out = String::new();
    for (kind, title) in [(Kind::Filter, "Filters"), (Kind::Action, "Actions")] {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&format!("### {title}\n"));
        for b in BUILTINS.iter().filter(|b| b.kind == kind) {
            let params: Vec<String> = b
                .params
                .iter()
                .map(|p| {
                    let optional = if p.required { "" } else { "?" };
                    format!("{}{optional}: {}", p.name, p.ty.name())
                })
                .collect();
            let form = b.form.map_or(String::new(), |f| format!(", or `{f}`"));
            out.push_str(&format!(
                "\n**`{}({})`**{form} —\n{}\n",
                b.name,
                params.join(", "),
                b.doc.trim()
            ));
        }
    }
    out
}

/// The configuration and the open store named by `--rules`/`--state-dir`.
fn open_state(args: &StateArgs) -> Result<(pyruse::config::Config, Store), ExitCode> {
    let rules_path = args
        .rules
        .clone()
        .unwrap_or_else(pyruse::daemon::default_rules);
    let (rules, diags) = syntax::load(&rules_path);
    let config = if args.rules.is_some() && diags.iter().any(Diagnostic::is_error) {
        print_diags(&diags, &rules.sources, Format::Human);
        return Err(ExitCode::from(1));
    } else {
        pyruse::check::config_of(&rules)
    };
    let dir = args
        .state_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&config.storage));
    match Store::open(&dir) {
        Ok(s) => Ok((config, s)),
        Err(e) => {
            eprintln!("pyrusec: {e}");
            Err(ExitCode::from(2))
        }
    }
}

fn time_text(us: i64, tz: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::from_microsecond(us)
        .map(|t| {
            t.to_zoned(tz.clone())
                .strftime("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|_| us.to_string())
}

/// The state, and the bans it records.
fn open_bans(
    args: &StateArgs,
) -> Result<
    (
        pyruse::config::Config,
        Store,
        Vec<pyruse::state::store::BanRecord>,
    ),
    ExitCode,
> {
    let (config, store) = open_state(args)?;
    match store.bans() {
        Ok(b) => Ok((config, store, b)),
        Err(e) => {
            eprintln!("pyrusec: {e}");
            Err(ExitCode::from(2))
        }
    }
}

fn cmd_bans(command: BansCommand) -> ExitCode {
    let tz = jiff::tz::TimeZone::system();
    let now = pyruse::vm::wall_clock_us();
    match command {
        BansCommand::List { state } => {
            let (_, _, bans) = match open_bans(&state) {
                Ok(x) => x,
                Err(c) => return c,
            };
            println!(
                "{:<40} {:<6} {:<28} {:<20} rule",
                "address", "kind", "set", "until"
            );
            for b in bans.iter().filter(|b| b.end_us.is_none_or(|e| e > now)) {
                let until = b
                    .end_us
                    .map_or_else(|| "forever".to_owned(), |e| time_text(e, &tz));
                println!(
                    "{:<40} {:<6} {:<28} {:<20} {}",
                    b.ip,
                    b.kind.as_str(),
                    b.set,
                    until,
                    b.rule
                );
            }
            ExitCode::SUCCESS
        }
        BansCommand::Unban { address, state } => {
            let Ok(ip) = address.parse::<std::net::IpAddr>() else {
                eprintln!("pyrusec: {address:?} is not an IP address");
                return ExitCode::from(2);
            };
            let (config, mut store, bans) = match open_bans(&state) {
                Ok(x) => x,
                Err(c) => return c,
            };
            let mut found = 0;
            for b in bans
                .iter()
                .filter(|b| b.ip.parse::<std::net::IpAddr>().ok() == Some(ip))
            {
                found += 1;
                let removed = match b.kind {
                    BanKind::Nft => host::nft_remove(&config, &b.set, ip),
                    BanKind::Ipset => host::ipset_remove(&config, &b.set, ip),
                };
                if let Err(e) = removed {
                    eprintln!("pyrusec: {} (the record is removed anyway)", e.message);
                }
                if let Err(e) = store.remove_ban(b.kind, &b.set, &b.ip) {
                    eprintln!("pyrusec: {e}");
                    return ExitCode::from(2);
                }
                println!("unbanned {} from {} set {}", b.ip, b.kind.as_str(), b.set);
            }
            if found == 0 {
                eprintln!("pyrusec: {address} is not banned");
                return ExitCode::from(1);
            }
            ExitCode::SUCCESS
        }
    }
}

fn cmd_report(command: ReportCommand) -> ExitCode {
    let tz = jiff::tz::TimeZone::system();
    let now = pyruse::vm::wall_clock_us();
    match command {
        ReportCommand::Preview { html, state } => {
            let (_, store) = match open_state(&state) {
                Ok(x) => x,
                Err(c) => return c,
            };
            match pyruse::daemon::daily::pending(&store, &tz, now) {
                Ok(r) => {
                    print!("{}", if html { r.html } else { r.text });
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("pyrusec: {e}");
                    ExitCode::from(2)
                }
            }
        }
        ReportCommand::Send { state } => {
            let (config, mut store) = match open_state(&state) {
                Ok(x) => x,
                Err(c) => return c,
            };
            let report = match pyruse::daemon::daily::pending(&store, &tz, now) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("pyrusec: {e}");
                    return ExitCode::from(2);
                }
            };
            if let Err(e) = pyruse::host::mail::send_report(&config, &config.email_subject, &report)
            {
                eprintln!("pyrusec: the report was not sent: {}", e.message);
                return ExitCode::from(1);
            }
            if let Err(e) = store.report_sent(i64::MAX, now) {
                eprintln!("pyrusec: sent, but the new period could not be started: {e}");
                return ExitCode::from(2);
            }
            println!("report sent to {}", config.email_to.join(", "));
            ExitCode::SUCCESS
        }
    }
}
