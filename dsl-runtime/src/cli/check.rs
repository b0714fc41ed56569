//! The `check` and `replay` subcommands: flags, reports, trace files.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use serde::{Deserialize, Serialize};

use crate::check::memory::format_bytes;
use crate::check::{
    check, thousands, Bound, CheckOptions, Counterexample, MemoryBudget, Outcome, Reached,
    Reductions, Report, Strategy,
};
use crate::faults::Faults;
use crate::meta::InvariantScope;
use crate::semantics::{Event, Model};
use crate::system::System;

use super::{EXIT_MEMORY, EXIT_OK, EXIT_USAGE, EXIT_VIOLATION};

/// Flags of the `check` subcommand.
#[derive(clap::Args, Debug, Clone)]
pub struct CheckArgs {
    /// Fault model: a comma-separated list of drop, dup, reorder, crash,
    /// crash-stop, partition, cut, upgrade, each optionally `=N` (e.g. `dup`,
    /// `drop=1,crash=1`), or none.
    #[arg(long, default_value = "none", value_name = "LIST")]
    pub faults: Faults,
    /// Let at most N nodes of a rolling upgrade switch to the new version:
    /// the same as adding `upgrade=N` to --faults.
    #[arg(long, value_name = "N")]
    pub upgrades: Option<u8>,
    /// Explore at most this many steps from the initial state.
    #[arg(long, value_name = "N")]
    pub depth: Option<usize>,
    /// Stop after this many unique states.
    #[arg(long, value_name = "N")]
    pub max_states: Option<u64>,
    /// The most memory the search may hold: a size (`2GiB`, `512M`; K, M,
    /// G, T are powers of 1024), a share of the memory available (`50%`)
    /// or `unlimited`. Default: 3/4 of the memory available when the check
    /// starts (the least of the system's, the cgroup's and `ulimit -v`'s).
    /// On reaching it the check stops with a bounded verdict and exit code 3.
    #[arg(long, value_name = "SIZE", value_parser = crate::check::memory::parse_size)]
    pub memory: Option<MemoryBudget>,
    /// Write a counterexample, if one is found, as JSON for `replay`.
    #[arg(long, value_name = "FILE")]
    pub trace_json: Option<PathBuf>,
    /// Draw a counterexample, if one is found, as a message sequence chart:
    /// SVG when FILE ends in `.svg`, else a self-contained HTML page.
    #[arg(long, value_name = "FILE")]
    pub trace_out: Option<PathBuf>,
    /// Worker threads (0: one per core). More than one turns dynamic
    /// partial-order reduction, which runs on one thread, off (the static
    /// reduction runs on every thread).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub threads: usize,
    /// Search breadth first with no partial-order reduction, so a
    /// counterexample is a shortest one. Without it the checker picks the
    /// fastest search (often depth first, with dynamic partial-order
    /// reduction), whose counterexamples need not be shortest.
    #[arg(long, conflicts_with = "dfs")]
    pub bfs: bool,
    /// Search depth first: less memory; counterexamples need not be shortest.
    #[arg(long)]
    pub dfs: bool,
    /// Turn every reduction off (symmetry, partial-order, incremental
    /// invariants, the ignore rule).
    #[arg(long)]
    pub no_reduction: bool,
    /// Turn symmetry reduction off.
    #[arg(long)]
    pub no_symmetry: bool,
    /// Turn partial-order reduction off (static and dynamic).
    #[arg(long)]
    pub no_por: bool,
    /// Turn dynamic partial-order reduction off (keep the static one, which
    /// runs on every thread).
    #[arg(long)]
    pub no_dpor: bool,
    /// Evaluate every invariant after every step.
    #[arg(long)]
    pub no_incremental: bool,
    /// Keep symmetry and partial-order reduction on even where a sample of
    /// the search says they do not pay (by default one that keeps more
    /// than half the states of a search without it is switched off).
    #[arg(long)]
    pub keep_reductions: bool,
    /// Keep messages in flight even when the model's ignore rule says
    /// their receivers ignore them for good.
    #[arg(long)]
    pub no_ignore_rule: bool,
    /// Check the ignore rule's promise instead of using it: nothing is
    /// dropped, and the check fails at a step where a node acts on a
    /// message the rule calls ignored, or stops ignoring one in flight.
    #[arg(long)]
    pub audit_ignore_rule: bool,
    /// Check after every step that the handler changed, sent, emitted and
    /// set only what its footprint declares; an undeclared effect fails the
    /// check with a counterexample (always on in debug builds).
    #[arg(long)]
    pub audit_footprints: bool,
    /// Report progress on stderr from the start. A terminal gets a bar
    /// anyway; elsewhere, without this flag, plain lines every two seconds
    /// begin only once the run has lasted six.
    #[arg(long)]
    pub progress: bool,
    /// Also check the `eventually` properties under weak fairness (builds the
    /// whole state graph without reductions: keep the configuration small).
    #[arg(long)]
    pub liveness: bool,
    /// Do not report deadlocks: states where no step is enabled while a
    /// node still waits for a reply to its workload's call.
    #[arg(long)]
    pub allow_deadlock: bool,
    /// Check only this invariant (repeat the flag for several); every
    /// invariant when not given. `describe` lists them.
    #[arg(long = "invariant", value_name = "NAME")]
    pub invariants: Vec<String>,
    /// Iterative deepening: check at each value A, A+1, ..., B of the
    /// size or config flag NAME (e.g. max-term=1..5) and stop at the first
    /// that fails, with the time spent per bound.
    #[arg(long, value_name = "NAME=A..B")]
    pub deepen: Option<super::Deepen>,
    /// Keep verdicts in DIR, keyed by the system's hashes, these flags and
    /// the tool version: an unchanged system answers from the cache, and
    /// a changed one is re-checked with the invariants its edit can
    /// affect listed first.
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// The size, model and config flags of this run as a command line
    /// would give them, recorded in trace files so `replay` needs no flags.
    #[arg(skip)]
    pub model_flags: Vec<String>,
}

