//! Exhaustive model checking.
//!
//! The checker explores every world reachable from the initial one under a
//! [`Model`] (fault model and workload), on all cores, breadth first (the
//! first violation found has a shortest counterexample) or depth first (less
//! memory). States are identified by 64-bit fingerprints in a compact
//! visited set; a counterexample is rebuilt by replaying the handlers along
//! the fingerprint path. Reductions ([`Reductions`]) shrink the search
//! without changing any verdict.

pub(crate) mod explore;
pub mod memory;
mod note;
mod payoff;
pub mod progress;
pub(crate) mod reduction;
pub(crate) mod stats;
pub(crate) mod visited;

#[cfg(test)]
mod tests;

use std::fmt;

pub use crate::numbers::thousands;
pub use crate::violation::{
    check_invariant, check_selected, check_world, replay, Counterexample, ReplayError, ReplayStep,
    Violation,
};
pub use memory::{MemoryBudget, Reached};
pub use reduction::{Reductions, Relabel};
pub use stats::{peak_rss_bytes, Stats};

use crate::semantics::Model;
use crate::system::System;

pub use crate::search::Bound;
pub use note::{Note, Status, Topic};

/// The order in which worlds are explored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// Breadth first: shortest counterexamples.
    #[default]
    Bfs,
    /// Depth first: less memory; counterexamples need not be shortest.
    Dfs,
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Strategy::Bfs => "breadth-first",
            Strategy::Dfs => "depth-first",
        })
    }
}

/// Bounds and switches of one check. The default is a plain breadth-first
/// search on all cores with no reduction.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Do not expand worlds at this depth (steps from the initial world).
    pub max_depth: Option<usize>,
    /// Stop after this many unique states.
    pub max_states: Option<u64>,
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    /// Breadth first or depth first.
    pub strategy: Strategy,
    /// Which reductions to use.
    pub reductions: Reductions,
    /// When to show progress on stderr (a bar on a terminal, else a line
    /// every two seconds); off by default.
    pub progress: crate::progress::Shown,
    /// Check only these invariants (bit `i` = invariant `i`); all when
    /// `None`. Systems with more than 64 invariants always check all.
    pub only_invariants: Option<u64>,
    /// The most memory the search may hold; `None`: the model's
    /// ([`Model::with_memory_budget`]), else the default share of the
    /// memory available ([`MemoryBudget::default_share`]). On reaching it
    /// the check stops with [`Outcome::MemoryBound`].
    pub memory: Option<MemoryBudget>,
}

/// How a check ended.
#[derive(Debug)]
pub enum Outcome<S: System> {
    /// Every reachable world was explored and satisfies every invariant.
    Exhausted,
    /// No violation within the bounds, but a bound cut exploration short.
    Bounded {
        /// Which bound.
        bound: Bound,
    },
    /// No violation so far, but the search reached its memory budget and
    /// stopped: part of the state space is unexplored.
    MemoryBound {
        /// What reached it: the search's own account or, as a net under
        /// it, the process's resident memory.
        reached: Reached,
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

    /// Whether every reachable world was explored (no bound cut it short
    /// and no violation stopped it).
    pub fn exhausted(&self) -> bool {
        matches!(self.outcome, Outcome::Exhausted)
    }

    /// The counterexample, if a violation was found.
    pub fn counterexample(&self) -> Option<&Counterexample<S>> {
        match &self.outcome {
            Outcome::Violation(c) => Some(c),
            _ => None,
        }
    }
}

/// Explores every world `model` can reach, within `options`.
pub fn check<S: System>(model: &Model<S>, options: &CheckOptions) -> Report<S> {
    explore::run(model, options)
}
