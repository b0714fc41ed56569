//! The memory budget of a check: how much the search may hold, how much it
//! holds, and the stop when it reaches the budget.
//!
//! A search that outgrows the machine is killed by the kernel and says
//! nothing. So every search accounts the bytes it holds — the visited set's
//! tables, the worlds waiting to be expanded (breadth-first levels,
//! depth-first stacks and pools), the in-place search's frames, the
//! dynamic reduction's summaries and path — in a `Meter` of a few atomic
//! counters, compares them with the budget at every new state (a handful
//! of relaxed loads), and stops with an honest bounded verdict when they
//! reach it. The visited set asks the meter before it grows a table, so a
//! doubling never overshoots. As a net under the estimate, a watcher thread
//! samples the process's resident memory ten times a second and stops the
//! search too if it grew by the budget since the check started.
//!
//! A world's bytes cannot be read from the type (node states are the
//! user's); they are estimated from a sample of the worlds built: their
//! inline size plus twice the bytes their `Hash` writes beyond it (what
//! lives on the heap, with room for spare capacity and allocator headers).

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicU8, Ordering};

use crate::semantics::World;
use crate::system::System;

pub use crate::budget::{
    available_memory, format_bytes, parse_size, resident_bytes, MemoryBudget, SizeError,
    DEFAULT_SHARE,
};

/// What stopped a search at its memory budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reached {
    /// The search's own account of what it holds reached the budget (or
    /// the visited set would have passed it by growing).
    Held,
    /// The process's resident memory grew by the budget (the net under
    /// the estimate).
    Resident,
}

/// The memory a running search holds, in counters its threads update.
pub(crate) struct Meter {
    budget: u64,
    /// Bytes of the visited set's tables.
    visited: AtomicU64,
    /// Worlds held (waiting in a level, a stack or a pool, or on a path).
    worlds: AtomicI64,
    /// The estimated bytes of one held world, from a sample.
    world_bytes: AtomicU64,
    /// Other bytes: in-place frames, dynamic-reduction summaries.
    other: AtomicI64,
    /// The most ever held, for the report.
    peak: AtomicU64,
    /// 0: not reached; else 1 + [`Reached`] as a number.
    reached: AtomicU8,
    /// Whether the visited set was refused a growth.
    refused: AtomicBool,
    /// How many bytes one thread may hold unpublished (see [`Meter::slack`]).
    slack: u64,
}

/// Bytes charged per held world besides the world itself: its queue slot
/// and its link on a depth-first trail.
const WORLD_OVERHEAD: u64 = 64;

/// Bounds on one thread's unpublished bytes: below the lower, publishing
/// would cost more than it tells; above the upper, a huge budget would let
/// a thread's account lag for millions of states.
const SLACK_BOUNDS: (u64, u64) = (16 << 10, 64 << 20);

impl Meter {
    /// A meter for a search of `threads` threads under `budget` bytes.
    pub(crate) fn new(budget: u64, threads: usize) -> Self {
        let share = budget / (16 * threads.max(1) as u64);
        Meter {
            budget,
            visited: AtomicU64::new(0),
            worlds: AtomicI64::new(0),
            world_bytes: AtomicU64::new(0),
            other: AtomicI64::new(0),
            peak: AtomicU64::new(0),
            reached: AtomicU8::new(0),
            refused: AtomicBool::new(false),
            slack: share.clamp(SLACK_BOUNDS.0, SLACK_BOUNDS.1),
        }
    }

    /// Whether a thread whose own count changed by `worlds` held worlds
    /// and `other` bytes since it last published must publish now.
    ///
    /// Threads keep their counts to themselves between publishes (a shared
    /// counter bumped per world would bounce between cores), so the account
    /// lags by what they hold back. Each holds back at most a sixteenth of
    /// the budget split among the threads, so the account never runs more
    /// than a sixteenth past the budget however many threads search.
    pub(crate) fn must_publish(&self, worlds: i64, other: i64) -> bool {
        let per = self.world_bytes.load(Ordering::Relaxed) + WORLD_OVERHEAD;
        worlds.unsigned_abs().saturating_mul(per) + other.unsigned_abs() > self.slack
    }

    /// The budget in bytes.
    pub(crate) fn budget(&self) -> u64 {
        self.budget
    }

