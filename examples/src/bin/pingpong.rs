//! `pingpong`: two nodes bouncing messages; the runtime's benchmark system.
//!
//! ```text
//! pingpong check --count 3 --window 2
//! pingpong cluster                    # then: pingpong client ... 'Start{"count":1000,"window":1,"report_every":100}'
//! ```

use std::process::ExitCode;

use verdict::cli::{App, Flag};
use verdict_examples::pingpong::{workload, Config, PingPong};

const COUNT: Flag<usize> = Flag::usize("count", 3, "Round trips in the checked run");
const WINDOW: Flag<usize> = Flag::usize("window", 2, "Pings in flight at once");
const SLOPPY: Flag<bool> = Flag::bool(
    "sloppy",
    "Accept report_every = 0: a deliberate bug the local invariant catches",
);

fn main() -> ExitCode {
    App::<PingPong>::new("pingpong")
        .about("Ping-pong between two nodes, checked and deployed with Verdict")
        .flag(COUNT)
        .flag(WINDOW)
        .config_flag(SLOPPY)
        .config(|flags| Config {
            sloppy: flags.get(SLOPPY),
        })
        .workload(|setup, flags| workload(setup, flags.get(COUNT) as u64, flags.get(WINDOW) as u64))
        .run()
}
