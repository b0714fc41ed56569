//! Runs an example binary as a user would, for tests of the command line.

use std::process::{Command, Output};

/// Runs `bin` with `args`: its exit code (none if a signal ended it), its
/// standard output and its standard error.
pub fn run(bin: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(bin).args(args).output().unwrap();
    (
        status.code(),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}
