//! Frames on the wire: a fixed header, then a bincode payload.
//!
//! Every frame carries enough to be rejected on its own: a magic number and
//! a format version (so a stray client or an old binary is refused rather
//! than misread), the cluster id (so two deployments sharing a host cannot
//! talk to each other by mistake), the sender's node index (checked against
//! the handshake on every frame), the payload length (bounded, so a bad
//! prefix cannot make the reader allocate gigabytes) and a CRC-32 of the
//! payload.
//!
//! ```text
//! offset  size  field
//!      0     4  magic "VRDT"
//!      4     1  version (1)
//!      5     1  frame kind (see FrameKind)
//!      6     1  version mark: 0, or UPGRADED (see below)
//!      7     1  reserved, zero
//!      8     8  cluster id (little endian)
//!     16     4  sender: node index, or CLIENT_SENDER for clients
//!     20     4  payload length in bytes
//!     24     4  CRC-32 of the payload
//!     28     -  payload (bincode)
//! ```
//!
//! Byte 6 was reserved (zero, and not read) before live upgrades existed,
//! so nodes of a system's first version send zero there and ignore it. A
//! node of a live upgrade ([`crate::runtime::live_upgrade`]) sets it to
//! [`UPGRADED`] on its hello (it can speak the new version), on its reply
//! to such a hello, and on a message encoded as the new version's; it
//! sends a message in the new encoding only on a connection whose peer
//! answered its hello so, and the first version's encoding otherwise.

use std::fmt;
use std::io::{Read, Write};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The first bytes of every frame.
pub const MAGIC: [u8; 4] = *b"VRDT";
/// The frame format this build speaks.
pub const VERSION: u8 = 1;
/// Bytes in a frame header.
pub const HEADER_LEN: usize = 28;
/// The default bound on a payload: large enough for any sane message,
/// small enough that a corrupt length cannot exhaust memory.
pub const DEFAULT_MAX_PAYLOAD: u32 = 16 << 20;
/// Payload bytes read at a time: a frame's memory grows with the bytes
/// that arrived, whatever its header announced.
pub const READ_CHUNK: usize = 64 << 10;
/// The sender index clients use: not a node of the cluster.
pub const CLIENT_SENDER: u32 = u32::MAX;
/// The version mark (header byte 6) of a frame from, or in the encoding
/// of, the upgraded version of a live upgrade.
pub const UPGRADED: u8 = 1;

/// What a frame's payload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum FrameKind {
    /// The first frame of a connection: who is calling.
    Hello = 1,
    /// A network message between nodes.
    Message = 2,
    /// A client's request to a node (input, stats, partition...).
    Request = 3,
    /// A node's reply or output to a client.
    Reply = 4,
}

impl FrameKind {
    fn from_u8(b: u8) -> Option<Self> {
        Some(match b {
            1 => FrameKind::Hello,
            2 => FrameKind::Message,
            3 => FrameKind::Request,
            4 => FrameKind::Reply,
            _ => return None,
        })
    }
}

/// A decoded frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// What the payload is.
    pub kind: FrameKind,
    /// The cluster the sender belongs to.
    pub cluster: u64,
    /// The sender's node index, or [`CLIENT_SENDER`].
    pub sender: u32,
    /// Payload bytes that follow.
    pub len: u32,
    /// CRC-32 of the payload.
    pub crc: u32,
    /// The version mark: 0, or [`UPGRADED`].
    pub mark: u8,
}

