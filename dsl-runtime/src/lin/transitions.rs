//! Interned states and memoized steps.
//!
//! The search asks "what can operation class `c` do in state `s`?" at every
//! node, and it asks the same question over and over. Each distinct model
//! state gets a small integer id, each distinct (operation, result) pair a
//! class id, and the answer for a (state id, class id) pair is computed once
//! with [`Spec::step`] and then read from a table. The search itself then only
//! moves `u32`s: it never clones, hashes or compares a model state, however
//! large (a whole key-value map when a history is checked without
//! partitioning).

use super::hash::{hash_one, mix};
use super::spec::Spec;

/// Marks a memo cell that has not been computed yet.
const NOT_COMPUTED: u64 = u64::MAX;

/// Dense memo tables stop growing past this many cells; the table then
/// moves to a hash map.
const DENSE_LIMIT: usize = 1 << 20;

/// The successors of one (state, class) pair, packed in a `u64`: the count in
/// the high half and, in the low half, the successor itself when there is
/// exactly one, else the offset of the list in `Transitions::lists`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Successors(u64);

impl Successors {
    #[inline]
    pub(crate) fn len(self) -> u32 {
        (self.0 >> 32) as u32
    }

    #[inline]
    fn low(self) -> u32 {
        self.0 as u32
    }
}

/// State interning plus the memo of steps for one sub-history.
pub(crate) struct Transitions<S: Spec> {
    states: Vec<S::State>,
    /// The hash of each state, by id.
    hashes: Vec<u64>,
    /// Open-addressing index from state hash to `id + 1` (0: empty); states
    /// are stored once, in `states`.
    index: Vec<u32>,
    classes: u32,
    /// `dense[state * classes + class]` while the table is small.
    dense: Vec<u64>,
    /// Used instead of `dense` once that would be too large.
    sparse: U64Table,
    use_sparse: bool,
    lists: Vec<u32>,
    scratch: Vec<S::State>,
}

