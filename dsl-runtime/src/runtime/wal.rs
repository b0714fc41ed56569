//! The write-ahead log: every event a node handled, in order, so replaying
//! the handlers rebuilds its state after a crash.
//!
//! Handlers are deterministic, so the log holds their inputs, not their
//! outputs: the trigger of each handler run (start, input, delivered
//! message, timer firing, restart). The node appends the records of a batch
//! of events, writes them with one `fdatasync`, and only then lets the
//! batch's sends and outputs leave the process (group commit).
//!
//! On disk:
//! ```text
//! header, 32 bytes: "VWAL" | version u8 (2) | 3 zero bytes
//!                   | start_seq u64 LE | incarnation u64 LE
//!                   | CRC-32 of the 24 bytes before u32 LE | 4 zero bytes
//! then records:     length u32 LE | CRC-32 of the body u32 LE
//!                   | body: bincode (seq u64, batch u64, Record)
//! ```
//! `start_seq` is the sequence number of the file's first record: the
//! snapshot's position when the file was made, so recovery can tell a log
//! that belongs to its snapshot from one that does not. `incarnation` ties
//! the file to its data directory's identity. `batch` is the sequence
//! number of the first record of the record's commit: only the last commit
//! can be torn by a crash (every earlier one was synced before the next
//! began), so damage followed by a good record of a *later* commit is
//! damage in the middle of the log, which recovery refuses to cut.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::runtime::codec;
use crate::runtime::disk::{AppendFile, Disk};
use crate::system::{System, Trigger};

/// The log's file name inside a node's data directory.
pub const WAL_FILE: &str = "wal.log";
/// The log format this build writes and reads.
pub const WAL_VERSION: u8 = 2;
/// Bytes of the file header.
pub const WAL_HEADER: usize = 32;
const MAGIC: &[u8; 4] = b"VWAL";
/// Bytes before a record's body.
const RECORD_HEADER: usize = 8;
/// The largest record body recovery believes in.
pub const MAX_RECORD: u32 = 64 << 20;
/// The largest log file recovery reads into memory.
pub const MAX_LOG_BYTES: u64 = 4 << 30;

/// One handled event: the trigger of one handler run.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub enum Record<S: System> {
    /// The node's first start.
    Start,
    /// An external input.
    Input(S::Input),
    /// A delivered message, with the sender.
    Message {
        /// The sender.
        from: S::Node,
        /// The message.
        msg: S::Msg,
    },
    /// A timer fired.
    Timer(S::Timer),
    /// The node restarted after a crash: volatile fields were reset, then
    /// the restart handler ran.
    Restart,
    /// `record`, whose handler chose: its answers, replayed on recovery.
    /// Last, so logs written before choices existed read the same.
    Chose {
        /// The answers, in order.
        choices: Vec<u32>,
        /// The event.
        record: Box<Record<S>>,
    },
}

impl<S: System> Record<S> {
    /// The record of a trigger.
    pub fn of(trigger: &Trigger<S>) -> Self {
        match trigger {
            Trigger::Start => Record::Start,
            Trigger::Input(i) => Record::Input(i.clone()),
            Trigger::Message { from, msg } => Record::Message {
                from: *from,
                msg: msg.clone(),
            },
            Trigger::Timer(t) => Record::Timer(*t),
            Trigger::Restart => Record::Restart,
        }
    }

    /// The event without its choices, and the choices (none for most).
    pub fn into_parts(self) -> (Record<S>, Vec<u32>) {
        match self {
            Record::Chose { choices, record } => (record.into_parts().0, choices),
            other => (other, Vec::new()),
        }
    }

    /// The trigger to replay (its choices are in [`Record::into_parts`]).
    pub fn into_trigger(self) -> Trigger<S> {
        match self {
            Record::Chose { record, .. } => record.into_trigger(),
            Record::Start => Trigger::Start,
            Record::Input(i) => Trigger::Input(i),
            Record::Message { from, msg } => Trigger::Message { from, msg },
            Record::Timer(t) => Trigger::Timer(t),
            Record::Restart => Trigger::Restart,
        }
    }
}

/// When the log is forced to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncMode {
    /// One `fdatasync` per batch of events (group commit): the default.
    Group,
    /// One `fdatasync` per event, for comparison.
    PerEvent,
    /// Never: the page cache only. Loses acknowledged state on power loss
    /// (not on `kill -9`); for benchmarks and throwaway runs.
    Off,
}

impl std::str::FromStr for SyncMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "group" => Ok(SyncMode::Group),
            "per-event" => Ok(SyncMode::PerEvent),
            "off" => Ok(SyncMode::Off),
            _ => Err(format!("`{s}`: use group, per-event or off")),
        }
    }
}

