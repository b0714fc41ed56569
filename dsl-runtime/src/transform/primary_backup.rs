//! Primary-backup replication of any [`StateMachine`].
//!
//! [`PrimaryBackup<M>`] turns a single-node state machine into a system of
//! a primary, a backup and clients. Clients send their commands to the
//! primary, which orders them in a queue and forwards the oldest to the
//! backup, numbered by its position in the log. The backup applies each
//! command in log order and acknowledges it; only then does the primary
//! apply it, reply to the client and forward the next one. Commands that
//! never change the machine ([`StateMachine::is_read_only`]) are, by
//! default, answered by the backup, which is never behind any reply.
//!
//! Each replica keeps its machine, its count of commands and its per-client
//! table durable (the runtime writes them before a reply or an
//! acknowledgement leaves; the queue of waiting commands is volatile). A
//! replica that restarts after a crash asks the other for a snapshot (the
//! machine, how many commands it has applied, the command in progress,
//! and each client's last request with its output) and serves nothing
//! until it has one. It keeps whichever of its own state and the snapshot
//! has applied more: the two follow one log, and the backup may be one
//! command ahead of the primary. A replica answers a snapshot request even
//! while it recovers itself, and asks again, so two replicas restarting
//! together (a full restart) settle on the newer state instead of waiting
//! for each other. Then it asks every client to resend the request it is
//! still waiting for, which the crash may have lost. The per-client table
//! makes that safe: a resent request that already took effect is answered
//! from the table, never applied twice. A client numbers its requests
//! durably, so a reply to a request made before a crash is never taken for
//! a newer one.
//!
//! # Assumes and guarantees
//!
//! - Assumes: a reliable FIFO network (wrap it in
//!   [`crate::transform::Reliable`] for a lossy one); crash-restart
//!   replicas whose durable fields survive (the runtime's storage), any
//!   number of crashes, of one replica or both at once. No failover: a
//!   primary that never comes back stops the service, safely.
//! - Guarantees: linearizability with respect to `M` — the system's
//!   `linearizable` history invariant checks every history the checker
//!   reaches — and each command takes effect at most once. After a replica
//!   restarts, every client's pending request is resent, so a crash loses
//!   no request of a client that stays up (a client that crashes moves on;
//!   its pending operation may or may not have taken effect, which
//!   linearizability allows). The `every_request_answered` property says
//!   so, and `check --liveness` checks it.
//!
//! [`PbBug`] selects a deliberately broken variant, for showing what the
//! check catches.
//!
//! The transformer is written in `system!` like any user system, so its
//! footprints are checked by the compiler and the footprint audit, not
//! typed by hand.

use crate::transform::sessions::{self, record, session};
use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::ctx::{Ctx, MaySend};
use crate::transform::state_machine::{check_linearizable, StateMachine};

/// An entry of the primary's queue: who asked, their request number, what.
pub type Entry<I> = (Node, u32, I);

/// Per client, its last applied request and that request's output (see
/// [`crate::transform::sessions`]).
pub type Sessions<O> = sessions::Sessions<Node, O>;

/// Deliberate bugs, for showing what the checker catches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PbBug {
    /// The primary applies and replies as soon as a command arrives, before
    /// the backup has it: a read at the backup can miss a write that has
    /// already returned.
    ReplyBeforeAck,
    /// A restarted replica serves from its own durable state without asking
    /// the other for a snapshot: a restarted primary misses the command the
    /// backup applied last, and the replicas diverge.
    NoStateTransfer,
}