    /// The bytes held now, by the account.
    pub(crate) fn held(&self) -> u64 {
        let worlds = self.worlds.load(Ordering::Relaxed).max(0) as u64;
        let per = self.world_bytes.load(Ordering::Relaxed) + WORLD_OVERHEAD;
        let other = self.other.load(Ordering::Relaxed).max(0) as u64;
        self.visited.load(Ordering::Relaxed) + worlds * per + other
    }

    /// Whether the search must stop: what it holds reached the budget (or
    /// it was stopped for memory already). Notes the peak.
    pub(crate) fn over(&self) -> bool {
        if self.reached.load(Ordering::Relaxed) != 0 {
            return true;
        }
        let held = self.held();
        if held > self.peak.load(Ordering::Relaxed) {
            self.peak.fetch_max(held, Ordering::Relaxed);
        }
        if held >= self.budget || self.refused.load(Ordering::Relaxed) {
            self.reach(Reached::Held);
            return true;
        }
        false
    }

    /// Records why the search stopped (the first reason stays).
    pub(crate) fn reach(&self, why: Reached) {
        let code = match why {
            Reached::Held => 1,
            Reached::Resident => 2,
        };
        let _ = self
            .reached
            .compare_exchange(0, code, Ordering::Relaxed, Ordering::Relaxed);
    }

    /// Why the search stopped for memory, if it did.
    pub(crate) fn reached(&self) -> Option<Reached> {
        match self.reached.load(Ordering::Relaxed) {
            1 => Some(Reached::Held),
            2 => Some(Reached::Resident),
            _ => None,
        }
    }

    /// The most the account ever showed.
    pub(crate) fn peak(&self) -> u64 {
        self.peak.load(Ordering::Relaxed).max(self.held())
    }

    /// Asks whether the visited set may grow a table from `old` to `new`
    /// bytes (both are held while it copies). Refusing marks the search to
    /// stop.
    pub(crate) fn may_grow(&self, old: u64, new: u64) -> bool {
        let _ = old;
        if self.held().saturating_add(new) <= self.budget {
            return true;
        }
        self.refused.store(true, Ordering::Relaxed);
        false
    }

    /// The visited set's tables changed size by `delta` bytes.
    pub(crate) fn visited_changed(&self, delta: i64) {
        if delta >= 0 {
            self.visited.fetch_add(delta as u64, Ordering::Relaxed);
        } else {
            self.visited
                .fetch_sub(delta.unsigned_abs(), Ordering::Relaxed);
        }
    }

    /// `delta` more (or fewer) worlds are held.
    pub(crate) fn worlds_changed(&self, delta: i64) {
        if delta != 0 {
            self.worlds.fetch_add(delta, Ordering::Relaxed);
        }
    }

    /// `delta` more (or fewer) other bytes are held.
    pub(crate) fn other_changed(&self, delta: i64) {
        if delta != 0 {
            self.other.fetch_add(delta, Ordering::Relaxed);
        }
    }

    /// A new estimate of one world's bytes.
    pub(crate) fn set_world_bytes(&self, bytes: u64) {
        self.world_bytes.store(bytes, Ordering::Relaxed);
    }

    /// The current estimate of one world's bytes.
    pub(crate) fn world_bytes(&self) -> u64 {
        self.world_bytes.load(Ordering::Relaxed)
    }
}

/// Counts the bytes a `Hash` impl writes.
#[derive(Default)]
struct ByteCount(u64);

impl Hasher for ByteCount {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0 += bytes.len() as u64;
    }
    fn write_u8(&mut self, _: u8) {
        self.0 += 1;
    }
    fn write_u16(&mut self, _: u16) {
        self.0 += 2;
    }
    fn write_u32(&mut self, _: u32) {
        self.0 += 4;
    }
    fn write_u64(&mut self, _: u64) {
        self.0 += 8;
    }
    fn write_usize(&mut self, _: usize) {
        self.0 += 8;
    }
}

/// Estimated heap bytes behind a value of inline size `inline`: twice what
/// its hash writes beyond its inline size (room for spare capacity and
/// allocator headers).
fn heap_of(value: &impl Hash, inline: usize) -> u64 {
    let mut c = ByteCount::default();
    value.hash(&mut c);
    2 * c.0.saturating_sub(inline as u64)
}

