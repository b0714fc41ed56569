//! Verdict: write a distributed system once, as event handlers; check it,
//! transform it and run it.

/// Linearizability checking of concurrent histories.
pub mod lin;
