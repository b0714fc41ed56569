//! Simulation: seeded random executions of any length under the same
//! [`Model`] (fault model and workload) the checker explores.
//!
//! Run `s` of a simulation is fully decided by its seed `s`, so a seed range
//! can be split over machines (`--seeds 0..1000` here, `--seeds 1000..2000`
//! there) and any failing run reproduced alone. A failing run is shrunk to a
//! short trace that still violates the same invariant (see [`shrink()`]) and
//! reported like a checker counterexample.

pub mod coverage;
pub mod estimate;
pub mod kinds;
pub mod pct;
pub mod rates;
pub mod shrink;
pub mod swarm;
mod tally;
pub mod time;

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub(crate) use tally::{Tally, Watched};

pub use crate::rng::{self, SplitMix64};
pub use coverage::Corpus;
pub use estimate::{estimate, BinomialInterval, EstimateReport, RunProperty};
pub use kinds::EventKinds;
pub use pct::{Pct, PctBound};
pub use rates::{FaultRates, RatedFaults};
pub use shrink::shrink;
pub use swarm::SwarmConfig;
pub use time::{
    run_timed, simulate_timed, Latencies, Latency, LatencyReport, Sla, TimedOptions, TimedRun,
};

use crate::check::reduction::incremental::{Affected, ALL};
use crate::ctx::Effects;
use crate::fingerprint::Fingerprinter;
use crate::semantics::{Action, Event, Model};
use crate::system::System;
use crate::violation::{check_selected, check_world, Counterexample, Violation};

/// How a simulation picks each step of a run. Every strategy is decided by
/// the seeds alone, and records the steps it took, so what it finds
/// replays and shrinks like any other run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SimulationStrategy {
    /// Each step uniformly among the enabled ones.
    #[default]
    Uniform,
    /// Random priorities over event sources with `bug_depth - 1` random
    /// change points (see [`pct`]).
    Pct {
        /// The depth `d` of the bugs aimed at (1 or more).
        bug_depth: usize,
    },
    /// Each run draws its own weights over event kinds, some left out
    /// (see [`swarm`]).
    Swarm,
    /// Runs extend earlier runs that reached new abstract states (see
    /// [`coverage`]).
    Coverage,
}

impl SimulationStrategy {
    /// The names `--strategy` takes.
    pub const NAMES: [&'static str; 4] = ["uniform", "pct", "swarm", "coverage"];

    /// The strategy called `name`; `pct` with bug depth `bug_depth`.
    pub fn named(name: &str, bug_depth: usize) -> Option<Self> {
        Some(match name {
            "uniform" => SimulationStrategy::Uniform,
            "pct" => SimulationStrategy::Pct { bug_depth },
            "swarm" => SimulationStrategy::Swarm,
            "coverage" => SimulationStrategy::Coverage,
            _ => return None,
        })
    }

    /// Its name, as `--strategy` takes it.
    pub fn name(self) -> &'static str {
        match self {
            SimulationStrategy::Uniform => "uniform",
            SimulationStrategy::Pct { .. } => "pct",
            SimulationStrategy::Swarm => "swarm",
            SimulationStrategy::Coverage => "coverage",
        }
    }
}

impl std::fmt::Display for SimulationStrategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SimulationStrategy::Pct { bug_depth } => write!(f, "pct --bug-depth {bug_depth}"),
            other => f.write_str(other.name()),
        }
    }
}

/// What to simulate.
#[derive(Debug, Clone)]
pub struct SimulateOptions {
    /// Seeds of the runs, one run per seed.
    pub seeds: Range<u64>,
    /// Steps per run at most (a run also ends when no step is enabled).
    pub depth: usize,
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    /// Shrink a failing run to a short trace.
    pub shrink: bool,
    /// How each run picks its steps.
    pub strategy: SimulationStrategy,
    /// Faults drawn at a rate instead of chosen like other steps (see
    /// [`rates`]); `coverage` takes none.
    pub rates: FaultRates,
}

impl Default for SimulateOptions {
    fn default() -> Self {
        SimulateOptions {
            seeds: 0..1000,
            depth: 100,
            threads: 0,
            shrink: true,
            strategy: SimulationStrategy::Uniform,
            rates: FaultRates::default(),
        }
    }
}

/// A failing run.
#[derive(Debug)]
pub struct SimulationFailure<S: System> {
    /// Its seed: `--seeds S..S+1` runs it alone (for `coverage`, which
    /// builds on earlier runs, rerun the range from its start).
    pub seed: u64,
    /// Steps the run took before the violation.
    pub steps: usize,
    /// What the strategy did in this run: the swarm configuration, the PCT
    /// change points, or the corpus run it extended.
    pub detail: Option<String>,
    /// The (shrunk, if asked) trace and the violation.
    pub counterexample: Counterexample<S>,
}

