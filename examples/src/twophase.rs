//! Two-phase commit: one transaction manager (`Tm`) and N resource managers
//! (`Rm(u8)`), after the classic TLA+ `TwoPhase` specification.
//!
//! Each resource manager, while working, may on its own decide to prepare
//! (telling the manager `Prepared`) or to abort. The manager commits once
//! every resource manager has prepared and may abort at any time before
//! that. A commit is sent to every resource manager; an abort to the
//! prepared ones, and to any that votes later. Resource managers follow the
//! decision. These free choices are timers, which the checker may fire at
//! any point.
//!
//! Invariant: no resource manager has committed while another has aborted.
//! The `commit_early` setting is a deliberate bug: the manager commits once
//! all but one resource manager have prepared.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use verdict::prelude::*;
use verdict::SetupError;

/// Where a resource manager is in the protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, verdict::Relabel)]
pub enum RmStatus {
    /// Still doing its part of the transaction.
    Working,
    /// Voted to commit; waits for the decision.
    Prepared,
    /// Committed.
    Committed,
    /// Aborted.
    Aborted,
}

/// The manager's decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, verdict::Relabel)]
pub enum Decision {
    /// Collecting votes.
    Init,
    /// Decided to commit.
    Committed,
    /// Decided to abort.
    Aborted,
}

verdict::system! {
    /// Two-phase commit with one manager and any number of resource managers.
    pub system TwoPhase;

    config {
        /// Commit once all but one resource manager prepared: a deliberate bug.
        commit_early: bool = false,
    }

    message enum Msg {
        /// A resource manager is prepared to commit.
        Prepared,
        /// The manager decided to commit.
        Commit,
        /// The manager decided to abort.
        Abort,
    }

    timers {
        /// A resource manager decides to prepare.
        Prepare,
        /// A resource manager, or the manager, decides to abort.
        GiveUp,
    }

    role Tm {
        state {
            decision: Decision = Decision::Init,
            /// Resource managers that said `Prepared`.
            prepared: BTreeSet<Node> = BTreeSet::new(),
        }

        // The manager may abort at any time before it decides: a timer the
        // checker may fire at any point.
        on start sets(GiveUp) {
            ctx.set_timer(timer::GiveUp, Duration::from_secs(5));
        }

        on message Prepared from rm writes(decision, prepared) sends(Commit, Abort) sets(GiveUp) {
            match *self.decision {
                Decision::Init => {}
                // A late vote after an abort is answered with the decision.
                Decision::Aborted => return ctx.send(rm, msg::Abort),
                Decision::Committed => return,
            }
            self.prepared.insert(rm);
            let rms: Vec<Node> = ctx.nodes().iter().copied().filter(|n| matches!(n, Node::Rm(_))).collect();
            let needed = if ctx.config().commit_early { rms.len() - 1 } else { rms.len() };
            if self.prepared.len() >= needed {
                *self.decision = Decision::Committed;
                ctx.cancel_timer(timer::GiveUp);
                ctx.broadcast(rms, msg::Commit);
            }
        }

        on timer GiveUp reads(prepared) writes(decision) sends(Abort) {
            if *self.decision == Decision::Init {
                *self.decision = Decision::Aborted;
                // Only the prepared ones wait for the decision; the others
                // learn it if they vote later.
                ctx.broadcast(self.prepared.iter().copied(), msg::Abort);
            }
        }
    }

    role Rm(u8) {
        state {
            status: RmStatus = RmStatus::Working,
        }

        // While working, a resource manager may prepare or abort on its own:
        // two timers, whichever fires first.
        on start sets(Prepare, GiveUp) {
            ctx.set_timer(timer::Prepare, Duration::from_secs(1));
            ctx.set_timer(timer::GiveUp, Duration::from_secs(1));
        }

        on timer Prepare writes(status) sends(Prepared) sets(GiveUp) {
            ctx.cancel_timer(timer::GiveUp);
            *self.status = RmStatus::Prepared;
            ctx.send(Node::Tm, msg::Prepared);
        }

        on timer GiveUp writes(status) sets(Prepare) {
            ctx.cancel_timer(timer::Prepare);
            *self.status = RmStatus::Aborted;
        }

        on message Commit from _tm writes(status) {
            *self.status = RmStatus::Committed;
        }

        on message Abort from _tm writes(status) sets(Prepare, GiveUp) {
            ctx.cancel_timer(timer::Prepare);
            ctx.cancel_timer(timer::GiveUp);
            *self.status = RmStatus::Aborted;
        }
    }

    /// No resource manager commits while another aborts.
    invariant consistent reads(Rm.status) {
        let committed = self.rm.iter().any(|r| *r.status == RmStatus::Committed);
        let aborted = self.rm.iter().any(|r| *r.status == RmStatus::Aborted);
        if committed && aborted {
            return Err("one resource manager committed and another aborted".to_string());
        }
        Ok(())
    }
}

/// The cluster: the manager and `rms` resource managers.
pub fn setup(rms: usize, commit_early: bool) -> Result<Setup<TwoPhase>, SetupError> {
    Setup::with_config(&Sizes::new().with(Role::Rm, rms), Config { commit_early })
}

/// No external inputs: every choice is a timer.
pub fn workload(setup: &Setup<TwoPhase>) -> Workload<TwoPhase> {
    Workload::none(setup)
}

/// The model the `check` subcommand explores.
pub fn model(
    rms: usize,
    faults: Faults,
    commit_early: bool,
) -> Result<Model<TwoPhase>, SetupError> {
    let setup = setup(rms, commit_early)?;
    let workload = workload(&setup);
    Ok(Model::new(setup, faults, workload))
}
