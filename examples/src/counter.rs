//! A primary-backup counter. The primary takes increments from the outside,
//! forwards each new value to the backup, and replies with the value once
//! the backup acknowledges it.
//!
//! Invariants: the backup never runs ahead of the primary, and every reply
//! reflects a value the backup holds. The `reply_before_ack` setting is a
//! deliberate bug: the primary replies as soon as it forwards, so a reply
//! can announce a value the backup does not have yet (and, if the message
//! is then lost with the primary, never will).

use verdict::prelude::*;
use verdict::{NodeWorkload, SetupError};

verdict::system! {
    /// A counter replicated from a primary to a backup.
    pub system Counter;

    config {
        /// Reply before the backup acknowledges: a deliberate bug, for tests.
        reply_before_ack: bool = false,
    }

    input enum Input { Increment }
    output enum Output {
        /// The counter's value after an increment.
        Value(u64),
    }
    message enum Msg {
        /// The primary's new value, for the backup to store.
        Apply(u64),
        /// The backup holds this value.
        Ack(u64),
    }

    role Primary {
        state {
            #[durable]
            value: u64 = 0,
        }

        on input Increment writes(value) sends(Apply) emits(Value) {
            *self.value += 1;
            ctx.send(Node::Backup, msg::Apply(*self.value));
            if ctx.config().reply_before_ack {
                ctx.output(output::Value(*self.value));
            }
        }

        on message Ack(v) from _backup emits(Value) {
            if !ctx.config().reply_before_ack {
                ctx.output(output::Value(v));
            }
        }
    }

    role Backup {
        state {
            #[durable]
            value: u64 = 0,
        }

        on message Apply(v) from primary writes(value) sends(Ack) {
            if v > *self.value {
                *self.value = v;
            }
            ctx.send(primary, msg::Ack(v));
        }
    }

    /// The backup only ever holds values the primary produced.
    invariant backup_not_ahead reads(Primary.value, Backup.value) {
        self.backup.value <= self.primary.value
    }

    /// A value announced to the outside world is held by the backup.
    invariant replies_are_replicated reads(Backup.value, trace) {
        for event in self.trace {
            if let TraceEvent::Output { output: Output::Value(output::Value(v)), .. } = event {
                if *v > self.backup.value {
                    return Err(format!("replied {v} but the backup holds {}", self.backup.value));
                }
            }
        }
        Ok(())
    }
}

/// The cluster, correct or with the early-reply bug.
pub fn setup(reply_before_ack: bool) -> Result<Setup<Counter>, SetupError> {
    Setup::with_config(&Sizes::new(), Config { reply_before_ack })
}

/// The primary receives `increments` increments.
pub fn workload(setup: &Setup<Counter>, increments: usize) -> Workload<Counter> {
    let steps = (0..increments)
        .map(|_| Step::send(input::Increment))
        .collect();
    Workload::none(setup).with(setup, Node::Primary, NodeWorkload::Script(steps))
}

/// The model the `check` subcommand explores.
pub fn model(
    increments: usize,
    faults: Faults,
    reply_before_ack: bool,
) -> Result<Model<Counter>, SetupError> {
    let setup = setup(reply_before_ack)?;
    let workload = workload(&setup, increments);
    Ok(Model::new(setup, faults, workload))
}
