//! A door keypad: a deep planted bug only coverage feedback finds.
//!
//! The door takes key presses (0 to 3) and never opens from the keypad:
//! it opens only for a badge, which this model never shows. The
//! `test_code` setting is a deliberate bug: firmware left with a factory
//! test sequence of `CODE_LEN` keys that opens the door; a wrong key
//! starts the sequence over.
//!
//! Why the bug is deep: it needs 20 specific inputs in a row, each one of
//! four, so a uniform run meets it with probability about 4^-20, and no
//! scheduling helps (every key is the same input of the same node, so pct
//! and swarm see one event source and one kind). Coverage feedback does:
//! each longer matched prefix is a door state no run had, so the corpus
//! keeps the run that reached it and the next runs extend it a key at a
//! time.

use verdict::prelude::*;
use verdict::{NodeWorkload, SetupError};

/// Keys in the factory test sequence.
pub const CODE_LEN: usize = 20;
/// Keys on the pad.
pub const KEYS: u8 = 4;

/// The `i`-th key of the factory test sequence.
pub fn code(i: usize) -> u8 {
    ((i * 7 + 3) % KEYS as usize) as u8
}

verdict::system! {
    /// A door with a keypad.
    pub system Keypad;

    config {
        /// Keep the factory test sequence that opens the door: a deliberate
        /// bug.
        test_code: bool = false,
    }

    /// A key press.
    input enum Input {
        /// Key `0..KEYS`.
        Key(u8),
    }

    role Door {
        state {
            /// How many keys of the test sequence have been matched.
            matched: u8 = 0,
            /// Whether the door is open.
            open: bool = false,
        }

        on input Key(k) writes(matched, open) {
            if !ctx.config().test_code {
                return;
            }
            if k == code(*self.matched as usize) {
                *self.matched += 1;
                if *self.matched as usize == CODE_LEN {
                    *self.open = true;
                    *self.matched = 0;
                }
            } else {
                *self.matched = 0;
            }
        }
    }

    /// The keypad never opens the door: only a badge does, and there is
    /// none in this model.
    invariant keypad_never_opens reads(Door.open) {
        !self.door.open
    }
}

/// The door, correct or with the test sequence left in.
pub fn setup(test_code: bool) -> Result<Setup<Keypad>, SetupError> {
    Setup::with_config(&Sizes::new(), Config { test_code })
}

/// Up to `presses` presses of any key.
pub fn workload(setup: &Setup<Keypad>, presses: u16) -> Workload<Keypad> {
    let choices = (0..KEYS).map(|k| Input::Key(input::Key(k))).collect();
    Workload::none(setup).with(
        setup,
        Node::Door,
        NodeWorkload::Any {
            choices,
            max: presses,
        },
    )
}

/// The model `check` and `simulate` run.
pub fn model(presses: u16, test_code: bool) -> Result<Model<Keypad>, SetupError> {
    let setup = setup(test_code)?;
    let workload = workload(&setup, presses);
    Ok(Model::new(setup, Faults::none(), workload))
}
