//! Example systems written with Verdict.
