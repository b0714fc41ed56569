//! The file operations durable storage makes, behind one trait, so a test
//! can crash the disk between any two of them.
//!
//! [`OsDisk`] is the real thing: `std::fs`, `fdatasync`, directory fsync.
//! [`SimDisk`] keeps files in memory the way a kernel's page cache and a
//! disk do: a write is volatile until its file is synced, a new name or a
//! rename is volatile until its directory is synced. [`SimDisk::crash_at`]
//! makes the `n`th operation fail and every later one too, as if the power
//! went; [`SimDisk::reboot`] then keeps only what was durable, optionally
//! tearing the last write (part of it reached the platter, the end of that
//! part garbled). Every storage path of the runtime — the log, snapshots,
//! the identity file — goes through a [`Disk`], so the crash-point test
//! covers each of them.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// A file opened for appending (the log).
pub trait AppendFile: Send {
    /// Appends `bytes`; volatile until [`AppendFile::sync`].
    fn append(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Forces the appended bytes to stable storage (`fdatasync`).
    fn sync(&mut self) -> io::Result<()>;
}

/// The file operations of durable storage.
pub trait Disk: Send + Sync {
    /// The whole file, or `None` if it does not exist. `limit` bounds what
    /// is read: a longer file is an error, not an allocation.
    fn read(&self, path: &Path, limit: u64) -> io::Result<Option<Vec<u8>>>;
    /// Creates (or replaces the contents of) `path` with `bytes`, then
    /// forces them to disk. The name itself is durable only once the
    /// directory is synced.
    fn write_synced(&self, path: &Path, bytes: &[u8]) -> io::Result<()>;
    /// Opens `path` for appending; it must exist.
    fn open_append(&self, path: &Path) -> io::Result<Box<dyn AppendFile>>;
    /// Renames `from` over `to` (atomic; durable once the directory is synced).
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Cuts `path` to `len` bytes and forces that to disk.
    fn truncate(&self, path: &Path, len: u64) -> io::Result<()>;
    /// Forces a directory's entries (new names, renames) to disk.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// Creates a directory and its parents.
    fn create_dir_all(&self, dir: &Path) -> io::Result<()>;
    /// Whether `path` exists.
    fn exists(&self, path: &Path) -> bool;
}

/// The real file system.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsDisk;

struct OsAppend(File);

impl AppendFile for OsAppend {
    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.0.write_all(bytes)
    }
    fn sync(&mut self) -> io::Result<()> {
        self.0.sync_data()
    }
}

impl Disk for OsDisk {
    fn read(&self, path: &Path, limit: u64) -> io::Result<Option<Vec<u8>>> {
        let mut f = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let len = f.metadata()?.len();
        if len > limit {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} is {len} bytes, more than the {limit} this build reads",
                    path.display()
                ),
            ));
        }
        let mut bytes = Vec::with_capacity(len as usize);
        Read::by_ref(&mut f).take(limit).read_to_end(&mut bytes)?;
        Ok(Some(bytes))
    }

    fn write_synced(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let mut f = File::create(path)?;
        f.write_all(bytes)?;
        f.sync_all()
    }

    fn open_append(&self, path: &Path) -> io::Result<Box<dyn AppendFile>> {
        let f = OpenOptions::new().append(true).open(path)?;
        Ok(Box::new(OsAppend(f)))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }

    fn truncate(&self, path: &Path, len: u64) -> io::Result<()> {
        let f = OpenOptions::new().write(true).open(path)?;
        f.set_len(len)?;
        f.sync_all()
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }

    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        std::fs::create_dir_all(dir)
    }

    fn exists(&self, path: &Path) -> bool {
        path.exists()
    }
}

/// What survives a [`SimDisk::reboot`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashMode {
    /// Only synced data and synced names: a power cut.
    LoseUnsynced,
    /// Like `LoseUnsynced`, but half of the last unsynced write reached the
    /// disk, its last bytes garbled: a torn write.
    TearLastWrite,
    /// Everything written, synced or not: a process kill (`kill -9`), where
    /// the page cache outlives the process.
    KeepAll,
}

