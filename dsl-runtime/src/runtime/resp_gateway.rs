//! A Redis-protocol front end in a node's process: `redis-cli` and
//! `redis-benchmark` talk to the node as if it were Redis.
//!
//! The gateway is one more client of the node's event loop: it turns each
//! command into an input tagged with an [`Origin`] (through the system's
//! [`RespService`]), hands it to the loop like any client's input, and
//! routes each output the node emits back to the connection whose origin
//! it carries. Commands of one connection are answered in order, so
//! pipelining works; many connections run at once.
//!
//! Bounded everywhere: at most [`GatewayLimits::max_connections`]
//! connections; per connection at most [`GatewayLimits::max_pending`]
//! commands awaiting their answer (the reader stops reading until the
//! oldest is answered) and [`RespLimits`] on what one command holds. A
//! command not answered within [`GatewayLimits::reply_timeout`] gets
//! `-TIMEOUT`: its outcome is unknown (it may still take effect). A
//! protocol error gets `-ERR Protocol error: ...` and the connection is
//! closed; other connections are not affected.
//!
//! A few commands are answered by the gateway itself, enough for the
//! Redis tools: `PING`, `ECHO`, `QUIT`, `SELECT 0`, `INFO`, `COMMAND`
//! (an empty table), `CLIENT` and `CONFIG GET` (empty answers).
//!
//! The RESP port is plaintext and unauthenticated, whatever the cluster's
//! links use: bind it to loopback or a trusted network.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, Semaphore};

use crate::runtime::bounded::{warn_limited, Credit, RateLimited};
use crate::runtime::codec;
use crate::runtime::node::LoopEvent;
use crate::runtime::protocol::{Reply, Request};
use crate::runtime::resp::{self, RespLimits, RespValue};
use crate::system::System;
use crate::transform::Origin;

/// How a system's inputs and outputs read as Redis commands and replies.
pub trait RespService<S: System>: Send + Sync + 'static {
    /// The command `args` (its name first, as sent) as an input tagged
    /// with `origin`, or the reply to give at once (an unknown command, a
    /// wrong number of arguments).
    fn input(&self, args: &[Vec<u8>], origin: Origin) -> Result<S::Input, RespValue>;

    /// The origin of `output` and the reply it makes, if it answers a
    /// gateway's command.
    fn reply(&self, output: &S::Output) -> Option<(Origin, RespValue)>;
}

/// Bounds of a gateway.
#[derive(Debug, Clone)]
pub struct GatewayLimits {
    /// Connections open at once; more are closed at once.
    pub max_connections: usize,
    /// Commands of one connection awaiting their answer.
    pub max_pending: usize,
    /// How long a command waits for its answer.
    pub reply_timeout: Duration,
    /// Bounds on one command.
    pub command: RespLimits,
    /// Bytes of outputs queued from the event loop to the gateway.
    pub output_bytes: usize,
}

impl Default for GatewayLimits {
    fn default() -> Self {
        GatewayLimits {
            max_connections: 1024,
            max_pending: 1024,
            reply_timeout: Duration::from_secs(5),
            command: RespLimits::default(),
            output_bytes: 64 << 20,
        }
    }
}

/// The event loop's client id the gateway uses (transport ids count up
/// from 0 and never reach it).
const GATEWAY_CLIENT: u64 = u64::MAX - 1;

/// Who waits for which origin.
type Waiting = Arc<Mutex<HashMap<Origin, oneshot::Sender<RespValue>>>>;

/// What a gateway is built from.
pub struct Gateway<S: System> {
    /// The bound RESP listener.
    pub listener: TcpListener,
    /// How commands and outputs translate.
    pub service: Arc<dyn RespService<S>>,
    /// Into the node's event loop.
    pub events: std::sync::mpsc::Sender<LoopEvent<S>>,
    /// The node's name, for `INFO`.
    pub node: String,
    /// Bounds.
    pub limits: GatewayLimits,
}

struct Shared<S: System> {
    service: Arc<dyn RespService<S>>,
    events: std::sync::mpsc::Sender<LoopEvent<S>>,
    waiting: Waiting,
    next_origin: AtomicU64,
    node: String,
    limits: GatewayLimits,
}

