//! A key-value store in the style of Verdi's vard: get, put, delete,
//! compare-and-set and compare-and-delete over small keys and values.
//!
//! [`Store`] is the state machine and, being deterministic and applied one
//! command at a time, its own sequential specification. It is served two
//! ways:
//! - [`Kv`], written with `system!`: one server holding the store in
//!   memory, and clients. Linearizable on a reliable network; a crash of the
//!   server loses the store, and the `linearizable` invariant catches it.
//! - `PrimaryBackup<Store>`, the generic primary-backup transformer: the
//!   store replicated on a primary and a backup, linearizable through the
//!   crash and restart of either replica.
//! - `Raft<Store>`, the generic Raft transformer: the store replicated on
//!   any number of servers, linearizable through crashes of a minority.
//!
//! Clients follow fixed scripts ([`SCRIPTS`]) chosen so that every kind of
//! command meets every other on the same key.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use verdict::prelude::*;
use verdict::transform::{
    PbBug, PbConfig, PbRole, PrimaryBackup, Raft, RaftConfig, RaftRole, StateMachine,
    RAFT_BOUNDED_STALLS,
};
use verdict::{NodeWorkload, SetupError};

/// A key.
pub type Key = u8;
/// A value.
pub type Value = u8;

/// A command.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KvInput {
    /// Read a key.
    Get(Key),
    /// Set a key.
    Put(Key, Value),
    /// Remove a key.
    Del(Key),
    /// Set `key` to `new` if it holds `expected`.
    Cas {
        /// The key.
        key: Key,
        /// The value it must hold.
        expected: Value,
        /// The value it gets.
        new: Value,
    },
    /// Remove `key` if it holds `expected`.
    Cad {
        /// The key.
        key: Key,
        /// The value it must hold.
        expected: Value,
    },
}

impl KvInput {
    /// The key the command touches.
    pub fn key(&self) -> Key {
        match *self {
            KvInput::Get(k) | KvInput::Put(k, _) | KvInput::Del(k) => k,
            KvInput::Cas { key, .. } | KvInput::Cad { key, .. } => key,
        }
    }
}

impl fmt::Debug for KvInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KvInput::Get(k) => write!(f, "Get(k{k})"),
            KvInput::Put(k, v) => write!(f, "Put(k{k}, {v})"),
            KvInput::Del(k) => write!(f, "Del(k{k})"),
            KvInput::Cas { key, expected, new } => write!(f, "Cas(k{key}, {expected} -> {new})"),
            KvInput::Cad { key, expected } => write!(f, "Cad(k{key}, {expected})"),
        }
    }
}

/// What a command returns.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KvOutput {
    /// A get's result (`None`: absent).
    Value(Option<Value>),
    /// A put or delete happened.
    Ok,
    /// Whether a compare-and-set or compare-and-delete found the expected
    /// value (and so changed the store).
    Success(bool),
}

impl fmt::Debug for KvOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KvOutput::Value(Some(v)) => write!(f, "Value({v})"),
            KvOutput::Value(None) => write!(f, "Absent"),
            KvOutput::Ok => write!(f, "Ok"),
            KvOutput::Success(b) => write!(f, "Success({b})"),
        }
    }
}

/// The store: present keys and their values.
#[derive(Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Store(pub BTreeMap<Key, Value>);

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries: Vec<String> = self.0.iter().map(|(k, v)| format!("k{k}: {v}")).collect();
        write!(f, "{{{}}}", entries.join(", "))
    }
}

// Commands, outputs and the store name no nodes, so symmetry reduction
// may rename nodes around them (Raft's servers, for one).
verdict::relabel_nothing!(KvInput, KvOutput, Store);

impl StateMachine for Store {
    type Input = KvInput;
    type Output = KvOutput;

    fn apply(&mut self, input: &KvInput) -> KvOutput {
        let map = &mut self.0;
        match *input {
            KvInput::Get(k) => KvOutput::Value(map.get(&k).copied()),
            KvInput::Put(k, v) => {
                map.insert(k, v);
                KvOutput::Ok
            }
            KvInput::Del(k) => {
                map.remove(&k);
                KvOutput::Ok
            }
            KvInput::Cas { key, expected, new } => {
                let hit = map.get(&key) == Some(&expected);
                if hit {
                    map.insert(key, new);
                }
                KvOutput::Success(hit)
            }
            KvInput::Cad { key, expected } => {
                let hit = map.get(&key) == Some(&expected);
                if hit {
                    map.remove(&key);
                }
                KvOutput::Success(hit)
            }
        }
    }

