//! A key-value store with get, put, delete, compare-and-set and
//! compare-and-delete, where keys start absent (the store of Verdict's KV
//! example).

use crate::lin::hash::hash_one;
use crate::lin::spec::Spec;
use serde::{Deserialize, Serialize};
use std::fmt::{self, Debug};
use std::hash::Hash;
use std::marker::PhantomData;

/// An operation on a [`KvStore`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KvStoreOp<K = String, V = String> {
    /// Read a key.
    Get(K),
    /// Set a key.
    Put(K, V),
    /// Remove a key.
    Del(K),
    /// Set `key` to `new` if it holds `expected`.
    Cas {
        /// The key.
        key: K,
        /// The value it must hold.
        expected: V,
        /// The value it gets.
        new: V,
    },
    /// Remove `key` if it holds `expected`.
    Cad {
        /// The key.
        key: K,
        /// The value it must hold.
        expected: V,
    },
}

impl<K, V> KvStoreOp<K, V> {
    /// The key the operation touches.
    pub fn key(&self) -> &K {
        match self {
            KvStoreOp::Get(k) | KvStoreOp::Put(k, _) | KvStoreOp::Del(k) => k,
            KvStoreOp::Cas { key, .. } | KvStoreOp::Cad { key, .. } => key,
        }
    }
}

/// What an operation on a [`KvStore`] returns.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KvStoreRet<V = String> {
    /// A get's result (`None`: absent).
    Value(Option<V>),
    /// A put or delete happened.
    Ok,
    /// Whether a compare-and-set or compare-and-delete found the expected
    /// value (and so changed the store).
    Success(bool),
}

/// The state of a [`KvStore`]: present keys and their values, sorted by key.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct KvStoreState<K, V> {
    entries: Vec<(K, V)>,
}

impl<K: Ord, V> KvStoreState<K, V> {
    /// The value of `key`, if present.
    pub fn get(&self, key: &K) -> Option<&V> {
        self.entries
            .binary_search_by(|(k, _)| k.cmp(key))
            .ok()
            .map(|i| &self.entries[i].1)
    }
}

impl<K: Ord + Clone, V: Clone> KvStoreState<K, V> {
    fn with(&self, key: &K, value: Option<&V>) -> Self {
        let mut next = self.clone();
        match (next.entries.binary_search_by(|(k, _)| k.cmp(key)), value) {
            (Ok(i), Some(v)) => next.entries[i].1 = v.clone(),
            (Ok(i), None) => {
                next.entries.remove(i);
            }
            (Err(i), Some(v)) => next.entries.insert(i, (key.clone(), v.clone())),
            (Err(_), None) => {}
        }
        next
    }
}

impl<K: Debug, V: Debug> Debug for KvStoreState<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(k, v)| (k, v)))
            .finish()
    }
}

/// A store where keys start absent; partitioned by key.
pub struct KvStore<K = String, V = String>(PhantomData<fn() -> (K, V)>);

impl<K, V> KvStore<K, V> {
    /// The specification.
    pub fn new() -> Self {
        KvStore(PhantomData)
    }
}

impl<K, V> Default for KvStore<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K, V> Clone for KvStore<K, V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K, V> Copy for KvStore<K, V> {}

impl<K, V> Debug for KvStore<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KvStore")
    }
}

impl<K, V> Spec for KvStore<K, V>
where
    K: Clone + Ord + Hash + Debug + Send + Sync,
    V: Clone + Eq + Hash + Debug + Send + Sync,
{
    type Op = KvStoreOp<K, V>;
    type Ret = KvStoreRet<V>;
    type State = KvStoreState<K, V>;

    fn init(&self) -> Self::State {
        KvStoreState {
            entries: Vec::new(),
        }
    }

    fn step(
        &self,
        state: &Self::State,
        op: &Self::Op,
        ret: Option<&Self::Ret>,
        next: &mut Vec<Self::State>,
    ) {
        match (op, ret) {
            (KvStoreOp::Get(_), None) => next.push(state.clone()),
            (KvStoreOp::Get(k), Some(KvStoreRet::Value(v))) if state.get(k) == v.as_ref() => {
                next.push(state.clone())
            }
            (KvStoreOp::Put(k, v), None | Some(KvStoreRet::Ok)) => {
                next.push(state.with(k, Some(v)))
            }
            (KvStoreOp::Del(k), None | Some(KvStoreRet::Ok)) => next.push(state.with(k, None)),
            (KvStoreOp::Cas { key, expected, new }, ret) => {
                let hit = state.get(key) == Some(expected);
                if ret.is_none() || ret == Some(&KvStoreRet::Success(hit)) {
                    next.push(if hit {
                        state.with(key, Some(new))
                    } else {
                        state.clone()
                    });
                }
            }
            (KvStoreOp::Cad { key, expected }, ret) => {
                let hit = state.get(key) == Some(expected);
                if ret.is_none() || ret == Some(&KvStoreRet::Success(hit)) {
                    next.push(if hit {
                        state.with(key, None)
                    } else {
                        state.clone()
                    });
                }
            }
            _ => {}
        }
    }

    fn is_read_only(&self, op: &Self::Op, ret: Option<&Self::Ret>) -> bool {
        match op {
            KvStoreOp::Get(_) => true,
            KvStoreOp::Cas { expected, new, .. } => {
                expected == new || ret == Some(&KvStoreRet::Success(false))
            }
            KvStoreOp::Cad { .. } => ret == Some(&KvStoreRet::Success(false)),
            KvStoreOp::Put(..) | KvStoreOp::Del(_) => false,
        }
    }

    fn partition_key(&self, op: &Self::Op) -> Option<u64> {
        Some(hash_one(op.key()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Op = KvStoreOp<&'static str, i32>;
    type Ret = KvStoreRet<i32>;

    fn step(
        state: &KvStoreState<&'static str, i32>,
        op: Op,
        ret: Option<Ret>,
    ) -> Vec<KvStoreState<&'static str, i32>> {
        let mut next = Vec::new();
        KvStore::new().step(state, &op, ret.as_ref(), &mut next);
        next
    }

    #[test]
    fn cas_and_cad_act_only_on_the_expected_value() {
        let empty = KvStore::<&str, i32>::new().init();
        let one = step(&empty, Op::Put("k", 1), Some(Ret::Ok)).pop().unwrap();
        assert_eq!(one.get(&"k"), Some(&1));
        let cas = Op::Cas {
            key: "k",
            expected: 1,
            new: 2,
        };
        let two = step(&one, cas.clone(), Some(Ret::Success(true)))
            .pop()
            .unwrap();
        assert_eq!(two.get(&"k"), Some(&2));
        assert!(step(&one, cas.clone(), Some(Ret::Success(false))).is_empty());
        assert_eq!(
            step(&empty, cas, Some(Ret::Success(false))),
            vec![empty.clone()]
        );
        let cad = Op::Cad {
            key: "k",
            expected: 2,
        };
        assert_eq!(
            step(&two, cad.clone(), Some(Ret::Success(true))),
            vec![empty.clone()]
        );
        assert!(step(&one, cad, Some(Ret::Success(true))).is_empty());
        assert_eq!(step(&two, Op::Del("k"), Some(Ret::Ok)), vec![empty.clone()]);
        assert!(step(&two, Op::Get("k"), Some(Ret::Value(None))).is_empty());
        assert_eq!(
            step(&empty, Op::Get("k"), Some(Ret::Value(None))),
            vec![empty]
        );
    }
}
