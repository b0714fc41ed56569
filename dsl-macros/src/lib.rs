//! The `system!` macro of Verdict. Use it through the `verdict` crate.
