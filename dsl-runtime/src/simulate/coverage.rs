//! Coverage feedback: a corpus of runs scored by the abstract states they
//! were first to reach, each new run extending a good one.
//!
//! A run's *features* are the fingerprint of each node's state alone after
//! each step (so a node reaching a state it never had counts, whatever the
//! rest of the world holds) and each pair of consecutive handlers (a
//! handler sequence not seen before counts). A run that shows features no
//! earlier run showed, or shows one sooner (at an earlier step) than any
//! run did, joins the corpus, scored by how many. Sooner counts because a
//! run that reaches a state late has few steps left to go further. A new run
//! picks a corpus run (the newest of a few drawn at random, so the
//! frontier is extended most), replays a random prefix of its steps that
//! reaches at least its last new feature, and continues at random from
//! there: the prefix splice keeps what the parent reached, the random
//! tail flips the choices after it.
//!
//! The corpus changes only between batches of runs, in seed order, so the
//! runs of a seed range are the same on any number of threads.

use std::collections::HashMap;

use super::rng::SplitMix64;

/// Runs per batch: the corpus is updated after each.
pub const BATCH: u64 = 64;
/// Runs the corpus keeps at most; the lowest scored leave first.
const CORPUS: usize = 512;
/// Features remembered at most (about 16 MiB); past it no run scores.
const FEATURES: usize = 1 << 20;
/// Runs drawn to pick a parent from; the best of them is the parent.
const TOURNAMENT: usize = 3;
/// One run in this many starts afresh instead of extending a parent.
const FRESH: u64 = 8;

/// A run kept for its new features.
#[derive(Debug, Clone)]
struct Entry {
    /// Which enabled step it took at each step (its index in the world's
    /// enabled steps): replaying them gives the same run.
    picks: Vec<u32>,
    /// Steps to keep in any prefix taken from it: up to the last step
    /// that showed a new feature, so a child keeps what made it new.
    keep: usize,
    score: usize,
    /// When it joined, so that on equal scores the newer wins.
    joined: u64,
}

/// The corpus and every feature seen so far.
#[derive(Debug, Default)]
pub struct Corpus {
    entries: Vec<Entry>,
    /// Each feature seen, with the earliest step any run showed it at.
    seen: HashMap<u64, u32>,
    joined: u64,
}

impl Corpus {
    /// An empty corpus.
    pub fn new() -> Self {
        Corpus::default()
    }

    /// How many runs it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many distinct features have been seen.
    pub fn features(&self) -> usize {
        self.seen.len()
    }

    /// The prefix a new run with this random source replays: part of a
    /// good corpus run, or nothing (a fresh run).
    pub fn prefix(&self, rng: &mut SplitMix64) -> Vec<u32> {
        if self.entries.is_empty() || rng.below(FRESH) == 0 {
            return Vec::new();
        }
        let mut best: Option<&Entry> = None;
        for _ in 0..TOURNAMENT {
            let e = &self.entries[rng.below(self.entries.len() as u64) as usize];
            if best.is_none_or(|b| e.joined > b.joined) {
                best = Some(e);
            }
        }
        let Some(parent) = best else {
            return Vec::new();
        };
        let keep = parent.keep.min(parent.picks.len());
        let cut = keep + rng.below((parent.picks.len() - keep) as u64 + 1) as usize;
        parent.picks[..cut].to_vec()
    }

    /// Adds a finished run, given the features it showed with the step
    /// that showed each: it joins when some were not seen before, or not
    /// so soon. Returns how many.
    pub fn offer(&mut self, picks: Vec<u32>, features: &[(u32, u64)]) -> usize {
        let mut new = 0;
        let mut keep = 0;
        for &(step, f) in features {
            let full = self.seen.len() >= FEATURES;
            let better = match self.seen.get_mut(&f) {
                Some(first) if step < *first => {
                    *first = step;
                    true
                }
                Some(_) => false,
                None if !full => {
                    self.seen.insert(f, step);
                    true
                }
                None => false,
            };
            if better {
                new += 1;
                keep = step as usize + 1;
            }
        }
        if new > 0 {
            self.joined += 1;
            let entry = Entry {
                picks,
                keep,
                score: new,
                joined: self.joined,
            };
            if self.entries.len() < CORPUS {
                self.entries.push(entry);
            } else if let Some((i, _)) = self
                .entries
                .iter()
                .enumerate()
                .min_by_key(|(_, e)| (e.score, e.joined))
            {
                self.entries[i] = entry;
            }
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_runs_with_new_features_join_and_prefixes_come_from_them() {
        let mut c = Corpus::new();
        assert_eq!(c.offer(vec![1, 2, 3], &[(0, 10), (1, 11)]), 2);
        assert_eq!(c.offer(vec![4], &[(0, 10), (1, 11)]), 0, "nothing new");
        assert_eq!(c.len(), 1);
        assert_eq!(c.offer(vec![5], &[(0, 11)]), 1, "11 sooner");
        assert_eq!(c.len(), 2);
        c.entries.pop();
        let mut rng = SplitMix64::new(3);
        for _ in 0..50 {
            let p = c.prefix(&mut rng);
            assert!(p.is_empty() || p == [1, 2] || p == [1, 2, 3], "{p:?}");
        }
    }
}