/// The result of a simulation.
#[derive(Debug)]
pub struct SimulationReport<S: System> {
    /// Runs completed.
    pub runs: u64,
    /// Steps taken over all runs.
    pub steps: u64,
    /// Wall-clock time.
    pub elapsed: Duration,
    /// For `pct`: the bound its runs give.
    pub pct: Option<PctBound>,
    /// For `coverage`: runs in the corpus and features seen at the end.
    pub corpus: Option<(usize, usize)>,
    /// The failing run with the smallest seed, if any failed.
    pub failure: Option<SimulationFailure<S>>,
}

/// One run as a strategy took it.
struct Run<S: System> {
    events: Vec<Event<S>>,
    violation: Option<Violation>,
    /// The index of each step among the enabled ones (kept for `coverage`).
    picks: Vec<u32>,
    /// The abstract states it reached, with the step that reached each
    /// (kept for `coverage`).
    features: Vec<(u32, u64)>,
    /// Event sources it met (for `pct`).
    sources: usize,
    /// Whether it ended because no step was enabled (not at its depth).
    quiescent: bool,
    /// The world it ended in (`None` if it could not start).
    end: Option<crate::semantics::World<S>>,
}

/// How one run picks its steps.
enum Picker {
    Uniform,
    Pct(Pct),
    Swarm(SwarmConfig),
}

/// One run: its events, and the violation that ended it, if any.
pub fn run_one<S: System>(
    model: &Model<S>,
    seed: u64,
    depth: usize,
) -> (Vec<Event<S>>, Option<Violation>) {
    run_with(model, seed, depth, SimulationStrategy::Uniform)
}

/// One run picked by `strategy` (`coverage` runs alone start afresh: with
/// an empty corpus they are uniform runs).
pub fn run_with<S: System>(
    model: &Model<S>,
    seed: u64,
    depth: usize,
    strategy: SimulationStrategy,
) -> (Vec<Event<S>>, Option<Violation>) {
    let rates = FaultRates::default();
    let run = run_picked(
        model,
        seed,
        depth,
        strategy,
        &rates,
        SplitMix64::new(seed),
        &[],
    );
    (run.events, run.violation)
}

/// The run of `seed`: replays `prefix` (indices of enabled steps), then
/// picks by `strategy`, drawing on `rng`; faults with a rate are drawn on
/// a stream of their own, so they do not shift the strategy's draws.
fn run_picked<S: System>(
    model: &Model<S>,
    seed: u64,
    depth: usize,
    strategy: SimulationStrategy,
    rates: &FaultRates,
    mut rng: SplitMix64,
    prefix: &[u32],
) -> Run<S> {
    let mut fault_rng = SplitMix64::new(seed ^ 0x0fa1_7ba5_ed00_d5e7);
    let collect = strategy == SimulationStrategy::Coverage;
    let mut picker = match strategy {
        SimulationStrategy::Uniform | SimulationStrategy::Coverage => Picker::Uniform,
        SimulationStrategy::Pct { bug_depth } => Picker::Pct(Pct::new(bug_depth, depth, &mut rng)),
        SimulationStrategy::Swarm => Picker::Swarm(SwarmConfig::for_seed(model, seed)),
    };
    let mut run = Run {
        events: Vec::new(),
        violation: None,
        picks: Vec::new(),
        features: Vec::new(),
        sources: 0,
        quiescent: false,
        end: None,
    };
    let mut evals = vec![0; S::meta().invariants.len()];
    let mut world = match model.init() {
        Ok(w) => w,
        Err(e) => {
            run.violation = Some(Violation::Step(e));
            return run;
        }
    };
    if let Err(v) = check_world(&model.setup, &world, &mut evals) {
        run.violation = Some(v);
        run.end = Some(world);
        return run;
    }
    let affected = Affected::new::<S>();
    let mut actions: Vec<Action> = Vec::new();
    let mut weights: Vec<u32> = Vec::new();
    let mut effects = Effects::default();
    let mut previous_handler = u64::MAX;
    for step in 0..depth {
        actions.clear();
        model.actions(&world, &mut actions);
        rates.filter(model, &world, &mut actions);
        if actions.is_empty() {
            run.quiescent = true;
            break;
        }
        let crash = rates.crash_before(model, &world, &mut fault_rng);
        if let Some(crash) = crash {
            actions.clear();
            actions.push(crash);
        }
        let replayed = prefix
            .get(step)
            .map(|&p| p as usize)
            .filter(|&p| p < actions.len());
        let i = match (replayed, &mut picker) {
            (Some(p), _) => p,
            (None, _) if crash.is_some() => 0,
            (None, Picker::Uniform) => rng.below(actions.len() as u64) as usize,
            (None, Picker::Pct(pct)) => pct.pick(model, &world, &actions, step, &mut rng),
            (None, Picker::Swarm(config)) => {
                match config.pick(model, &world, &actions, &mut rng, &mut weights) {
                    Some(i) => i,
                    None => break,
                }
            }
        };
        let action = rates.instead_of(actions[i], &mut fault_rng);
        if collect {
            run.picks.push(i as u32);
        }
        let before = match picker {
            Picker::Pct(_) => {
                let node = model.node_of(&world, action);
                Some((node, progress_mark(&world, node)))
            }
            _ => None,
        };
        run.events.push(model.event(&world, action));
        let info = match model.apply(&mut world, action, &mut effects) {
            Ok(info) => info,
            Err(e) => {
                run.violation = Some(Violation::Step(e));
                break;
            }
        };
        if let (Some((node, before)), Picker::Pct(pct)) = (before, &mut picker) {
            pct.after(before != progress_mark(&world, node));
        }
        if collect {
            if let Some(n) = info.node {
                // The node's own state alone: not its timers or how far
                // through its workload it is.
                let mut h = Fingerprinter::with_seed(n as u64);
                std::hash::Hash::hash(&world.nodes[n].state, &mut h);
                std::hash::Hasher::write_u8(&mut h, world.nodes[n].up as u8);
                run.features
                    .push((step as u32, std::hash::Hasher::finish(&h)));
            }
            let handler = info.handler.map_or(u64::MAX - 1, |h| h as u64);
            let mut h = Fingerprinter::with_seed(0x4ea1);
            std::hash::Hasher::write_u64(&mut h, previous_handler);
            std::hash::Hasher::write_u64(&mut h, handler);
            run.features
                .push((step as u32, std::hash::Hasher::finish(&h)));
            previous_handler = handler;
        }
        let mask = affected.as_ref().map_or(ALL, |a| a.mask(action, info));
        if let Err(v) = check_selected(&model.setup, &world, mask, info.node, &mut evals) {
            run.violation = Some(v);
            break;
        }
    }
    if let Picker::Pct(pct) = &picker {
        run.sources = pct.sources();
    }
    run.end = Some(world);
    run
}

