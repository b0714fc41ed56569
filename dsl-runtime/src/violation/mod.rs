//! What a violation is and the evidence for it, shared by every engine:
//! invariants evaluated on a world ([`check_world`]), and counterexamples
//! that replay the handlers step by step ([`Counterexample`], [`replay`]).
//! The checker, the simulator, liveness and charts all report through these
//! types, so none of them depends on another to say what went wrong.

mod counterexample;
mod invariants;

pub use counterexample::{replay, replay_from, Counterexample, ReplayError, ReplayStep, Violation};
pub use invariants::{check_invariant, check_selected, check_world};
