//! Snapshots: a node's whole state at a log position, so the log can be
//! emptied and recovery need not replay from the beginning of time.
//!
//! A snapshot is written to a temporary file, forced to disk and renamed
//! over the previous one, so a crash leaves either the old or the new
//! snapshot, never half of one. The log is emptied only after that; a crash
//! in between leaves old records that recovery skips by sequence number.
//!
//! ```text
//! "VSNP" | length u32 LE | CRC-32 u32 LE | body: bincode (next_seq u64, State)
//! ```

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use crate::runtime::codec;
use crate::runtime::wal::sync_dir;
use crate::system::System;

/// The snapshot's file name inside a node's data directory.
pub const SNAPSHOT_FILE: &str = "snapshot.bin";
const MAGIC: &[u8; 4] = b"VSNP";

/// A node's state after every record before `next_seq`.
pub struct Snapshot<S: System> {
    /// The first log sequence number not reflected in `state`.
    pub next_seq: u64,
    /// The state.
    pub state: S::State,
}

/// Writes a snapshot atomically.
pub fn write<S: System>(dir: &Path, next_seq: u64, state: &S::State) -> io::Result<()> {
    let body = codec::to_payload(&(next_seq, state));
    let tmp = dir.join("snapshot.tmp");
    let mut f = File::create(&tmp)?;
    f.write_all(MAGIC)?;
    f.write_all(&(body.len() as u32).to_le_bytes())?;
    f.write_all(&crc32fast::hash(&body).to_le_bytes())?;
    f.write_all(&body)?;
    f.sync_all()?;
    std::fs::rename(&tmp, dir.join(SNAPSHOT_FILE))?;
    sync_dir(dir)
}

/// Reads the snapshot of `dir`: `Ok(None)` when there is none, an error
/// when there is one that is damaged (it was renamed into place whole, so
/// damage means the disk lied, and guessing would be worse than stopping).
pub fn read<S: System>(dir: &Path) -> Result<Option<Snapshot<S>>, String> {
    let path = dir.join(SNAPSHOT_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let damaged = |why: &str| Err(format!("snapshot {} is damaged: {why}", path.display()));
    if bytes.len() < 12 || &bytes[..4] != MAGIC {
        return damaged("bad header");
    }
    let len = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
    let crc = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    let Some(body) = bytes.get(12..12 + len) else {
        return damaged("cut short");
    };
    if crc32fast::hash(body) != crc {
        return damaged("checksum mismatch");
    }
    let (next_seq, state): (u64, S::State) =
        codec::from_payload(body).map_err(|e| format!("snapshot does not decode: {e}"))?;
    Ok(Some(Snapshot { next_seq, state }))
}
