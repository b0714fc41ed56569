//! A key-value store with byte-string keys and values and a subset of
//! Redis's string commands, replicated by Raft and spoken to with the
//! Redis protocol.
//!
//! [`RedisStore`] is the state machine (and its own sequential
//! specification). Deployed, it runs as `Raft<Tagged<RedisStore>>`: every
//! command carries the origin the RESP gateway gave it, and the server
//! that took the command emits the output when it applies the entry, so
//! the gateway answers the right connection. [`RedisService`] says how
//! Redis commands read as [`RedisCommand`]s and [`RedisReply`]s as RESP.
//!
//! The checked model ([`gateway_model`]) gives commands to the servers
//! themselves, as the gateway does, so the handlers that take, forward
//! and answer them are checked for linearizability.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use verdict::prelude::*;
use verdict::transform::{
    Asked, Raft, RaftConfig, RaftRole, StateMachine, Tagged, RAFT_BOUNDED_STALLS,
};
use verdict::{NodeWorkload, SetupError};

/// Bytes, shown as text where they are text.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
pub struct Bytes(pub Vec<u8>);

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(&self.0))
    }
}

impl From<&str> for Bytes {
    fn from(s: &str) -> Self {
        Bytes(s.as_bytes().to_vec())
    }
}

/// A command.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Debug)]
pub enum RedisCommand {
    /// `GET key`.
    Get(Bytes),
    /// `SET key value`.
    Set(Bytes, Bytes),
    /// `DEL key...`: how many existed.
    Del(Vec<Bytes>),
    /// `EXISTS key...`: how many exist (a key named twice counts twice).
    Exists(Vec<Bytes>),
    /// `INCR key`: the value as a 64-bit integer, plus one.
    Incr(Bytes),
    /// `APPEND key value`: the new length.
    Append(Bytes, Bytes),
    /// `MGET key...`.
    MGet(Vec<Bytes>),
    /// `CAS key expected new` (ours, not Redis's): set `key` to `new` if it
    /// holds `expected`; 1 if it did, else 0.
    Cas {
        /// The key.
        key: Bytes,
        /// The value it must hold.
        expected: Bytes,
        /// The value it gets.
        new: Bytes,
    },
}

/// What a command returns.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Debug)]
pub enum RedisReply {
    /// `+OK`.
    Ok,
    /// A value, or nil.
    Value(Option<Bytes>),
    /// An integer.
    Int(i64),
    /// Values, each or nil.
    Values(Vec<Option<Bytes>>),
    /// An error of the command (the store is unchanged).
    Error(String),
}

/// The store: present keys and their values.
#[derive(Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RedisStore(pub BTreeMap<Bytes, Bytes>);

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.0.iter()).finish()
    }
}

verdict::relabel_nothing!(Bytes, RedisCommand, RedisReply, RedisStore);

impl RedisCommand {
    /// The keys the command touches.
    pub fn keys(&self) -> &[Bytes] {
        match self {
            RedisCommand::Get(k)
            | RedisCommand::Set(k, _)
            | RedisCommand::Incr(k)
            | RedisCommand::Append(k, _)
            | RedisCommand::Cas { key: k, .. } => std::slice::from_ref(k),
            RedisCommand::Del(ks) | RedisCommand::Exists(ks) | RedisCommand::MGet(ks) => ks,
        }
    }
}

impl StateMachine for RedisStore {
    type Input = RedisCommand;
    type Output = RedisReply;