impl std::fmt::Display for SyncMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SyncMode::Group => "group",
            SyncMode::PerEvent => "per-event",
            SyncMode::Off => "off",
        })
    }
}

/// A log file's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalHeader {
    /// Sequence number of the file's first record.
    pub start_seq: u64,
    /// The data directory's incarnation.
    pub incarnation: u64,
}

impl WalHeader {
    /// The header's bytes.
    pub fn encode(&self) -> [u8; WAL_HEADER] {
        let mut h = [0u8; WAL_HEADER];
        h[..4].copy_from_slice(MAGIC);
        h[4] = WAL_VERSION;
        h[8..16].copy_from_slice(&self.start_seq.to_le_bytes());
        h[16..24].copy_from_slice(&self.incarnation.to_le_bytes());
        let crc = crc32fast::hash(&h[..24]);
        h[24..28].copy_from_slice(&crc.to_le_bytes());
        h
    }

    /// Parses a header; the error says what is wrong with it.
    pub fn decode(bytes: &[u8]) -> Result<Self, String> {
        if bytes.len() < WAL_HEADER {
            return Err(format!(
                "the file is {} bytes, shorter than its header",
                bytes.len()
            ));
        }
        if &bytes[..4] != MAGIC {
            return Err("it does not start with the log's magic bytes".into());
        }
        if bytes[4] != WAL_VERSION {
            return Err(format!(
                "log format {}, this build reads {WAL_VERSION}",
                bytes[4]
            ));
        }
        let crc = u32::from_le_bytes([bytes[24], bytes[25], bytes[26], bytes[27]]);
        if crc32fast::hash(&bytes[..24]) != crc {
            return Err("the header's checksum does not match".into());
        }
        let word = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes[at..at + 8]);
            u64::from_le_bytes(b)
        };
        Ok(WalHeader {
            start_seq: word(8),
            incarnation: word(16),
        })
    }
}

/// Writes a new, empty log for `header` in `dir` and makes it durable:
/// written to a temporary name, synced, renamed over `wal.log`, and the
/// directory synced.
pub fn create(disk: &dyn Disk, dir: &Path, header: WalHeader) -> io::Result<()> {
    let tmp = dir.join("wal.log.tmp");
    disk.write_synced(&tmp, &header.encode())?;
    disk.rename(&tmp, &dir.join(WAL_FILE))?;
    disk.sync_dir(dir)
}

/// An open log, appending.
pub struct Wal {
    file: Box<dyn AppendFile>,
    dir: PathBuf,
    buf: Vec<u8>,
    pending: usize,
    next_seq: u64,
    batch: u64,
    incarnation: u64,
    mode: SyncMode,
}

impl Wal {
    /// Opens the log of `dir` for appending after recovery has checked it
    /// and cut a torn tail; `next_seq` is the sequence number to give the
    /// next record.
    pub fn open(
        disk: &dyn Disk,
        dir: &Path,
        incarnation: u64,
        next_seq: u64,
        mode: SyncMode,
    ) -> io::Result<Self> {
        let file = disk.open_append(&dir.join(WAL_FILE))?;
        Ok(Wal {
            file,
            dir: dir.to_path_buf(),
            buf: Vec::new(),
            pending: 0,
            next_seq,
            batch: next_seq,
            incarnation,
            mode,
        })
    }

    /// The sync mode.
    pub fn mode(&self) -> SyncMode {
        self.mode
    }

    /// The sequence number the next record gets.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Records appended but not yet committed.
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// Buffers a record; it is durable only after [`Wal::commit`].
    /// Returns its sequence number.
    pub fn append<S: System>(&mut self, record: &Record<S>) -> u64 {
        let seq = self.next_seq;
        if self.pending == 0 {
            self.batch = seq;
        }
        self.next_seq += 1;
        encode_record(&mut self.buf, seq, self.batch, record);
        self.pending += 1;
        seq
    }

    /// Writes the buffered records and forces them to disk (unless the mode
    /// is `Off`). Returns how many records were committed; 0 means nothing
    /// was pending and no fsync was done. After an error nothing of the
    /// batch may be acknowledged; the node stops.
    pub fn commit(&mut self) -> io::Result<usize> {
        if self.pending == 0 {
            return Ok(0);
        }
        self.file.append(&self.buf)?;
        if self.mode != SyncMode::Off {
            self.file.sync()?;
        }
        self.buf.clear();
        Ok(std::mem::take(&mut self.pending))
    }

    /// Replaces the log by an empty one starting at the next sequence
    /// number, after a snapshot at that position made its records redundant.
    pub fn truncate_all(&mut self, disk: &dyn Disk) -> io::Result<()> {
        debug_assert_eq!(self.pending, 0);
        let header = WalHeader {
            start_seq: self.next_seq,
            incarnation: self.incarnation,
        };
        create(disk, &self.dir, header)?;
        self.file = disk.open_append(&self.dir.join(WAL_FILE))?;
        Ok(())
    }
}

