//! `ricart_agrawala`: mutual exclusion by permission from every site.
//!
//! ```text
//! ricart_agrawala check --sites 3                 # exits 0
//! ricart_agrawala check --sites 3 --defer-ties    # exits 1: deadlock
//! ```

use std::process::ExitCode;

use verdict::cli::{App, Flag};
use verdict_examples::ricart_agrawala::{workload, Config, RicartAgrawala, Role};

const ROUNDS: Flag<usize> = Flag::usize("rounds", 1, "Acquire/release rounds per site");
const DEFER_TIES: Flag<bool> = Flag::bool(
    "defer-ties",
    "The deliberately broken site that defers on equal timestamps (deadlocks)",
);

fn main() -> ExitCode {
    App::<RicartAgrawala>::new("ricart_agrawala")
        .about("Ricart–Agrawala mutual exclusion, checked with Verdict")
        .size_flag(Role::Site, "sites", 3, "Number of sites")
        .flag(ROUNDS)
        .config_flag(DEFER_TIES)
        .config(|flags| Config {
            defer_ties: flags.get(DEFER_TIES),
        })
        .workload(|setup, flags| workload(setup, flags.get(ROUNDS)))
        .run()
}
