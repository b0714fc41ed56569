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
//! Replicas keep their state in memory only. A replica that restarts after
//! a crash asks the other for a snapshot (the machine, how many commands it
//! has applied, the command in progress, and each client's last request
//! with its output) and serves nothing until it has one; then it asks every
//! client to resend the request it is still waiting for, which the crash
//! may have lost. The per-client table makes that safe: a resent request
//! that already took effect is answered from the table, never applied
//! twice. A client numbers its requests durably, so a reply to a request
//! made before a crash is never taken for a newer one.
//!
//! # Assumes and guarantees
//!
//! - Assumes: a reliable FIFO network (wrap it in
//!   [`crate::transform::Reliable`] for a lossy one); at any time at least
//!   one replica holds the replicated state, i.e. the two replicas are not
//!   both down or recovering at once (true when at most one crash happens,
//!   `--faults crash=1`). No failover: a primary that never comes back
//!   stops the service, safely.
//! - Guarantees: linearizability with respect to `M` — the system's
//!   `linearizable` history invariant checks every history the checker
//!   reaches — and each command takes effect at most once. After a replica
//!   restarts, every client's pending request is resent, so a crash loses
//!   no request of a client that stays up (a client that crashes moves on;
//!   its pending operation may or may not have taken effect, which
//!   linearizability allows).
//!
//! [`PbBug`] selects a deliberately broken variant, for showing what the
//! check catches.

use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;

use serde::{Deserialize, Serialize};

use crate::ctx::Effects;
use crate::meta::{
    FieldMeta, HandlerId, HandlerMeta, InvariantId, InvariantMeta, InvariantScope, KindId, RoleId,
    RoleMeta, SystemMeta, TimerId, TriggerMeta,
};
use crate::semantics::World;
use crate::setup::{Cluster, Setup};
use crate::system::{System, Trigger};
use crate::transform::layer::cached_meta;
use crate::transform::state_machine::{check_linearizable, StateMachine};

/// State machine `M` replicated on a primary and a backup. See the
/// [module documentation](self).
pub struct PrimaryBackup<M>(PhantomData<fn() -> M>);

crate::transform::layer::marker_traits!(PrimaryBackup<M>);

/// A node of [`PrimaryBackup`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum PbNode {
    /// Orders commands and replies.
    Primary,
    /// Holds a copy; answers reads.
    Backup,
    /// Receives commands from the outside world and returns their outputs.
    Client(u8),
}

impl fmt::Display for PbNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PbNode::Primary => f.write_str("Primary"),
            PbNode::Backup => f.write_str("Backup"),
            PbNode::Client(i) => write!(f, "Client({i})"),
        }
    }
}

impl fmt::Debug for PbNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A command in the primary's queue: who asked, their request number, what.
pub type Command<I> = (PbNode, u32, I);

/// A message of [`PrimaryBackup`].
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(bound = "")]
pub enum PbMsg<M: StateMachine> {
    /// A client's command, numbered by the client.
    Request {
        /// The client's request number.
        id: u32,
        /// The command.
        input: M::Input,
    },
    /// The output of a client's command.
    Reply {
        /// The request number it answers.
        id: u32,
        /// The output.
        output: M::Output,
    },
    /// Command number `index` of the log, for the backup to apply.
    Forward {
        /// Its position in the log.
        index: u64,
        /// The command.
        command: Command<M::Input>,
    },
    /// The backup has applied command number `index`.
    Ack {
        /// Its position in the log.
        index: u64,
    },
    /// A restarted replica asks for the state.
    Sync,
    /// The replicated state, for a restarted replica.
    Snapshot {
        /// The machine.
        machine: M,
        /// How many commands it has applied.
        applied: u64,
        /// The command in progress (forwarded, not yet acknowledged).
        pending: Option<Command<M::Input>>,
        /// Each client's last applied request and its output.
        sessions: Sessions<M::Output>,
    },
    /// A replica has recovered: resend the request you wait for.
    Resend,
}

/// Per client, the number of its last applied request and that request's
/// output, sorted by client: the replicated record that makes a resent
/// request take effect at most once.
pub type Sessions<O> = Vec<(PbNode, u32, O)>;