#[derive(Debug, Clone, Default)]
struct Inode {
    /// What the disk holds.
    durable: Vec<u8>,
    /// What readers see (the page cache).
    data: Vec<u8>,
}

#[derive(Debug, Default)]
struct SimState {
    inodes: Vec<Inode>,
    /// Names as readers see them.
    names: BTreeMap<PathBuf, usize>,
    /// Names as the disk holds them.
    durable_names: BTreeMap<PathBuf, usize>,
    dirs: Vec<PathBuf>,
    /// Operations done so far.
    ops: u64,
    /// The operation that fails, with every later one.
    crash_at: Option<u64>,
    /// The inode and length before the last unsynced write, for tearing.
    last_write: Option<(usize, usize)>,
}

/// An in-memory disk a test can crash; see the [module docs](self).
#[derive(Debug, Clone, Default)]
pub struct SimDisk {
    state: Arc<Mutex<SimState>>,
}

fn crashed() -> io::Error {
    io::Error::other("simulated crash: the disk is gone")
}

impl SimDisk {
    /// An empty disk.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, SimState> {
        // A test that panicked while holding the lock left nothing half-done
        // that matters here: every operation updates the state at its end.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes operation number `n` (counting from 0, over the disk's life)
    /// fail, and every later one.
    pub fn crash_at(&self, n: u64) {
        self.lock().crash_at = Some(n);
    }

    /// Operations done so far (the crash points a workload offers).
    pub fn ops(&self) -> u64 {
        self.lock().ops
    }

    /// Comes back after a crash: keeps what `mode` says survives and lets
    /// operations succeed again.
    pub fn reboot(&self, mode: CrashMode) {
        let mut s = self.lock();
        if mode != CrashMode::KeepAll {
            if mode == CrashMode::TearLastWrite {
                if let Some((inode, before)) = s.last_write {
                    let node = &mut s.inodes[inode];
                    if node.data.len() > before && node.durable.len() == before {
                        let written = node.data.len() - before;
                        let keep = before + written.div_ceil(2);
                        let mut torn = node.data[..keep].to_vec();
                        let garble = torn.len().saturating_sub(3).max(before);
                        for b in &mut torn[garble..] {
                            *b ^= 0x5a;
                        }
                        node.durable = torn;
                    }
                }
            }
            for node in &mut s.inodes {
                node.data = node.durable.clone();
            }
            s.names = s.durable_names.clone();
        }
        s.crash_at = None;
        s.last_write = None;
    }

    /// Runs one operation: counts it, fails it if the disk has crashed.
    fn op<T>(&self, f: impl FnOnce(&mut SimState) -> io::Result<T>) -> io::Result<T> {
        let mut s = self.lock();
        let n = s.ops;
        if s.crash_at.is_some_and(|c| n >= c) {
            return Err(crashed());
        }
        s.ops += 1;
        f(&mut s)
    }

    fn parent_known(s: &SimState, path: &Path) -> io::Result<()> {
        let parent = path.parent().unwrap_or(Path::new(""));
        if s.dirs.iter().any(|d| d == parent) {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("no directory {}", parent.display()),
            ))
        }
    }
}

struct SimAppend {
    disk: SimDisk,
    inode: usize,
}

impl AppendFile for SimAppend {
    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        let inode = self.inode;
        self.disk.op(|s| {
            let node = &mut s.inodes[inode];
            let before = node.data.len();
            node.data.extend_from_slice(bytes);
            s.last_write = Some((inode, before));
            Ok(())
        })
    }
    fn sync(&mut self) -> io::Result<()> {
        let inode = self.inode;
        self.disk.op(|s| {
            let node = &mut s.inodes[inode];
            node.durable = node.data.clone();
            Ok(())
        })
    }
}

