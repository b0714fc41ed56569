//! `raft_election`: Raft leader election on its own, checked with Verdict.
//!
//! ```text
//! raft_election check --servers 3 --max-term 2                # exits 0
//! raft_election check --servers 3 --max-term 2 --vote-twice   # exits 1: two leaders in a term
//! ```

use std::process::ExitCode;

use verdict::cli::{App, Flag};
use verdict::Workload;
use verdict_examples::raft_election::{Config, RaftElection, Role};

const MAX_TERM: Flag<usize> = Flag::usize(
    "max-term",
    2,
    "No server starts an election past this term (bounds the check)",
);
const VOTE_TWICE: Flag<bool> = Flag::bool(
    "vote-twice",
    "The deliberately broken server that grants every request of its term",
);

fn main() -> ExitCode {
    App::<RaftElection>::new("raft_election")
        .about("Raft leader election, checked with Verdict")
        .size_flag(Role::Server, "servers", 3, "Number of servers")
        .config_flag(MAX_TERM)
        .config_flag(VOTE_TWICE)
        .config(|flags| Config {
            max_term: u32::try_from(flags.get(MAX_TERM)).unwrap_or(u32::MAX),
            vote_twice: flags.get(VOTE_TWICE),
        })
        .workload(|setup, _| Workload::none(setup))
        .run()
}