    fn is_read_only(input: &KvInput) -> bool {
        matches!(input, KvInput::Get(_))
    }

    fn partition_key(input: &KvInput) -> Option<u64> {
        Some(input.key() as u64)
    }
}

verdict::system! {
    /// The key-value store on a single server, in memory.
    pub system Kv;

    input type Input = KvInput;
    output type Output = KvOutput;
    message enum Msg {
        /// A client's command, numbered by the client.
        Request { id: u32, op: KvInput },
        /// The result of request `id`.
        Reply { id: u32, result: KvOutput },
    }

    role Server {
        state {
            /// The store, in memory only.
            store: Store = Store::default(),
        }

        on message Request { id, op } from client writes(store) sends(Reply) {
            let result = self.store.apply(&op);
            ctx.send(client, msg::Reply { id, result });
        }
    }

    role Client(u8) {
        state {
            /// The number of the next request; durable so that a reply to a
            /// request made before a crash is never taken for a newer one.
            #[durable]
            next: u32 = 0,
            /// The request this client waits for.
            pending: Option<u32> = None,
        }

        on input op: Input writes(next, pending) sends(Request) {
            let id = *self.next;
            *self.next += 1;
            *self.pending = Some(id);
            ctx.send(Node::Server, msg::Request { id, op });
        }

        on message Reply { id, result } from _server writes(pending) emits(Output) {
            if *self.pending == Some(id) {
                *self.pending = None;
                ctx.output(result);
            }
        }
    }

    /// Every history is linearizable with respect to the sequential store.
    invariant linearizable reads(history) {
        verdict::transform::check_linearizable::<Store, Kv>(self.history)
    }
}

/// The commands each client runs, in order (client `i` runs script `i mod 3`).
pub const SCRIPTS: [[KvInput; 3]; 3] = [
    [
        KvInput::Put(0, 1),
        KvInput::Cas {
            key: 0,
            expected: 1,
            new: 2,
        },
        KvInput::Del(0),
    ],
    [
        KvInput::Get(0),
        KvInput::Cad {
            key: 0,
            expected: 2,
        },
        KvInput::Put(0, 3),
    ],
    [
        KvInput::Del(0),
        KvInput::Get(0),
        KvInput::Cas {
            key: 0,
            expected: 3,
            new: 4,
        },
    ],
];

/// Each client (the nodes of role `clients`) runs the first `ops` commands
/// of its script, waiting for each result before the next command. Generic,
/// so the single server and the replicated store get the same workload.
pub fn workload<S: System<Input = KvInput>>(
    setup: &Setup<S>,
    clients: S::Role,
    ops: usize,
) -> Workload<S> {
    Workload::none(setup).each(setup, clients, |node| {
        let script = &SCRIPTS[S::instance_of(node) % SCRIPTS.len()];
        NodeWorkload::Script(
            script
                .iter()
                .take(ops)
                .map(|op| Step::call(op.clone()))
                .collect(),
        )
    })
}

/// The single-server store with `clients` clients.
pub fn single(clients: usize, ops: usize, faults: Faults) -> Result<Model<Kv>, SetupError> {
    let setup = Setup::new(&Sizes::new().with(Role::Client, clients))?;
    let workload = workload(&setup, Role::Client, ops);
    Ok(Model::new(setup, faults, workload))
}

/// The store replicated by primary-backup, optionally with a deliberate bug.
pub fn primary_backup(
    clients: usize,
    ops: usize,
    faults: Faults,
    bug: Option<PbBug>,
) -> Result<Model<PrimaryBackup<Store>>, SetupError> {
    let config = PbConfig {
        bug,
        ..PbConfig::default()
    };
    let setup = Setup::with_config(&Sizes::new().with(PbRole::Client, clients), config)?;
    let workload = workload(&setup, PbRole::Client, ops);
    Ok(Model::new(setup, faults, workload))
}

/// The store replicated by Raft on `servers` servers, with the given
/// configuration (bounds and deliberate bug).
pub fn raft(
    servers: usize,
    clients: usize,
    ops: usize,
    faults: Faults,
    config: RaftConfig,
) -> Result<Model<Raft<Store>>, SetupError> {
    let sizes = Sizes::new()
        .with(RaftRole::Server, servers)
        .with(RaftRole::Client, clients);
    let setup = Setup::with_config(&sizes, config)?;
    let workload = workload(&setup, RaftRole::Client, ops);
    Ok(Model::new(setup, faults, workload).allowing_deadlock(RAFT_BOUNDED_STALLS))
}