/// Appends one framed record to `out`.
fn encode_record<S: System>(out: &mut Vec<u8>, seq: u64, batch: u64, record: &Record<S>) {
    let body = codec::to_payload(&(seq, batch, record));
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    out.extend_from_slice(&body);
}

/// One good record of a log file.
pub struct LogRecord<S: System> {
    /// Its sequence number.
    pub seq: u64,
    /// The sequence number of the first record of its commit.
    pub batch: u64,
    /// Where it starts in the file.
    pub offset: u64,
    /// The event.
    pub record: Record<S>,
}

/// Where a log stops being readable, and whether that is safe to cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// Byte offset of the first bad byte (the end of the good prefix).
    pub offset: u64,
    /// Bytes from there to the end of the file.
    pub bytes: u64,
    /// What is wrong there.
    pub why: String,
    /// A good record of a later commit that follows the damage, if any:
    /// `(its offset, its sequence number)`. `None` means the damage is a
    /// torn tail.
    pub later: Option<(u64, u64)>,
}

/// A log file as recovery reads it.
pub struct LogContents<S: System> {
    /// The header.
    pub header: WalHeader,
    /// The good records, in file order, up to the first damage.
    pub records: Vec<LogRecord<S>>,
    /// Where the records stop being readable, if they do before the end.
    pub damage: Option<Damage>,
}

/// Why a log file could not be read at all.
#[derive(Debug)]
pub enum LogError {
    /// It could not be read (permissions, I/O error).
    Io(io::Error),
    /// The header is damaged or of another format.
    BadHeader(String),
}

/// Reads the log in `dir`: `Ok(None)` if there is none.
pub fn read_log<S: System>(
    disk: &dyn Disk,
    dir: &Path,
) -> Result<Option<LogContents<S>>, LogError> {
    let Some(bytes) = disk
        .read(&dir.join(WAL_FILE), MAX_LOG_BYTES)
        .map_err(LogError::Io)?
    else {
        return Ok(None);
    };
    parse_log(&bytes).map(Some)
}

/// Parses a whole log file held in memory. Never panics; allocates no more
/// than the records it returns.
pub fn parse_log<S: System>(bytes: &[u8]) -> Result<LogContents<S>, LogError> {
    let header = WalHeader::decode(bytes).map_err(LogError::BadHeader)?;
    let mut records = Vec::new();
    let mut at = WAL_HEADER;
    let mut damage = None;
    while at < bytes.len() {
        match decode_record::<S>(&bytes[at..]) {
            Ok((seq, batch, record, used)) => {
                records.push(LogRecord {
                    seq,
                    batch,
                    offset: at as u64,
                    record,
                });
                at += used;
            }
            Err(why) => {
                let expected = records.last().map_or(header.start_seq, |r| r.seq + 1);
                damage = Some(Damage {
                    offset: at as u64,
                    bytes: (bytes.len() - at) as u64,
                    why,
                    later: later_commit::<S>(bytes, at + 1, expected),
                });
                break;
            }
        }
    }
    Ok(LogContents {
        header,
        records,
        damage,
    })
}

/// The first good record at or after `from` whose commit began after
/// sequence number `expected` (the first record the damage destroyed):
/// proof that the damaged commit was synced, so the damage is not a torn
/// write. Scans byte by byte; only damaged logs pay for it.
fn later_commit<S: System>(bytes: &[u8], from: usize, expected: u64) -> Option<(u64, u64)> {
    (from..bytes.len()).find_map(|at| match decode_record::<S>(&bytes[at..]) {
        Ok((seq, batch, _, _)) if batch > expected && seq >= batch => Some((at as u64, seq)),
        _ => None,
    })
}

fn decode_record<S: System>(bytes: &[u8]) -> Result<(u64, u64, Record<S>, usize), String> {
    if bytes.len() < RECORD_HEADER {
        return Err(format!("torn record header ({} bytes)", bytes.len()));
    }
    let len = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    let crc = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
    if len > MAX_RECORD {
        return Err(format!("record claims {len} bytes"));
    }
    let end = RECORD_HEADER + len as usize;
    if bytes.len() < end {
        return Err(format!(
            "torn record: {} of {len} body bytes",
            bytes.len() - RECORD_HEADER
        ));
    }
    let body = &bytes[RECORD_HEADER..end];
    if crc32fast::hash(body) != crc {
        return Err("record checksum mismatch".into());
    }
    let (seq, batch, rec): (u64, u64, Record<S>) =
        codec::from_payload(body).map_err(|e| format!("record does not decode: {e}"))?;
    Ok((seq, batch, rec, end))
}
