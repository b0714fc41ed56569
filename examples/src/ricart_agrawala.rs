//! Ricart–Agrawala mutual exclusion: a site that wants the critical
//! section asks every other site, with a Lamport timestamp, and enters once
//! all have replied. A site replies at once unless it is in the critical
//! section or its own pending request is older (ties broken by node
//! order); deferred replies are sent when it leaves.
//!
//! The `defer_ties` setting is a deliberate bug: on equal timestamps both
//! sites defer, so two sites that ask at the same time wait for each other
//! for ever — a deadlock, which plain `check` reports.

use std::collections::BTreeSet;

use verdict::prelude::*;
use verdict::{NodeWorkload, SetupError};

verdict::system! {
    /// Ricart–Agrawala mutual exclusion among any number of sites.
    pub system RicartAgrawala;

    config {
        /// Defer on equal timestamps instead of breaking the tie: a deliberate bug.
        defer_ties: bool = false,
    }

    /// What a user asks a site to do.
    input enum Input { Acquire, Release }
    /// What a site tells its user.
    output enum Output { Entered }
    message enum Msg {
        /// Permission asked, with the request's timestamp.
        Request { ts: u32 },
        /// Permission given.
        Reply,
    }

    role Site(u8) {
        state {
            /// The Lamport clock.
            clock: u32 = 0,
            /// The pending request's timestamp, if any.
            asked: Option<u32> = None,
            /// Sites that have replied to the pending request.
            replies: BTreeSet<Node> = BTreeSet::new(),
            /// Whether the site is in the critical section.
            inside: bool = false,
            /// Requests answered only on leaving.
            deferred: BTreeSet<Node> = BTreeSet::new(),
        }

        on input Acquire writes(clock, asked, replies, inside) sends(Request) emits(Entered) {
            *self.clock += 1;
            *self.asked = Some(*self.clock);
            self.replies.clear();
            let others: Vec<Node> = ctx.peers().collect();
            if others.is_empty() {
                *self.inside = true;
                ctx.output(output::Entered);
            }
            ctx.broadcast(others, msg::Request { ts: *self.clock });
        }

        on input Release writes(asked, inside, deferred) sends(Reply) {
            if *self.inside {
                *self.inside = false;
                *self.asked = None;
                let waiting = std::mem::take(self.deferred);
                ctx.broadcast(waiting, msg::Reply);
            }
        }

        on message Request { ts } from site reads(asked, inside) writes(clock, deferred) sends(Reply) {
            *self.clock = (*self.clock).max(ts) + 1;
            let mine_first = match self.asked {
                Some(own) if ctx.config().defer_ties => own <= ts,
                Some(own) => (own, ctx.me()) < (ts, site),
                None => false,
            };
            if self.inside || mine_first {
                self.deferred.insert(site);
            } else {
                ctx.send(site, msg::Reply);
            }
        }

        on message Reply from site reads(asked) writes(replies, inside) emits(Entered) {
            if self.asked.is_none() {
                return;
            }
            self.replies.insert(site);
            if self.replies.len() + 1 == ctx.nodes().len() && !*self.inside {
                *self.inside = true;
                ctx.output(output::Entered);
            }
        }
    }

    /// At most one site is in the critical section.
    invariant mutual_exclusion reads(Site.inside) {
        self.site.iter().filter(|s| s.inside).count() <= 1
    }
}

/// `sites` sites.
pub fn setup(sites: usize, defer_ties: bool) -> Result<Setup<RicartAgrawala>, SetupError> {
    Setup::with_config(&Sizes::new().with(Role::Site, sites), Config { defer_ties })
}

/// Each site acquires, waits to enter, then releases, `rounds` times.
pub fn workload(setup: &Setup<RicartAgrawala>, rounds: usize) -> Workload<RicartAgrawala> {
    Workload::none(setup).each(setup, Role::Site, |_| {
        let mut steps = Vec::new();
        for _ in 0..rounds {
            steps.push(Step::call(input::Acquire));
            steps.push(Step::send(input::Release));
        }
        NodeWorkload::Script(steps)
    })
}

/// The model `check` explores.
pub fn model(
    sites: usize,
    rounds: usize,
    defer_ties: bool,
) -> Result<Model<RicartAgrawala>, SetupError> {
    let setup = setup(sites, defer_ties)?;
    let workload = workload(&setup, rounds);
    Ok(Model::new(setup, Faults::none(), workload))
}
