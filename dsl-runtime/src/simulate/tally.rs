//! The counts a simulation's worker threads share while it runs: what its
//! report totals at the end, and what its progress display samples on
//! the way ([`Tally::sample`]).

use std::sync::atomic::{AtomicU64, Ordering};

use super::estimate::{BinomialInterval, RunProperty};
use super::time::{show_micros, Micros};
use crate::numbers::thousands;
use crate::progress::Sample;

/// Counts shared by the worker threads of one simulation.
#[derive(Default)]
pub(crate) struct Tally {
    pub runs: AtomicU64,
    pub steps: AtomicU64,
    /// The most event sources one run met.
    pub sources: AtomicU64,
    /// Runs that violated an invariant.
    pub violations: AtomicU64,
    /// Runs that failed the estimated property (violations included).
    pub failures: AtomicU64,
    /// In simulated time: calls answered and not, and the slowest answer.
    pub answered: AtomicU64,
    pub unanswered: AtomicU64,
    pub slowest: AtomicU64,
}

/// Which simulation a [`Tally`] counts, for what its progress shows.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Watched {
    /// Runs until the first violation.
    Runs,
    /// `--estimate`: the interval so far.
    Estimate {
        property: RunProperty,
        confidence: f64,
    },
    /// `--time`: the calls so far.
    Timed,
}

impl Tally {
    /// Counts one finished run of `steps` steps.
    pub fn run(&self, steps: usize, violated: bool) {
        self.runs.fetch_add(1, Ordering::Relaxed);
        self.steps.fetch_add(steps as u64, Ordering::Relaxed);
        if violated {
            self.violations.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts one timed run's calls.
    pub fn calls(&self, latencies: &[Micros], unanswered: usize) {
        self.answered
            .fetch_add(latencies.len() as u64, Ordering::Relaxed);
        self.unanswered
            .fetch_add(unanswered as u64, Ordering::Relaxed);
        if let Some(&max) = latencies.iter().max() {
            self.slowest.fetch_max(max, Ordering::Relaxed);
        }
    }

    /// The progress of `total` runs (`None`: no end known).
    pub fn sample(&self, total: Option<u64>, watched: Watched) -> Sample {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let runs = load(&self.runs);
        let detail = match watched {
            Watched::Runs => {
                format!("{} violations", thousands(load(&self.violations)))
            }
            Watched::Estimate {
                property,
                confidence,
            } => {
                let failures = load(&self.failures);
                let i = BinomialInterval::clopper_pearson(failures, runs, confidence);
                format!(
                    "{} failing `{}` ({} violations), {}% interval so far [{:.6}, {:.6}]",
                    thousands(failures),
                    property.name(),
                    thousands(load(&self.violations)),
                    confidence * 100.0,
                    i.low,
                    i.high
                )
            }
            Watched::Timed => format!(
                "{} violations, calls {} answered (slowest {}), {} unanswered",
                thousands(load(&self.violations)),
                thousands(load(&self.answered)),
                show_micros(load(&self.slowest)),
                thousands(load(&self.unanswered))
            ),
        };
        Sample {
            done: runs,
            total,
            unit: "runs",
            counted: load(&self.steps),
            rate_unit: "steps",
            detail,
        }
    }
}
