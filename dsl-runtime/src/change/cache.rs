//! The check cache: verdicts on disk, keyed by everything they depend on
//! that Verdict can see, so an unchanged system answers at once.
//!
//! The key hashes the system's [`Description`] (every declaration hash,
//! footprint, type and the workload), the flags of the run (sizes, model
//! and config flags, the fault model, bounds and search options) and the
//! tool's version with [`FORMAT`]. An entry holds the exit code and what
//! `check` printed. Entries are written to a temporary file and renamed,
//! so a reader sees a whole entry or none; an entry that does not parse,
//! or parses to another key, is reported as damaged, never trusted.
//!
//! Next to the entries the cache keeps, per system and flag set, the
//! description last checked, so a miss after an edit can say which
//! invariants [`super::impact`] flags.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::describe::{hex, Description};
use crate::meta::{mix_hash, text_hash};

/// The format number of cache files; part of every key.
pub const FORMAT: u32 = 1;

/// One cached verdict.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// [`FORMAT`].
    pub format: u32,
    /// The key it is stored under, as hex: checked on reading.
    pub key: String,
    /// The system checked.
    pub system: String,
    /// The flags it was checked with, for whoever reads the file.
    pub flags: Vec<String>,
    /// The exit code of the check.
    pub exit_code: u8,
    /// Whether the check was cut short by a bound it was given.
    pub bounded: bool,
    /// What the check printed.
    pub output: String,
}

/// What [`CheckCache::lookup`] found.
#[derive(Debug)]
pub enum Lookup {
    /// A verdict for this key.
    Hit(Entry),
    /// No entry.
    Miss,
    /// An entry that cannot be trusted, with why.
    Damaged(String),
}

/// The key of a verdict: the description, the flags and the tool.
pub fn key(description: &Description, flags: &[String]) -> u64 {
    let mut h = mix_hash(text_hash("verdict check cache"), env!("CARGO_PKG_VERSION"));
    h = mix_hash(h, &FORMAT.to_string());
    h = mix_hash(h, &hex(description.hash()));
    for f in flags {
        h = mix_hash(h, f);
    }
    h
}

/// The key of a system and flag set, whatever its code: where the last
/// description checked with them is kept.
pub fn flags_key(system: &str, flags: &[String]) -> u64 {
    let mut h = mix_hash(text_hash("verdict last description"), system);
    for f in flags {
        h = mix_hash(h, f);
    }
    h
}

/// Why the cache cannot be used or an entry read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CacheError {
    /// The directory cannot be created.
    #[error("--cache {}: cannot create it: {message}", dir.display())]
    Create {
        /// The directory given.
        dir: PathBuf,
        /// What the file system said.
        message: String,
    },
    /// A file exists but cannot be read.
    #[error("cannot read it: {0}")]
    Read(String),
    /// The last description recorded is damaged or of another format.
    #[error("{0}")]
    Description(#[from] crate::change::DescriptionError),
}

/// A cache directory.
#[derive(Debug, Clone)]
pub struct CheckCache {
    dir: PathBuf,
}

impl CheckCache {
    /// The cache in `dir`, created if missing.
    pub fn open(dir: &Path) -> Result<Self, CacheError> {
        std::fs::create_dir_all(dir).map_err(|e| CacheError::Create {
            dir: dir.to_path_buf(),
            message: e.to_string(),
        })?;
        Ok(CheckCache {
            dir: dir.to_path_buf(),
        })
    }

    /// The file of the entry with this key.
    pub fn entry_path(&self, key: u64) -> PathBuf {
        self.dir.join(format!("verdict-{}.json", hex(key)))
    }

    fn last_path(&self, flags_key: u64) -> PathBuf {
        self.dir.join(format!("last-{}.json", hex(flags_key)))
    }