/// Why a frame was refused. Each closes the connection it arrived on, and
/// only that connection.
#[derive(Debug)]
pub enum FrameError {
    /// The first four bytes are not [`MAGIC`]: not a Verdict peer.
    BadMagic([u8; 4]),
    /// A format version this build does not speak.
    BadVersion(u8),
    /// An unknown frame kind.
    BadKind(u8),
    /// The payload length exceeds the limit.
    TooLarge {
        /// The length claimed.
        len: u32,
        /// The limit.
        max: u32,
    },
    /// The payload does not match its checksum.
    BadChecksum,
    /// The frame is from another cluster.
    WrongCluster {
        /// The id in the frame.
        got: u64,
        /// This cluster's id.
        expected: u64,
    },
    /// The payload does not decode as the expected type.
    BadPayload(String),
    /// The connection ended or failed mid-frame.
    Io(std::io::Error),
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::BadMagic(m) => write!(f, "not a Verdict frame (first bytes {m:02x?})"),
            FrameError::BadVersion(v) => {
                write!(f, "frame version {v}, this build speaks {VERSION}")
            }
            FrameError::BadKind(k) => write!(f, "unknown frame kind {k}"),
            FrameError::TooLarge { len, max } => {
                write!(f, "frame claims {len} payload bytes, the limit is {max}")
            }
            FrameError::BadChecksum => write!(f, "payload checksum mismatch"),
            FrameError::WrongCluster { got, expected } => write!(
                f,
                "frame from cluster {got:016x}, this is cluster {expected:016x}"
            ),
            FrameError::BadPayload(e) => write!(f, "payload does not decode: {e}"),
            FrameError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for FrameError {}

impl From<std::io::Error> for FrameError {
    fn from(e: std::io::Error) -> Self {
        FrameError::Io(e)
    }
}

/// The 64-bit id of a cluster name (FNV-1a), carried in every frame.
pub fn cluster_id(name: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The hash of a configuration carried in peers' hellos (its `Debug` text).
pub fn config_hash(config: &impl std::fmt::Debug) -> u64 {
    cluster_id(&format!("{config:?}"))
}

/// Serialises a payload with bincode.
pub fn to_payload<T: Serialize>(value: &T) -> Vec<u8> {
    // Serialising plain derived data into a Vec cannot fail.
    bincode::serialize(value).unwrap_or_default()
}

/// Deserialises a payload, refusing trailing garbage and absurd sizes.
pub fn from_payload<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, FrameError> {
    use bincode::Options;
    bincode::DefaultOptions::new()
        .with_fixint_encoding()
        .reject_trailing_bytes()
        .with_limit(bytes.len() as u64 + 64)
        .deserialize(bytes)
        .map_err(|e| FrameError::BadPayload(e.to_string()))
}

/// One whole frame, header and payload, ready to write.
pub fn encode(kind: FrameKind, cluster: u64, sender: u32, payload: &[u8]) -> Vec<u8> {
    encode_marked(kind, cluster, sender, 0, payload)
}

/// [`encode`] with version mark `mark` (0 or [`UPGRADED`]).
pub fn encode_marked(
    kind: FrameKind,
    cluster: u64,
    sender: u32,
    mark: u8,
    payload: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&MAGIC);
    out.push(VERSION);
    out.push(kind as u8);
    out.extend_from_slice(&[mark, 0]);
    out.extend_from_slice(&cluster.to_le_bytes());
    out.extend_from_slice(&sender.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// Serialises `value` and frames it.
pub fn encode_value<T: Serialize>(
    kind: FrameKind,
    cluster: u64,
    sender: u32,
    value: &T,
) -> Vec<u8> {
    encode(kind, cluster, sender, &to_payload(value))
}

/// Parses and validates a header: magic, version, kind, length bound and
/// cluster id. The sender is checked by the caller, who knows the handshake.
pub fn decode_header(
    bytes: &[u8; HEADER_LEN],
    cluster: u64,
    max_payload: u32,
) -> Result<Header, FrameError> {
    let word =
        |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    let magic = [bytes[0], bytes[1], bytes[2], bytes[3]];
    if magic != MAGIC {
        return Err(FrameError::BadMagic(magic));
    }
    if bytes[4] != VERSION {
        return Err(FrameError::BadVersion(bytes[4]));
    }
    let kind = FrameKind::from_u8(bytes[5]).ok_or(FrameError::BadKind(bytes[5]))?;
    let mut id = [0u8; 8];
    id.copy_from_slice(&bytes[8..16]);
    let got = u64::from_le_bytes(id);
    if got != cluster {
        return Err(FrameError::WrongCluster {
            got,
            expected: cluster,
        });
    }
    let len = word(20);
    if len > max_payload {
        return Err(FrameError::TooLarge {
            len,
            max: max_payload,
        });
    }
    Ok(Header {
        kind,
        cluster: got,
        sender: word(16),
        len,
        crc: word(24),
        mark: bytes[6],
    })
}

/// Checks a payload against its header's checksum.
pub fn verify(header: &Header, payload: &[u8]) -> Result<(), FrameError> {
    if crc32fast::hash(payload) == header.crc {
        Ok(())
    } else {
        Err(FrameError::BadChecksum)
    }
}

/// Reads one frame from a blocking stream (the client library's side).
pub fn read_frame(
    r: &mut impl Read,
    cluster: u64,
    max_payload: u32,
) -> Result<(Header, Vec<u8>), FrameError> {
    let mut head = [0u8; HEADER_LEN];
    r.read_exact(&mut head)?;
    let header = decode_header(&head, cluster, max_payload)?;
    let mut payload = Vec::with_capacity((header.len as usize).min(READ_CHUNK));
    r.take(header.len as u64).read_to_end(&mut payload)?;
    if payload.len() < header.len as usize {
        return Err(FrameError::Io(std::io::ErrorKind::UnexpectedEof.into()));
    }
    verify(&header, &payload)?;
    Ok((header, payload))
}

/// Writes one frame to a blocking stream.
pub fn write_frame(w: &mut impl Write, frame: &[u8]) -> std::io::Result<()> {
    w.write_all(frame)?;
    w.flush()
}

/// Reads one frame from an async stream (the node's side).
pub async fn read_frame_async<R>(
    r: &mut R,
    cluster: u64,
    max_payload: u32,
) -> Result<(Header, Vec<u8>), FrameError>
where
    R: tokio::io::AsyncRead + Unpin,
{
    use tokio::io::AsyncReadExt;
    let mut head = [0u8; HEADER_LEN];
    r.read_exact(&mut head).await?;
    let header = decode_header(&head, cluster, max_payload)?;
    let mut payload = Vec::with_capacity((header.len as usize).min(READ_CHUNK));
    (&mut *r)
        .take(header.len as u64)
        .read_to_end(&mut payload)
        .await?;
    if payload.len() < header.len as usize {
        return Err(FrameError::Io(std::io::ErrorKind::UnexpectedEof.into()));
    }
    verify(&header, &payload)?;
    Ok((header, payload))
}

/// Who opens a connection, said in its first frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Hello {
    /// A node of the cluster, by its name in the cluster file; the frame's
    /// sender index must be that node's index.
    Peer {
        /// The node's name, e.g. `Client(0)`.
        name: String,
        /// A hash of the system's configuration as the sender runs it:
        /// nodes of one deployment must run the same configuration.
        config: u64,
    },
    /// A client of the node.
    Client {
        /// Send the node's recent outputs first.
        recent: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_each_kind_of_damage() {
        let id = cluster_id("test");
        let frame = encode_value(FrameKind::Message, id, 3, &(7u64, "x".to_string()));
        let (h, p) = read_frame(&mut &frame[..], id, 1024).unwrap();
        assert_eq!((h.kind, h.sender), (FrameKind::Message, 3));
        let v: (u64, String) = from_payload(&p).unwrap();
        assert_eq!(v, (7, "x".into()));

        let err = |bytes: &[u8], cluster: u64, max: u32| {
            read_frame(&mut &bytes[..], cluster, max).unwrap_err()
        };
        assert!(matches!(
            err(&frame, id ^ 1, 1024),
            FrameError::WrongCluster { .. }
        ));
        assert!(matches!(err(&frame, id, 4), FrameError::TooLarge { .. }));
        assert!(matches!(
            err(&frame[..frame.len() - 1], id, 1024),
            FrameError::Io(_)
        ));
        let mut flipped = frame.clone();
        *flipped.last_mut().unwrap() ^= 0xff;
        assert!(matches!(err(&flipped, id, 1024), FrameError::BadChecksum));
        let mut junk = frame.clone();
        junk[0] = b'G';
        assert!(matches!(err(&junk, id, 1024), FrameError::BadMagic(_)));
        let mut old = frame;
        old[4] = 9;
        assert!(matches!(err(&old, id, 1024), FrameError::BadVersion(9)));
        assert!(from_payload::<u64>(&[1, 2]).is_err());
    }

    #[test]
    fn the_version_mark_is_byte_6_and_plain_frames_leave_it_zero() {
        let id = cluster_id("test");
        let plain = encode(FrameKind::Message, id, 1, b"x");
        let marked = encode_marked(FrameKind::Message, id, 1, UPGRADED, b"x");
        assert_eq!((plain[6], marked[6]), (0, UPGRADED));
        // Nothing else differs, so a reader that ignores byte 6 (every
        // build before the mark) reads both alike.
        let rest = |f: &[u8]| [&f[..6], &f[7..]].concat();
        assert_eq!(rest(&plain), rest(&marked));
        let (h, _) = read_frame(&mut &marked[..], id, 64).unwrap();
        assert_eq!(h.mark, UPGRADED);
        let (h, _) = read_frame(&mut &plain[..], id, 64).unwrap();
        assert_eq!(h.mark, 0);
    }
}