crate::system! {
    /// State machine `M` replicated on a primary and a backup. See the
    /// [module documentation](self).
    pub system PrimaryBackup<M: StateMachine>;

    config {
        /// Answer read-only commands at the backup (as Verdi's
        /// primary-backup does) rather than at the primary.
        reads_at_backup: bool = true,
        /// A deliberate bug, or `None` for the correct protocol.
        bug: Option<PbBug> = None,
    }

    /// A client's command.
    input type Command = M::Input;
    /// Its output.
    output type Output = M::Output;

    message enum Msg {
        /// A client's command, numbered by the client.
        Request { id: u32, input: M::Input },
        /// The output of a client's command.
        Reply { id: u32, output: M::Output },
        /// Command number `index` of the log, for the backup to apply.
        Forward { index: u64, command: Entry<M::Input> },
        /// The backup has applied command number `index`.
        Ack { index: u64 },
        /// A restarted replica asks for the state.
        Sync,
        /// The replicated state, for a restarted replica: the machine, how
        /// many commands it has applied, the command in progress
        /// (forwarded, not yet acknowledged) and the sessions.
        Snapshot {
            machine: M,
            applied: u64,
            pending: Option<Entry<M::Input>>,
            sessions: Sessions<M::Output>,
        },
        /// A replica has recovered: resend the request you wait for.
        Resend,
    }

    /// Orders commands and replies.
    role Primary {
        state {
            /// The machine after every acknowledged command.
            #[durable]
            machine: M = M::default(),
            /// How many commands have been acknowledged (the log position
            /// of the queue's head).
            #[durable]
            committed: u64 = 0,
            /// Commands waiting, oldest first; the head has been forwarded.
            queue: VecDeque<Entry<M::Input>> = VecDeque::new(),
            /// Restarted and waiting for the backup's snapshot.
            recovering: bool = false,
            /// Each client's last acknowledged request and its output.
            #[durable]
            sessions: Sessions<M::Output> = Vec::new(),
        }

        on message Request { id, input } from client
            reads(committed, recovering) writes(machine, queue, sessions) sends(Forward, Reply)
        {
            let config = ctx.config();
            let queued = self.queue.iter().any(|(c, i, _)| *c == client && *i == id);
            if !config.reads_at_backup && M::is_read_only(&input) && !self.recovering {
                // Reads at the primary see every acknowledged command.
                let output = self.machine.clone().apply(&input);
                ctx.send(client, msg::Reply { id, output });
            } else if queued || (!self.recovering && answered(ctx, self.sessions, client, id)) {
                // A resent request already queued or already applied.
            } else {
                // Anything else goes through the log, in arrival order.
                if config.bug == Some(PbBug::ReplyBeforeAck) {
                    let output = self.machine.apply(&input);
                    record(self.sessions, client, id, output.clone());
                    ctx.send(client, msg::Reply { id, output });
                }
                self.queue.push_back((client, id, input));
                if self.queue.len() == 1 && !self.recovering {
                    forward_head(ctx, self.queue, self.committed);
                }
            }
        }

        on message Ack { index } from _backup
            reads(recovering) writes(machine, committed, queue, sessions) sends(Forward, Reply)
        {
            if index != *self.committed || self.recovering {
                return;
            }
            if let Some((client, id, input)) = self.queue.pop_front() {
                if ctx.config().bug != Some(PbBug::ReplyBeforeAck) {
                    let output = self.machine.apply(&input);
                    record(self.sessions, client, id, output.clone());
                    ctx.send(client, msg::Reply { id, output });
                }
                *self.committed += 1;
                forward_head(ctx, self.queue, *self.committed);
            }
        }

        on message Sync from replica
            reads(machine, committed, queue, recovering, sessions) sends(Snapshot, Sync)
        {
            // A recovering primary has not ordered its queue against the
            // backup's log yet, so it offers no command in progress.
            let pending = if self.recovering { None } else { self.queue.front().cloned() };
            ctx.send(replica, msg::Snapshot {
                machine: self.machine.clone(),
                applied: self.committed,
                pending,
                sessions: self.sessions.clone(),
            });
            ask_again_if_recovering(ctx, self.recovering, replica);
        }

        on message Snapshot { machine, applied, sessions, .. } from _backup
            writes(machine, committed, queue, recovering, sessions) sends(Forward, Reply, Resend)
        {
            if !*self.recovering {
                return;
            }
            // Keep whichever state has applied more: the backup has every
            // command this primary acknowledged, and may have one more.
            if applied >= *self.committed {
                *self.machine = machine;
                *self.committed = applied;
                *self.sessions = sessions;
            }
            *self.recovering = false;
            // Requests that arrived while recovering may be resends of
            // ones the backup has applied: answer those from the sessions
            // instead of applying them again.
            for (client, id, input) in std::mem::take(self.queue) {
                if !answered(ctx, self.sessions, client, id) {
                    self.queue.push_back((client, id, input));
                }
            }
            forward_head(ctx, self.queue, *self.committed);
            resend_to_clients(ctx);
        }

        on restart writes(recovering) sends(Sync, Resend) {
            if ctx.config().bug == Some(PbBug::NoStateTransfer) {
                resend_to_clients(ctx);
            } else {
                *self.recovering = true;
                ctx.send(Node::Backup, msg::Sync);
            }
        }
    }

    /// Holds a copy; answers reads.
    role Backup {
        state {
            /// The machine after every command applied.
            #[durable]
            machine: M = M::default(),
            /// How many commands it has applied.
            #[durable]
            applied: u64 = 0,
            /// Restarted and waiting for the primary's snapshot.
            recovering: bool = false,
            /// Reads that arrived while recovering, answered after.
            waiting_reads: Vec<Entry<M::Input>> = Vec::new(),
            /// Each client's last applied request and its output.
            #[durable]
            sessions: Sessions<M::Output> = Vec::new(),
        }

        on message Forward { index, command } from _primary
            reads(recovering) writes(machine, applied, sessions) sends(Ack)
        {
            if !self.recovering {
                apply(ctx, self.machine, self.applied, self.sessions, index, command);
            }
        }

        on message Request { id, input } from client
            reads(machine, recovering) writes(waiting_reads) sends(Reply)
        {
            if self.recovering {
                self.waiting_reads.push((client, id, input));
            } else {
                let output = self.machine.clone().apply(&input);
                ctx.send(client, msg::Reply { id, output });
            }
        }

        on message Sync from replica
            reads(machine, applied, recovering, sessions) sends(Snapshot, Sync)
        {
            ctx.send(replica, msg::Snapshot {
                machine: self.machine.clone(),
                applied: self.applied,
                pending: None,
                sessions: self.sessions.clone(),
            });
            ask_again_if_recovering(ctx, self.recovering, replica);
        }

        on message Snapshot { machine, applied, pending, sessions } from _primary
            writes(machine, applied, recovering, waiting_reads, sessions) sends(Ack, Reply, Resend)
        {
            let recovered = *self.recovering;
            if recovered {
                // Keep whichever state has applied more: both follow the
                // same log, and the backup's own durable state may be the
                // newer one.
                if applied > *self.applied {
                    *self.machine = machine;
                    *self.applied = applied;
                    *self.sessions = sessions;
                }
                *self.recovering = false;
            }
            // The command in progress is a forward like any other, taken
            // even after recovery: the primary's own `Forward` of it may
            // have been lost with a crash of this backup, and the snapshot
            // that ended recovery may have been an older one without it.
            if let Some(command) = pending {
                apply(ctx, self.machine, self.applied, self.sessions, applied, command);
            }
            if recovered {
                for (client, id, input) in std::mem::take(self.waiting_reads) {
                    let output = self.machine.clone().apply(&input);
                    ctx.send(client, msg::Reply { id, output });
                }
                resend_to_clients(ctx);
            }
        }

        on restart writes(recovering) sends(Sync, Resend) {
            if ctx.config().bug == Some(PbBug::NoStateTransfer) {
                resend_to_clients(ctx);
            } else {
                *self.recovering = true;
                ctx.send(Node::Primary, msg::Sync);
            }
        }
    }

    /// Receives commands from the outside world and returns their outputs.
    role Client(u8) {
        state {
            /// The number of its next request; durable, so a reply to a
            /// request made before a crash is never taken for a newer one.
            #[durable]
            next_request: u32 = 0,
            /// The request it waits for, kept to resend it.
            pending: Option<(u32, M::Input)> = None,
        }

        on input command: Command writes(next_request, pending) sends(Request) {
            let id = *self.next_request;
            *self.next_request += 1;
            *self.pending = Some((id, command.clone()));
            let to = route::<M>(ctx.config(), &command);
            ctx.send(to, msg::Request { id, input: command });
        }

        on message Reply { id, output } from _replica writes(pending) emits(Output) {
            if self.pending.as_ref().is_some_and(|(p, _)| *p == id) {
                *self.pending = None;
                ctx.output(output);
            }
        }

        on message Resend from _replica reads(pending) sends(Request) {
            if let Some((id, input)) = self.pending {
                let to = route::<M>(ctx.config(), input);
                ctx.send(to, msg::Request { id: *id, input: input.clone() });
            }
        }
    }

    /// Every history is linearizable with respect to `M`. The order of
    /// concurrent calls and of concurrent replies does not matter to it,
    /// so it reads the history, and the checker may merge worlds that
    /// differ only in that order.
    invariant linearizable reads(history) {
        check_linearizable::<M, PrimaryBackup<M>>(self.history)
    }

    /// Liveness: every request of a client that stays up is answered, after
    /// any crashes and restarts of the replicas (checked by `check
    /// --liveness`). A crashed client forgets its request, which counts as
    /// answered: nobody waits for it.
    eventually every_request_answered reads(Client.pending) {
        self.client.iter().all(|c| c.pending.is_none())
    }
}

