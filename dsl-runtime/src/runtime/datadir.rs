//! A node's data directory: who owns it, and who else it has met.
//!
//! - `LOCK` — held (`flock`) by the one process using the directory, taken
//!   before recovery reads anything, so a second node (or the same node
//!   started twice) never touches a live node's log;
//! - `identity.toml` — the cluster and node the directory belongs to and
//!   its *incarnation*, a random number drawn when the directory was first
//!   used (or repaired after accepting data loss). Written once; the log
//!   and snapshot carry the same incarnation, and peers remember it;
//! - `peers.toml` — the incarnation of every peer this node has talked to.
//!   A peer that comes back with another incarnation has lost its state
//!   (its directory was wiped, replaced or repaired) and is refused until
//!   an operator says to accept it (`repair --forget-peer`).

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::runtime::disk::Disk;

/// The identity file's name.
pub const IDENTITY_FILE: &str = "identity.toml";
/// The lock file's name.
pub const LOCK_FILE: &str = "LOCK";
/// The file of known peer incarnations.
pub const PEERS_FILE: &str = "peers.toml";
const IDENTITY_FORMAT: u32 = 2;

/// Whose a data directory is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    /// The storage format.
    pub format: u32,
    /// The cluster's name, as in the cluster file.
    pub cluster_id: String,
    /// The node's name.
    pub node: String,
    /// The incarnation, as 16 hex digits.
    pub incarnation: String,
    /// The system version whose formats the snapshot and log hold, when it
    /// is not the system's first: written by a live upgrade
    /// ([`crate::runtime::live_upgrade`]). Absent for a first version, so
    /// such a directory reads the same as before the field existed; a
    /// build older than the field refuses a directory that has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

impl Identity {
    /// A new identity with a fresh random incarnation.
    pub fn new(cluster_id: &str, node: &str) -> Self {
        Identity {
            format: IDENTITY_FORMAT,
            cluster_id: cluster_id.to_string(),
            node: node.to_string(),
            incarnation: format!("{:016x}", random_u64()),
            version: None,
        }
    }

    /// This identity, recording that the directory holds `version`'s formats.
    pub fn with_version(mut self, version: Option<&str>) -> Self {
        self.version = version.map(str::to_string);
        self
    }

    /// Checks that the directory holds the formats of `version` (`None`:
    /// the system's first version), the one this program reads. A
    /// directory an upgraded program wrote is refused by the old one: the
    /// old program cannot read it, and a downgrade is not supported.
    pub fn check_version(&self, dir: &Path, version: Option<&str>) -> Result<(), String> {
        match (self.version.as_deref(), version) {
            (found, expected) if found == expected => Ok(()),
            (None, None) => Ok(()),
            (Some(found), None) => Err(format!(
                "data directory {} was upgraded to version {found} of the system (by a live \
                 upgrade), and this program runs the version before it: downgrading a data \
                 directory is not supported. Run the upgraded program on it, or restore the \
                 directory from a backup taken before the upgrade",
                dir.display()
            )),
            (found, Some(expected)) => Err(format!(
                "data directory {} holds version {} of the system, and this program runs \
                 version {expected} (or upgrades to it from the first version only)",
                dir.display(),
                found.unwrap_or("1 (the first)")
            )),
        }
    }

    /// The incarnation as a number (0 if the file holds something else;
    /// [`load_identity`] refuses such files).
    pub fn incarnation(&self) -> u64 {
        u64::from_str_radix(&self.incarnation, 16).unwrap_or(0)
    }

    /// Checks that this directory belongs to `node` of `cluster_id`.
    pub fn check(&self, dir: &Path, cluster_id: &str, node: &str) -> Result<(), String> {
        if self.cluster_id != cluster_id || self.node != node {
            return Err(format!(
                "data directory {} belongs to node {} of cluster `{}`, not to {node} of \
                 `{cluster_id}`: give every node its own data_dir in the cluster file \
                 (two nodes must never share one)",
                dir.display(),
                self.node,
                self.cluster_id
            ));
        }
        Ok(())
    }
}

/// Reads `identity.toml`, or `None` when there is none.
pub fn load_identity(disk: &dyn Disk, dir: &Path) -> Result<Option<Identity>, String> {
    let path = dir.join(IDENTITY_FILE);
    let Some(bytes) = disk
        .read(&path, 64 << 10)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
    else {
        return Ok(None);
    };
    let damaged = |why: String| format!("{} is damaged: {why}", path.display());
    let text = String::from_utf8(bytes).map_err(|e| damaged(e.to_string()))?;
    let id: Identity = toml::from_str(&text).map_err(|e| damaged(e.message().to_string()))?;
    if id.format != IDENTITY_FORMAT {
        return Err(damaged(format!(
            "storage format {}, this build uses {IDENTITY_FORMAT}",
            id.format
        )));
    }
    if id.incarnation.len() != 16 || u64::from_str_radix(&id.incarnation, 16).is_err() {
        return Err(damaged("the incarnation is not 16 hex digits".into()));
    }
    Ok(Some(id))
}

