//! A node's armed timers: the handlers' named timers mapped to deadlines.
//!
//! The checker lets an armed timer fire at any point; the runtime fires it
//! at its deadline. Re-arming replaces the deadline; a crash clears all.

use std::time::{Duration, Instant};

/// Armed timers and their deadlines.
#[derive(Debug)]
pub struct TimerTable<T> {
    armed: Vec<(T, Instant)>,
}

impl<T> Default for TimerTable<T> {
    fn default() -> Self {
        TimerTable { armed: Vec::new() }
    }
}

impl<T: Copy + Eq> TimerTable<T> {
    /// Arms `timer` to fire `after` from `now`, replacing any deadline.
    pub fn set(&mut self, timer: T, now: Instant, after: Duration) {
        self.cancel(timer);
        self.armed.push((timer, now + after));
    }

    /// Disarms `timer`.
    pub fn cancel(&mut self, timer: T) {
        self.armed.retain(|(t, _)| *t != timer);
    }

    /// The earliest deadline, if any timer is armed.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.armed.iter().map(|(_, d)| *d).min()
    }

    /// Disarms and returns one timer whose deadline has passed (earliest first).
    pub fn pop_due(&mut self, now: Instant) -> Option<T> {
        let (i, _) = self
            .armed
            .iter()
            .enumerate()
            .filter(|(_, (_, d))| *d <= now)
            .min_by_key(|(_, (_, d))| *d)?;
        Some(self.armed.swap_remove(i).0)
    }

    /// How many timers are armed.
    pub fn len(&self) -> usize {
        self.armed.len()
    }

    /// Whether no timer is armed.
    pub fn is_empty(&self) -> bool {
        self.armed.is_empty()
    }
}
