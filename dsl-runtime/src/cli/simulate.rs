//! The `simulate` subcommand: seeded random runs, shardable by seed range.

use std::io::Write;
use std::ops::Range;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::numbers::thousands;
use crate::semantics::Model;
use crate::simulate::estimate::estimate_counted;
use crate::simulate::time::simulate_timed_counted;
use crate::simulate::time::{parse_micros, show_micros};
use crate::simulate::{
    simulate_counted, Latencies, Latency, RatedFaults, RunProperty, SimulateOptions,
    SimulationStrategy, Sla, Tally, TimedOptions, Watched,
};
use crate::system::System;

use super::{EXIT_OK, EXIT_VIOLATION};

/// A seed range written `A..B` (B excluded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedRange(pub Range<u64>);

impl std::str::FromStr for SeedRange {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{s}`: write a seed range as A..B, e.g. 0..1000 (B excluded)");
        let (a, b) = s.split_once("..").ok_or_else(bad)?;
        let a: u64 = a.trim().parse().map_err(|_| bad())?;
        let b: u64 = b.trim().parse().map_err(|_| bad())?;
        if b < a {
            return Err(format!("`{s}`: the range ends before it starts"));
        }
        Ok(SeedRange(a..b))
    }
}

/// Flags of the `simulate` subcommand.
#[derive(clap::Args, Debug, Clone)]
pub struct SimulateArgs {
    /// Fault model, as for `check`, and rates: `drop=pX` loses each
    /// delivery's message with probability X, `dup=pX` duplicates it,
    /// `crash=pX` (`crash-stop=pX`) crashes a node before each step with
    /// probability X.
    #[arg(long, default_value = "none", value_name = "LIST")]
    pub faults: RatedFaults,
    /// Estimate the probability that a run fails PROPERTY, with an exact
    /// (Clopper-Pearson) confidence interval, instead of stopping at the
    /// first failing run: invariants (a run violates one), answered (also:
    /// a call still unanswered after --depth steps), converged (also: some
    /// step still enabled after --depth steps).
    #[arg(long, value_name = "PROPERTY", num_args = 0..=1,
          default_missing_value = "invariants",
          value_parser = clap::builder::PossibleValuesParser::new(RunProperty::NAMES))]
    pub estimate: Option<String>,
    /// With --estimate: the confidence of the interval, between 0 and 1.
    #[arg(long, value_name = "C")]
    pub confidence: Option<f64>,
    /// With --estimate: exit 1 unless the one-sided upper bound on the
    /// probability of a failing run is below P.
    #[arg(long, value_name = "P")]
    pub require_below: Option<f64>,
    /// Run in simulated time: messages take a latency drawn from
    /// --latency, timers fire at their durations, --faults crash=N crashes
    /// come at random times; report call latency percentiles.
    #[arg(long)]
    pub time: bool,
    /// With --time: the latency of every link, a range drawn uniformly
    /// (`1ms..5ms`) or one value (`2ms`).
    #[arg(long, value_name = "RANGE")]
    pub latency: Option<String>,
    /// With --time: how much simulated time a run lasts at most.
    #[arg(long, value_name = "DURATION")]
    pub horizon: Option<String>,
    /// With --time: how long a crashed node stays down before it restarts
    /// (when the fault model restarts nodes).
    #[arg(long, value_name = "DURATION")]
    pub restart_after: Option<String>,
    /// With --time: crashes hit only the nodes of this role (e.g. keep
    /// clients up, whose crash loses their own calls).
    #[arg(long, value_name = "ROLE")]
    pub crash_role: Option<String>,
    /// With --time: the service level to check over all runs, e.g.
    /// `p99<50ms`; exit 1 when it is not met.
    #[arg(long, value_name = "SLA")]
    pub sla: Option<String>,
    /// First seed; runs use seeds SEED, SEED+1, ... (one run per seed).
    #[arg(long, default_value_t = 0, value_name = "SEED")]
    pub seed: u64,
    /// Number of runs.
    #[arg(long, default_value_t = 1000, value_name = "R")]
    pub runs: u64,
    /// The seed range A..B to run instead of --seed/--runs; split a big
    /// range over machines with one range each.
    #[arg(long, value_name = "A..B")]
    pub seeds: Option<SeedRange>,
    /// Steps per run at most.
    #[arg(long, default_value_t = 100, value_name = "D")]
    pub depth: usize,
    /// Worker threads (0: one per core).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub threads: usize,
    /// How each run picks its steps: uniform (among the enabled steps),
    /// pct (random priorities over event sources, --bug-depth change
    /// points), swarm (a random subset of event kinds per run, randomly
    /// weighted), coverage (runs extend earlier runs that reached new
    /// abstract states).
    #[arg(long, default_value = "uniform", value_name = "NAME",
          value_parser = clap::builder::PossibleValuesParser::new(SimulationStrategy::NAMES))]
    pub strategy: String,
    /// For --strategy pct: the bug depth d aimed at (d - 1 priority change
    /// points per run); 3 when not given.
    #[arg(long, value_name = "D", value_parser = clap::value_parser!(u64).range(1..=64))]
    pub bug_depth: Option<u64>,
    /// Report a failing run as it was, without shrinking it.
    #[arg(long)]
    pub no_shrink: bool,
    /// Report progress on stderr from the start (runs done of all, steps a
    /// second, violations so far). A terminal gets a bar anyway; elsewhere,
    /// without this flag, plain lines every two seconds begin only once the
    /// run has lasted six.
    #[arg(long)]
    pub progress: bool,
    /// Write a counterexample, if one is found, as JSON for `replay`.
    #[arg(long, value_name = "FILE")]
    pub trace_json: Option<PathBuf>,
    /// Draw a counterexample, if one is found, as a chart (SVG or HTML).
    #[arg(long, value_name = "FILE")]
    pub trace_out: Option<PathBuf>,
    /// The size, model and config flags of this run, recorded in trace
    /// files (see [`super::CheckArgs::model_flags`]).
    #[arg(skip)]
    pub model_flags: Vec<String>,
}

impl SimulateArgs {
    /// The simulator options these flags ask for.
    pub fn options(&self) -> SimulateOptions {
        let seeds = match &self.seeds {
            Some(r) => r.0.clone(),
            None => self.seed..self.seed.saturating_add(self.runs),
        };
        SimulateOptions {
            seeds,
            depth: self.depth,
            threads: self.threads,
            shrink: !self.no_shrink,
            strategy: self.strategy(),
            rates: self.faults.rates,
        }
    }

    /// The strategy `--strategy` and `--bug-depth` name.
    pub fn strategy(&self) -> SimulationStrategy {
        let depth = self.bug_depth.unwrap_or(3) as usize;
        SimulationStrategy::named(&self.strategy, depth).unwrap_or_default()
    }
}

/// Why these flags do not go together, if they do not.
fn refusal(args: &SimulateArgs) -> Option<String> {
    if args.bug_depth.is_some() && args.strategy != "pct" {
        return Some(format!(
            "--bug-depth is for --strategy pct; this run's strategy is {}",
            args.strategy
        ));
    }
    if args.strategy == "coverage" && !args.faults.rates.is_none() {
        return Some(
            "fault rates (=pX) do not go with --strategy coverage: its runs replay earlier              runs' steps, which would not replay their random faults"
                .to_string(),
        );
    }
    if args.estimate.is_some() && args.strategy == "coverage" {
        return Some(
            "--estimate needs independent runs; --strategy coverage builds each run on              earlier ones"
                .to_string(),
        );
    }
    let timed_only = args.latency.is_some()
        || args.horizon.is_some()
        || args.restart_after.is_some()
        || args.crash_role.is_some()
        || args.sla.is_some();
    if timed_only && !args.time {
        return Some(
            "--latency, --horizon, --restart-after, --crash-role and --sla are for --time"
                .to_string(),
        );
    }
    if args.time {
        if args.estimate.is_some() || args.strategy != "uniform" {
            return Some(
                "--time picks each step by its due time: it takes neither --estimate nor \
                 --strategy"
                    .to_string(),
            );
        }
        let f = &args.faults;
        let budgeted = (f.faults.drop.is_on() && f.rates.drop == 0.0)
            || (f.faults.duplicate.is_on() && f.rates.duplicate == 0.0)
            || f.faults.partition.is_on()
            || f.faults.cut.is_on()
            || f.faults.reorder.is_on();
        if budgeted || f.rates.crash > 0.0 {
            return Some(format!(
                "--faults {f} with --time: in simulated time drops and duplicates come at rates \
                 (drop=pX, dup=pX), crashes from a count (crash=N, at random times); \
                 partitions, cut links and reordering are not simulated"
            ));
        }
    }
    if args.estimate.is_none() && (args.confidence.is_some() || args.require_below.is_some()) {
        return Some("--confidence and --require-below are for --estimate".to_string());
    }
    if let Some(c) = args.confidence {
        if !(c > 0.0 && c < 1.0) {
            return Some(format!(
                "--confidence {c}: give a number between 0 and 1, e.g. 0.95"
            ));
        }
    }
    if let Some(p) = args.require_below {
        if !(p > 0.0 && p <= 1.0) {
            return Some(format!(
                "--require-below {p}: give a probability above 0 and at most 1, e.g. 0.01"
            ));
        }
    }
    None
}

/// Runs `simulate` and prints its report. Exit 1 on a violation (with
/// `--estimate`: when the bound asked for by `--require-below` is not met).
pub fn run_simulate<S: System>(model: &Model<S>, args: &SimulateArgs) -> ExitCode {
    if let Some(why) = refusal(args) {
        return super::app::usage(why);
    }
    if let Some(property) = args.estimate.as_deref().and_then(RunProperty::named) {
        return run_estimate(model, args, property);
    }
    if args.time {
        return run_timed_cli(model, args);
    }
    let mut out = std::io::stdout().lock();
    let options = args.options();
    let _ = writeln!(
        out,
        "Simulating {} with nodes {} under faults: {}",
        S::meta().name,
        model.setup.describe(),
        args.faults
    );
    let _ = writeln!(
        out,
        "  seeds {}..{}, at most {} steps a run, strategy {}",
        options.seeds.start, options.seeds.end, options.depth, options.strategy
    );
    let report = watched(args, &options.seeds, Watched::Runs, |tally| {
        simulate_counted(model, &options, tally)
    });
    let code = match &report.failure {
        None => {
            let _ = writeln!(
                out,
                "No violation found in {} runs.",
                thousands(report.runs)
            );
            EXIT_OK
        }
        Some(f) => {
            let cx = &f.counterexample;
            let _ = writeln!(
                out,
                "VIOLATION: {} (seed {}, after {} steps; shrunk to {} steps)",
                cx.violation,
                f.seed,
                f.steps,
                cx.len()
            );
            if let Some(detail) = &f.detail {
                let _ = writeln!(out, "  found by {detail}");
            }
            let _ = write!(out, "{}", cx.render(model));
            let first = match options.strategy {
                SimulationStrategy::Coverage => options.seeds.start,
                _ => f.seed,
            };
            let _ = writeln!(
                out,
                "  the run again: simulate --strategy {} --seeds {}..{} --depth {} --faults {}",
                options.strategy,
                first,
                f.seed + 1,
                options.depth,
                args.faults
            );
            let files = (args.trace_json.as_deref(), args.trace_out.as_deref());
            if let Err(code) = super::check::write_counterexample_files(
                model,
                cx,
                &args.model_flags,
                files,
                &mut out,
            ) {
                return code;
            }
            EXIT_VIOLATION
        }
    };
    if let Some(bound) = &report.pct {
        let _ = writeln!(
            out,
            "  pct guarantee, under PCT's assumptions (a bug of depth d is d ordering \
             constraints between steps of distinct event sources; steps that change nothing \
             are not counted as progress, a rule PCT's analysis does not cover): with \
             n = {} event sources and k = {} steps, a bug of depth <= {} is met with \
             probability >= p = 1/(n*k^(d-1)) = {:.3e} per run; these {} runs all miss it \
             with probability <= (1-p)^R = {:.4}",
            bound.sources,
            bound.steps,
            bound.depth,
            bound.per_run(),
            thousands(report.runs),
            bound.missed_after(report.runs)
        );
    }
    if let Some((runs, features)) = report.corpus {
        let _ = writeln!(
            out,
            "  coverage: {} runs in the corpus, {} abstract states seen",
            thousands(runs as u64),
            thousands(features as u64)
        );
    }
    let secs = report.elapsed.as_secs_f64().max(1e-9);
    let _ = writeln!(
        out,
        "  runs: {}  steps: {}  time: {:.2?}  ({} runs/s, {} steps/s)",
        thousands(report.runs),
        thousands(report.steps),
        report.elapsed,
        thousands((report.runs as f64 / secs) as u64),
        thousands((report.steps as f64 / secs) as u64)
    );
    ExitCode::from(code)
}

/// Runs `work` with a fresh tally, showing its progress over `seeds` when
/// `--progress` or a terminal asks for it.
fn watched<R>(
    args: &SimulateArgs,
    seeds: &Range<u64>,
    shown: Watched,
    work: impl FnOnce(&Tally) -> R,
) -> R {
    let tally = Tally::default();
    let total = Some(seeds.end - seeds.start);
    crate::progress::watch(
        crate::progress::Shown::asked(args.progress),
        || tally.sample(total, shown),
        || work(&tally),
    )
}

/// `simulate --estimate`: every run of the seed range, the share that fail
/// `property`, and its Clopper–Pearson interval.
fn run_estimate<S: System>(
    model: &Model<S>,
    args: &SimulateArgs,
    property: RunProperty,
) -> ExitCode {
    let mut out = std::io::stdout().lock();
    let options = args.options();
    let confidence = args.confidence.unwrap_or(0.95);
    let _ = writeln!(
        out,
        "Estimating P({}) for {} with nodes {} under faults: {}",
        property.describe(options.depth),
        S::meta().name,
        model.setup.describe(),
        args.faults
    );
    let _ = writeln!(
        out,
        "  seeds {}..{}, at most {} steps a run, strategy {}",
        options.seeds.start, options.seeds.end, options.depth, options.strategy
    );
    let shown = Watched::Estimate {
        property,
        confidence,
    };
    let report = watched(args, &options.seeds, shown, |tally| {
        estimate_counted(model, &options, property, confidence, tally)
    });
    let i = &report.interval;
    let pct = confidence * 100.0;
    let _ = writeln!(
        out,
        "  failing runs: {} of {} (estimate {:.6}); {} violated an invariant",
        thousands(i.failures),
        thousands(i.runs),
        i.estimate(),
        thousands(report.violations)
    );
    let _ = writeln!(
        out,
        "  {pct}% Clopper-Pearson interval (exact binomial, two-sided): [{:.6}, {:.6}]",
        i.low, i.high
    );
    if i.failures == 0 && i.runs > 0 {
        let _ = writeln!(
            out,
            "  no run failed: P < {:.3e} at {pct}% confidence (one-sided exact bound; the rule \
             of three gives 3/{} = {:.3e} at 95%)",
            i.upper_bound,
            i.runs,
            3.0 / i.runs as f64
        );
    } else {
        let _ = writeln!(
            out,
            "  one-sided: P < {:.6} at {pct}% confidence",
            i.upper_bound
        );
    }
    if let Some((seed, events, violation)) = &report.first_failure {
        let what = match violation {
            Some(v) => v.to_string(),
            None => format!("fails `{}`", property.name()),
        };
        let _ = writeln!(
            out,
            "  first failing run: seed {seed}, {} steps: {what}",
            events.len()
        );
        let mut flags = args.model_flags.join(" ");
        if !flags.is_empty() {
            flags.insert(0, ' ');
        }
        let _ = writeln!(
            out,
            "  the run again: simulate --estimate {} --seeds {seed}..{} --depth {} --faults {} \
             --strategy {}{flags}",
            property.name(),
            seed + 1,
            options.depth,
            args.faults,
            options.strategy
        );
    }
    let secs = report.elapsed.as_secs_f64().max(1e-9);
    let _ = writeln!(
        out,
        "  runs: {}  steps: {}  time: {:.2?}  ({} runs/s)",
        thousands(i.runs),
        thousands(report.steps),
        report.elapsed,
        thousands((i.runs as f64 / secs) as u64)
    );
    match args.require_below {
        Some(p) if i.upper_bound >= p => {
            let _ = writeln!(
                out,
                "NOT SHOWN: P < {p} at {pct}% confidence (the bound these runs give is {:.6})",
                i.upper_bound
            );
            ExitCode::from(EXIT_VIOLATION)
        }
        Some(p) => {
            let _ = writeln!(out, "SHOWN: P < {p} at {pct}% confidence");
            ExitCode::from(EXIT_OK)
        }
        None => ExitCode::from(EXIT_OK),
    }
}

/// The options `simulate --time` asks for, or why the flags are bad.
fn timed_options<S: System>(
    model: &Model<S>,
    args: &SimulateArgs,
) -> Result<(TimedOptions, Option<Sla>), String> {
    let duration = |flag: &str, text: &Option<String>, default: &str| {
        let t = text.as_deref().unwrap_or(default);
        parse_micros(t)
            .ok_or_else(|| format!("--{flag} {t}: write a duration such as 250us, 5ms or 2s"))
    };
    let latency = match args
        .latency
        .as_deref()
        .unwrap_or("1ms..10ms")
        .split_once("..")
    {
        Some((a, b)) => {
            let (min, max) = (parse_micros(a), parse_micros(b));
            match (min, max) {
                (Some(min), Some(max)) if min <= max => Latency { min, max },
                _ => {
                    return Err(format!(
                        "--latency {}: write a range MIN..MAX such as 1ms..5ms (MIN <= MAX)",
                        args.latency.as_deref().unwrap_or("")
                    ))
                }
            }
        }
        None => {
            let v = duration("latency", &args.latency, "1ms")?;
            Latency { min: v, max: v }
        }
    };
    let horizon = duration("horizon", &args.horizon, "10s")?;
    if horizon == 0 {
        return Err("--horizon must be longer than 0".to_string());
    }
    let restart_after = duration("restart-after", &args.restart_after, "100ms")?;
    let sla = args.sla.as_deref().map(str::parse::<Sla>).transpose()?;
    let crash_targets = match &args.crash_role {
        None => None,
        Some(role) => {
            let of_role = |name: &str| name == role || name.starts_with(&format!("{role}("));
            let targets: Vec<usize> = (model.setup.nodes().iter().enumerate())
                .filter(|(_, n)| of_role(&n.to_string()))
                .map(|(i, _)| i)
                .collect();
            if targets.is_empty() {
                return Err(format!(
                    "--crash-role {role}: no node of that role among {}",
                    model.setup.describe()
                ));
            }
            Some(targets)
        }
    };
    let options = args.options();
    Ok((
        TimedOptions {
            seeds: options.seeds,
            threads: options.threads,
            latency: Latencies {
                default: latency,
                links: Vec::new(),
            },
            horizon,
            max_steps: options.depth.max(1),
            rates: args.faults.rates,
            restart_after,
            crash_targets,
        },
        sla,
    ))
}

/// `simulate --time`: call latency percentiles over every run, and the
/// service level if one is asked for.
fn run_timed_cli<S: System>(model: &Model<S>, args: &SimulateArgs) -> ExitCode {
    let (options, sla) = match timed_options(model, args) {
        Ok(o) => o,
        Err(e) => return super::app::usage(e),
    };
    let mut out = std::io::stdout().lock();
    let l = options.latency.default;
    let _ = writeln!(
        out,
        "Simulating {} in simulated time with nodes {} under faults: {}",
        S::meta().name,
        model.setup.describe(),
        args.faults
    );
    let _ = writeln!(
        out,
        "  seeds {}..{}, link latency {}..{}, horizon {}, at most {} steps a run",
        options.seeds.start,
        options.seeds.end,
        show_micros(l.min),
        show_micros(l.max),
        show_micros(options.horizon),
        options.max_steps
    );
    let report = watched(args, &options.seeds, Watched::Timed, |tally| {
        simulate_timed_counted(model, &options, tally)
    });
    let q = |p: f64| {
        report
            .quantile(p)
            .map_or("unanswered".to_string(), show_micros)
    };
    let _ = writeln!(
        out,
        "  calls: {} answered, {} unanswered (slower than any bound)",
        thousands(report.latencies.len() as u64),
        thousands(report.unanswered)
    );
    if report.capped > 0 {
        let _ = writeln!(
            out,
            "  note: {} runs stopped at --depth {} steps before the horizon; their open calls \
             count as unanswered (raise --depth)",
            thousands(report.capped),
            options.max_steps
        );
    }
    let _ = writeln!(
        out,
        "  latency: p50 {}  p99 {}  p99.9 {}  max {}",
        q(0.5),
        q(0.99),
        q(0.999),
        q(1.0)
    );
    let flags = args.model_flags.join(" ");
    let again = |seed: u64| {
        format!(
            "simulate --time --seeds {seed}..{} --faults {} --latency {}..{} --horizon {} \
             --restart-after {}{} --depth {} {flags}",
            seed + 1,
            args.faults,
            show_micros(l.min),
            show_micros(l.max),
            show_micros(options.horizon),
            show_micros(options.restart_after),
            args.crash_role
                .as_ref()
                .map_or(String::new(), |r| format!(" --crash-role {r}")),
            options.max_steps
        )
    };
    if let Some((seed, run)) = &report.violation {
        let what = run
            .violation
            .as_ref()
            .map_or(String::new(), |v| v.to_string());
        let _ = writeln!(out, "VIOLATION in seed {seed}: {what}");
        let _ = writeln!(out, "  the run again: {}", again(*seed));
        return ExitCode::from(EXIT_VIOLATION);
    }
    let Some(sla) = sla else {
        return ExitCode::from(EXIT_OK);
    };
    if sla.holds(&report) {
        let _ = writeln!(out, "SLA {sla} holds over {} runs", thousands(report.runs));
        return ExitCode::from(EXIT_OK);
    }
    let _ = writeln!(
        out,
        "SLA {sla} FAILS: p{} is {}",
        sla.quantile * 100.0,
        q(sla.quantile)
    );
    if let Some((seed, run)) = &report.worst {
        let crashes: Vec<String> = run
            .crashes
            .iter()
            .map(|(t, node)| format!("{node} at {}", show_micros(*t)))
            .collect();
        let slowest = run
            .latencies
            .iter()
            .max()
            .map_or("none".into(), |m| show_micros(*m));
        let _ =
            writeln!(
            out,
            "  slowest run: seed {seed}: {} calls answered (slowest {slowest}), {} unanswered; \
             crashes: {}",
            run.latencies.len(),
            run.unanswered,
            if crashes.is_empty() { "none".to_string() } else { crashes.join(", ") }
        );
        let _ = writeln!(out, "  the run again: {}", again(*seed));
    }
    ExitCode::from(EXIT_VIOLATION)
}
