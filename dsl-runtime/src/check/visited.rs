//! The visited set: which fingerprints the search has seen, in 8 bytes per
//! slot, plus (only when asked) the parent fingerprint for breadth-first
//! path reconstruction and the discovery depth for the partial-order
//! reduction's cycle proviso.
//!
//! It is a set of open-addressing tables (linear probing) sharded by the top
//! bits of the fingerprint, each behind its own lock: with many more shards
//! than threads, contention is rare and every shard grows on its own, so a
//! resize never stops the whole search. Fingerprints are already uniformly
//! mixed, so they index the tables directly.

use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::check::memory::Meter;

/// Fingerprint 0 marks an empty slot; a real 0 is stored as this.
const ZERO_STAND_IN: u64 = 0x9e37_79b9_7f4a_7c15;
/// log2 of the shard count.
/// Few enough that each shard's table soon spans whole 2 MiB pages (see
/// [`huge_pages`]), enough that two threads rarely meet on one lock.
const SHARD_BITS: u32 = 5;
/// The depth stored for a slot whose depth is not recorded.
const NO_DEPTH: u32 = u32::MAX;

/// What [`Visited::insert`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insert {
    /// The fingerprint was new and is now recorded.
    New,
    /// It was already there; with its discovery depth when depths are kept.
    Seen {
        /// Depth at which it was first recorded, if depths are kept.
        depth: Option<u32>,
    },
}

struct Shard {
    keys: Slots,
    parents: Slots,
    depths: Vec<u32>,
    len: usize,
}

impl Shard {
    fn new(capacity: usize, parents: bool, depths: bool) -> Self {
        Shard {
            keys: Slots::zeroed(capacity),
            parents: if parents {
                Slots::zeroed(capacity)
            } else {
                Slots::zeroed(0)
            },
            depths: if depths {
                vec![NO_DEPTH; capacity]
            } else {
                Vec::new()
            },
            len: 0,
        }
    }