/// Serves RESP clients until the node stops.
pub async fn run<S: System>(gateway: Gateway<S>) {
    // Origins start at a per-process value, so an output of a command
    // from before a restart (re-applied after it) matches no one.
    let start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let shared = Arc::new(Shared {
        service: gateway.service,
        events: gateway.events,
        waiting: Arc::new(Mutex::new(HashMap::new())),
        next_origin: AtomicU64::new(start),
        node: gateway.node,
        limits: gateway.limits,
    });
    tokio::spawn(route_outputs(shared.clone()));
    let slots = Arc::new(Semaphore::new(shared.limits.max_connections));
    // A flood of connections past the limit costs the log a few lines.
    let refused = RateLimited::default();
    loop {
        let Ok((stream, _)) = gateway.listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            warn_limited!(
                refused,
                "RESP: {} connections open (the limit); one refused",
                shared.limits.max_connections
            );
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        tokio::spawn(async move {
            serve_connection(stream, shared).await;
            drop(slot);
        });
    }
}

/// Receives the node's outputs (as a client of the event loop) and hands
/// each to the connection waiting for its origin. Registers again if the
/// loop ever drops the gateway.
async fn route_outputs<S: System>(shared: Arc<Shared<S>>) {
    loop {
        let (tx, mut rx) =
            crate::runtime::bounded::byte_queue::<Vec<u8>>(shared.limits.output_bytes);
        let connected = LoopEvent::ClientConnected {
            id: GATEWAY_CLIENT,
            tx,
            recent: false,
        };
        if shared.events.send(connected).is_err() {
            return; // the node is stopping
        }
        while let Some(frame) = rx.recv().await {
            let Some(payload) = frame.get(codec::HEADER_LEN..) else {
                continue;
            };
            let Ok(reply) = codec::from_payload::<Reply<S>>(payload) else {
                continue;
            };
            if let Reply::Output { output, .. } = reply {
                if let Some((origin, value)) = shared.service.reply(&output) {
                    let waiter = shared
                        .waiting
                        .lock()
                        .ok()
                        .and_then(|mut w| w.remove(&origin));
                    if let Some(waiter) = waiter {
                        let _ = waiter.send(value);
                    }
                }
            }
        }
        tracing::warn!("RESP: the node dropped the gateway's output queue; registering again");
    }
}

/// An answer a connection owes, in command order.
enum Owed {
    Now(RespValue),
    Later(Origin, oneshot::Receiver<RespValue>),
    /// Answer, then close the connection.
    Close(RespValue),
}

async fn serve_connection<S: System>(stream: TcpStream, shared: Arc<Shared<S>>) {
    let (mut rd, wr) = stream.into_split();
    let (owed_tx, owed_rx) = mpsc::channel::<Owed>(shared.limits.max_pending.max(1));
    let writer = tokio::spawn(write_answers(wr, owed_rx, shared.clone()));
    let mut buf: Vec<u8> = Vec::with_capacity(16 << 10);
    let mut chunk = vec![0u8; 16 << 10];
    'read: loop {
        match rd.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        let mut used = 0;
        loop {
            match resp::parse(&buf[used..], &shared.limits.command) {
                Ok(None) => break,
                Ok(Some(parsed)) => {
                    used += parsed.used;
                    if parsed.args.is_empty() {
                        continue;
                    }
                    let owed = answer(&parsed.args, &shared);
                    let closing = matches!(owed, Owed::Close(_));
                    if owed_tx.send(owed).await.is_err() || closing {
                        break 'read;
                    }
                }
                Err(e) => {
                    let _ = owed_tx.send(Owed::Close(RespValue::err(e))).await;
                    break 'read;
                }
            }
        }
        buf.drain(..used);
    }
    drop(owed_tx);
    let _ = writer.await;
}

