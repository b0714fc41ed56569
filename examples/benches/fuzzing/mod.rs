//! Mutation fuzzing of everything a node reads from outside: frames from
//! sockets (hello, peer messages, client requests and replies), its log
//! and its snapshot from disk, and inputs typed on a command line.
//!
//! No coverage guidance: libFuzzer and AFL need instrumentation this
//! project's stable toolchain does not build, so the mutations are made
//! structure-aware instead. Seeds are real: messages and node states
//! collected from random walks of the checked model, records and frames
//! encoded by the runtime's own encoders. Half the mutated frames, records
//! and snapshots get their lengths and checksums repaired, so the decoders
//! behind the checksums (bincode of the user's types) are reached, not
//! just the checksum test.
//!
//! Each execution must return (an error is fine), never panic, and never
//! make an allocation larger than a bound proportional to its input: a
//! length field claiming 4 GiB must not be believed before the bytes
//! arrive. The allocation bound is checked by the examples' allocator
//! (`verdict_examples::allocator`).

#![allow(dead_code)] // the bench and the test use different parts

use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};

use verdict::runtime::codec::{self, FrameKind, Hello};
use verdict::runtime::{parse_input, snapshot, wal, Reply, Request};
use verdict::{Effects, Model, System};
use verdict_examples::allocator;

/// The largest frame payload the fuzzed reader accepts.
pub const MAX_PAYLOAD: u32 = 1 << 20;
const CLUSTER: &str = "fuzz";

/// A small, fast, seeded generator (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn coin(&mut self) -> bool {
        self.next() & 1 == 0
    }
}

/// Values that break length and index arithmetic.
const INTERESTING: [u64; 12] = [
    0,
    1,
    2,
    0x7f,
    0x80,
    0xff,
    0xffff,
    0x1_0000,
    0x7fff_ffff,
    0xffff_ffff,
    1 << 32,
    u64::MAX,
];

/// Applies one to four random mutations to `data`; `other` is spliced in
/// by one of them.
pub fn mutate(rng: &mut Rng, data: &mut Vec<u8>, other: &[u8]) {
    for _ in 0..1 + rng.below(4) {
        let len = data.len();
        let at = rng.below(len.max(1));
        match rng.below(10) {
            0 if len > 0 => data[at] ^= 1 << rng.below(8),
            1 if len > 0 => data[at] = rng.next() as u8,
            2 if len > 0 => data[at] = INTERESTING[rng.below(6)] as u8,
            3 if len >= 4 => {
                let v = INTERESTING[rng.below(INTERESTING.len())] as u32;
                let at = rng.below(len - 3);
                data[at..at + 4].copy_from_slice(&v.to_le_bytes());
            }
            4 if len >= 8 => {
                let v = INTERESTING[rng.below(INTERESTING.len())];
                let at = rng.below(len - 7);
                data[at..at + 8].copy_from_slice(&v.to_le_bytes());
            }
            5 => {
                let n = 1 + rng.below(16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                let at = rng.below(len + 1);
                data.splice(at..at, bytes);
            }
            6 if len > 0 => {
                let n = 1 + rng.below((len - at).min(32));
                data.drain(at..at + n);
            }
            7 if len > 0 => {
                let n = 1 + rng.below((len - at).min(32));
                let chunk = data[at..at + n].to_vec();
                data.splice(at..at, chunk);
            }
            8 => data.truncate(rng.below(len + 1)),
            _ if !other.is_empty() => {
                let from = rng.below(other.len());
                let n = 1 + rng.below((other.len() - from).min(64));
                let at = rng.below(len + 1);
                let end = (at + n).min(len);
                data.splice(at..end, other[from..from + n].iter().copied());
            }
            _ => {}
        }
    }
}

/// What one execution of a target did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The input was read as valid.
    Accepted,
    /// The input was refused with an error.
    Refused,
}

/// Seeds for one system: wire payloads and file bodies the runtime itself
/// encoded from real model values.
pub struct Seeds {
    /// `(kind, payload)` of frames.
    pub frames: Vec<(FrameKind, Vec<u8>)>,
    /// Bodies of log records.
    pub records: Vec<Vec<u8>>,
    /// Bodies of snapshots.
    pub snapshots: Vec<Vec<u8>>,
    /// Inputs as typed.
    pub texts: Vec<String>,
}

