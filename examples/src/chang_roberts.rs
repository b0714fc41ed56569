//! Chang–Roberts leader election on a unidirectional ring.
//!
//! Each node has a distinct id (here its index) and, when it wakes up,
//! sends its id to its clockwise neighbour. A node forwards an id larger
//! than its own, discards a smaller one, and declares itself leader when
//! its own id comes back: only the largest id survives a full round.
//!
//! The `forward_smaller` setting is a deliberate bug: a node forwards every
//! id it does not own, so any id that goes round the ring elects its owner.
//! On five nodes the shortest counterexample is six steps: the smallest
//! node wakes and its id travels five hops back to it.

use verdict::prelude::*;
use verdict::SetupError;

verdict::system! {
    /// Chang–Roberts election on a ring of any number of nodes.
    pub system ChangRoberts;

    config {
        /// Forward ids smaller than one's own too: a deliberate bug.
        forward_smaller: bool = false,
    }

    message enum Msg {
        /// A candidate's id, travelling clockwise.
        Elect { id: u8 },
    }

    timers {
        /// The node wakes up and proposes itself.
        Wake,
    }

    role Ring(u8) {
        state {
            /// Whether this node has sent its own id round.
            woken: bool = false,
            /// Whether this node believes it is the leader.
            leader: bool = false,
        }

        on start sets(Wake) {
            ctx.set_timer(timer::Wake, Duration::from_secs(1));
        }

        on timer Wake writes(woken) sends(Elect) {
            *self.woken = true;
            ctx.send(next(ctx.me(), ctx.nodes().len()), msg::Elect { id: id_of(ctx.me()) });
        }

        on message Elect { id } from _prev writes(woken, leader) sends(Elect) sets(Wake) {
            let me = id_of(ctx.me());
            let successor = next(ctx.me(), ctx.nodes().len());
            if id == me {
                *self.leader = true;
            } else if id > me || ctx.config().forward_smaller {
                ctx.send(successor, msg::Elect { id });
            } else if !*self.woken {
                // A node that has not proposed yet joins with its own,
                // larger id in place of the smaller one.
                *self.woken = true;
                ctx.cancel_timer(timer::Wake);
                ctx.send(successor, msg::Elect { id: me });
            }
        }
    }

    /// Only the node with the largest id is ever elected.
    invariant only_the_largest_leads reads(Ring.leader) {
        let n = self.ring.len();
        for (i, r) in self.ring.iter().enumerate() {
            if r.leader && i + 1 != n {
                return Err(format!("Ring({i}) is leader, but Ring({}) has the largest id", n - 1));
            }
        }
        Ok(())
    }

    /// At most one node believes it leads.
    invariant one_leader reads(Ring.leader) {
        self.ring.iter().filter(|r| r.leader).count() <= 1
    }
}

/// A node's id: its position on the ring.
fn id_of(node: Node) -> u8 {
    match node {
        Node::Ring(i) => i,
    }
}

/// The clockwise neighbour of `node` on a ring of `n`.
fn next(node: Node, n: usize) -> Node {
    Node::Ring(((id_of(node) as usize + 1) % n) as u8)
}

/// The ring of `nodes` nodes.
pub fn setup(nodes: usize, forward_smaller: bool) -> Result<Setup<ChangRoberts>, SetupError> {
    Setup::with_config(
        &Sizes::new().with(Role::Ring, nodes),
        Config { forward_smaller },
    )
}

/// The model `check` explores: no inputs, every node wakes on its own.
pub fn model(nodes: usize, forward_smaller: bool) -> Result<Model<ChangRoberts>, SetupError> {
    let setup = setup(nodes, forward_smaller)?;
    let workload = Workload::none(&setup);
    Ok(Model::new(setup, Faults::none(), workload))
}
