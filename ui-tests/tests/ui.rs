//! Compile-time behaviour of `system!`: what must compile, and what must be
//! rejected with which message. Snapshots of the messages are the `.stderr`
//! files next to each failing case; regenerate them with
//! `TRYBUILD=overwrite cargo test -p verdict-ui-tests` and review the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
