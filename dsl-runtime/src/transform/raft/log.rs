//! Raft's log with compaction: the entries since the last snapshot, and the
//! snapshot that stands for every entry before them.
//!
//! Entries are numbered from 1 as in the paper. Entries up to
//! [`Log::base_index`] are gone; what they did is the snapshot's `base`
//! (for Raft, the machine and the session table after them) and what is
//! left of them is the index and term of the last one, which the
//! consistency check of the next `AppendEntries` needs. Only committed
//! entries are ever compacted, so everything below the base is the same on
//! every server.

use serde::{Deserialize, Serialize};

use crate::Relabel;

/// An entry that knows the term it was created in.
pub trait Termed {
    /// The entry's term.
    fn term(&self) -> u32;
}

impl<N, I> Termed for (u32, N, u32, I) {
    fn term(&self) -> u32 {
        self.0
    }
}

/// A log of entries `E` whose prefix may be compacted into a snapshot `B`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Log<E, B> {
    /// The last compacted entry's index (0: nothing compacted).
    base_index: u64,
    /// Its term (0 when nothing is compacted).
    base_term: u32,
    /// The state after the compacted entries.
    base: B,
    /// Entries `base_index + 1 ..`, in order.
    entries: Vec<E>,
}

impl<E: Termed, B> Log<E, B> {
    /// An empty log whose state before any entry is `base`.
    pub fn new(base: B) -> Self {
        Log {
            base_index: 0,
            base_term: 0,
            base,
            entries: Vec::new(),
        }
    }

    /// The index of the last compacted entry (0: none).
    pub fn base_index(&self) -> u64 {
        self.base_index
    }

    /// The term of the last compacted entry (0: none).
    pub fn base_term(&self) -> u32 {
        self.base_term
    }

    /// The state after the compacted entries.
    pub fn base(&self) -> &B {
        &self.base
    }

    /// The state after the compacted entries, to change (a server's
    /// initial state, before any entry).
    pub fn base_mut(&mut self) -> &mut B {
        &mut self.base
    }

    /// The index of the last entry, compacted or not (0: empty).
    pub fn last_index(&self) -> u64 {
        self.base_index + self.entries.len() as u64
    }

    /// The term of the last entry, compacted or not (0: empty).
    pub fn last_term(&self) -> u32 {
        self.entries.last().map_or(self.base_term, Termed::term)
    }

    /// The term of entry `index`, where it is known: a held entry, the
    /// last compacted one, or 0 for the empty prefix.
    pub fn term_at(&self, index: u64) -> Option<u32> {
        if index == self.base_index {
            Some(self.base_term)
        } else {
            self.get(index).map(Termed::term)
        }
    }

    /// Entry `index`, if it is held (not compacted, not past the end).
    pub fn get(&self, index: u64) -> Option<&E> {
        let at = index.checked_sub(self.base_index + 1)?;
        self.entries.get(usize::try_from(at).ok()?)
    }

    /// The held entries after `index` (all of them when `index` is
    /// compacted).
    pub fn after(&self, index: u64) -> &[E] {
        let skip = index.saturating_sub(self.base_index) as usize;
        &self.entries[skip.min(self.entries.len())..]
    }

    /// The held entries with their indexes.
    pub fn held(&self) -> impl Iterator<Item = (u64, &E)> {
        (self.base_index + 1..).zip(&self.entries)
    }

    /// How many entries are held (not compacted).
    pub fn held_len(&self) -> usize {
        self.entries.len()
    }

    /// Appends an entry at `last_index() + 1`.
    pub fn push(&mut self, entry: E) {
        self.entries.push(entry);
    }

    /// Removes entry `index` and every later one; compacted entries stay.
    pub fn truncate_from(&mut self, index: u64) {
        let keep = index.saturating_sub(self.base_index + 1) as usize;
        self.entries.truncate(keep);
    }

