//! `desk`: the lock desk and clock of `verdict_examples::desk`, as first
//! written (`v0`) or after edit N (`--transform vN`), to try `impact` and
//! `check --cache` on.
//!
//! ```text
//! desk describe --json > v0.json
//! desk --transform v1 impact --against v0.json   # exits 1: what edit 1 can affect
//! desk check --cache .verdict-cache              # checks; a second run answers from the cache
//! ```

use std::process::ExitCode;

use verdict::cli::App;
use verdict_examples::desk::{v0, v1, v2, v3, v4, v5};

macro_rules! app {
    ($v:ident) => {
        App::<$v::Desk>::new("desk")
            .about("A lock desk and a clock, edited five times (see --transform)")
            .size_flag($v::Role::Client, "clients", 2, "Number of clients")
            .workload(|setup, _| $v::workload(setup))
    };
}

fn main() -> ExitCode {
    app!(v0)
        .transform(
            "v1",
            "after edit 1: the server's Unlock handler changed",
            || app!(v1),
        )
        .transform(
            "v2",
            "after edit 2: a client's Lock footprint widened",
            || app!(v2),
        )
        .transform("v3", "after edit 3: the Chime message added", || app!(v3))
        .transform("v4", "after edit 4: mutual_exclusion rewritten", || {
            app!(v4)
        })
        .transform("v5", "after edit 5: the clock ticks four times", || {
            app!(v5)
        })
        .run()
}
