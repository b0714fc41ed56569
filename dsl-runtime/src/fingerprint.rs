//! Fast, deterministic 64-bit hashing for visited sets.
//!
//! The checker identifies states by a 64-bit fingerprint instead of storing
//! them. [`Fingerprinter`] is a small multiply-fold hasher: fast on the short
//! integer writes derived `Hash` impls make, and the same on every run and
//! machine, so fingerprints in traces and reports are reproducible.

use std::hash::{Hash, Hasher};

const K0: u64 = 0x243f_6a88_85a3_08d3;
const K1: u64 = 0x1319_8a2e_0370_7344;
const K2: u64 = 0xa409_3822_299f_31d0;

#[inline(always)]
fn fold(a: u64, b: u64) -> u64 {
    let p = (a as u128).wrapping_mul(b as u128);
    (p as u64) ^ ((p >> 64) as u64)
}

/// A deterministic [`Hasher`] used for state fingerprints.
#[derive(Debug, Clone, Copy)]
pub struct Fingerprinter {
    /// Two lanes that take writes in turn, so consecutive writes' multiplies
    /// overlap; `finish` mixes them.
    lanes: [u64; 2],
}

impl Default for Fingerprinter {
    fn default() -> Self {
        Fingerprinter { lanes: [K0, K1] }
    }
}

impl Fingerprinter {
    /// A hasher starting from `seed`, for hashing parts independently.
    pub fn with_seed(seed: u64) -> Self {
        Fingerprinter {
            lanes: [K0 ^ seed.wrapping_mul(K2), K1],
        }
    }
}

impl Hasher for Fingerprinter {
    #[inline]
    fn finish(&self) -> u64 {
        fold(self.lanes[0] ^ K2, self.lanes[1] ^ K0)
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            self.write_u64(u64::from_le_bytes(b));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            self.write_u64(u64::from_le_bytes(b) ^ ((rest.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.write_u64(i as u64)
    }
    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.write_u64(i as u64)
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.write_u64(i as u64)
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        let next = fold(self.lanes[0] ^ i, K1);
        self.lanes = [self.lanes[1], next];
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64)
    }
}

/// The fingerprint of one value.
pub fn fingerprint<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut h = Fingerprinter::default();
    value.hash(&mut h);
    h.finish()
}

/// The fingerprint of four words and a fifth, mixed in parallel pairs: a
/// state's fingerprint is computed for every step tried, and a chain of
/// [`Hasher::write_u64`] calls makes each multiply wait for the last.
#[inline]
pub fn combine(a: u64, b: u64, c: u64, d: u64, e: u64) -> u64 {
    const K3: u64 = 0x082e_fa98_ec4e_6c89;
    const K4: u64 = 0x4528_21e6_38d0_1377;
    let ab = fold(a ^ K0, b ^ K1);
    let cd = fold(c ^ K2, d ^ K3);
    fold(ab ^ e.rotate_left(32) ^ K4, cd ^ K1)
}

/// Spreads a hash so that summing many of them (an order-independent
/// combination for multisets) does not cancel structure out.
#[inline]
pub fn spread(h: u64) -> u64 {
    fold(h ^ K2, K0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_equal_fingerprints_and_different_values_differ() {
        assert_eq!(fingerprint(&(1u8, "a")), fingerprint(&(1u8, "a")));
        assert_ne!(fingerprint(&(1u8, "a")), fingerprint(&(2u8, "a")));
        assert_ne!(fingerprint(&vec![1u32, 2]), fingerprint(&vec![2u32, 1]));
        assert_ne!(fingerprint(&[0u8; 3][..]), fingerprint(&[0u8; 4][..]));
    }

    #[test]
    fn low_bits_are_spread() {
        // Consecutive integers must not collide in the low bits a hash table uses.
        let mut seen = std::collections::HashSet::new();
        for i in 0u64..4096 {
            seen.insert(fingerprint(&i) & 0xffff);
        }
        assert!(seen.len() > 3900, "only {} distinct low halves", seen.len());
    }
}
