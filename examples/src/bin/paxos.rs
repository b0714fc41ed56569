//! `paxos`: single-decree Paxos (3 servers) with N register clients, whose
//! history must be linearizable; check it, simulate it, or deploy it.
//!
//! ```text
//! paxos check --clients 3                          # exits 0
//! paxos check --clients 2 --accept-lower-ballots   # exits 1
//! paxos cluster --clients 2                        # five processes on loopback
//! ```

use std::process::ExitCode;

use verdict::cli::{App, Flag};
use verdict_examples::paxos::{ignored, workload, Config, Paxos, Role, STALLS};

const ACCEPT_LOWER_BALLOTS: Flag<bool> = Flag::bool(
    "accept-lower-ballots",
    "The deliberately broken server that accepts lower ballots",
);

fn main() -> ExitCode {
    App::<Paxos>::new("paxos")
        .about("Single-decree Paxos with register clients, checked and deployed with Verdict")
        .fixed_size(Role::Server, 3)
        .size_flag(
            Role::Client,
            "clients",
            2,
            "Number of register clients (each puts, then gets)",
        )
        .config_flag(ACCEPT_LOWER_BALLOTS)
        .config(|flags| Config {
            accept_lower_ballots: flags.get(ACCEPT_LOWER_BALLOTS),
        })
        .workload(|setup, _| workload(setup))
        .ignoring(ignored)
        .allowing_deadlock(STALLS)
        .run()
}
