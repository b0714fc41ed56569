//! "Run the checker from here" and "simulate from here": one background
//! job at a time, over the model started from the shown world
//! ([`Model::starting_from`]), with progress the page polls and the
//! counterexample, if one is found, as a path the page can jump to.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::check::{check, thousands, CheckOptions, Outcome, Reductions, Strategy};
use crate::semantics::Model;
use crate::simulate::{simulate, SimulateOptions};
use crate::system::System;

use super::walk::{path_of, Walk};

/// The most unique states a check from the explorer visits unless asked
/// for another bound: enough for the examples, small enough for a laptop.
pub const DEFAULT_MAX_STATES: u64 = 2_000_000;
/// The most states a check from the explorer may be asked to visit.
pub const MAX_MAX_STATES: u64 = 50_000_000;
/// The most runs a simulation from the explorer may be asked for.
pub const MAX_RUNS: u64 = 10_000_000;
/// The most steps a simulated run may be asked to take.
pub const MAX_SIM_DEPTH: usize = 100_000;
/// Seeds per round of a simulation: progress is reported, and a stop
/// request honoured, between rounds.
const SEEDS_PER_ROUND: u64 = 200;

/// What the page asked for.
#[derive(Debug, Clone)]
pub enum Request {
    /// A breadth-first check from the shown world.
    Check {
        /// Steps from the shown world at most.
        depth: Option<usize>,
        /// Unique states at most.
        max_states: u64,
    },
    /// Seeded random runs from the shown world.
    Simulate {
        /// The first seed.
        seed: u64,
        /// How many runs.
        runs: u64,
        /// Steps per run at most.
        depth: usize,
    },
}

/// A job's state, as the page sees it.
#[derive(Default)]
struct State {
    kind: &'static str,
    from_step: usize,
    running: bool,
    progress: String,
    result: Option<Value>,
}

