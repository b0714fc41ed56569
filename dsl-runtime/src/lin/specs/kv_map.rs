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

/// A polynomial hash of strings, modulo 2^64, that can be extended by an
/// append in time proportional to the appended part:
/// `hash(a + b) = hash(a) * BASE^len(b) + hash(b)`. Equal texts hash
/// equally however they were built; unequal texts may collide (then they
/// are compared), which costs time, never correctness.
mod rolling {
    const BASE: u64 = 0x100_0000_01b3;

    pub(super) fn mul(a: u64, b: u64) -> u64 {
        a.wrapping_mul(b)
    }

    pub(super) fn add(a: u64, b: u64) -> u64 {
        a.wrapping_add(b)
    }

    /// The hash of `text` and `BASE^len(text)`.
    pub(super) fn of(text: &str) -> (u64, u64) {
        let (mut hash, mut power) = (0u64, 1u64);
        for &b in text.as_bytes() {
            hash = hash.wrapping_mul(BASE).wrapping_add(u64::from(b) + 1);
            power = power.wrapping_mul(BASE);
        }
        (hash, power)
    }
}

/// The text of one appended part: short ones (Jepsen appends a few bytes)
/// live inside the piece, saving an allocation per state.
enum Part {
    Inline { len: u8, bytes: [u8; 22] },
    Heap(Box<str>),
}

impl Part {
    fn new(text: &str) -> Part {
        if text.len() <= 22 {
            let mut bytes = [0; 22];
            bytes[..text.len()].copy_from_slice(text.as_bytes());
            Part::Inline {
                len: text.len() as u8,
                bytes,
            }
        } else {
            Part::Heap(text.into())
        }
    }

    fn as_str(&self) -> &str {
        match self {
            // Built from a whole `&str` in `Part::new`, so always UTF-8.
            Part::Inline { len, bytes } => {
                std::str::from_utf8(&bytes[..*len as usize]).unwrap_or("")
            }
            Part::Heap(text) => text,
        }
    }
}

/// One appended part of a value, linked to the value before it.
struct Piece {
    before: Option<Arc<Piece>>,
    part: Part,
    /// Length of the whole value up to and including this part.
    len: usize,
    /// Rolling hash of the whole value up to and including this part.
    hash: u64,
}

/// A value built by puts and appends. Appending allocates one small piece
/// that shares everything before it, and updates the hash from the appended
/// part alone; so a state costs the same however long its values grow (and
/// appended values do).
#[derive(Clone, Default)]
struct Text(Option<Arc<Piece>>);

impl Text {
    fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |p| p.len)
    }

    fn hash(&self) -> u64 {
        self.0.as_ref().map_or(0, |p| p.hash)
    }

    fn appended(&self, part: &str) -> Text {
        if part.is_empty() {
            return self.clone();
        }
        let (part_hash, power) = rolling::of(part);
        Text(Some(Arc::new(Piece {
            before: self.0.clone(),
            part: Part::new(part),
            len: self.len() + part.len(),
            hash: rolling::add(rolling::mul(self.hash(), power), part_hash),
        })))
    }

    /// Whether the value is `other`, comparing from the end so that a
    /// mismatch in the last append is found at once.
    fn equals(&self, mut other: &str) -> bool {
        if self.len() != other.len() {
            return false;
        }
        let mut at = &self.0;
        while let Some(piece) = at {
            match other.strip_suffix(piece.part.as_str()) {
                Some(rest) => other = rest,
                None => return false,
            }
            at = &piece.before;
        }
        other.is_empty()
    }

    fn to_text(&self) -> String {
        let mut parts = Vec::new();
        let mut at = &self.0;
        while let Some(piece) = at {
            parts.push(piece.part.as_str());
            at = &piece.before;
        }
        parts.iter().rev().copied().collect()
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        let (mut a, mut b) = (&self.0, &other.0);
        // Walk both lists while their pieces line up (the common case: the
        // same value built by the same appends twice); compare the texts
        // only when the pieces differ in shape.
        loop {
            match (a, b) {
                (None, None) => return true,
                (Some(x), Some(y)) => {
                    if Arc::ptr_eq(x, y) {
                        return true;
                    }
                    if x.len != y.len || x.hash != y.hash {
                        return false;
                    }
                    if x.part.as_str() != y.part.as_str() {
                        return Text(b.clone()).equals(&Text(a.clone()).to_text());
                    }
                    (a, b) = (&x.before, &y.before);
                }
                _ => return false,
            }
        }
    }
}

impl Eq for Text {}

impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash());
    }
}

/// The keys whose value is not empty, sorted; a single key (every state
/// of a per-key check) is kept without a vector, saving an allocation per
/// state. The representation is canonical (`One` exactly when there is one
/// key), so derived equality and hashing are right.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Entries {
    One((Arc<str>, Text)),
    Many(Vec<(Arc<str>, Text)>),
}