/// Collects seeds for `S` from `walks` random walks of `model`, plus
/// `inputs` (as values and as typed) and the control requests.
pub fn seeds<S: System>(
    model: &Model<S>,
    inputs: &[(S::Input, &str)],
    walks: usize,
    rng: &mut Rng,
) -> Seeds {
    let mut msgs: Vec<(S::Node, S::Msg)> = Vec::new();
    let mut states: Vec<S::State> = Vec::new();
    let mut effects = Effects::default();
    for _ in 0..walks {
        let Ok(mut world) = model.init() else { break };
        for _ in 0..60 {
            let actions = model.enabled(&world);
            if actions.is_empty() {
                break;
            }
            let a = actions[rng.below(actions.len())];
            if model.apply(&mut world, a, &mut effects).is_err() {
                break;
            }
            for p in world.network.packets() {
                if msgs.len() < 400 && !msgs.iter().any(|(_, m)| *m == p.msg) {
                    msgs.push((p.src, p.msg.clone()));
                }
            }
        }
        states.extend(world.nodes.iter().map(|n| n.state.clone()));
    }
    states.truncate(200);
    let mut records: Vec<wal::Record<S>> = vec![wal::Record::Start, wal::Record::Restart];
    records.extend(inputs.iter().map(|(i, _)| wal::Record::Input(i.clone())));
    records.extend(
        msgs.iter()
            .take(100)
            .map(|(from, msg)| wal::Record::Message {
                from: *from,
                msg: msg.clone(),
            }),
    );
    if let Some((i, _)) = inputs.first() {
        records.push(wal::Record::Chose {
            choices: vec![0, 3, 1],
            record: Box::new(wal::Record::Input(i.clone())),
        });
    }
    let mut frames: Vec<(FrameKind, Vec<u8>)> = Vec::new();
    let hellos = [
        Hello::Peer {
            name: "Server(0)".into(),
            config: 7,
        },
        Hello::Client { recent: true },
    ];
    frames.extend(
        hellos
            .iter()
            .map(|h| (FrameKind::Hello, codec::to_payload(h))),
    );
    frames.extend(
        msgs.iter()
            .map(|(_, m)| (FrameKind::Message, codec::to_payload(m))),
    );
    let mut requests: Vec<Request<S>> = vec![
        Request::Stats,
        Request::State,
        Request::Heal,
        Request::Partition(vec!["Server(1)".into(), "Client(0)".into()]),
    ];
    requests.extend(inputs.iter().map(|(i, _)| Request::Input(i.clone())));
    frames.extend(
        requests
            .iter()
            .map(|r| (FrameKind::Request, codec::to_payload(r))),
    );
    let replies: Vec<Reply<S>> = vec![
        Reply::Welcome {
            node: "Client(0)".into(),
        },
        Reply::Accepted { seq: 9 },
        Reply::State(vec![("log".into(), "[]".into())]),
        Reply::Refused("no".into()),
    ];
    frames.extend(
        replies
            .iter()
            .map(|r| (FrameKind::Reply, codec::to_payload(r))),
    );
    Seeds {
        frames,
        records: records
            .iter()
            .enumerate()
            .map(|(k, r)| codec::to_payload(&(k as u64 + 1, k as u64 + 1, r)))
            .collect(),
        snapshots: states
            .iter()
            .enumerate()
            .map(|(k, s)| {
                let file = snapshot::encode::<S>(1, k as u64, s);
                file[12..].to_vec()
            })
            .collect(),
        texts: inputs.iter().map(|(_, t)| t.to_string()).collect(),
    }
}

/// A length-and-checksum framed body, as the log and the snapshot write
/// them: `prefix | len u32 | crc u32 | body`.
fn framed(prefix: &[u8], body: &[u8]) -> Vec<u8> {
    let mut out = prefix.to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32(body).to_le_bytes());
    out.extend_from_slice(body);
    out
}

/// CRC-32 (IEEE), as the formats use; bitwise, which is fast enough for
/// inputs of a few kilobytes.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn pick<'a, T>(rng: &mut Rng, items: &'a [T]) -> &'a T {
    &items[rng.below(items.len())]
}

/// A target: makes an input from the seeds and reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A frame from a socket, then its payload by kind.
    Frame,
    /// A log file.
    Log,
    /// A snapshot file.
    Snapshot,
    /// An input typed on a command line.
    Input,
}

impl Target {
    pub const ALL: [Target; 4] = [Target::Frame, Target::Log, Target::Snapshot, Target::Input];

    pub fn name(self) -> &'static str {
        match self {
            Target::Frame => "frame",
            Target::Log => "log",
            Target::Snapshot => "snapshot",
            Target::Input => "input",
        }
    }
}