impl CheckArgs {
    /// The checker options these flags ask for.
    pub fn options(&self) -> CheckOptions {
        let on = !self.no_reduction;
        // Either partial-order reduction may lengthen the shortest path to
        // a violation, so --bfs searches without them; the dynamic one runs
        // on one thread, so asking for more turns it off.
        let por = on && !self.no_por && !self.bfs;
        let dynamic_por = por && !self.no_dpor && self.threads <= 1;
        CheckOptions {
            max_depth: self.depth,
            max_states: self.max_states,
            threads: self.threads,
            strategy: if self.dfs {
                Strategy::Dfs
            } else {
                Strategy::Bfs
            },
            reductions: Reductions {
                symmetry: on && !self.no_symmetry,
                por,
                dynamic_por,
                incremental: on && !self.no_incremental,
                ignore_rule: on && !self.no_ignore_rule,
                payoff_sample: if self.keep_reductions {
                    0
                } else {
                    crate::check::reduction::PAYOFF_SAMPLE
                },
            },
            progress: crate::progress::Shown::asked(self.progress),
            only_invariants: None,
            memory: self.memory.clone(),
        }
    }
}

impl CheckArgs {
    /// What the search flags change beyond their names, said up front.
    fn flag_notes(&self) -> Vec<&'static str> {
        let mut notes = Vec::new();
        let por_wanted = !self.no_reduction && !self.no_por;
        if self.bfs && por_wanted {
            notes.push(
                "--bfs: partial-order reduction off (it can lengthen the shortest counterexample)",
            );
        } else if self.threads > 1 && por_wanted && !self.no_dpor {
            notes.push(
                "--threads: dynamic partial-order reduction off (it runs on one thread); the static one is used",
            );
        }
        notes
    }
}