    /// Compacts the entries up to `index` into `base`, the state after
    /// them. Nothing happens unless `index` is a held entry.
    pub fn compact(&mut self, index: u64, base: B) {
        let Some(term) = self.get(index).map(Termed::term) else {
            return;
        };
        let gone = (index - self.base_index) as usize;
        self.entries.drain(..gone);
        self.base_index = index;
        self.base_term = term;
        self.base = base;
    }

    /// Installs a snapshot of the entries up to `index` (of `term`): the
    /// held entries after `index` are kept when the log holds that very
    /// entry and `keep_matching` is set (they may be acknowledged to the
    /// leader already), and dropped otherwise. A snapshot no newer than
    /// the log's own base changes nothing.
    pub fn install(&mut self, index: u64, term: u32, base: B, keep_matching: bool) {
        if index <= self.base_index {
            return;
        }
        if keep_matching && self.term_at(index) == Some(term) {
            let gone = (index - self.base_index) as usize;
            self.entries.drain(..gone);
        } else {
            self.entries.clear();
        }
        self.base_index = index;
        self.base_term = term;
        self.base = base;
    }
}

impl<N, E: Relabel<N>, B: Relabel<N>> Relabel<N> for Log<E, B> {
    fn relabel(&mut self, map: &dyn Fn(N) -> N) {
        self.base.relabel(map);
        self.entries.relabel(map);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Entry = (u32, u8, u32, char);

    fn log(terms: &[u32]) -> Log<Entry, &'static str> {
        let mut log = Log::new("empty");
        for (i, &t) in terms.iter().enumerate() {
            log.push((t, 0, i as u32, 'x'));
        }
        log
    }

    #[test]
    fn indexes_count_from_one_across_the_compacted_prefix() {
        let mut l = log(&[1, 1, 2, 3]);
        assert_eq!((l.last_index(), l.last_term()), (4, 3));
        l.compact(2, "after 2");
        assert_eq!(
            (l.base_index(), l.base_term(), *l.base()),
            (2, 1, "after 2")
        );
        assert_eq!(l.get(2), None);
        assert_eq!(l.get(3).map(|e| e.0), Some(2));
        assert_eq!(l.term_at(2), Some(1));
        assert_eq!(l.term_at(1), None);
        assert_eq!(l.after(0).len(), 2);
        assert_eq!(l.after(3).len(), 1);
        assert_eq!(l.held().map(|(i, _)| i).collect::<Vec<_>>(), vec![3, 4]);
        l.truncate_from(4);
        assert_eq!(l.last_index(), 3);
        l.truncate_from(1);
        assert_eq!((l.last_index(), l.last_term()), (2, 1));
    }

    #[test]
    fn compacting_past_the_end_or_below_the_base_does_nothing() {
        let mut l = log(&[1, 2]);
        l.compact(3, "no");
        assert_eq!(l.base_index(), 0);
        l.compact(1, "after 1");
        l.compact(1, "again");
        assert_eq!((l.base_index(), *l.base()), (1, "after 1"));
    }

    #[test]
    fn installing_keeps_a_matching_suffix_and_drops_a_conflicting_log() {
        let mut l = log(&[1, 1, 2]);
        l.install(2, 1, "snap", true);
        assert_eq!((l.base_index(), l.last_index()), (2, 3));
        let mut conflicting = log(&[1, 3, 3]);
        conflicting.install(2, 1, "snap", true);
        assert_eq!((conflicting.base_index(), conflicting.last_index()), (2, 2));
        let mut shorter = log(&[1]);
        shorter.install(3, 2, "snap", true);
        assert_eq!((shorter.last_index(), shorter.last_term()), (3, 2));
        let mut careless = log(&[1, 1, 2]);
        careless.install(2, 1, "snap", false);
        assert_eq!(careless.last_index(), 2);
        careless.install(1, 1, "older", true);
        assert_eq!((careless.base_index(), *careless.base()), (2, "snap"));
    }
}
