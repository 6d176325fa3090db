//! `pyrusec`: check, migrate, replay and disassemble Pyruse rules.

use clap::Parser;
use pyruse::builtins::user_exists::SystemUsers;
use pyruse::cli::pyrusec::{
    BansCommand, Cli, Command, CountersCommand, Format, LogArgs, ReplayView, ReportCommand,
    StateArgs,
};
use pyruse::compile::{build, Built};
use pyruse::config::TimeFormat;
use pyruse::diag::{Code, Diagnostic};
use pyruse::replay::{replay_log, replay_with, ErrorLog, PlainLog, View};
use pyruse::source::SourceMap;
use pyruse::state::store::BanStatus;
use pyruse::syntax;
use pyruse::syntax::ast::Example;
use pyruse::vm::trace::TraceWriter;
use pyruse::vm::Machine;
use std::io::{BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

// `print!` and `println!` that end the program quietly when standard
// output is closed (`pyrusec disasm rules/ | head`) instead of panicking.
macro_rules! print {
    ($($arg:tt)*) => {{
        if let Err(e) = std::io::Write::write_fmt(&mut std::io::stdout(), format_args!($($arg)*)) {
            crate::stdout_failed(&e)
        }
    }};
}
macro_rules! println {
    () => {
        println!("")
    };
    ($($arg:tt)*) => {{
        let mut out = std::io::stdout().lock();
        if let Err(e) = std::io::Write::write_fmt(&mut out, format_args!($($arg)*))
            .and_then(|()| std::io::Write::write_all(&mut out, b"\n"))
        {
            crate::stdout_failed(&e)
        }
    }};
}

/// Standard output failed: closed by its reader (exit 0, as the output
/// was not wanted any more), else an error (exit 2).
fn stdout_failed(e: &std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0)
    }
    eprintln!("pyrusec: cannot write to standard output: {e}");
    std::process::exit(2)
}

