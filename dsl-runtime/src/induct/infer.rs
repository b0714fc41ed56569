//! Invariant inference: candidates mined from reachable worlds, pruned
//! Houdini-style until they are inductive together with the user's
//! invariants on the recombination domain.
