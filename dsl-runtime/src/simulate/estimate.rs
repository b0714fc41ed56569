//! Guarantees by sampling: how likely a run is to go wrong, with an exact
//! binomial confidence interval.
//!
//! Each seed decides one run, and the runs of distinct seeds are
//! independent draws from the same distribution over runs (the strategy's
//! choices and the fault rates of [`super::rates`]). Counting the runs that
//! fail a [`RunProperty`] gives a binomial sample, from which
//! [`BinomialInterval::clopper_pearson`] bounds the probability that one
//! run fails. Clopper–Pearson is used rather than Wilson or the normal
//! approximation because its coverage is at least the stated confidence for
//! every true probability and every number of runs, which is what a
//! guarantee needs; the price is an interval a little wider than Wilson's.
//!
//! What such a probability is *of* matters: of a run of at most `depth`
//! steps, scheduled by the strategy, with faults at the given rates. It is
//! not a probability about a deployment whose scheduling and faults follow
//! other laws.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::semantics::{Model, World};
use crate::system::System;
use crate::violation::Violation;
use crate::workload::NodeWorkload;

use super::{on_threads, run_picked, SimulateOptions, SimulationStrategy, SplitMix64, Tally};

/// What counts as a failing run when estimating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RunProperty {
    /// The run violates an invariant (or a step fails).
    #[default]
    Invariants,
    /// The run violates an invariant, or ends (at its depth, or with no
    /// step enabled) with a node still waiting for the output its workload
    /// awaits, with scripted inputs not yet given, or with a node that has
    /// a workload down.
    Answered,
    /// The run violates an invariant, or takes all its `depth` steps
    /// without reaching a world where no step is enabled.
    Converged,
}

impl RunProperty {
    /// The names `--estimate` takes.
    pub const NAMES: [&'static str; 3] = ["invariants", "answered", "converged"];

    /// The property called `name`.
    pub fn named(name: &str) -> Option<Self> {
        Some(match name {
            "invariants" => RunProperty::Invariants,
            "answered" => RunProperty::Answered,
            "converged" => RunProperty::Converged,
            _ => return None,
        })
    }

    /// Its name, as `--estimate` takes it.
    pub fn name(self) -> &'static str {
        match self {
            RunProperty::Invariants => "invariants",
            RunProperty::Answered => "answered",
            RunProperty::Converged => "converged",
        }
    }

    /// What a failing run is, in words, for a run of at most `depth` steps.
    pub fn describe(self, depth: usize) -> String {
        match self {
            RunProperty::Invariants => "a run violates an invariant".to_string(),
            RunProperty::Answered => format!(
                "a run violates an invariant or leaves a call unanswered after {depth} steps"
            ),
            RunProperty::Converged => format!(
                "a run violates an invariant or has not converged (no step enabled) within \
                 {depth} steps"
            ),
        }
    }
}

/// A confidence interval for a binomial proportion.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BinomialInterval {
    /// Failing runs.
    pub failures: u64,
    /// Runs.
    pub runs: u64,
    /// The confidence asked for, e.g. 0.95.
    pub confidence: f64,
    /// The lower end (two-sided).
    pub low: f64,
    /// The upper end (two-sided).
    pub high: f64,
    /// The one-sided upper bound at the same confidence: the true
    /// probability is below it with that confidence. With no failure this
    /// is `1 - (1 - confidence)^(1/runs)`, about `3/runs` at 95% (the rule
    /// of three).
    pub upper_bound: f64,
}

impl BinomialInterval {
    /// The exact (Clopper–Pearson) interval for `failures` in `runs` at
    /// `confidence` (between 0 and 1, exclusive). With no runs it is
    /// `[0, 1]`.
    pub fn clopper_pearson(failures: u64, runs: u64, confidence: f64) -> Self {
        let alpha = 1.0 - confidence;
        let (k, n) = (failures.min(runs) as f64, runs as f64);
        let low = if failures == 0 {
            0.0
        } else {
            beta_quantile(alpha / 2.0, k, n - k + 1.0)
        };
        let high = if failures >= runs {
            1.0
        } else {
            beta_quantile(1.0 - alpha / 2.0, k + 1.0, n - k)
        };
        let upper_bound = if failures >= runs {
            1.0
        } else {
            beta_quantile(1.0 - alpha, k + 1.0, n - k)
        };
        BinomialInterval {
            failures,
            runs,
            confidence,
            low,
            high,
            upper_bound,
        }
    }