/// The invariants `names` (`--invariant`) select, as a mask for
/// [`CheckOptions::only_invariants`]; `Err` says which name is unknown and
/// lists the choices.
pub fn select_invariants<S: System>(names: &[String]) -> Result<Option<u64>, String> {
    if names.is_empty() {
        return Ok(None);
    }
    let meta = S::meta();
    if meta.invariants.len() > 64 {
        return Err(format!(
            "--invariant: {} has {} invariants and the checker selects among at most 64; leave the flag out to check them all",
            meta.name,
            meta.invariants.len()
        ));
    }
    let mut mask = 0u64;
    for name in names {
        match meta.invariants.iter().position(|i| i.name == name) {
            Some(id) => mask |= 1 << id,
            None if S::eventually().iter().any(|e| e.name == name) => {
                return Err(format!(
                    "--invariant {name}: `{name}` is an `eventually` property, which --liveness checks (it checks them all); leave it out of --invariant"
                ))
            }
            None => {
                let known: Vec<&str> = meta.invariants.iter().map(|i| i.name).collect();
                return Err(format!(
                    "--invariant {name}: {} has no invariant of that name; it has: {}",
                    meta.name,
                    known.join(", ")
                ));
            }
        }
    }
    Ok(Some(mask))
}

/// Flags of the `replay` subcommand.
#[derive(clap::Args, Debug, Clone)]
pub struct ReplayArgs {
    /// A trace written by `check --trace-json`.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// A counterexample on disk: enough to replay it with the same model.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct TraceFile<S: System> {
    /// The system's name, checked on replay.
    pub system: String,
    /// The fault model it was found under.
    pub faults: String,
    /// The size, model and config flags it was found with (`--clients 3`
    /// and the like), so `replay` rebuilds the same model from the file
    /// alone. Older files lack it.
    #[serde(default)]
    pub flags: Vec<String>,
    /// The violation, as printed.
    pub violation: String,
    /// The steps.
    pub events: Vec<Event<S>>,
}

/// Prints what is about to be checked.
pub fn print_header<S: System>(model: &Model<S>, out: &mut impl Write) {
    let meta = S::meta();
    let _ = writeln!(
        out,
        "Checking {} with nodes {} under faults: {}",
        meta.name,
        model.setup.describe(),
        model.faults
    );
    let _ = writeln!(out, "  workload: {}", model.workload.describe(&model.setup));
    let invs: Vec<String> = meta
        .invariants
        .iter()
        .map(|i| {
            let scope = match i.scope {
                InvariantScope::Global => "global".to_string(),
                InvariantScope::Local(r) => format!("local to {}", meta.roles[r].name),
                InvariantScope::Trace => "trace".to_string(),
            };
            format!("{} ({scope})", i.name)
        })
        .collect();
    let _ = writeln!(out, "  invariants: {}", invs.join(", "));
    let eventually: Vec<&str> = S::eventually().iter().map(|e| e.name).collect();
    if !eventually.is_empty() {
        let _ = writeln!(
            out,
            "  eventually: {} (checked with --liveness)",
            eventually.join(", ")
        );
    }
    match model.deadlock_allowed {
        Some(why) => {
            let _ = writeln!(out, "  deadlocks: allowed ({why})");
        }
        None if model.workload.total_inputs() > 0 => {
            let _ = writeln!(
                out,
                "  deadlocks: reported (a fault-free run that stops while a node waits for a reply; --allow-deadlock to allow)"
            );
        }
        None => {}
    }
    if model.audit_footprints {
        let _ = writeln!(
            out,
            "  footprint audit: on (every step is checked against its handler's declared footprint)"
        );
    }
    let f = &model.faults;
    // A saturated network stays finite under unlimited duplication.
    if (f.duplicate == crate::faults::Budget::Unlimited && !model.saturates())
        || f.crash == crate::faults::Budget::Unlimited
    {
        let _ = writeln!(
            out,
            "  note: unlimited duplication makes the state space infinite: exploration ends at a \
             violation or a bound (give `dup=N`, --depth or --max-states)"
        );
    }
}

