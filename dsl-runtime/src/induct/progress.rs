//! What a running `induct` (and `--infer`) reports to [`crate::progress`]:
//! the phase it is in (collecting reachable worlds, searching pre-states,
//! a Houdini sweep), how far along that phase is and how fast, the states
//! examined in all, the counterexamples to induction found, and with
//! `--infer` the candidates kept and dropped so far.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::numbers::thousands;
use crate::progress::Sample;

/// Counts of one induction run, bumped by the search as it goes.
#[derive(Debug)]
pub(crate) struct Watch {
    /// The phase's name, what its count counts, and where it ends.
    phase: Mutex<(&'static str, &'static str, Option<u64>, String)>,
    done: AtomicU64,
    /// States (worlds, pre- and post-states) examined in all phases.
    examined: AtomicU64,
    kept: AtomicU64,
    dropped: AtomicU64,
    ctis: AtomicU64,
}

/// Counts nobody samples, for runs without progress.
pub(crate) static UNWATCHED: Watch = Watch::new();

impl Default for Watch {
    fn default() -> Self {
        Watch::new()
    }
}

impl Watch {
    pub const fn new() -> Watch {
        Watch {
            phase: Mutex::new(("starting", "steps", None, String::new())),
            done: AtomicU64::new(0),
            examined: AtomicU64::new(0),
            kept: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            ctis: AtomicU64::new(0),
        }
    }

    /// A new phase, counting `unit`s up to `total`; `note` says which
    /// (`sweep 3`), empty when the name says it all.
    /// Counterexamples to induction are counted afresh in each phase (only
    /// the search finds them).
    pub fn phase(&self, name: &'static str, unit: &'static str, total: Option<u64>, note: String) {
        *self.phase.lock().unwrap_or_else(|e| e.into_inner()) = (name, unit, total, note);
        self.done.store(0, Ordering::Relaxed);
        self.ctis.store(0, Ordering::Relaxed);
    }

    /// One more of the phase's units done.
    pub fn step(&self) {
        self.done.fetch_add(1, Ordering::Relaxed);
    }

    /// The phase's count, set outright.
    pub fn set_done(&self, n: u64) {
        self.done.store(n, Ordering::Relaxed);
    }

    /// `n` more states examined.
    pub fn examined(&self, n: u64) {
        self.examined.fetch_add(n, Ordering::Relaxed);
    }

    /// Inference's candidates as they stand.
    pub fn candidates(&self, kept: u64, dropped: u64) {
        self.kept.store(kept, Ordering::Relaxed);
        self.dropped.store(dropped, Ordering::Relaxed);
    }

    /// One candidate dropped (by Houdini).
    pub fn dropped_one(&self) {
        self.kept.fetch_sub(1, Ordering::Relaxed);
        self.dropped.fetch_add(1, Ordering::Relaxed);
    }

    /// One more counterexample to induction found.
    pub fn cti(&self) {
        self.ctis.fetch_add(1, Ordering::Relaxed);
    }

    /// As the progress display takes it.
    pub fn sample(&self) -> Sample {
        let (name, unit, total, note) =
            self.phase.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let examined = load(&self.examined);
        let mut detail = name.to_string();
        if !note.is_empty() {
            detail += &format!(" ({note})");
        }
        detail += &format!(", {} states examined", thousands(examined));
        let (kept, dropped) = (load(&self.kept), load(&self.dropped));
        if kept + dropped > 0 {
            detail += &format!(
                ", candidates {} kept / {} dropped",
                thousands(kept),
                thousands(dropped)
            );
        }
        let ctis = load(&self.ctis);
        if ctis > 0 {
            detail += &format!(", CTIs found: {}", thousands(ctis));
        }
        let done = load(&self.done).min(total.unwrap_or(u64::MAX));
        Sample {
            done,
            total,
            unit,
            counted: done,
            rate_unit: "",
            detail,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_names_the_phase_and_the_candidates() {
        let w = Watch::new();
        w.phase("Houdini", "transitions", Some(10), "sweep 2".into());
        w.step();
        w.examined(7);
        w.candidates(5, 1);
        w.dropped_one();
        let s = w.sample();
        assert_eq!((s.done, s.total, s.unit), (1, Some(10), "transitions"));
        assert_eq!(
            s.detail,
            "Houdini (sweep 2), 7 states examined, candidates 4 kept / 2 dropped"
        );
    }
}