/// The settings of [`PrimaryBackup`] (its `config`), named for use outside
/// this module.
pub type PbConfig = Config;
/// A node of [`PrimaryBackup`], named for use outside this module.
pub type PbNode = Node;
/// A role of [`PrimaryBackup`], named for use outside this module.
pub type PbRole = Role;

/// A handler's context in [`PrimaryBackup<M>`], with permissions `H`.
type PbCtx<'a, 'b, M, H> = &'a mut Ctx<'b, PrimaryBackup<M>, H>;

/// Forwards the head of the queue to the backup, if there is one, as log
/// entry `committed`.
fn forward_head<M, H>(ctx: PbCtx<'_, '_, M, H>, queue: &VecDeque<Entry<M::Input>>, committed: u64)
where
    M: StateMachine,
    H: MaySend<msg::Forward<M>>,
{
    if let Some(command) = queue.front() {
        ctx.send(
            Node::Backup,
            msg::Forward {
                index: committed,
                command: command.clone(),
            },
        );
    }
}

/// Answers `client`'s request `id` from the sessions if it already took
/// effect (or is older than one that did); returns whether it did.
fn answered<M, H>(
    ctx: PbCtx<'_, '_, M, H>,
    sessions: &Sessions<M::Output>,
    client: Node,
    id: u32,
) -> bool
where
    M: StateMachine,
    H: MaySend<msg::Reply<M>>,
{
    match session(sessions, client) {
        Some((last, output)) if last == id => {
            let output = output.clone();
            ctx.send(client, msg::Reply { id, output });
            true
        }
        Some((last, _)) => last > id,
        None => false,
    }
}