/// Prints a report: the verdict, the counterexample if any, and the counters.
pub fn print_report<S: System>(model: &Model<S>, report: &Report<S>, out: &mut impl Write) {
    match &report.outcome {
        Outcome::Exhausted => {
            let _ = writeln!(
                out,
                "No violation found: every reachable state was explored."
            );
        }
        Outcome::Bounded { bound } => {
            let _ = writeln!(
                out,
                "No violation found within the {bound} bound (exploration was cut short by it)."
            );
        }
        Outcome::MemoryBound { reached } => {
            let s = &report.stats;
            let what = match reached {
                Reached::Held => format!("the search held ~{}", format_bytes(s.held_bytes)),
                Reached::Resident => format!(
                    "resident memory grew by that much; the search's own account showed ~{}",
                    format_bytes(s.held_bytes)
                ),
            };
            let _ = writeln!(
                out,
                "BOUNDED: memory budget {} reached ({what}) after {} unique states, depth {}; \
                 nothing violated so far, but the state space was not covered.",
                format_bytes(s.memory_budget),
                thousands(s.unique),
                s.max_depth
            );
            if let Some(forecast) = growth_forecast(s) {
                let _ = writeln!(out, "  {forecast}");
            }
            let mut hints = vec![
                "smaller sizes or a shorter workload",
                "--depth N for a bounded check",
            ];
            if s.strategy == Strategy::Bfs {
                hints.insert(
                    0,
                    "--dfs (keeps no parent per state and no frontier of worlds)",
                );
            }
            hints.push("--memory SIZE to give it more, as far as the machine has");
            let _ = writeln!(out, "  to go further: {}", hints.join("; "));
        }
        Outcome::Violation(cx) => {
            if report.stats.shortest {
                let _ = writeln!(
                    out,
                    "VIOLATION: {} (shortest counterexample: {} steps)",
                    cx.violation,
                    cx.len()
                );
            } else {
                let _ = writeln!(
                    out,
                    "VIOLATION: {} (counterexample: {} steps; not necessarily shortest: --bfs finds a shortest)",
                    cx.violation,
                    cx.len()
                );
            }
            let _ = write!(out, "{}", cx.render(model));
        }
    }
    let s = &report.stats;
    let _ = writeln!(out, "  {s}");
    let evals: Vec<String> = S::meta()
        .invariants
        .iter()
        .zip(&s.invariant_evals)
        .map(|(i, n)| format!("{} {}", i.name, thousands(*n)))
        .collect();
    if !evals.is_empty() {
        let _ = writeln!(out, "  invariant evaluations: {}", evals.join(", "));
    }
    for note in &s.notes {
        let _ = writeln!(out, "  {note}");
    }
}

/// What the breadth-first levels so far say of the space past the budget:
/// the growth from level to level and what the next whole level would
/// take at the bytes a state cost so far. The last level is the one the
/// stop cut short, so it is left out.
fn growth_forecast(s: &crate::check::Stats) -> Option<String> {
    let whole = s.levels.len().checked_sub(1)?;
    let levels = &s.levels[..whole];
    let [.., before, last] = levels else {
        return None;
    };
    if *before == 0 || s.unique == 0 {
        return None;
    }
    let ratio = *last as f64 / *before as f64;
    let shown: Vec<String> = levels
        .iter()
        .skip(whole.saturating_sub(4))
        .map(|&n| thousands(n))
        .collect();
    let per_state = s.held_bytes as f64 / s.unique as f64;
    let next = *last as f64 * ratio;
    Some(if ratio > 1.0 {
        format!(
            "growth: the last whole levels had {} new states (x{ratio:.2} a level); the next would have ~{} and need ~{} more at {per_state:.0} bytes a state so far",
            shown.join(", "),
            thousands(next as u64),
            format_bytes((next * per_state) as u64)
        )
    } else {
        format!(
            "growth: the last whole levels had {} new states (x{ratio:.2} a level): the levels are shrinking, so a budget a little larger may finish",
            shown.join(", ")
        )
    })
}