/// The last applied request of `client` in `sessions`, if any.
fn session<O>(sessions: &Sessions<O>, client: PbNode) -> Option<(u32, &O)> {
    sessions
        .binary_search_by(|(c, _, _)| c.cmp(&client))
        .ok()
        .map(|i| (sessions[i].1, &sessions[i].2))
}

/// Records that `client`'s request `id` was applied with `output`.
fn record<O>(sessions: &mut Sessions<O>, client: PbNode, id: u32, output: O) {
    match sessions.binary_search_by(|(c, _, _)| c.cmp(&client)) {
        Ok(i) => sessions[i] = (client, id, output),
        Err(i) => sessions.insert(i, (client, id, output)),
    }
}

impl<M: StateMachine> fmt::Debug for PbMsg<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PbMsg::Request { id, input } => write!(f, "Request #{id} {input:?}"),
            PbMsg::Reply { id, output } => write!(f, "Reply #{id} {output:?}"),
            PbMsg::Forward { index, command } => {
                write!(
                    f,
                    "Forward [{index}] {:?} (#{} of {})",
                    command.2, command.1, command.0
                )
            }
            PbMsg::Ack { index } => write!(f, "Ack [{index}]"),
            PbMsg::Sync => f.write_str("Sync"),
            PbMsg::Snapshot {
                machine,
                applied,
                pending,
                ..
            } => write!(
                f,
                "Snapshot {machine:?} applied {applied} pending {pending:?}"
            ),
            PbMsg::Resend => f.write_str("Resend"),
        }
    }
}

/// The primary's state.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct PrimaryState<M: StateMachine> {
    /// The machine after every acknowledged command.
    pub machine: M,
    /// How many commands have been acknowledged (the log position of the
    /// queue's head).
    pub committed: u64,
    /// Commands waiting, oldest first; the head has been forwarded.
    pub queue: VecDeque<Command<M::Input>>,
    /// Restarted and waiting for the backup's snapshot.
    pub recovering: bool,
    /// Each client's last acknowledged request and its output.
    pub sessions: Sessions<M::Output>,
}

/// The backup's state.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct BackupState<M: StateMachine> {
    /// The machine after every command applied.
    pub machine: M,
    /// How many commands it has applied.
    pub applied: u64,
    /// Restarted and waiting for the primary's snapshot.
    pub recovering: bool,
    /// Reads that arrived while recovering, answered after.
    pub waiting_reads: Vec<Command<M::Input>>,
    /// Each client's last applied request and its output.
    pub sessions: Sessions<M::Output>,
}

impl<M: StateMachine> Default for PrimaryState<M> {
    fn default() -> Self {
        PrimaryState {
            machine: M::default(),
            committed: 0,
            queue: VecDeque::new(),
            recovering: false,
            sessions: Vec::new(),
        }
    }
}

impl<M: StateMachine> Default for BackupState<M> {
    fn default() -> Self {
        BackupState {
            machine: M::default(),
            applied: 0,
            recovering: false,
            waiting_reads: Vec::new(),
            sessions: Vec::new(),
        }
    }
}

/// A client's state.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClientState<I> {
    /// The number of its next request (durable).
    pub next_request: u32,
    /// The request it waits for, kept to resend it.
    pub pending: Option<(u32, I)>,
}

impl<I> Default for ClientState<I> {
    fn default() -> Self {
        ClientState {
            next_request: 0,
            pending: None,
        }
    }
}

/// The state of a node of [`PrimaryBackup`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(bound = "")]
pub enum PbState<M: StateMachine> {
    /// The primary's.
    Primary(PrimaryState<M>),
    /// The backup's.
    Backup(BackupState<M>),
    /// A client's.
    Client(ClientState<M::Input>),
}

/// Deliberate bugs, for showing what the checker catches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PbBug {
    /// The primary applies and replies as soon as a command arrives, before
    /// the backup has it: a read at the backup can miss a write that has
    /// already returned.
    ReplyBeforeAck,
    /// A restarted replica serves from its empty initial state instead of
    /// fetching a snapshot.
    NoStateTransfer,
}

/// The settings of [`PrimaryBackup`].
#[derive(Clone, Debug)]
pub struct PbConfig {
    /// Answer read-only commands at the backup (as Verdi's primary-backup
    /// does) rather than at the primary.
    pub reads_at_backup: bool,
    /// A deliberate bug, or `None` for the correct protocol.
    pub bug: Option<PbBug>,
}

