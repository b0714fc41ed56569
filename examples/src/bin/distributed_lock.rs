//! `distributed_lock`: a lock handed from node to node by epochs.
//!
//! ```text
//! distributed_lock check --nodes 3                          # exits 0
//! distributed_lock check --nodes 3 --faults dup --accept-stale   # exits 1
//! distributed_lock induct --nodes 3                         # exits 4: a CTI
//! distributed_lock induct --nodes 3 --infer                 # exits 0
//! ```

use std::process::ExitCode;

use verdict::cli::{App, Flag};
use verdict::Workload;
use verdict_examples::distributed_lock::{Config, DistributedLock, Role};

const MAX_EPOCH: Flag<Option<String>> = Flag::choice(
    "max-epoch",
    &["2", "3", "4", "5", "6"],
    "The last epoch the lock reaches (default 3)",
);
const ACCEPT_STALE: Flag<bool> = Flag::bool(
    "accept-stale",
    "The deliberately broken node that accepts transfers of old epochs",
);

fn main() -> ExitCode {
    App::<DistributedLock>::new("distributed_lock")
        .about("A distributed lock passed by epochs, checked with Verdict")
        .size_flag(Role::Lock, "nodes", 3, "Number of nodes")
        .flag(MAX_EPOCH)
        .config_flag(ACCEPT_STALE)
        .config(|flags| Config {
            max_epoch: flags
                .get(MAX_EPOCH)
                .and_then(|e| e.parse().ok())
                .unwrap_or(3),
            accept_stale: flags.get(ACCEPT_STALE),
        })
        .workload(|setup, _| Workload::none(setup))
        .run()
}