/// Writes the files asked for a counterexample — `(--trace-json,
/// --trace-out)` — and says where on `out`. `Err` carries the exit code
/// when one cannot be written (the message, naming the file, is printed).
pub(crate) fn write_counterexample_files<S: System>(
    model: &Model<S>,
    cx: &Counterexample<S>,
    flags: &[String],
    (trace_json, trace_out): (Option<&std::path::Path>, Option<&std::path::Path>),
    out: &mut dyn Write,
) -> Result<(), ExitCode> {
    if let Some(path) = trace_json {
        if let Err(e) = write_trace(path, model, cx, flags) {
            eprintln!("error: cannot write the trace to {}: {e}", path.display());
            return Err(ExitCode::from(EXIT_USAGE));
        }
        let _ = writeln!(out, "  trace written to {}", path.display());
    }
    if let Some(path) = trace_out {
        if let Err(e) = crate::chart::write_chart(path, model, cx) {
            eprintln!("error: cannot write the chart to {}: {e}", path.display());
            return Err(ExitCode::from(EXIT_USAGE));
        }
        let _ = writeln!(out, "  chart written to {}", path.display());
    }
    Ok(())
}

/// [`run_check`] for a system that retransmits (wrapped by
/// [`crate::transform::Reliable`]): its state space is infinite on a lossy
/// network, so the check takes the bounds, or the exact set-of-packets
/// network, [`crate::transform::plan_retransmitting`] chooses, and prints
/// the plan's notes first.
pub fn run_check_retransmitting<S: System>(model: Model<S>, args: &CheckArgs) -> ExitCode {
    run_check_retransmitting_to(model, args, &mut std::io::stdout().lock())
}

/// [`run_check_retransmitting`], printing on `out`.
pub(crate) fn run_check_retransmitting_to<S: System>(
    mut model: Model<S>,
    args: &CheckArgs,
    out: &mut dyn Write,
) -> ExitCode {
    let mut args = args.clone();
    let plan = crate::transform::plan_retransmitting(
        &mut model,
        args.depth.is_some() || args.max_states.is_some(),
    );
    for note in &plan.notes {
        let _ = writeln!(out, "{note}");
    }
    args.depth = args.depth.or(plan.default_depth);
    run_check_to(&model, &args, out)
}

/// Runs `check`: prints the header, the report and writes the trace file
/// if asked. Returns the exit code.
pub fn run_check<S: System>(model: &Model<S>, args: &CheckArgs) -> ExitCode {
    run_check_to(model, args, &mut std::io::stdout().lock())
}

/// [`run_check`], printing on `out`.
pub(crate) fn run_check_to<S: System>(
    model: &Model<S>,
    args: &CheckArgs,
    mut out: &mut dyn Write,
) -> ExitCode {
    let audited;
    let model = if args.audit_ignore_rule || args.audit_footprints || args.allow_deadlock {
        if args.audit_ignore_rule && model.ignores.is_none() {
            return crate::cli::app::usage(
                "--audit-ignore-rule: this program's model has no ignore rule to audit; leave the flag out, or give the model one with `Model::ignoring` (`App::ignoring` for a CLI)",
            );
        }
        let mut m = model.clone();
        if args.audit_ignore_rule {
            m = m.auditing_ignore_rule();
        }
        if args.audit_footprints {
            m = m.auditing_footprints(true);
        }
        if args.allow_deadlock && m.deadlock_allowed.is_none() {
            m = m.allowing_deadlock("--allow-deadlock");
        }
        audited = m;
        &audited
    } else {
        model
    };
    if args.liveness && args.depth.is_some() {
        return crate::cli::app::usage(
            "--depth with --liveness: a liveness verdict needs the whole state graph, which a depth bound cuts; \
             leave --depth out (--max-states and --memory bound the graph)",
        );
    }
    let mut options = args.options();
    options.only_invariants = match select_invariants::<S>(&args.invariants) {
        Ok(m) => m,
        Err(e) => return crate::cli::app::usage(e),
    };
    print_header(model, &mut out);
    if !args.invariants.is_empty() {
        let _ = writeln!(out, "  checking only: {}", args.invariants.join(", "));
    }
    for note in args.flag_notes() {
        let _ = writeln!(out, "  {note}");
    }
    let report = check(model, &options);
    print_report(model, &report, &mut out);
    if args.liveness && report.passed() && !matches!(report.outcome, Outcome::MemoryBound { .. }) {
        return run_liveness(model, args, &mut out);
    }
    if let Some(cx) = report.counterexample() {
        let files = (args.trace_json.as_deref(), args.trace_out.as_deref());
        if let Err(code) = write_counterexample_files(model, cx, &args.model_flags, files, out) {
            return code;
        }
    }
    ExitCode::from(match &report.outcome {
        Outcome::Violation(_) => EXIT_VIOLATION,
        Outcome::MemoryBound { .. } => EXIT_MEMORY,
        Outcome::Exhausted | Outcome::Bounded { .. } => EXIT_OK,
    })
}

