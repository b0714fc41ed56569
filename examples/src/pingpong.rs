//! Ping-pong: two nodes bouncing messages, the runtime's benchmark.
//!
//! The pinger starts a run on input `Start`: it keeps `window` pings in
//! flight until `count` pongs came back, and reports every
//! `report_every`-th pong as an output, so a client can time round trips.
//! `Bump` exercises the durable path alone: it increments a durable
//! counter and acknowledges, with no messages.

use verdict::prelude::*;
use verdict::{NodeWorkload, SetupError};

verdict::system! {
    /// Two nodes bouncing messages.
    pub system PingPong;

    config {
        /// Take `report_every` as given, even 0: a deliberate bug, so tests
        /// can watch the runtime monitor catch it.
        sloppy: bool = false,
    }

    timers {
        /// A reminder the pinger sets on request.
        Alarm,
    }

    /// What the outside world asks the pinger.
    input enum Input {
        /// Bounce `count` pings, `window` at a time.
        Start { count: u64, window: u64, report_every: u64 },
        /// Increment the durable counter (no messages).
        Bump,
        /// Say `Reminded` after this many milliseconds.
        Remind(u64),
    }
    /// What the pinger reports.
    output enum Output {
        /// The `n`-th pong of the run came back.
        Pong(u64),
        /// The counter after a bump.
        Bumped(u64),
        /// A reminder fired.
        Reminded,
    }
    message enum Msg { Ping(u64), Pong(u64) }

    role Pinger {
        state {
            /// Pings still to send in this run.
            to_send: u64 = 0,
            /// Pongs received in this run.
            received: u64 = 0,
            /// Report every this many pongs.
            report_every: u64 = 1,
            /// Bumps so far; survives crashes.
            #[durable]
            bumps: u64 = 0,
        }

        on input Start { count, window, report_every } writes(to_send, received, report_every) sends(Ping) {
            *self.to_send = count;
            *self.received = 0;
            *self.report_every = if ctx.config().sloppy { report_every } else { report_every.max(1) };
            for _ in 0..window.min(count) {
                *self.to_send -= 1;
                ctx.send(Node::Ponger, msg::Ping(*self.to_send));
            }
        }

        /// Reports are never asked for every 0th pong (a runtime monitor).
        invariant reports_every_pong_or_fewer reads(report_every) {
            self.report_every >= 1
        }

        on input Bump writes(bumps) emits(Bumped) {
            *self.bumps += 1;
            ctx.output(output::Bumped(*self.bumps));
        }

        on input Remind(ms) sets(Alarm) {
            ctx.set_timer(timer::Alarm, Duration::from_millis(ms));
        }

        on timer Alarm emits(Reminded) {
            ctx.output(output::Reminded);
        }

        on message Pong(_k) from ponger writes(to_send, received) reads(report_every) sends(Ping) emits(Pong) {
            *self.received += 1;
            if self.report_every != 0 && (*self.received).is_multiple_of(self.report_every) {
                ctx.output(output::Pong(*self.received));
            }
            if *self.to_send > 0 {
                *self.to_send -= 1;
                ctx.send(ponger, msg::Ping(*self.to_send));
            }
        }
    }

    role Ponger {
        on message Ping(k) from pinger sends(Pong) {
            ctx.send(pinger, msg::Pong(k));
        }
    }
}

/// The two nodes.
pub fn setup(sloppy: bool) -> Result<Setup<PingPong>, SetupError> {
    Setup::with_config(&Sizes::new(), Config { sloppy })
}

/// A run of `count` round trips, `window` at a time, for `check`.
pub fn workload(setup: &Setup<PingPong>, count: u64, window: u64) -> Workload<PingPong> {
    let start = input::Start {
        count,
        window,
        report_every: 1,
    };
    Workload::none(setup).with(
        setup,
        Node::Pinger,
        NodeWorkload::Script(vec![Step::send(start), Step::send(input::Bump)]),
    )
}
