//! `counter`: check the primary-backup counter, or its broken variant, or
//! deploy it.
//!
//! ```text
//! counter check                             # exits 0
//! counter check --broken --faults crash=1   # exits 1: a reply the backup does not hold
//! counter cluster                           # primary and backup on loopback
//! ```

use std::process::ExitCode;

use verdict::cli::{App, Flag};
use verdict_examples::counter::{workload, Config, Counter};

const INCREMENTS: Flag<usize> = Flag::usize("increments", 3, "Increments the primary receives");
const BROKEN: Flag<bool> = Flag::bool(
    "broken",
    "The deliberately broken variant that replies before the backup acknowledges",
);

fn main() -> ExitCode {
    App::<Counter>::new("counter")
        .about("The primary-backup counter, checked and deployed with Verdict")
        .flag(INCREMENTS)
        .config_flag(BROKEN)
        .config(|flags| Config {
            reply_before_ack: flags.get(BROKEN),
        })
        .workload(|setup, flags| workload(setup, flags.get(INCREMENTS)))
        .run()
}
