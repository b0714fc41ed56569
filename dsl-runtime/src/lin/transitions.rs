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
//!
//! The memo is a dense table, which pays while states are few (a register
//! has a handful and asks the same questions millions of times). When
//! states times classes outgrow it, nearly every state is new anyway (a
//! map whose appended values record their order) and a question is rarely
//! asked twice, so steps are then computed afresh instead of memoized: a
//! hash table there cost more memory and time than it saved.

use super::hash::hash_one;
use super::spec::Spec;

/// Marks a memo cell that has not been computed yet.
const NOT_COMPUTED: u64 = u64::MAX;

/// Dense memo tables stop growing past this many cells; steps are then
/// computed without memo.
const DENSE_LIMIT: usize = 1 << 16;

/// The high half of a `u64`, where index slots keep part of the hash.
const HIGH: u64 = 0xffff_ffff_0000_0000;

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
    /// Open-addressing index: each slot holds the high half of a state's
    /// hash and `id + 1` in the low half (0: empty), so a probe that does
    /// not match costs one memory access. States are stored once, in
    /// `states`.
    index: Vec<u64>,
    classes: u32,
    /// `dense[state * classes + class]` while the table is small.
    dense: Vec<u64>,
    /// Set once `dense` would be too large: no more memo.
    unmemoized: bool,
    /// Successor lists of more than one state: memoized ones, or (without
    /// memo) the last one computed.
    lists: Vec<u32>,
    scratch: Vec<S::State>,
    /// For read-only classes, a compact index and, per state, two bits per
    /// such class (00 unknown, 01 refused, 11 accepted): the search asks
    /// about every pending read at every node, so this is its hottest table.
    read_only_index: Vec<u32>,
    read_only_stride: usize,
    /// Classes that may also leave the state as it is.
    skippable: Vec<bool>,
    read_only_bits: Vec<u64>,
}

impl<S: Spec> Transitions<S> {
    pub(crate) fn new() -> Self {
        Transitions {
            states: Vec::new(),
            hashes: Vec::new(),
            index: Vec::new(),
            classes: 0,
            dense: Vec::new(),
            unmemoized: false,
            lists: Vec::new(),
            scratch: Vec::new(),
            read_only_index: Vec::new(),
            read_only_stride: 0,
            skippable: Vec::new(),
            read_only_bits: Vec::new(),
        }
    }

    /// Forgets everything and prepares for `classes` operation classes, of
    /// which those with `read_only[class]` are read-only and those with
    /// `skippable[class]` may also have no effect. Returns the id of `init`.
    pub(crate) fn reset(
        &mut self,
        classes: u32,
        read_only: &[bool],
        skippable: &[bool],
        init: S::State,
    ) -> u32 {
        self.skippable.clear();
        self.skippable.extend_from_slice(skippable);
        self.read_only_index.clear();
        let mut count = 0u32;
        for &ro in read_only {
            self.read_only_index.push(if ro { count } else { u32::MAX });
            count += u32::from(ro);
        }
        self.read_only_stride = (count as usize * 2).div_ceil(64);
        self.read_only_bits.clear();
        self.states.clear();
        self.hashes.clear();
        if self.index.len() > 1 << 16 {
            self.index = Vec::new();
        } else {
            self.index.fill(0);
        }
        self.classes = classes.max(1);
        self.dense.clear();
        self.unmemoized = false;
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
        let high = hash & HIGH;
        let mut slot = hash as usize & mask;
        loop {
            let at = self.index[slot];
            if at == 0 {
                break;
            }
            if at & HIGH == high {
                let id = ((at & !HIGH) - 1) as usize;
                if self.states[id] == state {
                    return id as u32;
                }
            }
            slot = (slot + 1) & mask;
        }
        let id = self.states.len() as u32;
        self.index[slot] = high | (u64::from(id) + 1);
        self.states.push(state);
        self.hashes.push(hash);
        self.read_only_bits
            .resize(self.read_only_bits.len() + self.read_only_stride, 0);
        if !self.unmemoized {
            let cells = self.states.len() * self.classes as usize;
            if cells <= DENSE_LIMIT {
                self.dense.resize(cells, NOT_COMPUTED);
            } else {
                self.unmemoized = true;
                self.dense = Vec::new();
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
            self.index[slot] = (hash & HIGH) | (id as u64 + 1);
        }
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
        if !self.unmemoized {
            let cached = self.dense[state as usize * self.classes as usize + class as usize];
            if cached != NOT_COMPUTED {
                return Successors(cached);
            }
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
        if self.unmemoized {
            self.lists.clear();
        }
        spec.step(&self.states[state as usize], op, ret, &mut next);
        if self.skippable.get(class as usize).copied().unwrap_or(false) {
            next.push(self.states[state as usize].clone());
        }
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
        if !self.unmemoized {
            self.dense[state as usize * self.classes as usize + class as usize] = packed;
        }
        Successors(packed)
    }

    /// Whether the read-only `class` (operation `op` with result `ret`) is
    /// allowed in `state`, leaving it unchanged.
    #[inline]
    pub(crate) fn accepts(
        &mut self,
        spec: &S,
        state: u32,
        class: u32,
        op: &S::Op,
        ret: Option<&S::Ret>,
    ) -> bool {
        let bit = 2 * self.read_only_index[class as usize] as usize;
        let word = state as usize * self.read_only_stride + bit / 64;
        let cell = (self.read_only_bits[word] >> (bit % 64)) & 3;
        if cell != 0 {
            return cell == 3;
        }
        let succ = self.successors(spec, state, class, op, ret);
        let accepted = succ.len() > 0;
        let word = state as usize * self.read_only_stride + bit / 64;
        self.read_only_bits[word] |= (if accepted { 3 } else { 1 }) << (bit % 64);
        accepted
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