/// Allocator header and rounding per allocation, roughly.
const ALLOCATION: u64 = 16;

/// The estimated bytes a world holds: its inline size, its three vectors'
/// buffers (nodes, packets with their cached hashes, trace) and the heap
/// behind node states, messages and trace events.
pub fn world_bytes<S: System>(world: &World<S>) -> u64 {
    use std::mem::size_of;
    let mut bytes = size_of::<World<S>>() as u64 + 3 * ALLOCATION;
    bytes += (world.nodes.capacity() * size_of::<crate::semantics::NodeSlot<S>>()) as u64;
    for slot in &world.nodes {
        bytes += heap_of(&slot.state, size_of::<S::State>());
    }
    let packets = world.network.packets();
    bytes += (packets.len() * (size_of::<crate::semantics::network::Packet<S>>() + 8)) as u64;
    for p in packets {
        bytes += heap_of(&p.msg, size_of::<S::Msg>());
    }
    bytes += (world.trace.capacity() * size_of::<crate::semantics::TraceEvent<S>>()) as u64;
    for e in &world.trace {
        bytes += heap_of(e, size_of::<crate::semantics::TraceEvent<S>>());
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_units_and_refuse_nonsense() {
        assert_eq!(parse_size("2GiB").map(|b| b.bytes), Ok(2 << 30));
        assert_eq!(parse_size("512M").map(|b| b.bytes), Ok(512 << 20));
        assert_eq!(parse_size("1.5g").map(|b| b.bytes), Ok(3 << 29));
        assert_eq!(parse_size("4096").map(|b| b.bytes), Ok(4096));
        assert!(parse_size("unlimited").is_ok_and(|b| b.is_unlimited()));
        assert!(
            matches!(parse_size("2 parsecs"), Err(SizeError::UnknownUnit { unit, .. }) if unit == "parsecs")
        );
        assert_eq!(parse_size("0"), Err(SizeError::OutOfRange("0".into())));
        assert_eq!(
            parse_size("150%"),
            Err(SizeError::ShareOutOfRange("150%".into()))
        );
        assert_eq!(parse_size("x%"), Err(SizeError::BadShare("x%".into())));
        assert_eq!(parse_size("-1G"), Err(SizeError::BadNumber("-1G".into())));
        assert_eq!(
            parse_size("2 parsecs").unwrap_err().to_string(),
            "`2 parsecs`: unknown unit `parsecs`; use K, M, G or T (powers of 1024), a share like 75%, or unlimited"
        );
    }

    #[test]
    fn the_meter_stops_at_the_budget_and_refuses_a_growth_past_it() {
        let m = Meter::new(1000, 1);
        m.visited_changed(600);
        assert!(!m.over());
        assert!(m.may_grow(600, 300));
        assert!(!m.may_grow(600, 500));
        assert!(m.over(), "a refused growth stops the search");
        assert_eq!(m.reached(), Some(Reached::Held));
        let m = Meter::new(1000, 1);
        m.set_world_bytes(100 - WORLD_OVERHEAD);
        m.worlds_changed(10);
        assert!(m.over());
        assert_eq!(m.peak(), 1000);
    }

    #[test]
    fn threads_publish_before_they_hold_back_a_sixteenth_of_their_share() {
        let m = Meter::new(64 << 20, 2);
        m.set_world_bytes(1024 - WORLD_OVERHEAD);
        // Each of two threads may hold back 2 MiB: 2048 worlds of 1 KiB.
        assert!(!m.must_publish(2048, 0));
        assert!(m.must_publish(2049, 0));
        assert!(m.must_publish(-2049, 0), "releases count too");
        assert!(m.must_publish(0, (2 << 20) + 1));
        // A tiny budget still lets a thread batch a few worlds.
        let m = Meter::new(1000, 2);
        m.set_world_bytes(1024 - WORLD_OVERHEAD);
        assert!(!m.must_publish(16, 0));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_default_budget_is_a_share_of_what_is_available() {
        let (avail, _) = available_memory().expect("Linux reports its memory");
        let b = MemoryBudget::default_share();
        assert!(b.bytes <= avail && b.bytes >= avail / 2, "{b}");
        assert!(b.source.starts_with("default: 3/4"), "{b}");
    }
}