    /// The point estimate, failures / runs (0 with no runs).
    pub fn estimate(&self) -> f64 {
        if self.runs == 0 {
            0.0
        } else {
            self.failures as f64 / self.runs as f64
        }
    }

    /// Whether `p` lies in the two-sided interval.
    pub fn contains(&self, p: f64) -> bool {
        self.low <= p && p <= self.high
    }
}

/// The `q`-quantile of the Beta(`a`, `b`) distribution, by bisection on
/// its distribution function (to about 1e-15).
fn beta_quantile(q: f64, a: f64, b: f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if regularized_beta(mid, a, b) < q {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// The regularized incomplete beta function I_x(a, b), by its continued
/// fraction (evaluated with the modified Lentz method), using the symmetry
/// I_x(a, b) = 1 - I_{1-x}(b, a) where the fraction converges slowly.
fn regularized_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_fraction(x, a, b) / a
    } else {
        1.0 - ln_front.exp() * beta_fraction(1.0 - x, b, a) / b
    }
}

/// The continued fraction of the incomplete beta function at `x`.
fn beta_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let guard = |v: f64| if v.abs() < TINY { TINY } else { v };
    let mut c = 1.0;
    let mut d = 1.0 / guard(1.0 - (a + b) * x / (a + 1.0));
    let mut f = d;
    for m in 1..100_000 {
        let m = m as f64;
        let even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        d = 1.0 / guard(1.0 + even * d);
        c = guard(1.0 + even / c);
        f *= c * d;
        let odd = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
        d = 1.0 / guard(1.0 + odd * d);
        c = guard(1.0 + odd / c);
        let step = c * d;
        f *= step;
        if (step - 1.0).abs() < 1e-15 {
            break;
        }
    }
    f
}

/// ln Γ(x) for x > 0, by the Lanczos approximation (g = 7, nine terms;
/// relative error about 1e-15).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 - x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = C[0];
    for (i, c) in C.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// The result of [`estimate()`].
#[derive(Debug)]
pub struct EstimateReport<S: System> {
    /// What a failing run was.
    pub property: RunProperty,
    /// Failing runs among all, with the interval.
    pub interval: BinomialInterval,
    /// Failing runs that violated an invariant (or failed a step); the
    /// rest failed the property alone.
    pub violations: u64,
    /// Steps taken over all runs.
    pub steps: u64,
    /// Wall-clock time.
    pub elapsed: Duration,
    /// The failing run with the smallest seed: its seed, its events, and
    /// its violation if it had one.
    pub first_failure: Option<(u64, Vec<crate::semantics::Event<S>>, Option<Violation>)>,
}

/// Runs every seed of `options` (on all threads; the counts do not depend
/// on how many) and estimates the probability that a run fails `property`,
/// with a Clopper–Pearson interval at `confidence`.
///
/// `coverage` is refused by the caller: its runs depend on earlier ones, so
/// they are not independent draws.
pub fn estimate<S: System>(
    model: &Model<S>,
    options: &SimulateOptions,
    property: RunProperty,
    confidence: f64,
) -> EstimateReport<S> {
    estimate_counted(model, options, property, confidence, &Tally::default())
}

/// [`estimate`], counting into `tally` as it goes (for progress).
pub(crate) fn estimate_counted<S: System>(
    model: &Model<S>,
    options: &SimulateOptions,
    property: RunProperty,
    confidence: f64,
    tally: &Tally,
) -> EstimateReport<S> {
    let started = Instant::now();
    let threads = match options.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let strategy = match options.strategy {
        SimulationStrategy::Coverage => SimulationStrategy::Uniform,
        s => s,
    };
    let next = AtomicU64::new(options.seeds.start);
    type First<S> = Option<(u64, Vec<crate::semantics::Event<S>>, Option<Violation>)>;
    let first: Mutex<First<S>> = Mutex::new(None);
    on_threads(threads, || loop {
        let seed = next.fetch_add(1, Ordering::Relaxed);
        if seed >= options.seeds.end || seed < options.seeds.start {
            break;
        }
        let rng = SplitMix64::new(seed);
        let run = run_picked(
            model,
            seed,
            options.depth,
            strategy,
            &options.rates,
            rng,
            &[],
        );
        let failed = run.violation.is_some()
            || match property {
                RunProperty::Invariants => false,
                RunProperty::Answered => run.end.as_ref().is_some_and(|w| unanswered(model, w)),
                RunProperty::Converged => !run.quiescent,
            };
        if failed {
            // Before the run counts, so a sample never sees a run without
            // its failure.
            tally.failures.fetch_add(1, Ordering::Relaxed);
        }
        tally.run(run.events.len(), run.violation.is_some());
        if !failed {
            continue;
        }
        let mut f = first.lock().unwrap_or_else(|e| e.into_inner());
        if f.as_ref().is_none_or(|(s, ..)| seed < *s) {
            *f = Some((seed, run.events, run.violation));
        }
    });
    let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let (runs, failures) = (load(&tally.runs), load(&tally.failures));
    EstimateReport {
        property,
        interval: BinomialInterval::clopper_pearson(failures, runs, confidence),
        violations: load(&tally.violations),
        steps: load(&tally.steps),
        elapsed: started.elapsed(),
        first_failure: first.into_inner().unwrap_or_else(|e| e.into_inner()),
    }
}

