//! Verdict: write a distributed system once, as event handlers; check it,
//! transform it and run it.

pub mod lin;
