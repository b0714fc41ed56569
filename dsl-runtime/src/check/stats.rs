//! Counters of one check and the process's memory use.

use std::fmt;
use std::time::Duration;

use crate::check::Strategy;
use crate::numbers::thousands;

/// Counters of one check.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Worlds generated, including ones seen before.
    pub states: u64,
    /// Distinct worlds (by fingerprint; canonical ones under symmetry).
    pub unique: u64,
    /// The deepest world reached, in steps from the initial world.
    pub max_depth: usize,
    /// Distinct worlds (canonical ones under symmetry) where no step is
    /// enabled (the run is over). Every partial-order reduction keeps all of
    /// them, so comparing this count with and without one checks it.
    pub terminal: u64,
    /// Wall-clock time.
    pub elapsed: Duration,
    /// How many times each invariant was evaluated, by invariant id.
    pub invariant_evals: Vec<u64>,
    /// Bytes held by the visited set.
    pub visited_bytes: u64,
    /// The process's peak resident memory, where the platform reports it.
    pub peak_rss_bytes: Option<u64>,
    /// The memory budget, in bytes (`u64::MAX`: none), and where it came
    /// from.
    pub memory_budget: u64,
    /// Where the budget came from (`--memory`, `default: 3/4 of ...`).
    pub memory_source: String,
    /// The most memory the search's own account showed it holding.
    pub held_bytes: u64,
    /// New states found at each depth from 1 on, breadth first (empty
    /// depth first); a level cut short by a stop is counted as far as it got.
    pub levels: Vec<u64>,
    /// Threads used.
    pub threads: usize,
    /// Search order used.
    pub strategy: Strategy,
    /// Whether a counterexample found is a shortest one: breadth first
    /// with no partial-order reduction (which can lengthen paths).
    pub shortest: bool,
    /// What each reduction did (on, off and why, and what it saved).
    pub notes: Vec<crate::check::Note>,
    /// The reductions the search ran with, after each decided whether it
    /// applies (a role that is not symmetric, faults that rule out
    /// partial-order reduction, a sample that says one does not pay).
    pub reductions: crate::check::Reductions,
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "states: {}  unique: {}  depth: {}  time: {:.2?}",
            thousands(self.states),
            thousands(self.unique),
            self.max_depth,
            self.elapsed
        )?;
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            write!(f, "  ({}/s)", thousands((self.unique as f64 / secs) as u64))?;
        }
        write!(
            f,
            "\n  terminal: {}  visited set: {} MiB",
            thousands(self.terminal),
            mib(self.visited_bytes)
        )?;
        if let Some(rss) = self.peak_rss_bytes {
            write!(f, "  peak memory: {} MiB", mib(rss))?;
        }
        if !self.memory_source.is_empty() {
            write!(
                f,
                "\n  memory: search held at most {} MiB of ",
                mib(self.held_bytes)
            )?;
            if self.memory_budget == u64::MAX {
                write!(f, "no budget ({})", self.memory_source)?;
            } else {
                write!(
                    f,
                    "a {} budget ({})",
                    crate::check::memory::format_bytes(self.memory_budget),
                    self.memory_source
                )?;
            }
        }
        if self.threads > 0 {
            write!(f, "  threads: {}  search: {}", self.threads, self.strategy)?;
        }
        Ok(())
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / (1024.0 * 1024.0))
}

/// The process's peak resident set size (`VmHWM`), on Linux.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
