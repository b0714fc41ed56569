//! The lock server: one server keeps a FIFO queue of clients wanting the
//! lock and grants it to the head; clients lock, then unlock.
//!
//! Mutual exclusion holds on a reliable network. With duplication it does
//! not: a duplicated grant can reach a client after it has unlocked, while
//! the server has granted the lock to the next client.

use std::collections::VecDeque;

use verdict::prelude::*;
use verdict::{NodeWorkload, SetupError};

// ANCHOR: system
verdict::system! {
    /// A lock server with a FIFO queue and any number of clients.
    pub system LockServ;

    // ANCHOR: types
    /// What a user asks a client to do.
    input enum Input { Lock, Unlock }
    /// What a client tells its user.
    output enum Output { Locked }
    /// What clients and the server say to each other.
    message enum Msg { Lock, Unlock, Grant }
    // ANCHOR_END: types

    // ANCHOR: server
    role Server {
        state {
            /// Clients waiting for the lock; the head holds it.
            queue: VecDeque<Node> = VecDeque::new(),
        }

        on message Lock from client writes(queue) sends(Grant) {
            if self.queue.is_empty() {
                ctx.send(client, msg::Grant);
            }
            self.queue.push_back(client);
        }

        on message Unlock from _client writes(queue) sends(Grant) {
            self.queue.pop_front();
            if let Some(&next) = self.queue.front() {
                ctx.send(next, msg::Grant);
            }
        }
    }

    // ANCHOR_END: server

    // ANCHOR: client
    role Client(u8) {
        state {
            /// Whether this client believes it holds the lock.
            held: bool = false,
        }

        on input Lock sends(Lock) {
            ctx.send(Node::Server, msg::Lock);
        }

        on input Unlock writes(held) sends(Unlock) {
            if *self.held {
                *self.held = false;
                ctx.send(Node::Server, msg::Unlock);
            }
        }

        on message Grant from _server writes(held) emits(Locked) {
            *self.held = true;
            ctx.output(output::Locked);
        }
    }

    // ANCHOR_END: client

    // ANCHOR: invariants
    /// At most one client holds the lock.
    invariant mutual_exclusion reads(Client.held) {
        self.client.iter().filter(|c| c.held).count() <= 1
    }

    /// Seen from outside: after a client is told `Locked`, no other client
    /// is told `Locked` until the first one asks to unlock.
    invariant locked_outputs_alternate reads(trace) {
        let mut holder: Option<Node> = None;
        for event in self.trace {
            match event {
                TraceEvent::Output { node, output: Output::Locked(_) } => {
                    if let Some(h) = holder {
                        if h != *node {
                            return Err(format!("{node} was told Locked while {h} still held the lock"));
                        }
                    }
                    holder = Some(*node);
                }
                TraceEvent::Input { node, input: Input::Unlock(_) } if holder == Some(*node) => holder = None,
                _ => {}
            }
        }
        Ok(())
    }
    // ANCHOR_END: invariants

    /// Liveness: every client that asks for the lock is eventually told
    /// `Locked` (checked by `check --liveness`, under weak fairness).
    eventually every_lock_granted reads(trace) {
        let mut waiting: Vec<Node> = Vec::new();
        for event in self.trace {
            match event {
                TraceEvent::Input { node, input: Input::Lock(_) } => waiting.push(*node),
                TraceEvent::Output { node, output: Output::Locked(_) } => waiting.retain(|n| n != node),
                _ => {}
            }
        }
        waiting.is_empty()
    }
}
// ANCHOR_END: system

// ANCHOR: driver
/// The cluster: one server and `clients` clients.
pub fn setup(clients: usize) -> Result<Setup<LockServ>, SetupError> {
    Setup::new(&Sizes::new().with(Role::Client, clients))
}

/// Each client locks, waits for `Locked`, then unlocks, `rounds` times.
pub fn workload(setup: &Setup<LockServ>, rounds: usize) -> Workload<LockServ> {
    Workload::none(setup).each(setup, Role::Client, |_| {
        let mut steps = Vec::new();
        for _ in 0..rounds {
            steps.push(Step::call(input::Lock));
            steps.push(Step::send(input::Unlock));
        }
        NodeWorkload::Script(steps)
    })
}

/// The model the `check` subcommand explores.
pub fn model(clients: usize, rounds: usize, faults: Faults) -> Result<Model<LockServ>, SetupError> {
    let setup = setup(clients)?;
    let workload = workload(&setup, rounds);
    Ok(Model::new(setup, faults, workload))
}
// ANCHOR_END: driver