impl Default for PbConfig {
    fn default() -> Self {
        PbConfig {
            reads_at_backup: true,
            bug: None,
        }
    }
}

// Roles, message kinds and handler ids, in metadata order.
const PRIMARY: RoleId = 0;
const BACKUP: RoleId = 1;
const CLIENT: RoleId = 2;
const REQUEST: KindId = 0;
const REPLY: KindId = 1;
const FORWARD: KindId = 2;
const ACK: KindId = 3;
const SYNC: KindId = 4;
const SNAPSHOT: KindId = 5;
const RESEND: KindId = 6;

mod handler {
    use crate::meta::HandlerId;
    pub const PRIMARY_REQUEST: HandlerId = 0;
    pub const PRIMARY_ACK: HandlerId = 1;
    pub const PRIMARY_SYNC: HandlerId = 2;
    pub const PRIMARY_SNAPSHOT: HandlerId = 3;
    pub const PRIMARY_RESTART: HandlerId = 4;
    pub const BACKUP_FORWARD: HandlerId = 5;
    pub const BACKUP_REQUEST: HandlerId = 6;
    pub const BACKUP_SYNC: HandlerId = 7;
    pub const BACKUP_SNAPSHOT: HandlerId = 8;
    pub const BACKUP_RESTART: HandlerId = 9;
    pub const CLIENT_INPUT: HandlerId = 10;
    pub const CLIENT_REPLY: HandlerId = 11;
    pub const CLIENT_RESEND: HandlerId = 12;
}

fn field(name: &'static str, ty: &'static str, init: &'static str, durable: bool) -> FieldMeta {
    FieldMeta {
        name,
        ty,
        init,
        durable,
    }
}

#[allow(clippy::too_many_arguments)]
fn h(
    role: RoleId,
    trigger: TriggerMeta,
    name: &'static str,
    reads: u64,
    writes: u64,
    sends: &'static [KindId],
    emits: &'static [KindId],
) -> HandlerMeta {
    HandlerMeta {
        role,
        trigger,
        name,
        reads,
        writes,
        sends,
        emits,
        sets: &[],
    }
}

