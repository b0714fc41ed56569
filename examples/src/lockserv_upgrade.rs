//! A rolling upgrade of the lock server ([`crate::lockserv`]) to a second
//! version, checked in every mixed-version world.
//!
//! Version 2 ([`v2::LockServV2`]) keeps the lock's holder apart from the
//! clients waiting for it, and numbers each grant with a token (a fencing
//! token a client keeps while it holds the lock). Its messages are renamed
//! and the grant carries the token, so old and new nodes need adapters.
//!
//! - [`ToV2`] is the correct upgrade: the server's queue becomes the holder
//!   (its head) and the waiting clients (the rest), a client that held the
//!   lock keeps holding it (with token 0, the token old grants carry).
//! - [`BrokenToV2`] migrates the server wrongly: it puts the whole queue in
//!   `waiting` and forgets the holder, so an upgraded server grants the
//!   lock to the next client that asks while an old client still holds it.
//!
//! `lockserv check --transform upgrade-v2 --faults upgrade` passes;
//! `--transform upgrade-v2-broken` fails `mutual_exclusion` with a
//! counterexample in which the server runs version 2 and the clients
//! version 1.

use std::collections::VecDeque;

use verdict::transform::upgrade::{same_node, NewState, OldState, UpgradePlan};

use crate::lockserv::{self, LockServ};

/// The lock server, version 2.
pub mod v2 {
    use std::collections::VecDeque;

    use verdict::prelude::*;

    verdict::system! {
        /// The lock server with the holder kept apart and numbered grants.
        pub system LockServV2;

        /// What a user asks a client to do.
        input enum Input { Lock, Unlock }
        /// What a client tells its user.
        output enum Output { Locked }
        /// What clients and the server say to each other.
        message enum Msg {
            /// A client asks for the lock.
            Acquire,
            /// The holder gives the lock back.
            Release,
            /// The server hands the lock over, with its token.
            Grant { token: u32 },
        }

        role Server {
            state {
                /// The client holding the lock.
                holder: Option<Node> = None,
                /// Clients waiting for it, in order.
                waiting: VecDeque<Node> = VecDeque::new(),
                /// Tokens handed out so far.
                tokens: u32 = 0,
            }

            on message Acquire from client writes(holder, waiting, tokens) sends(Grant) {
                if self.holder.is_none() {
                    *self.holder = Some(client);
                    *self.tokens += 1;
                    ctx.send(client, msg::Grant { token: *self.tokens });
                } else {
                    self.waiting.push_back(client);
                }
            }

            on message Release from _client writes(holder, waiting, tokens) sends(Grant) {
                *self.holder = self.waiting.pop_front();
                if let Some(next) = *self.holder {
                    *self.tokens += 1;
                    ctx.send(next, msg::Grant { token: *self.tokens });
                }
            }

            /// The holder is not also waiting.
            invariant holder_not_waiting reads(holder, waiting) {
                match self.holder {
                    Some(h) => !self.waiting.contains(&h),
                    None => true,
                }
            }
        }

        role Client(u8) {
            state {
                /// The token of the grant this client holds, if it holds the lock.
                held: Option<u32> = None,
            }

            on input Lock sends(Acquire) {
                ctx.send(Node::Server, msg::Acquire);
            }

            on input Unlock writes(held) sends(Release) {
                if self.held.is_some() {
                    *self.held = None;
                    ctx.send(Node::Server, msg::Release);
                }
            }

            on message Grant { token } from _server writes(held) emits(Locked) {
                *self.held = Some(token);
                ctx.output(output::Locked);
            }
        }

        /// At most one client holds the lock (declared by version 1 too).
        invariant mutual_exclusion reads(Client.held) {
            self.client.iter().filter(|c| c.held.is_some()).count() <= 1
        }

        /// Seen from outside: after a client is told `Locked`, no other
        /// client is told `Locked` until the first one asks to unlock
        /// (declared by version 1 too).
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
    }
}

use v2::LockServV2;

/// The correct upgrade from [`LockServ`] to [`LockServV2`].
pub struct ToV2;

/// The same adapters with a server migration that forgets the holder.
pub struct BrokenToV2;

fn node_up(n: lockserv::Node) -> v2::Node {
    same_node::<LockServ, LockServV2>(n)
}

/// A node's version 1 state as version 2's. The server's queue becomes
/// the holder (its head) and the waiting clients (the rest); `broken`:
/// nobody holds the lock and everyone waits. A client that held the lock
/// holds it with token 0, the token of grants from an old server.
fn migrate(old: &lockserv::State, broken: bool) -> v2::State {
    match old {
        lockserv::State::Client(c) => v2::State::Client(v2::ClientState {
            held: c.held.then_some(0),
        }),
        lockserv::State::Server(s) => {
            let mut waiting: VecDeque<v2::Node> = s.queue.iter().map(|&n| node_up(n)).collect();
            let holder = if broken { None } else { waiting.pop_front() };
            v2::State::Server(v2::ServerState {
                holder,
                waiting,
                tokens: 0,
            })
        }
    }
}

fn up(msg: &lockserv::Msg) -> Option<v2::Msg> {
    Some(match msg {
        lockserv::Msg::Lock(_) => v2::Msg::Acquire(v2::msg::Acquire),
        lockserv::Msg::Unlock(_) => v2::Msg::Release(v2::msg::Release),
        lockserv::Msg::Grant(_) => v2::Msg::Grant(v2::msg::Grant { token: 0 }),
    })
}

fn down(msg: &v2::Msg) -> Option<lockserv::Msg> {
    Some(match msg {
        v2::Msg::Acquire(_) => lockserv::Msg::Lock(lockserv::msg::Lock),
        v2::Msg::Release(_) => lockserv::Msg::Unlock(lockserv::msg::Unlock),
        v2::Msg::Grant(_) => lockserv::Msg::Grant(lockserv::msg::Grant),
    })
}

fn input_up(input: &lockserv::Input) -> v2::Input {
    match input {
        lockserv::Input::Lock(_) => v2::Input::Lock(v2::input::Lock),
        lockserv::Input::Unlock(_) => v2::Input::Unlock(v2::input::Unlock),
    }
}

fn output_up(output: &lockserv::Output) -> v2::Output {
    match output {
        lockserv::Output::Locked(_) => v2::Output::Locked(v2::output::Locked),
    }
}

fn output_down(output: &v2::Output) -> lockserv::Output {
    match output {
        v2::Output::Locked(_) => lockserv::Output::Locked(lockserv::output::Locked),
    }
}

/// The plan's methods, the same for both plans but for the migration.
macro_rules! lockserv_adapters {
    () => {
        fn up(msg: &lockserv::Msg) -> Option<v2::Msg> {
            up(msg)
        }
        fn down(msg: &v2::Msg) -> Option<lockserv::Msg> {
            down(msg)
        }
        fn input_up(input: &lockserv::Input) -> v2::Input {
            input_up(input)
        }
        fn output_up(output: &lockserv::Output) -> v2::Output {
            output_up(output)
        }
        fn output_down(output: &v2::Output) -> lockserv::Output {
            output_down(output)
        }
    };
}

impl UpgradePlan for ToV2 {
    type Old = LockServ;
    type New = LockServV2;

    fn migrate(_node: lockserv::Node, old: &OldState<Self>) -> NewState<Self> {
        migrate(old, false)
    }

    lockserv_adapters!();
}

impl UpgradePlan for BrokenToV2 {
    type Old = LockServ;
    type New = LockServV2;

    fn migrate(_node: lockserv::Node, old: &OldState<Self>) -> NewState<Self> {
        migrate(old, true)
    }

    lockserv_adapters!();
}