/// What a step must change to count as progress for `pct`: the state of
/// the node it runs at (`node`, from [`Model::node_of`]), the network, the
/// partition.
fn progress_mark<S: System>(
    world: &crate::semantics::World<S>,
    node: Option<usize>,
) -> (u64, u64, usize, u64) {
    let node = node.map_or(0, |n| world.node_fingerprint(n));
    (
        node,
        world.network.fingerprint(),
        world.network.len(),
        world.partition,
    )
}

/// What the strategy did in the failing run of `seed`, in words.
fn describe_run<S: System>(
    model: &Model<S>,
    seed: u64,
    depth: usize,
    strategy: SimulationStrategy,
) -> Option<String> {
    match strategy {
        SimulationStrategy::Uniform | SimulationStrategy::Coverage => None,
        SimulationStrategy::Swarm => Some(format!(
            "swarm configuration of seed {seed}: {}",
            SwarmConfig::for_seed(model, seed).describe(model)
        )),
        SimulationStrategy::Pct { bug_depth } => {
            let pct = Pct::new(bug_depth, depth, &mut SplitMix64::new(seed));
            Some(format!(
                "pct priority change points at steps {:?}",
                pct.change_points()
            ))
        }
    }
}

/// Runs `work` on `threads` threads (inline for one).
fn on_threads(threads: usize, work: impl Fn() + Sync) {
    if threads <= 1 {
        work();
    } else {
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(&work);
            }
        });
    }
}

/// A failing run as first found: its seed, its events, the violation and
/// what the strategy did.
type Failure<S> = (u64, Vec<Event<S>>, Violation, Option<String>);

/// Runs one execution per seed, on all threads, and shrinks the failing run
/// with the smallest seed.
pub fn simulate<S: System>(model: &Model<S>, options: &SimulateOptions) -> SimulationReport<S> {
    simulate_counted(model, options, &Tally::default())
}