/// What a command is owed: answered here, or submitted to the node.
fn answer<S: System>(args: &[Vec<u8>], shared: &Shared<S>) -> Owed {
    let name = String::from_utf8_lossy(&args[0]).to_ascii_uppercase();
    let sub = args
        .get(1)
        .map(|a| String::from_utf8_lossy(a).to_ascii_uppercase());
    match name.as_str() {
        "PING" => match args.len() {
            1 => Owed::Now(RespValue::Simple("PONG".into())),
            2 => Owed::Now(RespValue::Bulk(args[1].clone())),
            _ => Owed::Now(arity(&name)),
        },
        "ECHO" if args.len() == 2 => Owed::Now(RespValue::Bulk(args[1].clone())),
        "QUIT" => Owed::Close(RespValue::ok()),
        "SELECT" => match args.get(1).map(|a| a.as_slice()) {
            Some(b"0") if args.len() == 2 => Owed::Now(RespValue::ok()),
            _ => Owed::Now(RespValue::err("only database 0 exists")),
        },
        "INFO" => Owed::Now(RespValue::Bulk(
            format!(
                "# Server\r\nredis_version:7.0.0\r\nredis_mode:standalone\r\nverdict_node:{}\r\n\
                 # Replication\r\nrole:master\r\n",
                shared.node
            )
            .into_bytes(),
        )),
        // redis-cli asks for the command table (for hints) and takes an
        // empty one.
        "COMMAND" => match sub.as_deref() {
            Some("COUNT") => Owed::Now(RespValue::Integer(0)),
            _ => Owed::Now(RespValue::Array(Vec::new())),
        },
        "CLIENT" => match sub.as_deref() {
            Some("SETNAME") | Some("SETINFO") | Some("REPLY") => Owed::Now(RespValue::ok()),
            Some("GETNAME") => Owed::Now(RespValue::Nil),
            Some("ID") => Owed::Now(RespValue::Integer(0)),
            _ => Owed::Now(RespValue::err("unsupported CLIENT subcommand")),
        },
        // redis-benchmark reads `save` and `appendonly`; nothing is
        // configurable through RESP.
        "CONFIG" => match sub.as_deref() {
            Some("GET") => {
                let asked = args
                    .get(2)
                    .map(|a| String::from_utf8_lossy(a).to_ascii_lowercase());
                let value = match asked.as_deref() {
                    Some("save") => Some(""),
                    // Every acknowledged write is fsynced (on a majority).
                    Some("appendonly") => Some("yes"),
                    _ => None,
                };
                Owed::Now(RespValue::Array(match (asked, value) {
                    (Some(name), Some(v)) => vec![
                        RespValue::Bulk(name.into_bytes()),
                        RespValue::Bulk(v.as_bytes().to_vec()),
                    ],
                    _ => Vec::new(),
                }))
            }
            _ => Owed::Now(RespValue::err("CONFIG is read-only here")),
        },
        _ => {
            let origin = shared.next_origin.fetch_add(1, Ordering::Relaxed);
            match shared.service.input(args, origin) {
                Err(reply) => Owed::Now(reply),
                Ok(input) => {
                    let (tx, rx) = oneshot::channel();
                    if let Ok(mut w) = shared.waiting.lock() {
                        w.insert(origin, tx);
                    }
                    let req = LoopEvent::Request {
                        client: GATEWAY_CLIENT,
                        req: Request::Input(input),
                        credit: Credit::none(),
                    };
                    if shared.events.send(req).is_err() {
                        return Owed::Now(RespValue::err("the node is stopping"));
                    }
                    Owed::Later(origin, rx)
                }
            }
        }
    }
}

/// `-ERR wrong number of arguments for 'name' command`.
pub fn arity(name: &str) -> RespValue {
    RespValue::err(format!(
        "wrong number of arguments for '{}' command",
        name.to_ascii_lowercase()
    ))
}

/// Writes a connection's answers in command order, each as soon as it is
/// known; flushes when no further answer is ready.
async fn write_answers<S: System>(
    mut wr: tokio::net::tcp::OwnedWriteHalf,
    mut owed: mpsc::Receiver<Owed>,
    shared: Arc<Shared<S>>,
) {
    let mut out = Vec::with_capacity(16 << 10);
    while let Some(first) = owed.recv().await {
        let mut next = Some(first);
        let mut close = false;
        while let Some(item) = next.take() {
            let value = match item {
                Owed::Now(v) => v,
                Owed::Close(v) => {
                    close = true;
                    v
                }
                Owed::Later(origin, rx) => {
                    if !out.is_empty() {
                        // Do not hold ready answers back while waiting.
                        if wr.write_all(&out).await.is_err() {
                            return;
                        }
                        out.clear();
                    }
                    match tokio::time::timeout(shared.limits.reply_timeout, rx).await {
                        Ok(Ok(v)) => v,
                        _ => {
                            if let Ok(mut w) = shared.waiting.lock() {
                                w.remove(&origin);
                            }
                            RespValue::Error(
                                "TIMEOUT no answer in time; the command may or may not \
                                 have taken effect"
                                    .into(),
                            )
                        }
                    }
                }
            };
            value.encode(&mut out);
            if close {
                break;
            }
            next = owed.try_recv().ok();
        }
        if wr.write_all(&out).await.is_err() {
            return;
        }
        out.clear();
        if close {
            let _ = wr.shutdown().await;
            return;
        }
    }
}
