//! `keypad`: the door keypad, a deep planted bug for `simulate`.
//!
//! ```text
//! keypad check --broken --presses 20             # exits 1: few states, the checker finds it at once
//! keypad simulate --broken --runs 100000         # uniform: exits 0 (misses it)
//! keypad simulate --broken --runs 100000 --strategy coverage   # exits 1
//! ```

use std::process::ExitCode;

use verdict::cli::{App, Flag};
use verdict_examples::keypad::{workload, Config, Keypad};

const PRESSES: Flag<usize> = Flag::usize("presses", 40, "Key presses the door receives at most");
const BROKEN: Flag<bool> = Flag::bool(
    "broken",
    "The deliberately broken firmware that keeps its factory test sequence",
);

fn main() -> ExitCode {
    App::<Keypad>::new("keypad")
        .about("A door keypad with a planted 20-key test sequence: a deep bug for the simulator")
        .flag(PRESSES)
        .config_flag(BROKEN)
        .config(|flags| Config {
            test_code: flags.get(BROKEN),
        })
        .workload(|setup, flags| {
            workload(setup, u16::try_from(flags.get(PRESSES)).unwrap_or(u16::MAX))
        })
        .run()
}
