//! `balancer`: a dispatcher that chooses a worker for each job.
//!
//! ```text
//! balancer check --workers 3 --jobs 3                 # exits 0: every choice explored
//! balancer check --workers 3 --jobs 3 --ignore-load   # exits 1: two jobs on one worker
//! balancer cluster --workers 2                        # the same handlers on loopback
//! ```

use std::process::ExitCode;

use verdict::cli::{App, Flag};
use verdict_examples::balancer::{self, Balancer, Config, Role};

const JOBS: Flag<usize> = Flag::usize("jobs", 3, "Jobs given to the dispatcher");
const CAPACITY: Flag<usize> = Flag::usize("capacity", 1, "Jobs a worker may hold at once");
const IGNORE_LOAD: Flag<bool> = Flag::bool(
    "ignore-load",
    "The deliberately broken dispatcher that chooses among full workers too",
);

fn main() -> ExitCode {
    App::<Balancer>::new("balancer")
        .about("A load balancer that chooses, checked and deployed with Verdict")
        .size_flag(Role::Worker, "workers", 3, "Number of workers")
        .flag(JOBS)
        .config_flag(CAPACITY)
        .config_flag(IGNORE_LOAD)
        .config(|flags| Config {
            capacity: flags.get(CAPACITY),
            ignore_load: flags.get(IGNORE_LOAD),
        })
        .workload(|setup, flags| {
            let jobs = u8::try_from(flags.get(JOBS)).unwrap_or(u8::MAX);
            balancer::workload(setup, jobs)
        })
        .run()
}