    /// The entry stored under `key`, if any.
    pub fn lookup(&self, key: u64) -> Lookup {
        let path = self.entry_path(key);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Lookup::Miss,
            Err(e) => return Lookup::Damaged(format!("cannot read it: {e}")),
        };
        match serde_json::from_str::<Entry>(&text) {
            Ok(e) if e.format != FORMAT => {
                Lookup::Damaged(format!("format {}, not {FORMAT}", e.format))
            }
            Ok(e) if e.key != hex(key) => {
                Lookup::Damaged(format!("it holds key {}, not {}", e.key, hex(key)))
            }
            Ok(e) => Lookup::Hit(e),
            Err(e) => Lookup::Damaged(format!("not a cache entry (line {}): {e}", e.line())),
        }
    }

    /// Stores `entry` under its key, atomically.
    pub fn store(&self, key: u64, entry: &Entry) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(entry).map_err(std::io::Error::other)?;
        self.write_atomically(&self.entry_path(key), &text)
    }

    /// The description last checked with this flag set: `None` when there
    /// is none, `Err` when the file is damaged.
    pub fn last(&self, flags_key: u64) -> Option<Result<Description, CacheError>> {
        let text = match std::fs::read_to_string(self.last_path(flags_key)) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => return Some(Err(CacheError::Read(e.to_string()))),
        };
        Some(Description::from_json(&text).map_err(CacheError::Description))
    }

    /// Records `description` as the last checked with this flag set.
    pub fn store_last(&self, flags_key: u64, description: &Description) -> std::io::Result<()> {
        self.write_atomically(&self.last_path(flags_key), &description.to_json())
    }

    /// Writes a temporary file in the directory and renames it over `path`.
    fn write_atomically(&self, path: &Path, text: &str) -> std::io::Result<()> {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("entry");
        let tmp = self.dir.join(format!(".{name}.{}.tmp", std::process::id()));
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, path).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: u64) -> Entry {
        Entry {
            format: FORMAT,
            key: hex(key),
            system: "S".into(),
            flags: vec!["--faults".into(), "none".into()],
            exit_code: 1,
            bounded: false,
            output: "VIOLATION: x\n".into(),
        }
    }

    #[test]
    fn entries_round_trip_and_damage_is_reported_not_trusted() {
        let dir = std::env::temp_dir().join(format!("verdict-cache-unit-{}", std::process::id()));
        let cache = CheckCache::open(&dir).unwrap();
        assert!(matches!(cache.lookup(7), Lookup::Miss));
        cache.store(7, &entry(7)).unwrap();
        match cache.lookup(7) {
            Lookup::Hit(e) => assert_eq!(e, entry(7)),
            other => panic!("expected a hit, got {other:?}"),
        }
        // An entry under the wrong name, and a cut-off one.
        std::fs::copy(cache.entry_path(7), cache.entry_path(8)).unwrap();
        assert!(matches!(cache.lookup(8), Lookup::Damaged(why) if why.contains("holds key")));
        std::fs::write(cache.entry_path(9), "{\"format\": 1, \"ke").unwrap();
        assert!(
            matches!(cache.lookup(9), Lookup::Damaged(why) if why.contains("not a cache entry"))
        );
        let leftovers = std::fs::read_dir(&dir)
            .unwrap()
            .filter(|f| {
                f.as_ref()
                    .is_ok_and(|f| f.file_name().to_string_lossy().ends_with(".tmp"))
            })
            .count();
        assert_eq!(leftovers, 0);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn keys_differ_by_flags_and_description() {
        let d = Description::of_meta(&crate::meta::meta_named("S"), &[], None);
        let mut e = d.clone();
        e.source_hash = hex(1);
        let flags = vec!["--depth".to_string(), "3".to_string()];
        assert_eq!(key(&d, &flags), key(&d.clone(), &flags));
        assert_ne!(key(&d, &flags), key(&d, &[]));
        assert_ne!(key(&d, &flags), key(&e, &flags));
        assert_eq!(flags_key("S", &flags), flags_key("S", &flags));
        assert_ne!(flags_key("S", &flags), flags_key("T", &flags));
    }
}
