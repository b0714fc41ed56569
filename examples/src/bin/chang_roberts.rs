//! `chang_roberts`: leader election on a ring.
//!
//! ```text
//! chang_roberts check --nodes 5                          # exits 0
//! chang_roberts check --nodes 5 --forward-smaller        # exits 1
//! chang_roberts check --nodes 5 --forward-smaller --bfs  # exits 1: the 6-step shortest
//! ```

use std::process::ExitCode;

use verdict::cli::{App, Flag};
use verdict::Workload;
use verdict_examples::chang_roberts::{ChangRoberts, Config, Role};

const FORWARD_SMALLER: Flag<bool> = Flag::bool(
    "forward-smaller",
    "The deliberately broken node that forwards ids smaller than its own",
);

fn main() -> ExitCode {
    App::<ChangRoberts>::new("chang_roberts")
        .about("Chang–Roberts ring election, checked with Verdict")
        .size_flag(Role::Ring, "nodes", 5, "Number of nodes on the ring")
        .config_flag(FORWARD_SMALLER)
        .config(|flags| Config {
            forward_smaller: flags.get(FORWARD_SMALLER),
        })
        .workload(|setup, _| Workload::none(setup))
        .run()
}
