//! A batching collector: a deep planted bug for the simulator's strategies.
//!
//! A producer streams `ITEMS` numbered items to a collector over one FIFO
//! channel. The collector buffers them and its `Flush` timer ships the
//! buffer downstream; a full buffer (`CAPACITY` items) must be shipped at
//! once. The `overwrite_when_full` setting is a deliberate bug: a full
//! buffer drops its oldest item to make room, as a fixed ring would.
//!
//! Why the bug is deep: it needs `CAPACITY + 1` = 21 deliveries in a row
//! with no flush between them. A uniform random step fires the always
//! armed flush timer about half the time, so a run shows the bug with
//! probability around 2^-21. Strategies that hold one event source back
//! (pct's priorities, a swarm configuration that leaves the timer out or
//! makes it rare, coverage feedback rewarding each new buffer length)
//! find it in a few runs.

use verdict::prelude::*;
use verdict::SetupError;

/// Items the producer sends.
pub const ITEMS: u32 = 24;
/// Items the collector's buffer holds.
pub const CAPACITY: usize = 20;

verdict::system! {
    /// A producer streaming items to a batching collector.
    pub system Batcher;

    config {
        /// Drop the oldest buffered item when the buffer is full instead
        /// of shipping the batch: a deliberate bug.
        overwrite_when_full: bool = false,
    }

    message enum Msg {
        /// Item number `n`.
        Item(u32),
    }

    timers {
        /// Ship whatever is buffered.
        Flush,
    }

    role Producer {
        on start sends(Item) {
            for n in 0..ITEMS {
                ctx.send(Node::Collector, msg::Item(n));
            }
        }
    }

    role Collector {
        state {
            /// Items waiting to be shipped, oldest first.
            buffer: Vec<u32> = Vec::new(),
            /// Items received so far.
            received: u32 = 0,
            /// Items shipped downstream so far.
            shipped: u32 = 0,
        }

        on start sets(Flush) {
            ctx.set_timer(timer::Flush, Duration::from_millis(10));
        }

        on message Item(n) from _producer writes(buffer, received, shipped) {
            *self.received += 1;
            if self.buffer.len() >= CAPACITY {
                if ctx.config().overwrite_when_full {
                    self.buffer.remove(0);
                } else {
                    *self.shipped += self.buffer.len() as u32;
                    self.buffer.clear();
                }
            }
            self.buffer.push(n);
        }

        on timer Flush writes(buffer, shipped) sets(Flush) {
            *self.shipped += self.buffer.len() as u32;
            self.buffer.clear();
            ctx.set_timer(timer::Flush, Duration::from_millis(10));
        }
    }

    /// Every item received is shipped or still buffered: none is lost.
    invariant no_item_lost reads(Collector.buffer, Collector.received, Collector.shipped) {
        let c = &self.collector;
        let held = c.shipped + c.buffer.len() as u32;
        if held == c.received {
            Ok(())
        } else {
            Err(format!("{} items received but {held} shipped or buffered", c.received))
        }
    }
}

/// The producer and the collector, correct or with the overwrite bug.
pub fn setup(overwrite_when_full: bool) -> Result<Setup<Batcher>, SetupError> {
    Setup::with_config(
        &Sizes::new(),
        Config {
            overwrite_when_full,
        },
    )
}

/// The model: no workload, the producer streams on its own.
pub fn model(faults: Faults, overwrite_when_full: bool) -> Result<Model<Batcher>, SetupError> {
    let setup = setup(overwrite_when_full)?;
    let workload = Workload::none(&setup);
    Ok(Model::new(setup, faults, workload))
}