impl Default for Entries {
    fn default() -> Self {
        Entries::Many(Vec::new())
    }
}

impl Entries {
    fn as_slice(&self) -> &[(Arc<str>, Text)] {
        match self {
            Entries::One(pair) => std::slice::from_ref(pair),
            Entries::Many(pairs) => pairs,
        }
    }

    fn from_vec(mut pairs: Vec<(Arc<str>, Text)>) -> Entries {
        match pairs.pop() {
            Some(only) if pairs.is_empty() => Entries::One(only),
            Some(last) => {
                pairs.push(last);
                Entries::Many(pairs)
            }
            None => Entries::Many(pairs),
        }
    }
}

/// The state of a [`KvMap`]: the keys whose value is not empty.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct KvMapState {
    entries: Entries,
}

impl KvMapState {
    /// The value of `key` (empty when never written).
    pub fn get(&self, key: &str) -> String {
        match self.find(key) {
            Ok(i) => self.entries.as_slice()[i].1.to_text(),
            Err(_) => String::new(),
        }
    }

    /// Whether the value of `key` is `value`.
    pub fn holds(&self, key: &str, value: &str) -> bool {
        match self.find(key) {
            Ok(i) => self.entries.as_slice()[i].1.equals(value),
            Err(_) => value.is_empty(),
        }
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.entries
            .as_slice()
            .binary_search_by(|(k, _)| (**k).cmp(key))
    }

    fn with(&self, key: &str, value: Text) -> KvMapState {
        let empty = value.len() == 0;
        if let Entries::One((k, _)) = &self.entries {
            if **k == *key && !empty {
                return KvMapState {
                    entries: Entries::One((k.clone(), value)),
                };
            }
        }
        if self.entries.as_slice().is_empty() && !empty {
            return KvMapState {
                entries: Entries::One((key.into(), value)),
            };
        }
        let mut pairs = self.entries.as_slice().to_vec();
        match (self.find(key), empty) {
            (Ok(i), true) => {
                pairs.remove(i);
            }
            (Ok(i), false) => pairs[i].1 = value,
            (Err(_), true) => {}
            (Err(i), false) => pairs.insert(i, (key.into(), value)),
        }
        KvMapState {
            entries: Entries::from_vec(pairs),
        }
    }

    fn value(&self, key: &str) -> Text {
        match self.find(key) {
            Ok(i) => self.entries.as_slice()[i].1.clone(),
            Err(_) => Text::default(),
        }
    }
}

impl fmt::Debug for KvMapState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.entries
                    .as_slice()
                    .iter()
                    .map(|(k, v)| (&**k, v.to_text())),
            )
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
            (KvMapOp::Get { key }, Some(KvMapRet::Value(v))) if state.holds(key, v) => {
                next.push(state.clone())
            }
            (KvMapOp::Put { key, value }, None | Some(KvMapRet::Ok)) => {
                next.push(state.with(key, Text::default().appended(value)));
            }
            (KvMapOp::Append { key, value }, None | Some(KvMapRet::Ok)) => {
                next.push(state.with(key, state.value(key).appended(value)));
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
    fn equal_values_built_differently_are_equal() {
        let appended = run(&[
            KvMapOp::Append {
                key: "k".into(),
                value: "ab".into(),
            },
            KvMapOp::Append {
                key: "k".into(),
                value: "cd".into(),
            },
        ]);
        let put = run(&[KvMapOp::Put {
            key: "k".into(),
            value: "abcd".into(),
        }]);
        let other = run(&[KvMapOp::Put {
            key: "k".into(),
            value: "abdc".into(),
        }]);
        assert_eq!(appended, put);
        assert_eq!(hash_one(&appended), hash_one(&put));
        assert_ne!(appended, other);
        assert!(appended.holds("k", "abcd"));
        assert!(!appended.holds("k", "abce"));
        assert!(!appended.holds("k", "abc"));
        assert!(appended.holds("j", ""));
    }

    #[test]
    fn states_are_equal_however_their_keys_came_and_went() {
        let direct = run(&[KvMapOp::Put {
            key: "b".into(),
            value: "2".into(),
        }]);
        let roundabout = run(&[
            KvMapOp::Put {
                key: "a".into(),
                value: "1".into(),
            },
            KvMapOp::Put {
                key: "b".into(),
                value: "2".into(),
            },
            KvMapOp::Put {
                key: "a".into(),
                value: String::new(),
            },
        ]);
        assert_eq!(direct, roundabout);
        assert_eq!(hash_one(&direct), hash_one(&roundabout));
        let two = run(&[
            KvMapOp::Put {
                key: "b".into(),
                value: "2".into(),
            },
            KvMapOp::Append {
                key: "a".into(),
                value: "1".into(),
            },
        ]);
        assert_eq!(format!("{two:?}"), r#"{"a": "1", "b": "2"}"#);
        assert_ne!(two, direct);
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