/// Whether some node of `world` still waits for an awaited output, still
/// has scripted or chained inputs to take, or has a workload and is down
/// (a crash forgets that the node was waiting, not that its call is lost).
fn unanswered<S: System>(model: &Model<S>, world: &World<S>) -> bool {
    world.nodes.iter().enumerate().any(|(i, slot)| {
        slot.awaiting
            || match model.workload.of(i) {
                Some(NodeWorkload::Script(steps)) => {
                    !slot.up || (slot.inputs_taken as usize) < steps.len()
                }
                Some(NodeWorkload::Chain(chain)) => {
                    !slot.up || (slot.inputs_taken as usize) < chain.len()
                }
                Some(NodeWorkload::Any { .. }) => !slot.up,
                None => false,
            }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    /// P(X <= k) for X ~ Binomial(n, p), summed term by term.
    fn binomial_cdf(k: u64, n: u64, p: f64) -> f64 {
        let mut term = (1.0 - p).powi(n as i32);
        let mut sum = term;
        for i in 0..k {
            term *= (n - i) as f64 / (i + 1) as f64 * p / (1.0 - p);
            sum += term;
        }
        sum
    }

    #[test]
    fn the_beta_function_matches_binomial_sums() {
        // P(X >= k) = I_p(k, n - k + 1).
        for (k, n, p) in [
            (1u64, 10u64, 0.1),
            (3, 20, 0.25),
            (15, 40, 0.3),
            (7, 7, 0.9),
        ] {
            let tail = 1.0 - binomial_cdf(k - 1, n, p);
            let beta = regularized_beta(p, k as f64, (n - k + 1) as f64);
            assert!(close(tail, beta, 1e-12), "{k} {n} {p}: {tail} vs {beta}");
        }
        assert!(close(ln_gamma(5.0), 24f64.ln(), 1e-13));
        assert!(close(
            ln_gamma(0.5),
            std::f64::consts::PI.sqrt().ln(),
            1e-13
        ));
    }

    #[test]
    fn clopper_pearson_matches_known_values() {
        // Closed forms at the ends: k = 0 and k = n.
        let i = BinomialInterval::clopper_pearson(0, 10, 0.95);
        assert_eq!(i.low, 0.0);
        assert!(close(i.high, 1.0 - 0.025f64.powf(0.1), 1e-12));
        assert!(close(i.upper_bound, 1.0 - 0.05f64.powf(0.1), 1e-12));
        let i = BinomialInterval::clopper_pearson(10, 10, 0.95);
        assert!(close(i.low, 0.025f64.powf(0.1), 1e-12));
        assert_eq!(i.high, 1.0);
        // 10 of 100 at 95%: the tabulated interval is [0.0490, 0.1762].
        let i = BinomialInterval::clopper_pearson(10, 100, 0.95);
        assert!(close(i.low, 0.0490, 5e-5), "{}", i.low);
        assert!(close(i.high, 0.1762, 5e-5), "{}", i.high);
        // The ends solve their defining equations.
        assert!(close(1.0 - binomial_cdf(9, 100, i.low), 0.025, 1e-9));
        assert!(close(binomial_cdf(10, 100, i.high), 0.025, 1e-9));
        // No failure in 3000 runs: about the rule of three.
        let i = BinomialInterval::clopper_pearson(0, 3000, 0.95);
        assert!(
            close(i.upper_bound, 3.0 / 3000.0, 1e-5),
            "{}",
            i.upper_bound
        );
        assert!(i.upper_bound < 3.0 / 3000.0);
    }

    #[test]
    fn large_samples_give_narrow_intervals() {
        let i = BinomialInterval::clopper_pearson(100_000, 1_000_000, 0.99);
        assert!(i.contains(0.1));
        assert!(i.high - i.low < 0.002, "{i:?}");
        assert!(!i.contains(0.102));
    }
}
