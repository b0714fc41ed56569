//! The write-ahead log: every event a node handled, in order, so replaying
//! the handlers rebuilds its state after a crash.
//!
//! Handlers are deterministic, so the log holds their inputs, not their
//! outputs: the trigger of each handler run (start, input, delivered
//! message, timer firing, restart). The node appends the records of a batch
//! of events, writes them with one `fdatasync`, and only then lets the
//! batch's sends and outputs leave the process (group commit).
//!
//! On disk each record is
//! ```text
//! length u32 LE | CRC-32 of the body u32 LE | body: bincode (seq u64, Record)
//! ```
//! A record whose length is absurd, whose body is cut short or whose CRC
//! does not match ends the log: recovery keeps what precedes it and cuts
//! the rest off (a torn write from a crash, or a damaged tail).

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::runtime::codec;
use crate::system::{System, Trigger};

/// The log's file name inside a node's data directory.
pub const WAL_FILE: &str = "wal.log";
/// Bytes before a record's body.
const RECORD_HEADER: usize = 8;
/// The largest record body recovery believes in.
const MAX_RECORD: u32 = 64 << 20;

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

    /// The trigger to replay.
    pub fn into_trigger(self) -> Trigger<S> {
        match self {
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

/// An open log, appending.
pub struct Wal {
    file: File,
    path: PathBuf,
    buf: Vec<u8>,
    pending: usize,
    next_seq: u64,
    mode: SyncMode,
}

impl Wal {
    /// Opens the log of `dir` for appending after recovery has cut it to
    /// its last good record; `next_seq` is the sequence number to give the
    /// next record.
    pub fn open(dir: &Path, next_seq: u64, mode: SyncMode) -> io::Result<Self> {
        let path = dir.join(WAL_FILE);
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        Ok(Wal {
            file,
            path,
            buf: Vec::new(),
            pending: 0,
            next_seq,
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
        self.next_seq += 1;
        encode_record(&mut self.buf, seq, record);
        self.pending += 1;
        seq
    }

    /// Writes the buffered records and forces them to disk (unless the mode
    /// is `Off`). Returns how many records were committed; 0 means nothing
    /// was pending and no fsync was done.
    pub fn commit(&mut self) -> io::Result<usize> {
        if self.pending == 0 {
            return Ok(0);
        }
        self.file.write_all(&self.buf)?;
        if self.mode != SyncMode::Off {
            self.file.sync_data()?;
        }
        self.buf.clear();
        Ok(std::mem::take(&mut self.pending))
    }

    /// Empties the log after a snapshot made its records redundant: a new
    /// empty file replaces it atomically.
    pub fn truncate_all(&mut self) -> io::Result<()> {
        debug_assert_eq!(self.pending, 0);
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let tmp = dir.join("wal.log.tmp");
        let f = File::create(&tmp)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &self.path)?;
        sync_dir(dir)?;
        self.file = OpenOptions::new().append(true).open(&self.path)?;
        Ok(())
    }
}

/// Appends one framed record to `out`.
fn encode_record<S: System>(out: &mut Vec<u8>, seq: u64, record: &Record<S>) {
    let body = codec::to_payload(&(seq, record));
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    out.extend_from_slice(&body);
}

/// The good prefix of a log file.
pub struct LogContents<S: System> {
    /// The records, with their sequence numbers, in order.
    pub records: Vec<(u64, Record<S>)>,
    /// Bytes of the good prefix.
    pub good_len: u64,
    /// Bytes after it that were ignored (a torn or corrupt tail).
    pub bad_tail: u64,
    /// Why the tail was ignored, if there was one.
    pub tail_reason: Option<String>,
}

/// Reads every good record of the log in `dir` (none if it does not exist).
pub fn read_log<S: System>(dir: &Path) -> io::Result<LogContents<S>> {
    let mut bytes = Vec::new();
    match File::open(dir.join(WAL_FILE)) {
        Ok(mut f) => {
            f.read_to_end(&mut bytes)?;
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut records = Vec::new();
    let mut at = 0usize;
    let mut reason = None;
    while at < bytes.len() {
        match decode_record::<S>(&bytes[at..]) {
            Ok((seq, rec, used)) => {
                records.push((seq, rec));
                at += used;
            }
            Err(why) => {
                reason = Some(why);
                break;
            }
        }
    }
    Ok(LogContents {
        records,
        good_len: at as u64,
        bad_tail: (bytes.len() - at) as u64,
        tail_reason: reason,
    })
}

fn decode_record<S: System>(bytes: &[u8]) -> Result<(u64, Record<S>, usize), String> {
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
    let (seq, rec): (u64, Record<S>) =
        codec::from_payload(body).map_err(|e| format!("record does not decode: {e}"))?;
    Ok((seq, rec, end))
}

/// Cuts the log in `dir` to `len` bytes and forces that to disk.
pub fn cut_log(dir: &Path, len: u64) -> io::Result<()> {
    let f = OpenOptions::new().write(true).open(dir.join(WAL_FILE))?;
    f.set_len(len)?;
    f.sync_all()
}

/// Forces a directory's entries (renames, new files) to disk.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