impl Disk for SimDisk {
    fn read(&self, path: &Path, limit: u64) -> io::Result<Option<Vec<u8>>> {
        let s = self.lock();
        match s.names.get(path) {
            None => Ok(None),
            Some(&i) if s.inodes[i].data.len() as u64 > limit => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "file larger than the read limit",
            )),
            Some(&i) => Ok(Some(s.inodes[i].data.clone())),
        }
    }

    fn write_synced(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        // Two steps, two crash points: create-and-write, then sync.
        let inode = self.op(|s| {
            Self::parent_known(s, path)?;
            let inode = match s.names.get(path) {
                Some(&i) => i,
                None => {
                    s.inodes.push(Inode::default());
                    let i = s.inodes.len() - 1;
                    s.names.insert(path.to_path_buf(), i);
                    i
                }
            };
            let node = &mut s.inodes[inode];
            node.data = bytes.to_vec();
            s.last_write = Some((inode, 0));
            Ok(inode)
        })?;
        self.op(|s| {
            let node = &mut s.inodes[inode];
            node.durable = node.data.clone();
            Ok(())
        })
    }

    fn open_append(&self, path: &Path) -> io::Result<Box<dyn AppendFile>> {
        let inode = {
            let s = self.lock();
            *s.names
                .get(path)
                .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))?
        };
        Ok(Box::new(SimAppend {
            disk: self.clone(),
            inode,
        }))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.op(|s| {
            let i = s
                .names
                .remove(from)
                .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))?;
            s.names.insert(to.to_path_buf(), i);
            Ok(())
        })
    }

    fn truncate(&self, path: &Path, len: u64) -> io::Result<()> {
        self.op(|s| {
            let i = *s
                .names
                .get(path)
                .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))?;
            let node = &mut s.inodes[i];
            node.data.truncate(len as usize);
            node.durable = node.data.clone();
            Ok(())
        })
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.op(|s| {
            let in_dir = |p: &Path| p.parent() == Some(dir);
            s.durable_names.retain(|p, _| !in_dir(p));
            let current: Vec<(PathBuf, usize)> = s
                .names
                .iter()
                .filter(|(p, _)| in_dir(p))
                .map(|(p, i)| (p.clone(), *i))
                .collect();
            s.durable_names.extend(current);
            Ok(())
        })
    }

    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        let mut s = self.lock();
        for d in dir.ancestors() {
            if !s.dirs.iter().any(|x| x == d) {
                s.dirs.push(d.to_path_buf());
            }
        }
        Ok(())
    }

    fn exists(&self, path: &Path) -> bool {
        let s = self.lock();
        s.names.contains_key(path) || s.dirs.iter().any(|d| d == path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsynced_writes_and_names_are_lost_in_a_power_cut() {
        let d = SimDisk::new();
        let dir = Path::new("/d");
        d.create_dir_all(dir).unwrap();
        d.write_synced(&dir.join("a"), b"hello").unwrap();
        // The name is not durable before the directory sync.
        d.reboot(CrashMode::LoseUnsynced);
        assert!(!d.exists(&dir.join("a")));
        d.write_synced(&dir.join("a"), b"hello").unwrap();
        d.sync_dir(dir).unwrap();
        let mut f = d.open_append(&dir.join("a")).unwrap();
        f.append(b" world").unwrap();
        d.reboot(CrashMode::LoseUnsynced);
        assert_eq!(d.read(&dir.join("a"), 100).unwrap().unwrap(), b"hello");
        let mut f = d.open_append(&dir.join("a")).unwrap();
        f.append(b" world").unwrap();
        d.reboot(CrashMode::TearLastWrite);
        let torn = d.read(&dir.join("a"), 100).unwrap().unwrap();
        assert_eq!(torn.len(), 8);
        assert_eq!(&torn[..5], b"hello");
        assert_ne!(&torn[5..], b" wo");
    }

    #[test]
    fn a_crash_point_fails_that_operation_and_every_later_one() {
        let d = SimDisk::new();
        let dir = Path::new("/d");
        d.create_dir_all(dir).unwrap();
        d.crash_at(1);
        // write_synced is two operations: the write succeeds, the sync fails.
        assert!(d.write_synced(&dir.join("a"), b"x").is_err());
        assert!(d.sync_dir(dir).is_err());
        d.reboot(CrashMode::KeepAll);
        assert_eq!(d.read(&dir.join("a"), 10).unwrap().unwrap(), b"x");
    }
}