/// Builds one mutated input for `target`.
pub fn make(target: Target, seeds: &Seeds, rng: &mut Rng) -> Vec<u8> {
    let cluster = codec::cluster_id(CLUSTER);
    match target {
        Target::Frame => {
            let (kind, payload) = pick(rng, &seeds.frames);
            let other = &pick(rng, &seeds.frames).1;
            if rng.coin() {
                let mut p = payload.clone();
                mutate(rng, &mut p, other);
                codec::encode(*kind, cluster, rng.below(4) as u32, &p)
            } else {
                let mut f = codec::encode(*kind, cluster, 0, payload);
                mutate(rng, &mut f, other);
                f
            }
        }
        Target::Log => {
            let header = wal::WalHeader {
                start_seq: 1,
                incarnation: 1,
            }
            .encode();
            let mut file = header.to_vec();
            let n = 1 + rng.below(6);
            let damaged = rng.below(n);
            for k in 0..n {
                let mut body = pick(rng, &seeds.records).clone();
                if k == damaged && rng.coin() {
                    let other = pick(rng, &seeds.records).clone();
                    mutate(rng, &mut body, &other);
                }
                file.extend(framed(&[], &body));
            }
            if rng.coin() {
                let other = pick(rng, &seeds.records).clone();
                mutate(rng, &mut file, &other);
            }
            file
        }
        Target::Snapshot => {
            let mut body = pick(rng, &seeds.snapshots).clone();
            let other = pick(rng, &seeds.snapshots).clone();
            if rng.coin() {
                mutate(rng, &mut body, &other);
                framed(b"VSNP", &body)
            } else {
                let mut file = framed(b"VSNP", &body);
                mutate(rng, &mut file, &other);
                file
            }
        }
        Target::Input => {
            let mut text = pick(rng, &seeds.texts).clone().into_bytes();
            let other = pick(rng, &seeds.texts).clone().into_bytes();
            mutate(rng, &mut text, &other);
            text
        }
    }
}

/// Reads `input` as `target` for system `S`.
pub fn run<S: System>(target: Target, input: &[u8]) -> Verdict {
    let ok = |accepted: bool| {
        if accepted {
            Verdict::Accepted
        } else {
            Verdict::Refused
        }
    };
    match target {
        Target::Frame => {
            let cluster = codec::cluster_id(CLUSTER);
            let Ok((header, payload)) =
                codec::read_frame(&mut Cursor::new(input), cluster, MAX_PAYLOAD)
            else {
                return Verdict::Refused;
            };
            ok(match header.kind {
                FrameKind::Hello => codec::from_payload::<Hello>(&payload).is_ok(),
                FrameKind::Message => codec::from_payload::<S::Msg>(&payload).is_ok(),
                FrameKind::Request => codec::from_payload::<Request<S>>(&payload).is_ok(),
                FrameKind::Reply => codec::from_payload::<Reply<S>>(&payload).is_ok(),
            })
        }
        Target::Log => ok(wal::parse_log::<S>(input).is_ok_and(|l| l.damage.is_none())),
        Target::Snapshot => ok(snapshot::decode::<S>(input).is_ok()),
        Target::Input => ok(parse_input::<S>(&String::from_utf8_lossy(input)).is_ok()),
    }
}

/// What a campaign found.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// Executions run.
    pub execs: u64,
    /// Of which read as valid.
    pub accepted: u64,
    /// The largest single allocation any execution made, and the ratio of
    /// the worst one to its input's length.
    pub largest_alloc: usize,
    pub worst_ratio: f64,
    /// The first input that panicked or allocated past the bound, with why.
    pub failure: Option<(Vec<u8>, String)>,
}

/// The allocation one execution may make: a few times its input, plus the
/// frame reader's chunk and bincode's cap on what it reserves for one
/// collection from a claimed length (1 MiB). A reader that believed a
/// length field would pass it at once.
pub fn allocation_bound(input: &[u8]) -> usize {
    4 * input.len() + codec::READ_CHUNK + (1 << 20) + 4096
}

/// Runs `execs` executions of `target` on `S`, stopping at the first
/// failure, checking the allocation bound when `check_alloc` (which turns
/// the allocator's tracking on for the campaign).
pub fn campaign<S: System>(
    target: Target,
    seeds: &Seeds,
    execs: u64,
    seed: u64,
    check_alloc: bool,
) -> Tally {
    let mut rng = Rng::new(seed ^ (target as u64) << 56);
    let mut t = Tally::default();
    allocator::track_largest(check_alloc);
    for _ in 0..execs {
        let input = make(target, seeds, &mut rng);
        allocator::take_largest();
        let result = catch_unwind(AssertUnwindSafe(|| run::<S>(target, &input)));
        let largest = allocator::take_largest();
        t.execs += 1;
        match result {
            Ok(v) => t.accepted += u64::from(v == Verdict::Accepted),
            Err(_) => {
                t.failure = Some((input, "panicked".into()));
                break;
            }
        }
        if check_alloc {
            t.largest_alloc = t.largest_alloc.max(largest);
            let ratio = largest as f64 / input.len().max(1) as f64;
            if ratio > t.worst_ratio {
                t.worst_ratio = ratio;
            }
            let bound = allocation_bound(&input);
            if largest > bound {
                t.failure = Some((
                    input,
                    format!("allocated {largest} bytes at once (bound {bound})"),
                ));
                break;
            }
        }
    }
    allocator::track_largest(false);
    t
}