    fn apply(&mut self, command: &RedisCommand) -> RedisReply {
        let map = &mut self.0;
        match command {
            RedisCommand::Get(k) => RedisReply::Value(map.get(k).cloned()),
            RedisCommand::Set(k, v) => {
                map.insert(k.clone(), v.clone());
                RedisReply::Ok
            }
            RedisCommand::Del(ks) => {
                RedisReply::Int(ks.iter().filter(|k| map.remove(*k).is_some()).count() as i64)
            }
            RedisCommand::Exists(ks) => {
                RedisReply::Int(ks.iter().filter(|k| map.contains_key(*k)).count() as i64)
            }
            RedisCommand::Incr(k) => {
                let now = match map.get(k) {
                    None => Some(0),
                    Some(v) => std::str::from_utf8(&v.0)
                        .ok()
                        .and_then(|t| t.parse::<i64>().ok()),
                };
                match now.map(|n| n.checked_add(1)) {
                    None => RedisReply::Error("ERR value is not an integer or out of range".into()),
                    Some(None) => {
                        RedisReply::Error("ERR increment or decrement would overflow".into())
                    }
                    Some(Some(n)) => {
                        map.insert(k.clone(), Bytes(n.to_string().into_bytes()));
                        RedisReply::Int(n)
                    }
                }
            }
            RedisCommand::Append(k, v) => {
                let entry = map.entry(k.clone()).or_default();
                entry.0.extend_from_slice(&v.0);
                RedisReply::Int(entry.0.len() as i64)
            }
            RedisCommand::MGet(ks) => {
                RedisReply::Values(ks.iter().map(|k| map.get(k).cloned()).collect())
            }
            RedisCommand::Cas { key, expected, new } => {
                let hit = map.get(key) == Some(expected);
                if hit {
                    map.insert(key.clone(), new.clone());
                }
                RedisReply::Int(hit as i64)
            }
        }
    }

    fn is_read_only(command: &RedisCommand) -> bool {
        matches!(
            command,
            RedisCommand::Get(_) | RedisCommand::Exists(_) | RedisCommand::MGet(_)
        )
    }

    fn partition_key(command: &RedisCommand) -> Option<u64> {
        match command.keys() {
            [one] => Some(fnv(&one.0)),
            _ => None,
        }
    }
}

/// FNV-1a of a key, for the checker's per-key split.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The deployed system: the store, origin-tagged, replicated by Raft.
pub type RaftRedis = Raft<Tagged<RedisStore>>;

/// The commands the servers take in [`gateway_model`], one list per
/// server: writes and a read of one key meeting on different servers.
pub fn gateway_scripts() -> [Vec<RedisCommand>; 3] {
    let k = || Bytes::from("k");
    [
        vec![RedisCommand::Set(k(), Bytes::from("1"))],
        vec![RedisCommand::Incr(k())],
        vec![RedisCommand::Get(k())],
    ]
}

/// Raft on `servers` servers, no clients, each server taking the first
/// `ops` commands of its script (of [`gateway_scripts`]) as a gateway
/// gives them: the handlers that take, forward and answer server-side
/// commands, checked for linearizability.
pub fn gateway_model(
    servers: usize,
    ops: usize,
    faults: Faults,
    config: RaftConfig,
) -> Result<Model<RaftRedis>, SetupError> {
    let sizes = Sizes::new()
        .with(RaftRole::Server, servers)
        .with(RaftRole::Client, 0);
    let setup = Setup::with_config(&sizes, config)?;
    let workload = gateway_workload(&setup, ops);
    Ok(Model::new(setup, faults, workload).allowing_deadlock(RAFT_BOUNDED_STALLS))
}

/// The servers' inputs of [`gateway_model`]: server `i` runs script `i`
/// (mod 3), origins numbered per server.
pub fn gateway_workload(setup: &Setup<RaftRedis>, ops: usize) -> Workload<RaftRedis> {
    let scripts = gateway_scripts();
    Workload::none(setup).each(setup, RaftRole::Server, |node| {
        let i = RaftRedis::instance_of(node);
        NodeWorkload::Script(
            scripts[i % scripts.len()]
                .iter()
                .take(ops)
                .enumerate()
                .map(|(n, c)| {
                    Step::call(Asked {
                        origin: (i * 100 + n) as u64,
                        input: c.clone(),
                    })
                })
                .collect(),
        )
    })
}

#[cfg(feature = "runtime")]
pub use service::RedisService;

#[cfg(feature = "runtime")]
mod service {
    use super::*;
    use verdict::runtime::resp_gateway::arity;
    use verdict::runtime::{RespService, RespValue};
    use verdict::transform::{Answered, Origin};