fn build_meta<M: StateMachine>() -> SystemMeta {
    use TriggerMeta::{Input, Message, Restart};
    // Field bits: Primary machine 1, committed 2, queue 4, recovering 8,
    // sessions 16; Backup machine 1, applied 2, recovering 4,
    // waiting_reads 8, sessions 16; Client next_request 1, pending 2.
    let name = format!("PrimaryBackup<{}>", short_type_name::<M>());
    let roles = vec![
        RoleMeta {
            name: "Primary",
            param: None,
            fields: Box::leak(Box::new([
                field("machine", "M", "M::default()", false),
                field("committed", "u64", "0", false),
                field("queue", "VecDeque<Command>", "VecDeque::new()", false),
                field("recovering", "bool", "false", false),
                field("sessions", "Sessions", "Vec::new()", false),
            ])),
        },
        RoleMeta {
            name: "Backup",
            param: None,
            fields: Box::leak(Box::new([
                field("machine", "M", "M::default()", false),
                field("applied", "u64", "0", false),
                field("recovering", "bool", "false", false),
                field("waiting_reads", "Vec<Command>", "Vec::new()", false),
                field("sessions", "Sessions", "Vec::new()", false),
            ])),
        },
        RoleMeta {
            name: "Client",
            param: Some("u8"),
            fields: Box::leak(Box::new([
                field("next_request", "u32", "0", true),
                field("pending", "Option<(u32, Input)>", "None", false),
            ])),
        },
    ];
    // Footprints: reads, then writes, as field bits (see above).
    let handlers = vec![
        h(
            PRIMARY,
            Message(REQUEST),
            "Primary on message Request",
            2 | 8 | 16,
            1 | 4,
            &[FORWARD, REPLY],
            &[],
        ),
        h(
            PRIMARY,
            Message(ACK),
            "Primary on message Ack",
            8,
            1 | 2 | 4 | 16,
            &[FORWARD, REPLY],
            &[],
        ),
        h(
            PRIMARY,
            Message(SYNC),
            "Primary on message Sync",
            1 | 2 | 4 | 8 | 16,
            0,
            &[SNAPSHOT],
            &[],
        ),
        h(
            PRIMARY,
            Message(SNAPSHOT),
            "Primary on message Snapshot",
            4,
            1 | 2 | 8 | 16,
            &[FORWARD, RESEND],
            &[],
        ),
        h(
            PRIMARY,
            Restart,
            "Primary on restart",
            0,
            1 | 2 | 4 | 8 | 16,
            &[SYNC, RESEND],
            &[],
        ),
        h(
            BACKUP,
            Message(FORWARD),
            "Backup on message Forward",
            4,
            1 | 2 | 16,
            &[ACK],
            &[],
        ),
        h(
            BACKUP,
            Message(REQUEST),
            "Backup on message Request",
            1 | 4,
            8,
            &[REPLY],
            &[],
        ),
        h(
            BACKUP,
            Message(SYNC),
            "Backup on message Sync",
            1 | 2 | 4 | 16,
            0,
            &[SNAPSHOT],
            &[],
        ),
        h(
            BACKUP,
            Message(SNAPSHOT),
            "Backup on message Snapshot",
            0,
            1 | 2 | 4 | 8 | 16,
            &[ACK, REPLY, RESEND],
            &[],
        ),
        h(
            BACKUP,
            Restart,
            "Backup on restart",
            0,
            1 | 2 | 4 | 8 | 16,
            &[SYNC, RESEND],
            &[],
        ),
        h(
            CLIENT,
            Input(0),
            "Client on input Command",
            0,
            1 | 2,
            &[REQUEST],
            &[],
        ),
        h(
            CLIENT,
            Message(REPLY),
            "Client on message Reply",
            0,
            2,
            &[],
            &[0],
        ),
        h(
            CLIENT,
            Message(RESEND),
            "Client on message Resend",
            2,
            0,
            &[REQUEST],
            &[],
        ),
    ];
    let invariants = vec![InvariantMeta {
        name: "linearizable",
        scope: InvariantScope::Trace,
        reads_fields: &[],
        reads_network: false,
        reads_trace: false,
        // The order of concurrent calls and of concurrent replies does not
        // matter to linearizability, so the checker may merge worlds that
        // differ only in it.
        reads_history: true,
    }];
    SystemMeta {
        name: Box::leak(name.into_boxed_str()),
        roles: Box::leak(roles.into_boxed_slice()),
        inputs: &["Command"],
        outputs: &["Output"],
        messages: &[
            "Request", "Reply", "Forward", "Ack", "Sync", "Snapshot", "Resend",
        ],
        timers: &[],
        handlers: Box::leak(handlers.into_boxed_slice()),
        invariants: Box::leak(invariants.into_boxed_slice()),
    }
}

/// `KvStore` for `my_crate::kv::KvStore<u8>`: the last path segment, generics kept.
fn short_type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    let start = base.rfind("::").map_or(0, |i| i + 2);
    &full[start..]
}

/// Effects of [`PrimaryBackup`], for short.
type Fx<M> = Effects<PrimaryBackup<M>>;

fn reply<M: StateMachine>(fx: &mut Fx<M>, to: PbNode, id: u32, output: M::Output) {
    fx.sends.push((to, PbMsg::Reply { id, output }));
}

/// Answers a read from a copy of `machine`, which it must not change.
fn read<M: StateMachine>(machine: &M, input: &M::Input) -> M::Output {
    machine.clone().apply(input)
}

impl<M: StateMachine> PrimaryState<M> {
    /// Forwards the head of the queue to the backup, if there is one.
    fn forward_head(&self, fx: &mut Fx<M>) {
        if let Some(command) = self.queue.front() {
            fx.sends.push((
                PbNode::Backup,
                PbMsg::Forward {
                    index: self.committed,
                    command: command.clone(),
                },
            ));
        }
    }
}

/// Asks every client to resend the request it waits for: a replica has
/// recovered, and the crash may have lost requests on their way to it.
fn resend_to_clients<M: StateMachine>(nodes: &[PbNode], fx: &mut Fx<M>) {
    for &node in nodes {
        if matches!(node, PbNode::Client(_)) {
            fx.sends.push((node, PbMsg::Resend));
        }
    }
}

