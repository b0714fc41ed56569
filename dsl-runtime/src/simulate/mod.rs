//! Simulation: seeded random executions of any length under the same
//! [`Model`] (fault model and workload) the checker explores.
//!
//! Run `s` of a simulation is fully decided by its seed `s`, so a seed range
//! can be split over machines (`--seeds 0..1000` here, `--seeds 1000..2000`
//! there) and any failing run reproduced alone. A failing run is shrunk to a
//! short trace that still violates the same invariant (see [`shrink()`]) and
//! reported like a checker counterexample.

pub mod rng;
pub mod shrink;

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub use rng::SplitMix64;
pub use shrink::shrink;

use crate::check::reduction::incremental::{Affected, ALL};
use crate::check::{check_selected, check_world, Counterexample, Violation};
use crate::ctx::Effects;
use crate::semantics::{Action, Event, Model};
use crate::system::System;

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
}

impl Default for SimulateOptions {
    fn default() -> Self {
        SimulateOptions {
            seeds: 0..1000,
            depth: 100,
            threads: 0,
            shrink: true,
        }
    }
}

/// A failing run.
#[derive(Debug)]
pub struct SimulationFailure<S: System> {
    /// Its seed: `--seeds S..S+1` runs it alone.
    pub seed: u64,
    /// Steps the run took before the violation.
    pub steps: usize,
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
    /// The failing run with the smallest seed, if any failed.
    pub failure: Option<SimulationFailure<S>>,
}

/// One run: its events, and the violation that ended it, if any.
pub fn run_one<S: System>(
    model: &Model<S>,
    seed: u64,
    depth: usize,
) -> (Vec<Event<S>>, Option<Violation>) {
    let mut events = Vec::new();
    let mut evals = vec![0; S::meta().invariants.len()];
    let mut world = match model.init() {
        Ok(w) => w,
        Err(e) => return (events, Some(Violation::Step(e))),
    };
    if let Err(v) = check_world(&model.setup, &world, &mut evals) {
        return (events, Some(v));
    }
    let affected = Affected::new::<S>();
    let mut rng = SplitMix64::new(seed);
    let mut actions: Vec<Action> = Vec::new();
    let mut effects = Effects::default();
    for _ in 0..depth {
        actions.clear();
        model.actions(&world, &mut actions);
        if actions.is_empty() {
            break;
        }
        let action = actions[rng.below(actions.len() as u64) as usize];
        events.push(model.event(&world, action));
        let info = match model.apply(&mut world, action, &mut effects) {
            Ok(info) => info,
            Err(e) => return (events, Some(Violation::Step(e))),
        };
        let mask = affected.as_ref().map_or(ALL, |a| a.mask(action, info));
        if let Err(v) = check_selected(&model.setup, &world, mask, info.node, &mut evals) {
            return (events, Some(v));
        }
    }
    (events, None)
}

/// A failing run as first found: its seed, its events and the violation.
type Failure<S> = (u64, Vec<Event<S>>, Violation);

/// Runs one execution per seed, on all threads, and shrinks the failing run
/// with the smallest seed.
pub fn simulate<S: System>(model: &Model<S>, options: &SimulateOptions) -> SimulationReport<S> {
    let started = Instant::now();
    let threads = match options.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let next = AtomicU64::new(options.seeds.start);
    // Seeds at or above this are not started: a smaller failing seed exists.
    let limit = AtomicU64::new(options.seeds.end);
    let runs = AtomicU64::new(0);
    let steps = AtomicU64::new(0);
    let failure: Mutex<Option<Failure<S>>> = Mutex::new(None);
    let work = || loop {
        let seed = next.fetch_add(1, Ordering::Relaxed);
        if seed >= limit.load(Ordering::Relaxed) || seed < options.seeds.start {
            break;
        }
        let (events, violation) = run_one(model, seed, options.depth);
        runs.fetch_add(1, Ordering::Relaxed);
        steps.fetch_add(events.len() as u64, Ordering::Relaxed);
        if let Some(v) = violation {
            let mut f = failure.lock().unwrap_or_else(|e| e.into_inner());
            if f.as_ref().is_none_or(|(s, _, _)| seed < *s) {
                *f = Some((seed, events, v));
                limit.fetch_min(seed, Ordering::Relaxed);
            }
        }
    };
    if threads <= 1 {
        work();
    } else {
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(work);
            }
        });
    }
    let failure =
        failure
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .map(|(seed, events, violation)| {
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
                    counterexample: cx,
                }
            });
    SimulationReport {
        runs: runs.load(Ordering::Relaxed),
        steps: steps.load(Ordering::Relaxed),
        elapsed: started.elapsed(),
        failure,
    }
}
