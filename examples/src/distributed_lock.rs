//! A distributed lock passed by epochs, in the spirit of the
//! `distributed_lock` protocol of Ivy and DistAI: the node holding the lock
//! gives it up by sending `Transfer { epoch }` to a node of its choice, with
//! an epoch one larger than its own; a node accepts a transfer whose epoch
//! is larger than its own, and then holds the lock at that epoch.
//!
//! Two safety properties: at most one node holds the lock, and a holder's
//! epoch is the largest of all nodes. Neither is inductive on its own: a
//! transfer in flight while some node still holds is a counterexample to
//! induction (`distributed_lock induct`), which no reachable run produces;
//! `induct --infer` finds what rules it out.
//!
//! The `accept_stale` setting is a deliberate bug: a node accepts any
//! transfer, however old, so a duplicated transfer hands out a second lock.

use verdict::prelude::*;
use verdict::SetupError;

verdict::system! {
    /// A lock that travels between any number of nodes, one epoch per hop.
    pub system DistributedLock;

    config {
        /// The last epoch: a holder at this epoch keeps the lock (bounds the state space).
        max_epoch: u8 = 3,
        /// Accept transfers with an epoch not larger than one's own: a deliberate bug.
        accept_stale: bool = false,
    }

    message enum Msg {
        /// The lock, handed on at `epoch`.
        Transfer { epoch: u8 },
    }

    timers {
        /// The holder decides to give the lock away.
        Pass,
    }

    role Lock(u8) {
        state {
            /// Whether this node holds the lock.
            held: bool = false,
            /// The largest epoch this node has accepted. `induct` may give
            /// it any epoch up to the default last one, reached or not.
            #[domain(0..=3)]
            epoch: u8 = 0,
        }

        // The first node holds the lock at epoch 1 from the start.
        on start writes(held, epoch) sets(Pass) {
            if ctx.me() == Node::Lock(0) {
                *self.held = true;
                *self.epoch = 1;
                ctx.set_timer(timer::Pass, Duration::from_secs(1));
            }
        }

        on timer Pass reads(epoch) writes(held) sends(Transfer) chooses {
            if *self.held && self.epoch < ctx.config().max_epoch {
                let peers: Vec<Node> = ctx.peers().collect();
                if let Some(&to) = ctx.choose_from(&peers) {
                    *self.held = false;
                    ctx.send(to, msg::Transfer { epoch: self.epoch + 1 });
                }
            }
        }

        on message Transfer { epoch } from _giver writes(held, epoch) sets(Pass) {
            if epoch > *self.epoch || ctx.config().accept_stale {
                *self.held = true;
                *self.epoch = epoch;
                ctx.set_timer(timer::Pass, Duration::from_secs(1));
            }
        }
    }

    /// At most one node holds the lock.
    invariant one_holder reads(Lock.held) {
        self.lock.iter().filter(|l| l.held).count() <= 1
    }

    /// A node that holds the lock has the largest epoch of all.
    invariant holder_is_newest reads(Lock.held, Lock.epoch) {
        let newest = self.lock.iter().map(|l| l.epoch).max().unwrap_or(0);
        for (i, l) in self.lock.iter().enumerate() {
            if l.held && l.epoch < newest {
                return Err(format!("Lock({i}) holds at epoch {} but another node is at epoch {newest}", l.epoch));
            }
        }
        Ok(())
    }
}

/// `nodes` nodes; the lock stops moving at `max_epoch`.
pub fn setup(
    nodes: usize,
    max_epoch: u8,
    accept_stale: bool,
) -> Result<Setup<DistributedLock>, SetupError> {
    Setup::with_config(
        &Sizes::new().with(Role::Lock, nodes),
        Config {
            max_epoch,
            accept_stale,
        },
    )
}

/// The model `check` explores: no inputs, the holder passes on its timer.
pub fn model(
    nodes: usize,
    max_epoch: u8,
    faults: Faults,
) -> Result<Model<DistributedLock>, SetupError> {
    let setup = setup(nodes, max_epoch, false)?;
    let workload = Workload::none(&setup);
    Ok(Model::new(setup, faults, workload))
}
