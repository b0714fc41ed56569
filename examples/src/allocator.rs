//! The examples' allocator: mimalloc, which can also report the largest
//! single allocation made while [`track_largest`] is on — how the fuzzing
//! campaign checks that no input makes a reader believe a length before
//! the bytes arrive. Off (always, outside that campaign) it costs one
//! relaxed load per allocation.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use mimalloc::MiMalloc;

/// mimalloc, with an optional record of the largest allocation.
pub struct Allocator;

static TRACKING: AtomicBool = AtomicBool::new(false);
static LARGEST: AtomicUsize = AtomicUsize::new(0);

/// Starts (or stops) recording the largest allocation, from zero.
pub fn track_largest(on: bool) {
    LARGEST.store(0, Ordering::Relaxed);
    TRACKING.store(on, Ordering::Relaxed);
}

/// The largest allocation since tracking started, and resets it to zero.
pub fn take_largest() -> usize {
    LARGEST.swap(0, Ordering::Relaxed)
}

fn note(size: usize) {
    if TRACKING.load(Ordering::Relaxed) {
        LARGEST.fetch_max(size, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded unchanged to mimalloc; the counter is
// only observed.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: forwarded with the caller's layout.
        unsafe { MiMalloc.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: forwarded with the caller's layout.
        unsafe { MiMalloc.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator with this layout.
        unsafe { MiMalloc.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: forwarded unchanged.
        unsafe { MiMalloc.realloc(ptr, layout, new_size) }
    }
}
