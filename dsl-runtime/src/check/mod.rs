//! Exhaustive model checking.
//!
//! The checker explores every world reachable from the initial one under a
//! [`Model`] (fault model and workload), breadth first so the first violation
//! found has a shortest counterexample. States are identified by 64-bit
//! fingerprints; each visited fingerprint remembers its parent's, and a
//! counterexample is rebuilt by replaying the handlers along that chain.

mod bfs;
mod counterexample;
mod invariants;

use std::fmt;
use std::time::Duration;

pub use counterexample::{Counterexample, ReplayError, ReplayStep, Violation};
pub use invariants::check_world;

use crate::semantics::Model;
use crate::system::System;

/// Bounds and switches of one check.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Do not expand worlds at this depth (steps from the initial world).
    pub max_depth: Option<usize>,
    /// Stop after this many unique states.
    pub max_states: Option<u64>,
}

/// Counters of one check.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Worlds generated, including ones seen before.
    pub states: u64,
    /// Distinct worlds (by fingerprint).
    pub unique: u64,
    /// The deepest world reached, in steps from the initial world.
    pub max_depth: usize,
    /// Wall-clock time.
    pub elapsed: Duration,
    /// How many times each invariant was evaluated, by invariant id.
    pub invariant_evals: Vec<u64>,
}

/// How a check ended.
#[derive(Debug)]
pub enum Outcome<S: System> {
    /// Every reachable world was explored and satisfies every invariant.
    Exhausted,
    /// No violation within the bounds, but a bound cut exploration short.
    Bounded {
        /// Which bound: `depth` or `states`.
        bound: &'static str,
    },
    /// A world violates an invariant (or a step failed).
    Violation(Box<Counterexample<S>>),
}

/// The result of a check: outcome and counters.
#[derive(Debug)]
pub struct Report<S: System> {
    /// How it ended.
    pub outcome: Outcome<S>,
    /// What it took.
    pub stats: Stats,
}

impl<S: System> Report<S> {
    /// Whether no violation was found.
    pub fn passed(&self) -> bool {
        !matches!(self.outcome, Outcome::Violation(_))
    }

    /// The counterexample, if a violation was found.
    pub fn counterexample(&self) -> Option<&Counterexample<S>> {
        match &self.outcome {
            Outcome::Violation(c) => Some(c),
            _ => None,
        }
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "states: {}  unique: {}  depth: {}  time: {:.2?}",
            thousands(self.states),
            thousands(self.unique),
            self.max_depth,
            self.elapsed
        )
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Explores every world `model` can reach, within `options`.
pub fn check<S: System>(model: &Model<S>, options: &CheckOptions) -> Report<S> {
    bfs::run(model, options)
}