/// Writes `identity.toml` durably (temporary file, sync, rename, directory sync).
pub fn store_identity(disk: &dyn Disk, dir: &Path, id: &Identity) -> io::Result<()> {
    let text = format!(
        "# Written when this data directory was first used; do not edit.\n{}",
        toml::to_string(id).unwrap_or_default()
    );
    write_atomically(disk, dir, IDENTITY_FILE, text.as_bytes())
}

/// Replaces `dir/name` by `bytes` so that a crash leaves the old or the new
/// file, never a mix.
pub fn write_atomically(disk: &dyn Disk, dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let tmp = dir.join(format!("{name}.tmp"));
    disk.write_synced(&tmp, bytes)?;
    disk.rename(&tmp, &dir.join(name))?;
    disk.sync_dir(dir)
}

/// Peers' incarnations as this node last saw them, by node name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownPeers {
    /// Node name to incarnation (16 hex digits).
    #[serde(default)]
    pub peers: BTreeMap<String, String>,
}

impl KnownPeers {
    /// Reads `peers.toml` (empty when there is none).
    pub fn load(disk: &dyn Disk, dir: &Path) -> Result<Self, String> {
        let path = dir.join(PEERS_FILE);
        match disk
            .read(&path, 1 << 20)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        {
            None => Ok(KnownPeers::default()),
            Some(bytes) => String::from_utf8(bytes)
                .map_err(|e| e.to_string())
                .and_then(|t| toml::from_str(&t).map_err(|e| e.message().to_string()))
                .map_err(|e| format!("{} is damaged: {e}", path.display())),
        }
    }

    /// Writes `peers.toml` durably.
    pub fn store(&self, disk: &dyn Disk, dir: &Path) -> io::Result<()> {
        let text = toml::to_string(self).unwrap_or_default();
        write_atomically(disk, dir, PEERS_FILE, text.as_bytes())
    }
}

/// The exclusive lock on a data directory, held while the value lives.
#[derive(Debug)]
pub struct DirLock {
    _file: File,
    /// The lock file.
    pub path: PathBuf,
}

/// Takes the lock of `dir` (creating the directory), or says who holds it.
pub fn lock(dir: &Path) -> Result<DirLock, String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create data directory {}: {e}", dir.display()))?;
    let path = dir.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    if !try_flock(&file) {
        let holder = std::fs::read_to_string(&path).unwrap_or_default();
        let holder = holder.trim();
        return Err(format!(
            "data directory {} is in use by another process{}: a node is already running \
             on it, or two nodes of the cluster file share it; stop the other process, or \
             give every node its own data_dir",
            dir.display(),
            if holder.is_empty() {
                String::new()
            } else {
                format!(" (pid {holder})")
            }
        ));
    }
    let _ = file.set_len(0);
    let _ = write!(file, "{}", std::process::id());
    let _ = file.sync_all();
    if let Some(parent) = dir.parent() {
        let _ = File::open(parent).and_then(|d| d.sync_all());
    }
    Ok(DirLock { _file: file, path })
}

#[cfg(unix)]
fn try_flock(file: &File) -> bool {
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock on a descriptor this function's caller owns and keeps
    // open; it reads no memory of ours.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

#[cfg(not(unix))]
fn try_flock(_file: &File) -> bool {
    true
}

/// 64 random bits from the operating system (time and pid if it fails).
pub fn random_u64() -> u64 {
    use std::io::Read;
    let mut b = [0u8; 8];
    if File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .is_ok()
    {
        return u64::from_le_bytes(b) | 1;
    }
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    (t ^ (u64::from(std::process::id()) << 32)).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_is_recorded_only_when_there_is_one_and_checked_both_ways() {
        let first = Identity::new("c", "Server");
        let text = toml::to_string(&first).unwrap();
        assert!(!text.contains("version"), "{text}");
        let read: Identity = toml::from_str(&text).unwrap();
        assert_eq!(read.version, None);

        let upgraded = first.clone().with_version(Some("V2"));
        let text = toml::to_string(&upgraded).unwrap();
        assert!(text.contains("version = \"V2\""), "{text}");
        let read: Identity = toml::from_str(&text).unwrap();
        assert_eq!(read, upgraded);

        let dir = Path::new("/d");
        assert!(first.check_version(dir, None).is_ok());
        assert!(upgraded.check_version(dir, Some("V2")).is_ok());
        let down = upgraded.check_version(dir, None).unwrap_err();
        assert!(
            down.contains("downgrading a data directory is not supported"),
            "{down}"
        );
        let other = upgraded.check_version(dir, Some("V3")).unwrap_err();
        assert!(other.contains("holds version V2"), "{other}");
        let old = first.check_version(dir, Some("V2")).unwrap_err();
        assert!(old.contains("holds version 1 (the first)"), "{old}");
    }
}