impl<M: StateMachine> PrimaryState<M> {
    /// Answers `client`'s request `id` from the sessions if it already took
    /// effect (or is older than one that did); returns whether it did.
    fn answered(&self, client: PbNode, id: u32, fx: &mut Fx<M>) -> bool {
        match session(&self.sessions, client) {
            Some((last, out)) if last == id => {
                reply::<M>(fx, client, id, out.clone());
                true
            }
            Some((last, _)) => last > id,
            None => false,
        }
    }
}

fn primary<M: StateMachine>(
    config: &PbConfig,
    nodes: &[PbNode],
    st: &mut PrimaryState<M>,
    trigger: Trigger<PrimaryBackup<M>>,
    fx: &mut Fx<M>,
) -> Option<HandlerId> {
    let bug = config.bug;
    match trigger {
        Trigger::Message {
            from,
            msg: PbMsg::Request { id, input },
        } => {
            let queued = st.queue.iter().any(|(c, i, _)| *c == from && *i == id);
            if !config.reads_at_backup && M::is_read_only(&input) && !st.recovering {
                // Reads at the primary see every acknowledged command.
                let out = read(&st.machine, &input);
                reply::<M>(fx, from, id, out);
            } else if queued || (!st.recovering && st.answered(from, id, fx)) {
                // A resent request already queued or already applied.
            } else {
                // Anything else goes through the log, in arrival order.
                if bug == Some(PbBug::ReplyBeforeAck) {
                    let out = st.machine.apply(&input);
                    record(&mut st.sessions, from, id, out.clone());
                    reply::<M>(fx, from, id, out);
                }
                st.queue.push_back((from, id, input));
                if st.queue.len() == 1 && !st.recovering {
                    st.forward_head(fx);
                }
            }
            Some(handler::PRIMARY_REQUEST)
        }
        Trigger::Message {
            msg: PbMsg::Ack { index },
            ..
        } => {
            if index == st.committed && !st.recovering {
                if let Some((client, id, input)) = st.queue.pop_front() {
                    if bug != Some(PbBug::ReplyBeforeAck) {
                        let out = st.machine.apply(&input);
                        record(&mut st.sessions, client, id, out.clone());
                        reply::<M>(fx, client, id, out);
                    }
                    st.committed += 1;
                    st.forward_head(fx);
                }
            }
            Some(handler::PRIMARY_ACK)
        }
        Trigger::Message {
            from,
            msg: PbMsg::Sync,
        } => {
            if !st.recovering {
                fx.sends.push((
                    from,
                    PbMsg::Snapshot {
                        machine: st.machine.clone(),
                        applied: st.committed,
                        pending: st.queue.front().cloned(),
                        sessions: st.sessions.clone(),
                    },
                ));
            }
            Some(handler::PRIMARY_SYNC)
        }
        Trigger::Message {
            msg:
                PbMsg::Snapshot {
                    machine,
                    applied,
                    sessions,
                    ..
                },
            ..
        } => {
            if st.recovering {
                st.machine = machine;
                st.committed = applied;
                st.sessions = sessions;
                st.recovering = false;
                // Requests that arrived while recovering may be resends of
                // ones the backup has applied: answer those from the
                // sessions instead of applying them again.
                let queue = std::mem::take(&mut st.queue);
                for (client, id, input) in queue {
                    if !st.answered(client, id, fx) {
                        st.queue.push_back((client, id, input));
                    }
                }
                st.forward_head(fx);
                resend_to_clients::<M>(nodes, fx);
            }
            Some(handler::PRIMARY_SNAPSHOT)
        }
        Trigger::Restart => {
            if bug == Some(PbBug::NoStateTransfer) {
                resend_to_clients::<M>(nodes, fx);
            } else {
                st.recovering = true;
                fx.sends.push((PbNode::Backup, PbMsg::Sync));
            }
            Some(handler::PRIMARY_RESTART)
        }
        _ => None,
    }
}