#[path = "pyrusec/state.rs"]
mod state;

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
            log,
            view,
        } => cmd_replay(
            &rules,
            entries.as_deref(),
            no_rule,
            passwd.as_deref(),
            profile,
            &log,
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
        Command::Status { state, format, top } => state::cmd_status(&state, format, top),
        Command::Counters { command } => match command {
            CountersCommand::List {
                counter,
                top,
                format,
                state,
            } => state::cmd_counters_list(
                counter.as_deref(),
                top.unwrap_or(usize::MAX),
                format,
                &state,
            ),
            CountersCommand::Reset {
                counter,
                key,
                state,
            } => state::cmd_counters_reset(&counter, &key, &state),
        },
        Command::Completions { shell, program } => {
            let script = pyruse::cli::completions(shell, program);
            match std::io::stdout().lock().write_all(&script) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("pyrusec: cannot write the completions: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Man { dir } => cmd_man(&dir),
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

/// What replay shows; on a terminal (when the output goes elsewhere), the
/// progress: the share read of a file of entries, of a plain log only the
/// count.
fn replay_view(view: ReplayView, size: Option<u64>, plain: bool) -> View {
    View {
        keep: view.kinds(),
        explain: view.explain,
        meter: pyruse::progress::Meter::on_terminal("entries", size.filter(|_| !plain))
            .filter(|_| !std::io::stdout().is_terminal()),
    }
}

/// userExists resolved against a passwd-format file.
fn passwd_users(p: &Path) -> Result<Box<pyruse::builtins::user_exists::PasswdFile>, ExitCode> {
    match std::fs::read_to_string(p) {
        Ok(t) => Ok(Box::new(pyruse::builtins::user_exists::PasswdFile::parse(
            &t,
        ))),
        Err(e) => {
            eprintln!("pyrusec: cannot read {}: {e}", p.display());
            Err(ExitCode::from(2))
        }
    }
}

fn cmd_replay(
    rules: &Path,
    entries: Option<&Path>,
    no_rule: bool,
    passwd: Option<&Path>,
    profile: bool,
    log: &LogArgs,
    view: ReplayView,
) -> ExitCode {
    let time_format = match log.time_format.as_deref().map(TimeFormat::new).transpose() {
        Ok(f) => f,
        Err(why) => {
            eprintln!("pyrusec: --time-format: {why}");
            return ExitCode::from(2);
        }
    };
    // A replay tries rules on lines, most of them ASCII: the Unicode form of
    // a regex is compiled for the first line that needs it (`check`
    // compiles everything).
    pyruse::python::re::defer_unicode_forms(true);
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
        match passwd_users(p) {
            Ok(users) => machine.users = users,
            Err(code) => return code,
        }
    }
    let (input, size) = match open_entries(log.log.as_deref().or(entries)) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let stdout = std::io::stdout();
    let mut trace = TraceWriter::new(std::io::BufWriter::new(stdout.lock()), &program);
    trace.with_rule = !no_rule;
    let mut errors = ErrorLog::new(&program, std::io::stderr());
    let mut view = replay_view(view, size, log.identifier.is_some());
    errors.erase_line = view.meter.is_some();
    let replayed = match &log.identifier {
        Some(identifier) => {
            let plain = PlainLog {
                identifier,
                time_format: time_format.as_ref(),
            };
            replay_log(
                &mut machine,
                input,
                &plain,
                &mut trace,
                &mut errors,
                &mut view,
            )
        }
        None => replay_with(&mut machine, input, &mut trace, &mut errors, &mut view),
    };
    match replayed {
        Err(e) => {
            eprintln!("pyrusec: replay stopped: {e}");
            ExitCode::from(2)
        }
        Ok(summary) => {
            print_profile(&machine, summary.entries);
            replay_end(&summary, &view.explain, time_format.as_ref())
        }
    }
}

/// After a replay, on standard error: what could not be read, repeated
/// errors, selectors that picked nothing, the summary. Exit 1 when some
/// lines were not entries.
fn replay_end(
    summary: &pyruse::replay::Summary,
    explain: &[pyruse::replay::Selector],
    time_format: Option<&TimeFormat>,
) -> ExitCode {
    print_plain_notes(summary, time_format);
    for (line, why) in &summary.bad_lines {
        eprintln!("pyrusec: line {line} is not an entry ({why}); skipped");
    }
    for (at, what, n) in &summary.step_errors {
        if *n > 1 {
            eprintln!("{at}: {what}: {n} times in all");
        }
    }
    for (selector, n) in explain.iter().zip(&summary.selected) {
        if *n == 0 {
            eprintln!("pyrusec: --explain {selector} picked no entry");
        }
    }
    print_summary(summary);
    if summary.bad_lines.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// What a replay of a plain log could not read as it is: lines without a
/// time, lines cut.
fn print_plain_notes(summary: &pyruse::replay::Summary, time_format: Option<&TimeFormat>) {
    if let (Some(f), n @ 1..) = (time_format, summary.untimed) {
        eprintln!(
            "pyrusec: {n} of {} lines had no time of format `{}`: the time they were read stood for it",
            summary.entries, f.written
        );
    }
    if summary.cut > 0 {
        eprintln!(
            "pyrusec: {} lines were longer than {} bytes and were cut to that length",
            summary.cut,
            pyruse::journal::plain::MAX_LINE
        );
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

fn cmd_man(dir: &Path) -> ExitCode {
    match pyruse::cli::write_man_pages(dir) {
        Ok(pages) => {
            eprintln!("{} man pages written in {}", pages.len(), dir.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "pyrusec: cannot write the man pages in {}: {e}",
                dir.display()
            );
            ExitCode::from(2)
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

fn time_text(us: i64, tz: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::from_microsecond(us)
        .map(|t| {
            t.to_zoned(tz.clone())
                .strftime("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|_| us.to_string())
}

/// The bans not over yet, each with what the firewall made of it: `in
/// force`, `pending` (not carried out yet), or `failed`, followed by an
/// indented line with the firewall's error.
fn list_bans(
    bans: &[(pyruse::state::store::BanRecord, BanStatus)],
    now: i64,
    tz: &jiff::tz::TimeZone,
) {
    println!(
        "{:<40} {:<6} {:<28} {:<20} {:<9} rule",
        "address", "kind", "set", "until", "status"
    );
    for (b, status) in bans
        .iter()
        .filter(|(b, _)| b.end_us.is_none_or(|e| e > now))
    {
        let until = b
            .end_us
            .map_or_else(|| "forever".to_owned(), |e| time_text(e, tz));
        println!(
            "{:<40} {:<6} {:<28} {:<20} {:<9} {}",
            b.ip,
            b.kind.as_str(),
            b.set,
            until,
            status.name(),
            b.rule
        );
        if let BanStatus::Failed(why) = status {
            // The first line of the firewall's error (nft adds the
            // offending script line and a caret line).
            let why: String = why.lines().next().unwrap_or("").chars().take(300).collect();
            println!("    {why}");
        }
    }
}

fn cmd_bans(command: BansCommand) -> ExitCode {
    let tz = jiff::tz::TimeZone::system();
    let now = pyruse::vm::wall_clock_us();
    match command {
        BansCommand::Ban {
            address,
            duration,
            set,
            state,
        } => state::cmd_ban(&address, duration.as_deref(), set.as_deref(), &state),
        BansCommand::List { state } => {
            let bans = match state::open_read(&state).map(|(_, store)| store.bans_with_status()) {
                Ok(Ok(b)) => b,
                Ok(Err(e)) => {
                    eprintln!("pyrusec: {e}");
                    return ExitCode::from(2);
                }
                Err(c) => return c,
            };
            list_bans(&bans, now, &tz);
            ExitCode::SUCCESS
        }
        BansCommand::Unban { address, state } => state::cmd_unban(&address, &state),
    }
}

fn cmd_report(command: ReportCommand) -> ExitCode {
    let tz = jiff::tz::TimeZone::system();
    let now = pyruse::vm::wall_clock_us();
    match command {
        ReportCommand::Preview { html, state } => {
            let (config, store) = match state::open_read(&state) {
                Ok(x) => x,
                Err(c) => return c,
            };
            match pyruse::daemon::daily::pending(&store, &config, &tz, now) {
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
            let (_, config, mut store) = match state::open_change(&state) {
                Ok(x) => x,
                Err(c) => return c,
            };
            let report = match pyruse::daemon::daily::pending(&store, &config, &tz, now) {
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