pub(crate) fn write_trace<S: System>(
    path: &std::path::Path,
    model: &Model<S>,
    cx: &Counterexample<S>,
    flags: &[String],
) -> std::io::Result<()> {
    let file = TraceFile::<S> {
        system: S::meta().name.to_string(),
        faults: model.faults.to_string(),
        flags: flags.to_vec(),
        violation: cx.violation.to_string(),
        events: cx.events.clone(),
    };
    let json = serde_json::to_string_pretty(&file).map_err(std::io::Error::other)?;
    std::fs::write(path, json)
}

/// The fault model and the flags a trace file was recorded under, so a
/// replay can use them.
pub fn trace_header(path: &std::path::Path) -> Result<(Faults, Vec<String>), String> {
    #[derive(Deserialize)]
    struct Header {
        faults: String,
        #[serde(default)]
        flags: Vec<String>,
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let header: Header = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{} is not a trace file (line {}): {e}",
            path.display(),
            e.line()
        )
    })?;
    let faults = header
        .faults
        .parse()
        .map_err(|e| format!("{}: bad fault list in the trace: {e}", path.display()))?;
    Ok((faults, header.flags))
}

/// The fault model a trace file was recorded under.
pub fn trace_faults(path: &std::path::Path) -> Result<Faults, String> {
    trace_header(path).map(|(faults, _)| faults)
}

