//! The memo of configurations already explored.
//!
//! A configuration is the set of operations linearized so far plus the model
//! state they left. Two paths of the search that reach the same
//! configuration have the same future, so the second one stops at once. The
//! set is a bitset; its hash is kept up to date incrementally by the search
//! (XOR of per-operation Zobrist keys), so a lookup costs one probe and, on a
//! hash match, one comparison of a few machine words. Entries are stored
//! exactly (no lossy fingerprints): a verdict never rests on a hash.
//!
//! Only a window of the bitset is stored: every operation before the first
//! unplaced one is placed, and none after the last set bit is, so the set is
//! the index of the word holding the first unplaced operation plus the words
//! from there to the last nonzero one. The window spans the operations that
//! were concurrent at that point, so an entry costs a few words even in a
//! history of a million operations.

use super::hash::mix;

const EMPTY: u64 = 0;

/// The high half of a `u64`, where slots keep part of the hash.
const HIGH: u64 = 0xffff_ffff_0000_0000;

/// Explored configurations of one sub-history.
pub(crate) struct Visited {
    /// Open-addressing slots holding the high half of the entry's hash and
    /// `entry index + 1` in the low half, or `EMPTY`: a probe that does not
    /// match costs one memory access.
    slots: Vec<u64>,
    hashes: Vec<u64>,
    states: Vec<u32>,
    /// Per entry, the index of the first word of its window.
    starts: Vec<u32>,
    /// Per entry `e`, its window is `words[ends[e - 1]..ends[e]]`.
    ends: Vec<u32>,
    words: Vec<u64>,
}

impl Visited {
    pub(crate) fn new() -> Self {
        Visited {
            slots: Vec::new(),
            hashes: Vec::new(),
            states: Vec::new(),
            starts: Vec::new(),
            ends: Vec::new(),
            words: Vec::new(),
        }
    }

    /// Forgets every entry.
    pub(crate) fn reset(&mut self) {
        // Keep big allocations for the next sub-history, but do not pay to
        // wipe a huge slot array for a tiny one.
        if self.slots.len() > 1 << 16 {
            self.slots = Vec::new();
        } else {
            self.slots.fill(EMPTY);
        }
        self.hashes.clear();
        self.states.clear();
        self.starts.clear();
        self.ends.clear();
        self.words.clear();
    }

    /// Number of configurations recorded.
    pub(crate) fn len(&self) -> usize {
        self.hashes.len()
    }

    /// The hash of configuration (`set_hash`, `state`).
    #[inline]
    pub(crate) fn key(set_hash: u64, state: u32) -> u64 {
        set_hash ^ mix(u64::from(state) ^ 0x6a09_e667_f3bc_c908)
    }

    /// Records the configuration and returns true, or returns false when it
    /// was already recorded. `hash` must be [`Visited::key`] of it; the set
    /// is given as its window: `window` holds its words from index `start`
    /// on (see the module documentation).
    #[inline]
    pub(crate) fn insert(&mut self, hash: u64, state: u32, start: u32, window: &[u64]) -> bool {
        if (self.hashes.len() + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let high = hash & HIGH;
        let mut slot = hash as usize & mask;
        loop {
            let at = self.slots[slot];
            if at == EMPTY {
                break;
            }
            if at & HIGH == high {
                let entry = ((at & !HIGH) - 1) as usize;
                if self.hashes[entry] == hash
                    && self.states[entry] == state
                    && self.starts[entry] == start
                    && self.window(entry) == window
                {
                    return false;
                }
            }
            slot = (slot + 1) & mask;
        }
        let entry = self.hashes.len();
        // More than u32::MAX - 1 entries would not fit a slot; by then memory
        // is long gone, so treat the table as full and stop recording (the
        // search stays correct, it just revisits).
        if entry >= (u32::MAX - 1) as usize || self.words.len() + window.len() > u32::MAX as usize {
            return true;
        }
        self.slots[slot] = high | (entry as u64 + 1);
        self.hashes.push(hash);
        self.states.push(state);
        self.starts.push(start);
        self.words.extend_from_slice(window);
        self.ends.push(self.words.len() as u32);
        true
    }

    fn window(&self, entry: usize) -> &[u64] {
        let from = if entry == 0 {
            0
        } else {
            self.ends[entry - 1] as usize
        };
        &self.words[from..self.ends[entry] as usize]
    }

    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(64);
        self.slots.clear();
        self.slots.resize(size, EMPTY);
        let mask = size - 1;
        for (entry, &hash) in self.hashes.iter().enumerate() {
            let mut slot = hash as usize & mask;
            while self.slots[slot] != EMPTY {
                slot = (slot + 1) & mask;
            }
            self.slots[slot] = (hash & HIGH) | (entry as u64 + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configurations_are_told_apart_exactly() {
        let mut v = Visited::new();
        v.reset();
        // Same hash, different contents: all new.
        assert!(v.insert(42, 0, 0, &[1, 0]));
        assert!(v.insert(42, 0, 0, &[2, 0]));
        assert!(v.insert(42, 1, 0, &[1, 0]));
        assert!(v.insert(42, 0, 1, &[1, 0]));
        assert!(v.insert(42, 0, 0, &[1]));
        assert!(!v.insert(42, 0, 0, &[1, 0]));
        assert!(!v.insert(42, 0, 0, &[1]));
        for i in 0..1000u64 {
            assert!(v.insert(Visited::key(i, 3), 3, i as u32, &[i, 1]));
        }
        for i in 0..1000u64 {
            assert!(!v.insert(Visited::key(i, 3), 3, i as u32, &[i, 1]));
        }
        assert_eq!(v.len(), 1005);
        v.reset();
        assert!(v.insert(7, 0, 0, &[]));
        assert!(!v.insert(7, 0, 0, &[]));
    }
}