    fn find(&self, key: u64) -> (usize, bool) {
        let mask = self.keys.len() - 1;
        let mut i = (key as usize) & mask;
        loop {
            let k = self.keys[i];
            if k == key {
                return (i, true);
            }
            if k == 0 {
                return (i, false);
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let (keep_parents, keep_depths) = (!self.parents.is_empty(), !self.depths.is_empty());
        let mut bigger = Shard::new(self.keys.len() * 2, keep_parents, keep_depths);
        for (i, &k) in self.keys.iter().enumerate() {
            if k == 0 {
                continue;
            }
            let (j, _) = bigger.find(k);
            bigger.keys[j] = k;
            if keep_parents {
                bigger.parents[j] = self.parents[i];
            }
            if keep_depths {
                bigger.depths[j] = self.depths[i];
            }
        }
        bigger.len = self.len;
        *self = bigger;
    }

    fn bytes(&self) -> usize {
        self.keys.len() * 8 + self.parents.len() * 8 + self.depths.capacity() * 4
    }
}

/// A zero-filled table of 64-bit slots. A large one is mapped straight from
/// the kernel, aligned to 2 MiB and marked for huge pages: lookups land at
/// random places in tables of hundreds of megabytes, and with 4 KiB pages
/// nearly every one would also miss the address-translation cache. Where
/// the kernel declines the advice, nothing changes.
struct Slots {
    ptr: std::ptr::NonNull<u64>,
    len: usize,
    /// The whole mapping (start, bytes) when mapped directly.
    mapping: Option<(usize, usize)>,
}

// SAFETY: `Slots` owns its memory exclusively, like a `Box<[u64]>`.
unsafe impl Send for Slots {}
// SAFETY: shared access only reads, like `&[u64]`.
unsafe impl Sync for Slots {}

const HUGE_PAGE: usize = 2 << 20;

impl Slots {
    fn zeroed(len: usize) -> Self {
        #[cfg(target_os = "linux")]
        if len * 8 >= HUGE_PAGE {
            let bytes = len * 8 + HUGE_PAGE;
            // SAFETY: an anonymous private mapping of fresh zeroed memory;
            // the result is checked before use.
            let base = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    bytes,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            if base != libc::MAP_FAILED {
                let start = (base as usize).next_multiple_of(HUGE_PAGE);
                // SAFETY: `start..start + len * 8` lies inside the mapping;
                // the advice changes how pages are backed, not their contents.
                unsafe { libc::madvise(start as *mut libc::c_void, len * 8, libc::MADV_HUGEPAGE) };
                if let Some(ptr) = std::ptr::NonNull::new(start as *mut u64) {
                    return Slots {
                        ptr,
                        len,
                        mapping: Some((base as usize, bytes)),
                    };
                }
            }
        }
        let boxed: Box<[u64]> = vec![0u64; len].into_boxed_slice();
        let len = boxed.len();
        let ptr = std::ptr::NonNull::new(Box::into_raw(boxed) as *mut u64)
            .unwrap_or(std::ptr::NonNull::dangling());
        Slots {
            ptr,
            len,
            mapping: None,
        }
    }

    fn as_mut_ptr(&mut self) -> *mut u64 {
        self.ptr.as_ptr()
    }
}

impl std::ops::Deref for Slots {
    type Target = [u64];
    fn deref(&self) -> &[u64] {
        // SAFETY: `ptr` points to `len` initialised (zeroed or written) slots
        // owned by `self`.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl std::ops::DerefMut for Slots {
    fn deref_mut(&mut self) -> &mut [u64] {
        // SAFETY: as in `deref`, and `&mut self` makes the access exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for Slots {
    fn drop(&mut self) {
        match self.mapping {
            #[cfg(target_os = "linux")]
            Some((base, bytes)) => {
                // SAFETY: unmaps exactly the mapping made in `zeroed`.
                unsafe { libc::munmap(base as *mut libc::c_void, bytes) };
            }
            #[cfg(not(target_os = "linux"))]
            Some(_) => {}
            None => {
                let slice = std::ptr::slice_from_raw_parts_mut(self.ptr.as_ptr(), self.len);
                // SAFETY: made by `Box::into_raw` of a boxed slice of this length.
                drop(unsafe { Box::from_raw(slice) });
            }
        }
    }
}

/// A shard's fingerprint count on a cache line of its own.
#[repr(align(64))]
struct ShardCount(AtomicU64);

/// A concurrent set of state fingerprints.
pub struct Visited {
    shards: Box<[Mutex<Shard>]>,
    /// Each shard's key table address and index mask, published on every
    /// growth so [`Visited::prefetch`] can find a slot without the lock.
    tables: Box<[(AtomicPtr<u64>, AtomicUsize)]>,
    /// Each shard's count, written under its lock and read without it; one
    /// cache line each, so threads storing in different shards do not
    /// contend on a shared counter.
    counts: Box<[ShardCount]>,
    keeps_parents: bool,
    keeps_depths: bool,
    /// The search's memory account: told of every growth, and asked
    /// before one (see [`Visited::insert`]).
    meter: Option<Arc<Meter>>,
}

impl Visited {
    /// An empty set; `parents` keeps each state's parent fingerprint,
    /// `depths` its discovery depth.
    pub fn new(parents: bool, depths: bool) -> Self {
        let shards: Box<[Mutex<Shard>]> = (0..1usize << SHARD_BITS)
            .map(|_| Mutex::new(Shard::new(1024, parents, depths)))
            .collect();
        let tables = shards
            .iter()
            .map(|s| {
                let mut s = s.lock().unwrap_or_else(|e| e.into_inner());
                let mask = s.keys.len() - 1;
                (AtomicPtr::new(s.keys.as_mut_ptr()), AtomicUsize::new(mask))
            })
            .collect();
        Visited {
            shards,
            tables,
            counts: (0..1usize << SHARD_BITS)
                .map(|_| ShardCount(AtomicU64::new(0)))
                .collect(),
            keeps_parents: parents,
            keeps_depths: depths,
            meter: None,
        }
    }

    /// [`Visited::new`], accounting its tables in `meter`. A table grows
    /// only when the meter has room for the bigger copy (old and new are
    /// held together while it copies); refused, it fills up to 15/16 (the
    /// search stops meanwhile) and grows after all only past that, so a
    /// refused growth never wedges the table.
    pub(crate) fn metered(parents: bool, depths: bool, meter: Arc<Meter>) -> Self {
        let mut v = Visited::new(parents, depths);
        meter.visited_changed(v.bytes() as i64);
        v.meter = Some(meter);
        v
    }

    fn key(fp: u64) -> u64 {
        if fp == 0 {
            ZERO_STAND_IN
        } else {
            fp
        }
    }

    fn shard(&self, key: u64) -> std::sync::MutexGuard<'_, Shard> {
        let i = (key >> (64 - SHARD_BITS)) as usize;
        // A panic while holding a shard cannot leave it inconsistent in a
        // way that matters (every write is a whole slot), so poison is ignored.
        self.shards[i].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records `fp` (reached from `parent` at `depth`) unless already present.
    pub fn insert(&self, fp: u64, parent: u64, depth: u32) -> Insert {
        let key = Self::key(fp);
        let mut shard = self.shard(key);
        let (i, found) = shard.find(key);
        if found {
            let depth = self.keeps_depths.then(|| shard.depths[i]);
            return Insert::Seen { depth };
        }
        shard.keys[i] = key;
        if self.keeps_parents {
            shard.parents[i] = parent;
        }
        if self.keeps_depths {
            shard.depths[i] = depth;
        }
        shard.len += 1;
        let s = (key >> (64 - SHARD_BITS)) as usize;
        self.counts[s].0.store(shard.len as u64, Ordering::Relaxed);
        if shard.len * 4 > shard.keys.len() * 3 && self.may_grow(&shard) {
            let old = shard.bytes() as i64;
            shard.grow();
            if let Some(m) = &self.meter {
                m.visited_changed(shard.bytes() as i64 - old);
            }
            let (ptr, mask) = &self.tables[s];
            ptr.store(shard.keys.as_mut_ptr(), Ordering::Relaxed);
            mask.store(shard.keys.len() - 1, Ordering::Relaxed);
        }
        drop(shard);
        Insert::New
    }

    /// Whether `shard` may double its table now (see [`Visited::metered`]).
    fn may_grow(&self, shard: &Shard) -> bool {
        let Some(meter) = &self.meter else {
            return true;
        };
        let old = shard.bytes() as u64;
        meter.may_grow(old, 2 * old) || shard.len * 16 > shard.keys.len() * 15
    }

    /// Asks the processor to start loading the slot `fp` would occupy, so a
    /// later [`Visited::insert`] of it does not wait for memory. A hint
    /// only: the address may be stale (the table may have grown since), in
    /// which case nothing is gained and nothing breaks.
    #[inline]
    pub fn prefetch(&self, fp: u64) {
        let key = Self::key(fp);
        let (ptr, mask) = &self.tables[(key >> (64 - SHARD_BITS)) as usize];
        let base = ptr.load(Ordering::Relaxed);
        let slot = base.wrapping_add(key as usize & mask.load(Ordering::Relaxed));
        prefetch_address(slot);
    }

    /// Whether `fp` is recorded.
    #[cfg(test)]
    pub fn contains(&self, fp: u64) -> bool {
        let key = Self::key(fp);
        self.shard(key).find(key).1
    }

    /// The parent recorded for `fp` (itself for the initial state), when
    /// parents are kept.
    pub fn parent(&self, fp: u64) -> Option<u64> {
        if !self.keeps_parents {
            return None;
        }
        let key = Self::key(fp);
        let shard = self.shard(key);
        let (i, found) = shard.find(key);
        found.then(|| shard.parents[i])
    }

    /// How many fingerprints are recorded.
    pub fn len(&self) -> u64 {
        self.counts
            .iter()
            .map(|c| c.0.load(Ordering::Relaxed))
            .sum()
    }

    /// Bytes held by the tables.
    pub fn bytes(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).bytes())
            .sum()
    }
}

#[cfg(target_arch = "x86_64")]
#[inline]
fn prefetch_address(p: *const u64) {
    // SAFETY: a prefetch never dereferences in the language's sense and
    // never faults, whatever the address; it only warms the cache.
    unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p as *const i8) }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn prefetch_address(_: *const u64) {}

/// The fingerprints from the initial state to `target`, following parents.
pub fn chain(visited: &Visited, target: u64) -> Vec<u64> {
    let mut chain = vec![target];
    let mut fp = target;
    while let Some(parent) = visited.parent(fp) {
        if parent == fp || chain.len() > 1_000_000 {
            break;
        }
        chain.push(parent);
        fp = parent;
    }
    chain.reverse();
    chain
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fingerprint::fingerprint;

    #[test]
    fn inserts_once_and_grows_keeping_parents_and_depths() {
        let v = Visited::new(true, true);
        for i in 0u64..100_000 {
            let fp = fingerprint(&i);
            assert_eq!(v.insert(fp, i, i as u32), Insert::New);
        }
        assert_eq!(v.len(), 100_000);
        for i in (0u64..100_000).step_by(997) {
            let fp = fingerprint(&i);
            assert_eq!(
                v.insert(fp, 0, 0),
                Insert::Seen {
                    depth: Some(i as u32)
                }
            );
            assert_eq!(v.parent(fp), Some(i));
        }
        assert!(!v.contains(fingerprint(&200_000u64)));
        assert_eq!(v.insert(0, 0, 0), Insert::New);
        assert!(v.contains(0));
    }

    #[test]
    fn memory_is_about_eight_bytes_a_slot_without_parents() {
        let v = Visited::new(false, false);
        for i in 0u64..1_000_000 {
            v.insert(fingerprint(&i), 0, 0);
        }
        let per_state = v.bytes() as f64 / 1_000_000.0;
        assert!(per_state < 22.0, "{per_state} bytes per state");
    }
}
