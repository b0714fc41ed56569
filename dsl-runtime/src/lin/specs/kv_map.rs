//! A map from string keys to string values with get, put and append, where
//! every key starts as the empty string (Jepsen's and Porcupine's key-value
//! test).

use crate::lin::hash::hash_one;
use crate::lin::spec::Spec;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// An operation on a [`KvMap`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KvMapOp {
    /// Read the value of `key`.
    Get {
        /// The key.
        key: String,
    },
    /// Set `key` to `value`.
    Put {
        /// The key.
        key: String,
        /// The new value.
        value: String,
    },
    /// Add `value` at the end of the value of `key`.
    Append {
        /// The key.
        key: String,
        /// The text appended.
        value: String,
    },
}

impl KvMapOp {
    /// The key the operation touches.
    pub fn key(&self) -> &str {
        match self {
            KvMapOp::Get { key } | KvMapOp::Put { key, .. } | KvMapOp::Append { key, .. } => key,
        }
    }
}

/// What an operation on a [`KvMap`] returns.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KvMapRet {
    /// A get's result.
    Value(String),
    /// A put or append happened.
    Ok,
}

/// A string whose hash is computed once, so that hashing a map state costs
/// one word per key however long the values grow (appended values do).
#[derive(Clone)]
struct Text {
    hash: u64,
    text: Arc<str>,
}

impl Text {
    fn new(text: String) -> Self {
        Text {
            hash: hash_one(text.as_str()),
            text: text.into(),
        }
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && (Arc::ptr_eq(&self.text, &other.text) || self.text == other.text)
    }
}

impl Eq for Text {}

impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

/// The state of a [`KvMap`]: the keys whose value is not empty, sorted.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct KvMapState {
    entries: Vec<(Text, Text)>,
}

impl KvMapState {
    /// The value of `key` (empty when never written).
    pub fn get(&self, key: &str) -> &str {
        match self.find(key) {
            Ok(i) => &self.entries[i].1.text,
            Err(_) => "",
        }
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| (*k.text).cmp(key))
    }

    fn with(&self, key: &str, value: String) -> KvMapState {
        let mut next = self.clone();
        match (next.find(key), value.is_empty()) {
            (Ok(i), true) => {
                next.entries.remove(i);
            }
            (Ok(i), false) => next.entries[i].1 = Text::new(value),
            (Err(_), true) => {}
            (Err(i), false) => next
                .entries
                .insert(i, (Text::new(key.to_string()), Text::new(value))),
        }
        next
    }
}

impl fmt::Debug for KvMapState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(k, v)| (&*k.text, &*v.text)))
            .finish()
    }
}

/// A map of strings where absent keys read as `""`; partitioned by key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KvMap;

impl Spec for KvMap {
    type Op = KvMapOp;
    type Ret = KvMapRet;
    type State = KvMapState;

    fn init(&self) -> KvMapState {
        KvMapState::default()
    }

    fn step(
        &self,
        state: &KvMapState,
        op: &KvMapOp,
        ret: Option<&KvMapRet>,
        next: &mut Vec<KvMapState>,
    ) {
        match (op, ret) {
            (KvMapOp::Get { .. }, None) => next.push(state.clone()),
            (KvMapOp::Get { key }, Some(KvMapRet::Value(v))) => {
                if state.get(key) == v {
                    next.push(state.clone());
                }
            }
            (KvMapOp::Put { key, value }, None | Some(KvMapRet::Ok)) => {
                next.push(state.with(key, value.clone()));
            }
            (KvMapOp::Append { key, value }, None | Some(KvMapRet::Ok)) => {
                let old = state.get(key);
                let mut joined = String::with_capacity(old.len() + value.len());
                joined.push_str(old);
                joined.push_str(value);
                next.push(state.with(key, joined));
            }
            _ => {}
        }
    }

    fn is_read_only(&self, op: &KvMapOp, _ret: Option<&KvMapRet>) -> bool {
        matches!(op, KvMapOp::Get { .. })
    }

    fn partition_key(&self, op: &KvMapOp) -> Option<u64> {
        Some(hash_one(op.key()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(ops: &[KvMapOp]) -> KvMapState {
        let mut state = KvMap.init();
        for op in ops {
            let mut next = Vec::new();
            KvMap.step(&state, op, None, &mut next);
            state = next.pop().unwrap();
        }
        state
    }

    #[test]
    fn append_concatenates_and_empty_values_vanish() {
        let s = run(&[
            KvMapOp::Append {
                key: "k".into(),
                value: "ab".into(),
            },
            KvMapOp::Append {
                key: "k".into(),
                value: "c".into(),
            },
            KvMapOp::Put {
                key: "j".into(),
                value: "x".into(),
            },
        ]);
        assert_eq!(s.get("k"), "abc");
        assert_eq!(s.get("j"), "x");
        assert_eq!(s.get("z"), "");
        let cleared = run(&[
            KvMapOp::Put {
                key: "k".into(),
                value: "x".into(),
            },
            KvMapOp::Put {
                key: "k".into(),
                value: String::new(),
            },
        ]);
        assert_eq!(cleared, KvMap.init());
        assert_eq!(format!("{s:?}"), r#"{"j": "x", "k": "abc"}"#);
    }

    #[test]
    fn gets_must_match() {
        let s = run(&[KvMapOp::Put {
            key: "k".into(),
            value: "v".into(),
        }]);
        let get = KvMapOp::Get { key: "k".into() };
        let mut next = Vec::new();
        KvMap.step(&s, &get, Some(&KvMapRet::Value("w".into())), &mut next);
        assert!(next.is_empty());
        KvMap.step(&s, &get, Some(&KvMapRet::Value("v".into())), &mut next);
        assert_eq!(next, vec![s]);
    }
}
