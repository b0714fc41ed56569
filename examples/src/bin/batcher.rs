//! `batcher`: the batching collector, a deep planted bug for `simulate`.
//!
//! ```text
//! batcher check                                               # exits 0
//! batcher check --broken                                      # exits 1: 21 deliveries, no flush
//! batcher simulate --broken --runs 100000 --depth 60          # uniform: exits 0 (misses it)
//! batcher simulate --broken --runs 200 --depth 60 --strategy pct      # exits 1
//! ```

use std::process::ExitCode;

use verdict::cli::{App, Flag};
use verdict::Workload;
use verdict_examples::batcher::{Batcher, Config};

const BROKEN: Flag<bool> = Flag::bool(
    "broken",
    "The deliberately broken collector that overwrites its oldest item when full",
);

fn main() -> ExitCode {
    App::<Batcher>::new("batcher")
        .about("A producer streaming to a batching collector: a deep bug for the simulator")
        .config_flag(BROKEN)
        .config(|flags| Config {
            overwrite_when_full: flags.get(BROKEN),
        })
        .workload(|setup, _| Workload::none(setup))
        .run()
}
