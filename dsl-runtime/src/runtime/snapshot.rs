//! Snapshots: a node's whole state at a log position, so the log can be
//! emptied and recovery need not replay from the beginning of time.
//!
//! A snapshot is written to a temporary file, forced to disk and renamed
//! over the previous one, and the directory is synced, so a crash leaves
//! either the old or the new snapshot, never half of one. The log is
//! replaced only after that; a crash in between leaves an old log whose
//! records recovery skips by sequence number.
//!
//! ```text
//! "VSNP" | length u32 LE | CRC-32 u32 LE
//!        | body: bincode (format u32 = 2, incarnation u64, next_seq u64, State)
//! ```

use std::io;
use std::path::Path;

use crate::runtime::codec;
use crate::runtime::disk::Disk;
use crate::system::System;

/// The snapshot's file name inside a node's data directory.
pub const SNAPSHOT_FILE: &str = "snapshot.bin";
const MAGIC: &[u8; 4] = b"VSNP";
const FORMAT: u32 = 2;
/// The largest snapshot this build reads.
pub const MAX_SNAPSHOT_BYTES: u64 = 1 << 30;

/// A node's state after every record before `next_seq`.
pub struct Snapshot<S: System> {
    /// The data directory's incarnation that wrote it.
    pub incarnation: u64,
    /// The first log sequence number not reflected in `state`.
    pub next_seq: u64,
    /// The state.
    pub state: S::State,
}

/// The bytes of a snapshot file.
pub fn encode<S: System>(incarnation: u64, next_seq: u64, state: &S::State) -> Vec<u8> {
    let body = codec::to_payload(&(FORMAT, incarnation, next_seq, state));
    let mut out = Vec::with_capacity(12 + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// Writes a snapshot atomically and durably.
pub fn write<S: System>(
    disk: &dyn Disk,
    dir: &Path,
    incarnation: u64,
    next_seq: u64,
    state: &S::State,
) -> io::Result<()> {
    let tmp = dir.join("snapshot.tmp");
    disk.write_synced(&tmp, &encode::<S>(incarnation, next_seq, state))?;
    disk.rename(&tmp, &dir.join(SNAPSHOT_FILE))?;
    disk.sync_dir(dir)
}

/// Reads the snapshot of `dir`: `Ok(None)` when there is none, an error
/// when there is one that is damaged (it was renamed into place whole, so
/// damage means the disk lied, and guessing would be worse than stopping).
pub fn read<S: System>(disk: &dyn Disk, dir: &Path) -> Result<Option<Snapshot<S>>, String> {
    let path = dir.join(SNAPSHOT_FILE);
    let bytes = disk
        .read(&path, MAX_SNAPSHOT_BYTES)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    match bytes {
        None => Ok(None),
        Some(bytes) => decode::<S>(&bytes)
            .map(Some)
            .map_err(|why| format!("snapshot {} is damaged: {why}", path.display())),
    }
}

/// Parses a snapshot file held in memory. Never panics.
pub fn decode<S: System>(bytes: &[u8]) -> Result<Snapshot<S>, String> {
    if bytes.len() < 12 || &bytes[..4] != MAGIC {
        return Err("bad header".into());
    }
    let len = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
    let crc = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    let Some(body) = bytes.get(12..12usize.saturating_add(len)) else {
        return Err("cut short".into());
    };
    if bytes.len() != 12 + len {
        return Err("bytes after the body".into());
    }
    if crc32fast::hash(body) != crc {
        return Err("checksum mismatch".into());
    }
    let (format, incarnation, next_seq, state): (u32, u64, u64, S::State) =
        codec::from_payload(body).map_err(|e| format!("does not decode: {e}"))?;
    if format != FORMAT {
        return Err(format!("format {format}, this build reads {FORMAT}"));
    }
    Ok(Snapshot {
        incarnation,
        next_seq,
        state,
    })
}
