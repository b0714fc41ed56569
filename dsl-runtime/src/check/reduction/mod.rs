//! State-space reductions, each switchable: automatic symmetry for nodes of
//! one role, partial-order reduction from handler footprints (static, and
//! dynamic where the search meets races), incremental invariant evaluation,
//! and dropping messages a model's ignore rule says are ignored for good. None changes a verdict; the tests in
//! `examples/tests/reductions.rs` check that on every example.

pub mod incremental;
pub mod por;
pub mod relabel;
pub mod symmetry;

pub use relabel::Relabel;

/// Which reductions a check uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reductions {
    /// Merge worlds that differ only by renaming nodes of a role.
    pub symmetry: bool,
    /// Expand only an ample subset of steps where the others commute.
    pub por: bool,
    /// Explore another node's steps only where the search meets a race
    /// (depth first, one thread; used instead of `por` when it applies).
    pub dynamic_por: bool,
    /// Re-evaluate only invariants whose reads meet the step's writes.
    pub incremental: bool,
    /// Drop messages the model's ignore rule says their receivers ignore
    /// for good (see [`crate::semantics::Model::ignoring`]); no effect on
    /// a model without one.
    pub ignore_rule: bool,
    /// Keep symmetry and partial-order reduction only where they pay: when
    /// the search outgrows this many states, samples of it with and
    /// without each decide, and one that keeps more than half the states
    /// is switched off (see the book's "Reductions that pay"). 0: use every
    /// reduction asked for, paying or not.
    pub payoff_sample: u64,
}

/// The sample [`Reductions::all`] judges the reductions on, in states: big
/// enough to reach a depth where they show, small enough to cost well under
/// a second in a release build.
pub const PAYOFF_SAMPLE: u64 = 100_000;

impl Reductions {
    /// Every reduction on, each kept only where it pays
    /// ([`Reductions::payoff_sample`]).
    pub fn all() -> Self {
        Reductions {
            symmetry: true,
            por: true,
            dynamic_por: true,
            incremental: true,
            ignore_rule: true,
            payoff_sample: PAYOFF_SAMPLE,
        }
    }

    /// Every reduction off: plain exhaustive search.
    pub fn none() -> Self {
        Reductions::default()
    }
}