impl<S: Spec> Transitions<S> {
    pub(crate) fn new() -> Self {
        Transitions {
            states: Vec::new(),
            hashes: Vec::new(),
            index: Vec::new(),
            classes: 0,
            dense: Vec::new(),
            sparse: U64Table::new(),
            use_sparse: false,
            lists: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// Forgets everything and prepares for `classes` operation classes.
    /// Returns the id of `init`.
    pub(crate) fn reset(&mut self, classes: u32, init: S::State) -> u32 {
        self.states.clear();
        self.hashes.clear();
        if self.index.len() > 1 << 16 {
            self.index = Vec::new();
        } else {
            self.index.fill(0);
        }
        self.classes = classes.max(1);
        self.dense.clear();
        self.sparse.clear();
        self.use_sparse = false;
        self.lists.clear();
        self.intern(init)
    }

    /// The model state with id `id`.
    pub(crate) fn state(&self, id: u32) -> &S::State {
        &self.states[id as usize]
    }

    fn intern(&mut self, state: S::State) -> u32 {
        let hash = hash_one(&state);
        if (self.states.len() + 1) * 2 > self.index.len() {
            self.grow_index();
        }
        let mask = self.index.len() - 1;
        let mut slot = hash as usize & mask;
        loop {
            let at = self.index[slot];
            if at == 0 {
                break;
            }
            let id = (at - 1) as usize;
            if self.hashes[id] == hash && self.states[id] == state {
                return id as u32;
            }
            slot = (slot + 1) & mask;
        }
        let id = self.states.len() as u32;
        self.index[slot] = id + 1;
        self.states.push(state);
        self.hashes.push(hash);
        if !self.use_sparse {
            let cells = self.states.len() * self.classes as usize;
            if cells <= DENSE_LIMIT {
                self.dense.resize(cells, NOT_COMPUTED);
            } else {
                self.move_to_sparse();
            }
        }
        id
    }

    fn grow_index(&mut self) {
        let size = (self.index.len() * 2).max(64);
        self.index.clear();
        self.index.resize(size, 0);
        let mask = size - 1;
        for (id, &hash) in self.hashes.iter().enumerate() {
            let mut slot = hash as usize & mask;
            while self.index[slot] != 0 {
                slot = (slot + 1) & mask;
            }
            self.index[slot] = id as u32 + 1;
        }
    }

    fn move_to_sparse(&mut self) {
        self.use_sparse = true;
        let classes = self.classes as usize;
        for (cell, &value) in self.dense.iter().enumerate() {
            if value != NOT_COMPUTED {
                let key = ((cell / classes) as u64) << 32 | (cell % classes) as u64;
                self.sparse.insert(key, value);
            }
        }
        self.dense = Vec::new();
    }

    /// The successors of `state` under class `class`, whose operation is `op`
    /// with result `ret`.
    #[inline]
    pub(crate) fn successors(
        &mut self,
        spec: &S,
        state: u32,
        class: u32,
        op: &S::Op,
        ret: Option<&S::Ret>,
    ) -> Successors {
        let cached = if self.use_sparse {
            self.sparse.get(u64::from(state) << 32 | u64::from(class))
        } else {
            self.dense[state as usize * self.classes as usize + class as usize]
        };
        if cached != NOT_COMPUTED {
            return Successors(cached);
        }
        self.compute(spec, state, class, op, ret)
    }

    #[cold]
    fn compute(
        &mut self,
        spec: &S,
        state: u32,
        class: u32,
        op: &S::Op,
        ret: Option<&S::Ret>,
    ) -> Successors {
        let mut next = std::mem::take(&mut self.scratch);
        next.clear();
        spec.step(&self.states[state as usize], op, ret, &mut next);
        let packed = match next.len() {
            0 => 0,
            1 => {
                let only = next.pop().map_or(state, |s| self.intern(s));
                1u64 << 32 | u64::from(only)
            }
            _ => {
                let mut ids: Vec<u32> = next.drain(..).map(|s| self.intern(s)).collect();
                ids.sort_unstable();
                ids.dedup();
                if ids.len() == 1 {
                    1u64 << 32 | u64::from(ids[0])
                } else {
                    let offset = self.lists.len() as u32;
                    self.lists.extend_from_slice(&ids);
                    (ids.len() as u64) << 32 | u64::from(offset)
                }
            }
        };
        self.scratch = next;
        if self.use_sparse {
            self.sparse
                .insert(u64::from(state) << 32 | u64::from(class), packed);
        } else {
            self.dense[state as usize * self.classes as usize + class as usize] = packed;
        }
        Successors(packed)
    }

    /// The `k`-th successor in `succ` (`k < succ.len()`).
    #[inline]
    pub(crate) fn nth(&self, succ: Successors, k: u32) -> u32 {
        if succ.len() == 1 {
            succ.low()
        } else {
            self.lists[(succ.low() + k) as usize]
        }
    }

    /// Number of distinct states seen so far.
    pub(crate) fn state_count(&self) -> usize {
        self.states.len()
    }
}

/// An open-addressing map from `u64` to `u64` (keys never `u64::MAX`).
pub(crate) struct U64Table {
    keys: Vec<u64>,
    values: Vec<u64>,
    len: usize,
}

impl U64Table {
    fn new() -> Self {
        U64Table {
            keys: Vec::new(),
            values: Vec::new(),
            len: 0,
        }
    }

    fn clear(&mut self) {
        self.keys.clear();
        self.values.clear();
        self.len = 0;
    }

    #[inline]
    fn get(&self, key: u64) -> u64 {
        if self.keys.is_empty() {
            return NOT_COMPUTED;
        }
        let mask = self.keys.len() - 1;
        let mut slot = mix(key) as usize & mask;
        loop {
            let k = self.keys[slot];
            if k == key {
                return self.values[slot];
            }
            if k == u64::MAX {
                return NOT_COMPUTED;
            }
            slot = (slot + 1) & mask;
        }
    }

    fn insert(&mut self, key: u64, value: u64) {
        if (self.len + 1) * 2 > self.keys.len() {
            self.grow();
        }
        let mask = self.keys.len() - 1;
        let mut slot = mix(key) as usize & mask;
        loop {
            let k = self.keys[slot];
            if k == key || k == u64::MAX {
                if k == u64::MAX {
                    self.len += 1;
                }
                self.keys[slot] = key;
                self.values[slot] = value;
                return;
            }
            slot = (slot + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let size = (self.keys.len() * 2).max(1024);
        let keys = std::mem::replace(&mut self.keys, vec![u64::MAX; size]);
        let values = std::mem::replace(&mut self.values, vec![0; size]);
        self.len = 0;
        for (k, v) in keys.into_iter().zip(values) {
            if k != u64::MAX {
                self.insert(k, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u64_table_round_trips_many_keys() {
        let mut t = U64Table::new();
        for k in 0..10_000u64 {
            t.insert(k * 7919, k);
        }
        for k in 0..10_000u64 {
            assert_eq!(t.get(k * 7919), k);
        }
        assert_eq!(t.get(3), NOT_COMPUTED);
    }
}