/// [`simulate`], counting into `tally` as it goes (for progress).
pub(crate) fn simulate_counted<S: System>(
    model: &Model<S>,
    options: &SimulateOptions,
    tally: &Tally,
) -> SimulationReport<S> {
    let started = Instant::now();
    let threads = match options.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let (failure, corpus) = match options.strategy {
        SimulationStrategy::Coverage => {
            let (failure, corpus) = with_coverage(model, options, threads, tally);
            (failure, Some((corpus.len(), corpus.features())))
        }
        _ => (independent(model, options, threads, tally), None),
    };
    let failure = failure.map(|(seed, events, violation, detail)| {
        let steps = events.len();
        let events = if options.shrink {
            shrink(model, events, &violation)
        } else {
            events
        };
        let mut cx = Counterexample::new(violation, events);
        if let Ok(Some(v)) = cx.reproduce(model) {
            cx.violation = v;
        }
        SimulationFailure {
            seed,
            steps,
            detail,
            counterexample: cx,
        }
    });
    let pct = match options.strategy {
        SimulationStrategy::Pct { bug_depth } => Some(PctBound {
            sources: tally.sources.load(Ordering::Relaxed),
            steps: options.depth as u64,
            depth: bug_depth.max(1),
        }),
        _ => None,
    };
    SimulationReport {
        runs: tally.runs.load(Ordering::Relaxed),
        steps: tally.steps.load(Ordering::Relaxed),
        elapsed: started.elapsed(),
        pct,
        corpus,
        failure,
    }
}

impl Tally {
    fn count<S: System>(&self, run: &Run<S>) {
        self.run(run.events.len(), run.violation.is_some());
        self.sources
            .fetch_max(run.sources as u64, Ordering::Relaxed);
    }
}

/// Runs whose seeds alone decide them (all strategies but `coverage`),
/// shared out seed by seed; the failing run with the smallest seed.
fn independent<S: System>(
    model: &Model<S>,
    options: &SimulateOptions,
    threads: usize,
    tally: &Tally,
) -> Option<Failure<S>> {
    let next = AtomicU64::new(options.seeds.start);
    // Seeds at or above this are not started: a smaller failing seed exists.
    let limit = AtomicU64::new(options.seeds.end);
    let failure: Mutex<Option<Failure<S>>> = Mutex::new(None);
    on_threads(threads, || loop {
        let seed = next.fetch_add(1, Ordering::Relaxed);
        if seed >= limit.load(Ordering::Relaxed) || seed < options.seeds.start {
            break;
        }
        let rng = SplitMix64::new(seed);
        let (depth, strategy, rates) = (options.depth, options.strategy, &options.rates);
        let run = run_picked(model, seed, depth, strategy, rates, rng, &[]);
        tally.count(&run);
        if let Some(v) = run.violation {
            let mut f = failure.lock().unwrap_or_else(|e| e.into_inner());
            if f.as_ref().is_none_or(|(s, ..)| seed < *s) {
                let detail = describe_run(model, seed, options.depth, options.strategy);
                *f = Some((seed, run.events, v, detail));
                limit.fetch_min(seed, Ordering::Relaxed);
            }
        }
    });
    failure.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// Coverage-guided runs, batch by batch: each batch's prefixes are drawn
/// from the corpus as it stood before the batch, and its runs join the
/// corpus in seed order, so the result does not depend on the threads.
fn with_coverage<S: System>(
    model: &Model<S>,
    options: &SimulateOptions,
    threads: usize,
    tally: &Tally,
) -> (Option<Failure<S>>, Corpus) {
    let mut corpus = Corpus::new();
    let mut start = options.seeds.start;
    while start < options.seeds.end {
        let end = start.saturating_add(coverage::BATCH).min(options.seeds.end);
        let jobs: Vec<(u64, SplitMix64, Vec<u32>)> = (start..end)
            .map(|seed| {
                let mut rng = SplitMix64::new(seed);
                let prefix = corpus.prefix(&mut rng);
                (seed, rng, prefix)
            })
            .collect();
        let next = AtomicU64::new(0);
        let done: Mutex<Vec<(usize, Run<S>)>> = Mutex::new(Vec::with_capacity(jobs.len()));
        on_threads(threads.min(jobs.len()), || loop {
            let j = next.fetch_add(1, Ordering::Relaxed) as usize;
            let Some((seed, rng, prefix)) = jobs.get(j) else {
                break;
            };
            let strategy = SimulationStrategy::Coverage;
            let rates = FaultRates::default();
            let run = run_picked(
                model,
                *seed,
                options.depth,
                strategy,
                &rates,
                rng.clone(),
                prefix,
            );
            tally.count(&run);
            done.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((j, run));
        });
        let mut done = done.into_inner().unwrap_or_else(|e| e.into_inner());
        done.sort_by_key(|(j, _)| *j);
        for (j, run) in done {
            let (seed, _, prefix) = &jobs[j];
            if let Some(v) = run.violation {
                let detail = format!(
                    "coverage run {seed} replayed {} steps of a corpus run, then went at random \
                     ({} runs in the corpus, {} abstract states seen); it depends on the runs \
                     before it: rerun --seeds {}..{} or replay the trace",
                    prefix.len(),
                    corpus.len(),
                    corpus.features(),
                    options.seeds.start,
                    seed + 1
                );
                return (Some((*seed, run.events, v, Some(detail))), corpus);
            }
            corpus.offer(run.picks, &run.features);
        }
        start = end;
    }
    (None, corpus)
}