impl<M: StateMachine> BackupState<M> {
    /// Applies log entry `index` if it is the next one, and acknowledges
    /// every entry it has applied (a repeat means the ack was lost).
    fn apply(&mut self, index: u64, command: Command<M::Input>, fx: &mut Fx<M>) {
        if index == self.applied {
            let (client, id, input) = command;
            let out = self.machine.apply(&input);
            record(&mut self.sessions, client, id, out);
            self.applied += 1;
        }
        if index < self.applied {
            fx.sends.push((PbNode::Primary, PbMsg::Ack { index }));
        }
    }
}

fn backup<M: StateMachine>(
    config: &PbConfig,
    nodes: &[PbNode],
    st: &mut BackupState<M>,
    trigger: Trigger<PrimaryBackup<M>>,
    fx: &mut Fx<M>,
) -> Option<HandlerId> {
    match trigger {
        Trigger::Message {
            msg: PbMsg::Forward { index, command },
            ..
        } => {
            if !st.recovering {
                st.apply(index, command, fx);
            }
            Some(handler::BACKUP_FORWARD)
        }
        Trigger::Message {
            from,
            msg: PbMsg::Request { id, input },
        } => {
            if st.recovering {
                st.waiting_reads.push((from, id, input));
            } else {
                let out = read(&st.machine, &input);
                reply::<M>(fx, from, id, out);
            }
            Some(handler::BACKUP_REQUEST)
        }
        Trigger::Message {
            from,
            msg: PbMsg::Sync,
        } => {
            if !st.recovering {
                fx.sends.push((
                    from,
                    PbMsg::Snapshot {
                        machine: st.machine.clone(),
                        applied: st.applied,
                        pending: None,
                        sessions: st.sessions.clone(),
                    },
                ));
            }
            Some(handler::BACKUP_SYNC)
        }
        Trigger::Message {
            msg:
                PbMsg::Snapshot {
                    machine,
                    applied,
                    pending,
                    sessions,
                },
            ..
        } => {
            if st.recovering {
                st.machine = machine;
                st.applied = applied;
                st.sessions = sessions;
                st.recovering = false;
                if let Some(command) = pending {
                    st.apply(applied, command, fx);
                }
                for (client, id, input) in std::mem::take(&mut st.waiting_reads) {
                    let out = read(&st.machine, &input);
                    reply::<M>(fx, client, id, out);
                }
                resend_to_clients::<M>(nodes, fx);
            }
            Some(handler::BACKUP_SNAPSHOT)
        }
        Trigger::Restart => {
            if config.bug == Some(PbBug::NoStateTransfer) {
                resend_to_clients::<M>(nodes, fx);
            } else {
                st.recovering = true;
                fx.sends.push((PbNode::Primary, PbMsg::Sync));
            }
            Some(handler::BACKUP_RESTART)
        }
        _ => None,
    }
}

/// Where a client sends `input`: reads to the backup when it serves them.
fn route<M: StateMachine>(config: &PbConfig, input: &M::Input) -> PbNode {
    if config.reads_at_backup && M::is_read_only(input) {
        PbNode::Backup
    } else {
        PbNode::Primary
    }
}

fn client<M: StateMachine>(
    config: &PbConfig,
    st: &mut ClientState<M::Input>,
    trigger: Trigger<PrimaryBackup<M>>,
    fx: &mut Fx<M>,
) -> Option<HandlerId> {
    match trigger {
        Trigger::Input(input) => {
            let id = st.next_request;
            st.next_request += 1;
            st.pending = Some((id, input.clone()));
            fx.sends
                .push((route::<M>(config, &input), PbMsg::Request { id, input }));
            Some(handler::CLIENT_INPUT)
        }
        Trigger::Message {
            msg: PbMsg::Reply { id, output },
            ..
        } => {
            if st.pending.as_ref().is_some_and(|(p, _)| *p == id) {
                st.pending = None;
                fx.outputs.push(output);
            }
            Some(handler::CLIENT_REPLY)
        }
        Trigger::Message {
            msg: PbMsg::Resend, ..
        } => {
            if let Some((id, input)) = &st.pending {
                let request = PbMsg::Request {
                    id: *id,
                    input: input.clone(),
                };
                fx.sends.push((route::<M>(config, input), request));
            }
            Some(handler::CLIENT_RESEND)
        }
        _ => None,
    }
}