/// A replica that hears `Sync` while it still waits for a snapshot asks
/// again: its own `Sync` went out while the other was down and was lost.
fn ask_again_if_recovering<M, H>(ctx: PbCtx<'_, '_, M, H>, recovering: bool, other: Node)
where
    M: StateMachine,
    H: MaySend<msg::Sync>,
{
    if recovering {
        ctx.send(other, msg::Sync);
    }
}

/// Asks every client to resend the request it waits for: a replica has
/// recovered, and the crash may have lost requests on their way to it.
fn resend_to_clients<M, H>(ctx: PbCtx<'_, '_, M, H>)
where
    M: StateMachine,
    H: MaySend<msg::Resend>,
{
    let clients: Vec<Node> = ctx
        .nodes()
        .iter()
        .copied()
        .filter(|n| matches!(n, Node::Client(_)))
        .collect();
    ctx.broadcast(clients, msg::Resend);
}

/// At the backup: applies log entry `index` if it is the next one, and
/// acknowledges every entry it has applied (a repeat means the ack was lost).
fn apply<M, H>(
    ctx: PbCtx<'_, '_, M, H>,
    machine: &mut M,
    applied: &mut u64,
    sessions: &mut Sessions<M::Output>,
    index: u64,
    command: Entry<M::Input>,
) where
    M: StateMachine,
    H: MaySend<msg::Ack>,
{
    if index == *applied {
        let (client, id, input) = command;
        let output = machine.apply(&input);
        record(sessions, client, id, output);
        *applied += 1;
    }
    if index < *applied {
        ctx.send(Node::Primary, msg::Ack { index });
    }
}

/// Where a client sends `input`: reads to the backup when it serves them.
fn route<M: StateMachine>(config: &Config, input: &M::Input) -> Node {
    if config.reads_at_backup && M::is_read_only(input) {
        Node::Backup
    } else {
        Node::Primary
    }
}