/// The one job slot of an explorer.
#[derive(Default, Clone)]
pub struct Jobs {
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl Jobs {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The job's state as JSON: `{kind, running, progress, result}`.
    pub fn status(&self) -> Value {
        let s = self.lock();
        if s.kind.is_empty() {
            return json!({"kind": null, "running": false});
        }
        json!({
            "kind": s.kind,
            "from_step": s.from_step,
            "running": s.running,
            "progress": s.progress,
            "result": s.result,
        })
    }

    /// Asks a running simulation to stop after its current round (a check
    /// runs to its bounds).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Marks the slot taken by a job of `kind` from step `from_step`;
    /// `false` when a job is already running.
    pub fn claim(&self, kind: &'static str, from_step: usize) -> bool {
        let mut s = self.lock();
        if s.running {
            return false;
        }
        *s = State {
            kind,
            from_step,
            running: true,
            progress: "starting".to_string(),
            result: None,
        };
        self.stop.store(false, Ordering::Relaxed);
        true
    }

    fn progress(&self, text: String) {
        self.lock().progress = text;
    }

    fn finish(&self, result: Value) {
        let mut s = self.lock();
        s.running = false;
        s.result = Some(result);
    }

    /// Runs `request` from the end of `walk` (on the calling thread: the
    /// server runs it on one of its own). The slot must have been claimed.
    pub fn run<S: System>(&self, model: &Model<S>, walk: &Walk<S>, request: Request) {
        let here = model.clone().starting_from(walk.world().clone());
        // A panic here is a bug, but it must not leave the slot taken and
        // the page waiting for ever: it ends the job with its message.
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match request {
            Request::Check { depth, max_states } => {
                self.check(model, &here, walk, depth, max_states)
            }
            Request::Simulate { seed, runs, depth } => {
                self.simulate(model, &here, walk, seed, runs, depth)
            }
        }));
        let result = run.unwrap_or_else(|panic| {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".to_string());
            json!({
                "verdict": "failed",
                "summary": format!("The job failed (a bug in Verdict): {why}"),
                "stats": "",
            })
        });
        self.finish(result);
    }

    fn check<S: System>(
        &self,
        model: &Model<S>,
        here: &Model<S>,
        walk: &Walk<S>,
        depth: Option<usize>,
        max_states: u64,
    ) -> Value {
        let options = CheckOptions {
            max_depth: depth,
            max_states: Some(max_states),
            threads: 0,
            strategy: Strategy::Bfs,
            // Breadth first, for a shortest path from here: the dynamic
            // reduction searches depth first.
            reductions: Reductions {
                dynamic_por: false,
                ..Reductions::all()
            },
            progress: crate::progress::Shown::Off,
            only_invariants: None,
            memory: None,
        };
        self.progress(format!(
            "checking every state reachable from step {} (at most {} states{})",
            walk.steps.len(),
            thousands(max_states),
            depth.map_or(String::new(), |d| format!(", {d} steps deep"))
        ));
        let report = check(here, &options);
        let stats = report.stats.to_string();
        match &report.outcome {
            Outcome::Exhausted => json!({
                "verdict": "exhausted",
                "summary": "No violation found: every state reachable from here was explored.",
                "stats": stats,
            }),
            Outcome::Bounded { bound } => json!({
                "verdict": "bounded",
                "summary": format!("No violation found within the {bound} bound (exploration was cut short by it)."),
                "stats": stats,
            }),
            Outcome::MemoryBound { .. } => json!({
                "verdict": "bounded",
                "summary": "No violation found before the check reached its memory budget (part of the space was not explored).",
                "stats": stats,
            }),
            Outcome::Violation(cx) => {
                counterexample(model, walk, &cx.violation.to_string(), &cx.events, stats)
            }
        }
    }

    fn simulate<S: System>(
        &self,
        model: &Model<S>,
        here: &Model<S>,
        walk: &Walk<S>,
        seed: u64,
        runs: u64,
        depth: usize,
    ) -> Value {
        let started = Instant::now();
        let end = seed.saturating_add(runs);
        let (mut done, mut steps) = (0u64, 0u64);
        let mut next = seed;
        while next < end {
            if self.stop.load(Ordering::Relaxed) {
                return json!({
                    "verdict": "stopped",
                    "summary": format!("Stopped after {} runs without a violation.", thousands(done)),
                    "stats": sim_stats(done, steps, started.elapsed()),
                });
            }
            let round = next..end.min(next.saturating_add(SEEDS_PER_ROUND));
            next = round.end;
            let report = simulate(
                here,
                &SimulateOptions {
                    seeds: round,
                    depth,
                    threads: 0,
                    shrink: true,
                    ..SimulateOptions::default()
                },
            );
            done += report.runs;
            steps += report.steps;
            if let Some(f) = report.failure {
                let cx = f.counterexample;
                let stats = format!(
                    "seed {}, {} steps shrunk to {}; {}",
                    f.seed,
                    f.steps,
                    cx.len(),
                    sim_stats(done, steps, started.elapsed())
                );
                return counterexample(model, walk, &cx.violation.to_string(), &cx.events, stats);
            }
            self.progress(format!(
                "{} of {} runs, {}",
                thousands(done),
                thousands(runs),
                sim_stats(done, steps, started.elapsed())
            ));
        }
        json!({
            "verdict": "passed",
            "summary": format!("No violation found in {} runs of at most {depth} steps.", thousands(done)),
            "stats": sim_stats(done, steps, started.elapsed()),
        })
    }
}

fn sim_stats(runs: u64, steps: u64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64().max(1e-9);
    format!(
        "runs: {}  steps: {}  time: {:.2?}  ({} steps/s)",
        thousands(runs),
        thousands(steps),
        elapsed,
        thousands((steps as f64 / secs) as u64)
    )
}

/// A counterexample found from the end of `walk`, as the full path from the
/// initial world the page can jump to.
fn counterexample<S: System>(
    model: &Model<S>,
    walk: &Walk<S>,
    violation: &str,
    events: &[crate::semantics::Event<S>],
    stats: String,
) -> Value {
    match path_of(model, Some(walk), events) {
        Ok(path) => json!({
            "verdict": "violation",
            "summary": format!("VIOLATION: {violation} ({} steps from here)", events.len()),
            "violation": violation,
            "path": path,
            "stats": stats,
        }),
        Err(e) => json!({
            "verdict": "violation",
            "summary": format!("VIOLATION: {violation}, but its trace cannot be shown: {e}"),
            "violation": violation,
            "stats": stats,
        }),
    }
}