impl<M: StateMachine> System for PrimaryBackup<M> {
    type Node = PbNode;
    type State = PbState<M>;
    type Input = M::Input;
    type Output = M::Output;
    type Msg = PbMsg<M>;
    type Timer = ();
    type Config = PbConfig;

    fn meta() -> &'static SystemMeta {
        cached_meta::<Self>(build_meta::<M>)
    }

    fn node(role: RoleId, instance: usize) -> PbNode {
        match role {
            PRIMARY => PbNode::Primary,
            BACKUP => PbNode::Backup,
            _ => PbNode::Client(u8::try_from(instance).unwrap_or(u8::MAX)),
        }
    }

    fn role_of(node: PbNode) -> RoleId {
        match node {
            PbNode::Primary => PRIMARY,
            PbNode::Backup => BACKUP,
            PbNode::Client(_) => CLIENT,
        }
    }

    fn instance_of(node: PbNode) -> usize {
        match node {
            PbNode::Client(i) => i as usize,
            _ => 0,
        }
    }

    fn initial_state(node: PbNode, _config: &PbConfig) -> PbState<M> {
        match node {
            PbNode::Primary => PbState::Primary(PrimaryState::default()),
            PbNode::Backup => PbState::Backup(BackupState::default()),
            PbNode::Client(_) => PbState::Client(ClientState::default()),
        }
    }

    fn dispatch(
        cluster: Cluster<'_, PbNode, PbConfig>,
        _node: PbNode,
        state: &mut PbState<M>,
        trigger: Trigger<Self>,
        effects: &mut Effects<Self>,
    ) -> Option<HandlerId> {
        let (config, nodes) = (cluster.config, cluster.nodes);
        match state {
            PbState::Primary(st) => primary(config, nodes, st, trigger, effects),
            PbState::Backup(st) => backup(config, nodes, st, trigger, effects),
            PbState::Client(st) => client(config, st, trigger, effects),
        }
    }

    fn crash(_node: PbNode, state: &mut PbState<M>, _config: &PbConfig) {
        match state {
            PbState::Primary(st) => *st = PrimaryState::default(),
            PbState::Backup(st) => *st = BackupState::default(),
            PbState::Client(st) => st.pending = None,
        }
    }

    fn timer_id(_timer: ()) -> TimerId {
        0
    }

    fn timer(_id: TimerId) {}

    fn input_kind(_input: &M::Input) -> KindId {
        0
    }

    fn output_kind(_output: &M::Output) -> KindId {
        0
    }

    fn message_kind(msg: &PbMsg<M>) -> KindId {
        match msg {
            PbMsg::Request { .. } => REQUEST,
            PbMsg::Reply { .. } => REPLY,
            PbMsg::Forward { .. } => FORWARD,
            PbMsg::Ack { .. } => ACK,
            PbMsg::Sync => SYNC,
            PbMsg::Snapshot { .. } => SNAPSHOT,
            PbMsg::Resend => RESEND,
        }
    }

    fn check_global(
        invariant: InvariantId,
        _setup: &Setup<Self>,
        world: &World<Self>,
    ) -> Result<(), String> {
        match invariant {
            0 => check_linearizable::<M, Self>(&world.trace),
            _ => Ok(()),
        }
    }

    fn check_local(
        _invariant: InvariantId,
        _node: PbNode,
        _state: &PbState<M>,
    ) -> Result<(), String> {
        Ok(())
    }

    fn fields(state: &PbState<M>) -> Vec<(&'static str, String)> {
        match state {
            PbState::Primary(s) => vec![
                ("machine", format!("{:?}", s.machine)),
                ("committed", s.committed.to_string()),
                ("queue", format!("{:?}", s.queue)),
                ("recovering", s.recovering.to_string()),
                ("sessions", format!("{:?}", s.sessions)),
            ],
            PbState::Backup(s) => vec![
                ("machine", format!("{:?}", s.machine)),
                ("applied", s.applied.to_string()),
                ("recovering", s.recovering.to_string()),
                ("waiting_reads", format!("{:?}", s.waiting_reads)),
                ("sessions", format!("{:?}", s.sessions)),
            ],
            PbState::Client(s) => vec![
                ("next_request", s.next_request.to_string()),
                ("pending", format!("{:?}", s.pending)),
            ],
        }
    }
}