    /// Redis commands as [`RedisCommand`]s, [`RedisReply`]s as RESP.
    pub struct RedisService;

    impl RespService<RaftRedis> for RedisService {
        fn input(
            &self,
            args: &[Vec<u8>],
            origin: Origin,
        ) -> Result<Asked<RedisCommand>, RespValue> {
            let name = String::from_utf8_lossy(&args[0]).to_ascii_uppercase();
            let b = |i: usize| Bytes(args[i].clone());
            let rest = || {
                args[1..]
                    .iter()
                    .map(|a| Bytes(a.clone()))
                    .collect::<Vec<_>>()
            };
            let n = args.len();
            let command = match name.as_str() {
                "GET" if n == 2 => RedisCommand::Get(b(1)),
                "SET" if n == 3 => RedisCommand::Set(b(1), b(2)),
                "SET" if n > 3 => {
                    return Err(RespValue::err(
                        "SET options (EX, NX, ...) are not supported",
                    ))
                }
                "DEL" if n >= 2 => RedisCommand::Del(rest()),
                "EXISTS" if n >= 2 => RedisCommand::Exists(rest()),
                "INCR" if n == 2 => RedisCommand::Incr(b(1)),
                "APPEND" if n == 3 => RedisCommand::Append(b(1), b(2)),
                "MGET" if n >= 2 => RedisCommand::MGet(rest()),
                "CAS" if n == 4 => RedisCommand::Cas {
                    key: b(1),
                    expected: b(2),
                    new: b(3),
                },
                "GET" | "SET" | "DEL" | "EXISTS" | "INCR" | "APPEND" | "MGET" | "CAS" => {
                    return Err(arity(&name))
                }
                _ => {
                    return Err(RespValue::err(format!(
                        "unknown command '{}'; this store serves GET SET DEL EXISTS INCR \
                         APPEND MGET CAS",
                        String::from_utf8_lossy(&args[0])
                    )))
                }
            };
            Ok(Asked {
                origin,
                input: command,
            })
        }

        fn reply(&self, output: &Answered<RedisReply>) -> Option<(Origin, RespValue)> {
            let value = match &output.output {
                RedisReply::Ok => RespValue::ok(),
                RedisReply::Value(v) => RespValue::bulk_or_nil(v.clone().map(|b| b.0)),
                RedisReply::Int(n) => RespValue::Integer(*n),
                RedisReply::Values(vs) => RespValue::Array(
                    vs.iter()
                        .map(|v| RespValue::bulk_or_nil(v.clone().map(|b| b.0)))
                        .collect(),
                ),
                RedisReply::Error(e) => RespValue::Error(e.clone()),
            };
            Some((output.origin, value))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_do_what_redis_does() {
        let mut s = RedisStore::default();
        let k = || Bytes::from("k");
        assert_eq!(s.apply(&RedisCommand::Incr(k())), RedisReply::Int(1));
        assert_eq!(
            s.apply(&RedisCommand::Append(k(), "0".into())),
            RedisReply::Int(2)
        );
        assert_eq!(s.apply(&RedisCommand::Incr(k())), RedisReply::Int(11));
        assert_eq!(
            s.apply(&RedisCommand::Cas {
                key: k(),
                expected: "11".into(),
                new: "x".into()
            }),
            RedisReply::Int(1)
        );
        assert!(matches!(
            s.apply(&RedisCommand::Incr(k())),
            RedisReply::Error(_)
        ));
        assert_eq!(
            s.apply(&RedisCommand::MGet(vec![k(), "no".into()])),
            RedisReply::Values(vec![Some("x".into()), None])
        );
        assert_eq!(
            s.apply(&RedisCommand::Exists(vec![k(), k(), "no".into()])),
            RedisReply::Int(2)
        );
        assert_eq!(
            s.apply(&RedisCommand::Del(vec![k(), k()])),
            RedisReply::Int(1)
        );
        assert_eq!(s.apply(&RedisCommand::Get(k())), RedisReply::Value(None));
    }
}
