//! Fast, deterministic hashing for the search's tables.
//!
//! The search hashes small keys (state ids, op classes, model states) millions
//! of times; SipHash, std's default, is built to resist flooding and costs
//! several times more than needed here. This is a multiply-rotate hasher in the
//! style of rustc's FxHash, plus the fixed-seed random numbers that give each
//! operation its Zobrist key. Fixed seeds keep every run identical.

use std::hash::{BuildHasher, Hasher};

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// A small non-cryptographic hasher; good enough for hash tables, not for
/// untrusted keys an attacker picks to collide.
#[derive(Clone, Copy, Default)]
pub(crate) struct FastHasher {
    hash: u64,
}

impl FastHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        // A final avalanche so that the low bits, which pick table slots,
        // depend on every input bit.
        mix(self.hash)
    }
}

/// Builds [`FastHasher`]s; use as the `S` parameter of `HashMap`.
#[derive(Clone, Copy, Default)]
pub(crate) struct FastBuild;

impl BuildHasher for FastBuild {
    type Hasher = FastHasher;

    #[inline]
    fn build_hasher(&self) -> FastHasher {
        FastHasher::default()
    }
}

/// A `HashMap` keyed with [`FastHasher`].
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, FastBuild>;

/// Hashes one value with [`FastHasher`].
pub(crate) fn hash_one<T: std::hash::Hash + ?Sized>(value: &T) -> u64 {
    FastBuild.hash_one(value)
}

/// The finaliser of SplitMix64: a bijection on `u64` whose every output bit
/// depends on every input bit.
#[inline]
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The `i`-th Zobrist key: a fixed pseudo-random `u64` per operation, so the
/// hash of a set of operations is the XOR of its members' keys and can be
/// updated in O(1) when one operation joins or leaves the set.
#[inline]
pub(crate) fn zobrist(i: usize) -> u64 {
    mix((i as u64)
        .wrapping_add(1)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// Makes `table` hold the first `n` Zobrist keys (extending it as needed).
pub(crate) fn zobrist_table(table: &mut Vec<u64>, n: usize) {
    let have = table.len();
    if have < n {
        table.extend((have..n).map(zobrist));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zobrist_keys_differ() {
        let keys: std::collections::HashSet<u64> = (0..10_000).map(zobrist).collect();
        assert_eq!(keys.len(), 10_000);
    }

    #[test]
    fn byte_strings_of_different_length_hash_differently() {
        assert_ne!(hash_one(&b"a"[..]), hash_one(&b"a\0"[..]));
        assert_ne!(hash_one("ab"), hash_one("ba"));
    }
}