/// Runs `replay`: reads a trace file, replays it step by step with the
/// handlers and prints it. Exit 1 if a violation happens at its end (an
/// invariant, a failed step or a deadlock), 2 if it cannot be read or
/// replayed or ends without the violation it records (a different model).
pub fn run_replay<S: System>(model: &Model<S>, args: &ReplayArgs) -> ExitCode {
    let text = match std::fs::read_to_string(&args.file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", args.file.display());
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let file: TraceFile<S> = match serde_json::from_str(&text) {
        Ok(f) => f,
        Err(e) => {
            eprintln!(
                "error: {} is not a trace of this system (line {}, column {}): {e}",
                args.file.display(),
                e.line(),
                e.column()
            );
            return ExitCode::from(EXIT_USAGE);
        }
    };
    if file.system != S::meta().name {
        eprintln!(
            "error: {} is a trace of `{}`, not of `{}`",
            args.file.display(),
            file.system,
            S::meta().name
        );
        return ExitCode::from(EXIT_USAGE);
    }
    let mut cx = Counterexample::new(
        crate::check::Violation::Invariant {
            name: "",
            node: None,
            message: String::new(),
        },
        file.events,
    );
    let reproduced = match cx.reproduce(model) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e}{}", flags_hint(&file.flags));
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let mut out = std::io::stdout().lock();
    let flags = if file.flags.is_empty() {
        String::new()
    } else {
        format!(" with {}", file.flags.join(" "))
    };
    let _ = writeln!(
        out,
        "Replaying {} steps recorded under faults: {}{flags}",
        cx.len(),
        file.faults
    );
    match reproduced {
        Some(v) => {
            cx.violation = v;
            let _ = write!(out, "{}", cx.render(model));
            ExitCode::from(EXIT_VIOLATION)
        }
        None => {
            let _ = write!(out, "{}", cx.render(model));
            let _ = writeln!(out, "  (recorded: {})", file.violation);
            eprintln!(
                "error: the trace replays, but the violation it records does not happen at its end{}",
                flags_hint(&file.flags)
            );
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// What to check when a trace does not replay as recorded.
fn flags_hint(flags: &[String]) -> String {
    if flags.is_empty() {
        " (the trace file records no flags: give the sizes, model and config flags it was checked with)".to_string()
    } else {
        format!(
            " (it was recorded with {}; flags given to replay override those)",
            flags.join(" ")
        )
    }
}

/// Checks the `eventually` properties and prints the verdict, with a lasso
/// counterexample when one fails.
fn run_liveness<S: System>(model: &Model<S>, args: &CheckArgs, out: &mut impl Write) -> ExitCode {
    use crate::liveness::{check_liveness_with, LivenessOptions, LivenessOutcome};
    let names: Vec<&str> = S::eventually().iter().map(|e| e.name).collect();
    if names.is_empty() {
        let _ = writeln!(
            out,
            "Liveness: the system declares no `eventually` property."
        );
        return ExitCode::from(EXIT_OK);
    }
    let bound = args.max_states.unwrap_or(5_000_000) as usize;
    let options = LivenessOptions {
        max_states: bound,
        threads: args.threads,
        memory: args
            .memory
            .clone()
            .unwrap_or_else(MemoryBudget::default_share),
    };
    let bound_states = bound;
    let report = check_liveness_with(model, &options, &|_, _| true);
    let code = match &report.outcome {
        LivenessOutcome::Holds => {
            let props: Vec<String> = names.iter().map(|n| format!("eventually `{n}`")).collect();
            let _ = writeln!(
                out,
                "Liveness: every weakly fair run satisfies {}.",
                props.join(", ")
            );
            EXIT_OK
        }
        LivenessOutcome::Bounded(bound) => {
            let (what, code) = match bound {
                Bound::Memory => (format!(
                    "the graph reached the memory budget, {} (raise --memory or shrink the configuration)",
                    options.memory
                ), EXIT_MEMORY),
                _ => (format!(
                    "more than {} states (raise --max-states or shrink the configuration)",
                    thousands(bound_states as u64)
                ), EXIT_USAGE),
            };
            let _ = writeln!(out, "Liveness: not checked: {what}.");
            code
        }
        LivenessOutcome::CannotStart(why) => {
            let _ = writeln!(out, "Liveness: not checked: the system cannot start: {why}");
            EXIT_VIOLATION
        }
        LivenessOutcome::Violation(lasso) => {
            let cx = &lasso.counterexample;
            let why = match &cx.violation {
                crate::check::Violation::Liveness { message, .. } => message.clone(),
                other => other.to_string(),
            };
            let _ = writeln!(
                out,
                "LIVENESS VIOLATION: eventually `{}` fails: {why}",
                lasso.property
            );
            let _ = write!(out, "{}", cx.render(model));
            if lasso.cycle_start < cx.len() {
                let _ = writeln!(
                    out,
                    "  (lasso: steps 1..{} lead to the cycle, steps {}..{} repeat forever)",
                    lasso.cycle_start,
                    lasso.cycle_start + 1,
                    cx.len()
                );
            }
            let files = (None, args.trace_out.as_deref());
            if let Err(code) = write_counterexample_files(model, cx, &[], files, out) {
                return code;
            }
            EXIT_VIOLATION
        }
    };
    let _ = writeln!(
        out,
        "  liveness graph: {} states, {} edges",
        thousands(report.states as u64),
        thousands(report.edges as u64)
    );
    ExitCode::from(code)
}
