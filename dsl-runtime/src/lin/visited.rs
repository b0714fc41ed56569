//! The memo of configurations already explored.
//!
//! A configuration is the set of operations linearized so far plus the model
//! state they left. Two paths of the search that reach the same
//! configuration have the same future, so the second one stops at once. The
//! set is a bitset; its hash is kept up to date incrementally by the search
//! (XOR of per-operation Zobrist keys), so a lookup costs one probe and, on a
//! hash match, one comparison of a few machine words. Entries are stored
//! exactly (no lossy fingerprints): a verdict never rests on a hash.

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
    /// The bitsets, `stride` words per entry.
    words: Vec<u64>,
    stride: usize,
}

impl Visited {
    pub(crate) fn new() -> Self {
        Visited {
            slots: Vec::new(),
            hashes: Vec::new(),
            states: Vec::new(),
            words: Vec::new(),
            stride: 1,
        }
    }

    /// Forgets every entry; bitsets will have `stride` words.
    pub(crate) fn reset(&mut self, stride: usize) {
        // Keep big allocations for the next sub-history, but do not pay to
        // wipe a huge slot array for a tiny one.
        if self.slots.len() > 1 << 16 {
            self.slots = Vec::new();
        } else {
            self.slots.fill(EMPTY);
        }
        self.hashes.clear();
        self.states.clear();
        self.words.clear();
        self.stride = stride.max(1);
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
    /// was already recorded. `hash` must be [`Visited::key`] of it.
    #[inline]
    pub(crate) fn insert(&mut self, hash: u64, state: u32, bits: &[u64]) -> bool {
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
                    && self.words[entry * self.stride..(entry + 1) * self.stride] == *bits
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
        if entry >= (u32::MAX - 1) as usize {
            return true;
        }
        self.slots[slot] = high | (entry as u64 + 1);
        self.hashes.push(hash);
        self.states.push(state);
        self.words.extend_from_slice(bits);
        true
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
        v.reset(2);
        // Same hash, different contents: both are new.
        assert!(v.insert(42, 0, &[1, 0]));
        assert!(v.insert(42, 0, &[2, 0]));
        assert!(v.insert(42, 1, &[1, 0]));
        assert!(!v.insert(42, 0, &[1, 0]));
        for i in 0..1000u64 {
            assert!(v.insert(Visited::key(i, 3), 3, &[i, 1]));
        }
        for i in 0..1000u64 {
            assert!(!v.insert(Visited::key(i, 3), 3, &[i, 1]));
        }
        assert_eq!(v.len(), 1003);
        v.reset(1);
        assert!(v.insert(7, 0, &[1]));
    }
}
