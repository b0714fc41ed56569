//! Peers and clients over TCP: the listener, the handshake, inbound frame
//! readers, and one outbound writer per peer that reconnects with backoff.
//!
//! Each ordered pair of nodes uses its own connection, opened by the
//! sender; a node's listener also serves clients. Unless the cluster runs
//! with `insecure = true`, every connection is mutual TLS
//! ([`crate::runtime::tls`]): the caller's certificate, signed by the
//! cluster's authority, says which node it is or that it is a client.
//!
//! The first frame of every connection is a [`Hello`]: a peer must name a
//! node of the cluster file — the node its certificate names — and send
//! from that node's index, with this cluster's id, on every frame.
//! Anything else — a failed TLS handshake, random bytes, an oversized
//! length, a truncated frame, a frame from another cluster, a hello or a
//! frame claiming another node — closes that connection with a warning,
//! and only that connection.
//!
//! Without TLS the handshake checks membership, not identity: it keeps
//! honest mistakes (wrong cluster, stale binary, stray client) out, not an
//! attacker.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::runtime::bounded::{
    warn_limited, Budget, ByteQueue, ByteReceiver, Credit, RateLimited, SendError,
};
use crate::runtime::codec::{self, FrameError, FrameKind, Hello, CLIENT_SENDER, UPGRADED};
use crate::runtime::live_upgrade::LiveUpgrade;
use crate::runtime::metrics::Metrics;
use crate::runtime::node::{LoopEvent, Outgoing};
use crate::runtime::protocol::Request;
use crate::runtime::tls::{Identity, NodeTls};
use crate::system::System;

/// A connection's byte stream: plain TCP, or TLS over it.
trait Io: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Io for T {}
type Stream = Box<dyn Io>;

/// How long a new connection has to say hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// First and longest wait between reconnection attempts.
const BACKOFF_MIN: Duration = Duration::from_millis(20);
const BACKOFF_MAX: Duration = Duration::from_secs(1);
/// A peer connection that carries nothing for this long is closed (its
/// writer reconnects when it has something to say): a link the peer
/// stopped reading cannot hold a file descriptor forever.
const PEER_IDLE: Duration = Duration::from_secs(600);

/// How much a node lets each party make it hold. Every queue between the
/// sockets and the event loop is bounded by one of these.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Bytes of received frames waiting for the event loop, all
    /// connections together; past it, readers stop reading (backpressure).
    pub inbound_bytes: usize,
    /// Bytes queued for one peer. Past it on a live link the connection is
    /// reset and what it held is lost (counted, warned); while the peer is
    /// unreachable, new messages to it are lost (counted).
    pub peer_bytes: usize,
    /// Bytes of replies and outputs queued for one client; past it the
    /// client counts as not reading and is disconnected.
    pub client_bytes: usize,
    /// Open connections, peers and clients together; more are closed at
    /// once.
    pub max_connections: usize,
    /// A client connection that sends no request for this long is closed.
    pub client_idle: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            inbound_bytes: 32 << 20,
            peer_bytes: 32 << 20,
            client_bytes: 8 << 20,
            max_connections: 256,
            client_idle: Duration::from_secs(300),
        }
    }
}

/// What every connection task of a node shares.
pub struct Transport<S: System> {
    /// This cluster's id.
    pub cluster: u64,
    /// This node's index.
    pub me: usize,
    /// Every node's name, by index.
    pub names: Vec<String>,
    /// The event loop's queue.
    pub events: Sender<LoopEvent<S>>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// The payload size limit.
    pub max_payload: u32,
    /// Hash of the configuration this node runs.
    pub config: u64,
    /// Certificates; `None` runs plaintext (`insecure = true`).
    pub tls: Option<Arc<NodeTls>>,
    /// The bounds.
    pub limits: Limits,
    /// Set on the upgraded side of a live upgrade: how messages are
    /// encoded for, and decoded from, each version's peers.
    pub live: Option<Arc<dyn LiveUpgrade<S>>>,
    inbound: Budget,
    connections: Arc<tokio::sync::Semaphore>,
    over_cap: RateLimited,
    failed: RateLimited,
    next_client: AtomicU64,
}

impl<S: System> Transport<S> {
    /// The shared part of a node's transport.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        cluster: u64,
        me: usize,
        names: Vec<String>,
        events: Sender<LoopEvent<S>>,
        metrics: Arc<Metrics>,
        max_payload: u32,
        config: u64,
        tls: Option<Arc<NodeTls>>,
        limits: Limits,
        live: Option<Arc<dyn LiveUpgrade<S>>>,
    ) -> Arc<Self> {
        Arc::new(Transport {
            live,
            cluster,
            me,
            names,
            events,
            metrics,
            max_payload,
            config,
            tls,
            inbound: Budget::new(limits.inbound_bytes),
            connections: Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1))),
            limits,
            over_cap: RateLimited::default(),
            failed: RateLimited::default(),
            next_client: AtomicU64::new(1),
        })
    }

    /// Takes inbound credit for a frame of `bytes`, waiting (and so not
    /// reading the socket) while the event loop is behind.
    async fn credit(&self, bytes: usize) -> Credit {
        let (credit, waited) = self.inbound.take(bytes).await;
        if waited {
            Metrics::bump(&self.metrics.inbound_waits);
        }
        credit
    }

    /// Reads the next frame; `Ok(None)` on a clean close between frames.
    async fn read<R: tokio::io::AsyncRead + Unpin>(
        &self,
        r: &mut R,
    ) -> Result<Option<(codec::Header, Vec<u8>)>, FrameError> {
        let mut head = [0u8; codec::HEADER_LEN];
        let n = r.read(&mut head).await?;
        if n == 0 {
            return Ok(None);
        }
        if n < head.len() {
            r.read_exact(&mut head[n..]).await.map_err(truncated)?;
        }
        let header = codec::decode_header(&head, self.cluster, self.max_payload)?;
        // Grown as bytes arrive: a length alone commits no memory.
        let mut payload = Vec::with_capacity((header.len as usize).min(codec::READ_CHUNK));
        (&mut *r)
            .take(header.len as u64)
            .read_to_end(&mut payload)
            .await?;
        if payload.len() < header.len as usize {
            return Err(truncated(std::io::ErrorKind::UnexpectedEof.into()));
        }
        codec::verify(&header, &payload)?;
        Metrics::add(
            &self.metrics.bytes_in,
            (codec::HEADER_LEN + payload.len()) as u64,
        );
        Ok(Some((header, payload)))
    }
}

fn truncated(e: std::io::Error) -> FrameError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        FrameError::BadPayload("truncated frame: the connection closed mid-frame".into())
    } else {
        FrameError::Io(e)
    }
}

/// Accepts connections forever, one task each.
pub async fn accept_loop<S: System>(listener: TcpListener, t: Arc<Transport<S>>) {
    loop {
        match listener.accept().await {
            Ok((stream, addr)) => {
                let Ok(slot) = t.connections.clone().try_acquire_owned() else {
                    drop(stream);
                    Metrics::bump(&t.metrics.over_cap);
                    warn_limited!(
                        t.over_cap,
                        %addr,
                        limit = t.limits.max_connections,
                        "connection refused: the node has as many connections as it takes"
                    );
                    continue;
                };
                let t = t.clone();
                tokio::spawn(async move {
                    if let Err(e) = serve_connection(stream, t.clone()).await {
                        Metrics::bump(&t.metrics.rejected);
                        warn_limited!(t.failed, %addr, "closing connection: {e}");
                    }
                    drop(slot);
                });
            }
            Err(e) => {
                // Out of file descriptors and the like: wait, do not spin.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Why a connection was closed.
#[derive(Debug)]
enum ConnError {
    Frame(FrameError),
    Protocol(String),
}

impl std::fmt::Display for ConnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnError::Frame(e) => write!(f, "{e}"),
            ConnError::Protocol(e) => f.write_str(e),
        }
    }
}

impl From<FrameError> for ConnError {
    fn from(e: FrameError) -> Self {
        ConnError::Frame(e)
    }
}

async fn serve_connection<S: System>(
    tcp: TcpStream,
    t: Arc<Transport<S>>,
) -> Result<(), ConnError> {
    let _ = tcp.set_nodelay(true);
    let (mut stream, who): (Stream, Identity) = match &t.tls {
        None => (Box::new(tcp), Identity::Unauthenticated),
        Some(tls) => {
            let accepted = tokio::time::timeout(HELLO_TIMEOUT, tls.acceptor.accept(tcp))
                .await
                .map_err(|_| ConnError::Protocol("no TLS handshake within 10 s".into()))?;
            let s = match accepted {
                Ok(s) => s,
                // A port probe: connected and closed without a byte.
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
                Err(e) => {
                    return Err(ConnError::Protocol(format!("TLS handshake failed: {e}")));
                }
            };
            let cert = s.get_ref().1.peer_certificates().and_then(|c| c.first());
            let Some(who) = tls.identify(cert) else {
                return Err(ConnError::Protocol(
                    "refused: the certificate names no node of this cluster and is not a \
                     client certificate"
                        .into(),
                ));
            };
            (Box::new(s), who)
        }
    };
    let first = tokio::time::timeout(HELLO_TIMEOUT, t.read(&mut stream))
        .await
        .map_err(|_| ConnError::Protocol("no hello within 10 s".into()))??;
    let Some((header, payload)) = first else {
        return Ok(());
    };
    if header.kind != FrameKind::Hello {
        return Err(ConnError::Protocol(format!(
            "the first frame must be a hello, got {:?}",
            header.kind
        )));
    }
    match codec::from_payload::<Hello>(&payload)? {
        Hello::Peer { name, config } => {
            let from = header.sender as usize;
            match t.names.get(from) {
                Some(expected) if *expected == name && from != t.me => {}
                Some(_) if from == t.me => {
                    return Err(ConnError::Protocol(format!(
                        "a peer claims to be this node ({name})"
                    )))
                }
                _ => {
                    return Err(ConnError::Protocol(format!(
                        "hello from unknown node `{name}` (index {from}); the cluster has {}",
                        t.names.join(", ")
                    )))
                }
            }
            match who {
                Identity::Node(i) if i != from => {
                    Metrics::bump(&t.metrics.spoofed);
                    return Err(ConnError::Protocol(format!(
                        "refused: a connection with {}'s certificate claims to be {name}",
                        t.names[i]
                    )));
                }
                Identity::Client => {
                    Metrics::bump(&t.metrics.spoofed);
                    return Err(ConnError::Protocol(format!(
                        "refused: a connection with a client certificate claims to be node {name}"
                    )));
                }
                _ => {}
            }
            if config != t.config {
                return Err(ConnError::Protocol(format!(
                    "{name} runs another configuration of the system than this node \
                     (give every node the same configuration flags)"
                )));
            }
            tracing::debug!(peer = %name, "peer connected");
            if header.mark == UPGRADED && t.live.is_some() {
                // It can speak the upgraded version, and so can this node:
                // say so (an old node never writes here).
                let answer = codec::encode_marked(
                    FrameKind::Hello,
                    t.cluster,
                    t.me as u32,
                    UPGRADED,
                    &codec::to_payload(&Hello::Peer {
                        name: t.names[t.me].clone(),
                        config: t.config,
                    }),
                );
                stream
                    .write_all(&answer)
                    .await
                    .and(stream.flush().await)
                    .map_err(FrameError::Io)?;
            }
            read_peer(stream, from, t).await
        }
        Hello::Client { recent } => {
            if let Identity::Node(i) = who {
                return Err(ConnError::Protocol(format!(
                    "refused: {}'s node certificate used for a client connection; clients \
                     present the client certificate",
                    t.names[i]
                )));
            }
            serve_client(stream, recent, t).await
        }
    }
}

/// Reads a peer's messages into the event loop.
async fn read_peer<S: System>(
    mut stream: Stream,
    from: usize,
    t: Arc<Transport<S>>,
) -> Result<(), ConnError> {
    while let Some((header, payload)) = t.read(&mut stream).await? {
        if header.kind != FrameKind::Message || header.sender as usize != from {
            Metrics::bump(&t.metrics.spoofed);
            return Err(ConnError::Protocol(format!(
                "{} sent a {:?} frame claiming sender {}",
                t.names[from], header.kind, header.sender
            )));
        }
        if header.mark > UPGRADED {
            return Err(ConnError::Protocol(format!(
                "{} sent a message with version mark {}, which this build does not know (a \
                 later version of the system?)",
                t.names[from], header.mark
            )));
        }
        let msg: S::Msg = match &t.live {
            Some(live) => live.decode(header.mark == UPGRADED, &payload)?,
            None if header.mark == UPGRADED => {
                return Err(ConnError::Protocol(format!(
                    "{} sent a message of an upgraded version of the system, which this \
                     node (the version before it) cannot read",
                    t.names[from]
                )))
            }
            None => codec::from_payload(&payload)?,
        };
        Metrics::bump(&t.metrics.messages_in);
        let credit = t.credit(codec::HEADER_LEN + payload.len()).await;
        if t.events
            .send(LoopEvent::Message { from, msg, credit })
            .is_err()
        {
            return Ok(()); // the node is stopping
        }
    }
    Ok(())
}

/// Serves one client: requests in, replies and outputs out.
async fn serve_client<S: System>(
    stream: Stream,
    recent: bool,
    t: Arc<Transport<S>>,
) -> Result<(), ConnError> {
    let id = t.next_client.fetch_add(1, Ordering::Relaxed);
    let (mut rd, wr) = tokio::io::split(stream);
    let (tx, rx) = crate::runtime::bounded::byte_queue::<Vec<u8>>(t.limits.client_bytes);
    let writer = tokio::spawn(write_frames(wr, rx, t.metrics.clone()));
    let _ = t.events.send(LoopEvent::ClientConnected { id, tx, recent });
    let result = async {
        loop {
            let next = tokio::time::timeout(t.limits.client_idle, t.read(&mut rd)).await;
            let Ok(next) = next else {
                Metrics::bump(&t.metrics.idle_closed);
                return Err(ConnError::Protocol(format!(
                    "a client sent nothing for {} s: closed as idle",
                    t.limits.client_idle.as_secs()
                )));
            };
            let Some((header, payload)) = next? else {
                break;
            };
            if header.kind != FrameKind::Request || header.sender != CLIENT_SENDER {
                return Err(ConnError::Protocol(format!(
                    "a client sent a {:?} frame claiming sender {}",
                    header.kind, header.sender
                )));
            }
            let req: Request<S> = codec::from_payload(&payload)?;
            let credit = t.credit(codec::HEADER_LEN + payload.len()).await;
            if t.events
                .send(LoopEvent::Request {
                    client: id,
                    req,
                    credit,
                })
                .is_err()
            {
                break;
            }
        }
        Ok(())
    }
    .await;
    let _ = t.events.send(LoopEvent::ClientGone { id });
    writer.abort();
    result
}

/// Writes frames as they come, coalescing whatever is queued into one write.
async fn write_frames<W: AsyncWrite + Unpin>(
    mut wr: W,
    mut rx: crate::runtime::bounded::ByteReceiver<Vec<u8>>,
    metrics: Arc<Metrics>,
) {
    let mut buf = Vec::new();
    while let Some(frame) = rx.recv().await {
        buf.clear();
        buf.extend_from_slice(&frame);
        while let Some(more) = rx.try_recv() {
            buf.extend_from_slice(&more);
            if buf.len() > 1 << 20 {
                break;
            }
        }
        if wr.write_all(&buf).await.is_err() || wr.flush().await.is_err() {
            return;
        }
        Metrics::add(&metrics.bytes_out, buf.len() as u64);
    }
}

/// The event loop's handle on one peer's writer.
pub struct PeerLink {
    queue: ByteQueue<Outgoing>,
    connected: Arc<AtomicBool>,
    reset: Arc<tokio::sync::Notify>,
}

/// What became of a message handed to a [`PeerLink`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queued {
    /// Queued for the peer.
    Queued,
    /// The peer is unreachable and its queue is full: lost, as a message
    /// to a crashed node is.
    LostUnreachable,
    /// The peer is connected but has not read its queue's worth: the
    /// connection is reset, losing this message and what was queued.
    Reset,
}

impl PeerLink {
    /// Queues a frame, never waiting.
    pub fn send(&self, o: Outgoing) -> Queued {
        match self.queue.try_send(o) {
            Ok(()) => Queued::Queued,
            Err(SendError::Full(_)) if self.connected.load(Ordering::Acquire) => {
                self.reset.notify_one();
                Queued::Reset
            }
            Err(_) => Queued::LostUnreachable,
        }
    }
}

/// Starts the writer task of peer `idx`; returns where to queue its frames.
pub fn spawn_peer_writer<S: System>(
    idx: usize,
    addr: SocketAddr,
    t: Arc<Transport<S>>,
) -> PeerLink {
    let (tx, rx) = crate::runtime::bounded::byte_queue(t.limits.peer_bytes);
    let link = PeerLink {
        queue: tx.clone(),
        connected: Arc::new(AtomicBool::new(false)),
        reset: Arc::new(tokio::sync::Notify::new()),
    };
    tokio::spawn(peer_writer(
        idx,
        addr,
        rx,
        tx,
        link.connected.clone(),
        link.reset.clone(),
        t,
    ));
    link
}

#[allow(clippy::too_many_arguments)]
async fn peer_writer<S: System>(
    idx: usize,
    addr: SocketAddr,
    mut rx: ByteReceiver<Outgoing>,
    requeue: ByteQueue<Outgoing>,
    connected: Arc<AtomicBool>,
    reset: Arc<tokio::sync::Notify>,
    t: Arc<Transport<S>>,
) {
    let name = &t.names[idx];
    let hello = codec::encode_marked(
        FrameKind::Hello,
        t.cluster,
        t.me as u32,
        if t.live.is_some() { UPGRADED } else { 0 },
        &codec::to_payload(&Hello::Peer {
            name: t.names[t.me].clone(),
            config: t.config,
        }),
    );
    let mut backoff = BACKOFF_MIN;
    let mut was_connected = false;
    let mut seed = (t.me as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ idx as u64 | 1;
    loop {
        // Frames wait in the (bounded) queue while there is no connection.
        let stream = match TcpStream::connect(addr).await {
            Ok(s) => secure(s, idx, &t).await,
            Err(e) => Err(e.to_string()),
        };
        let mut stream = match stream {
            Ok(s) => s,
            Err(e) => {
                if was_connected {
                    tracing::info!(peer = %name, %addr, "peer unreachable: {e}; retrying");
                    was_connected = false;
                }
                // Exponential backoff with jitter, so restarts do not stampede.
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let jitter = Duration::from_micros(seed % (backoff.as_micros() as u64 / 2 + 1));
                tokio::time::sleep(backoff + jitter).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
                continue;
            }
        };
        if stream.write_all(&hello).await.is_err() || stream.flush().await.is_err() {
            continue;
        }
        tracing::info!(peer = %name, %addr, "connected to peer");
        was_connected = true;
        backoff = BACKOFF_MIN;
        connected.store(true, Ordering::Release);
        let (mut rd, mut wr) = tokio::io::split(stream);
        // Whether the peer answered that it reads the upgraded encoding.
        let upgraded = AtomicBool::new(false);
        let watch = watch_peer(&mut rd, idx, &t, &upgraded);
        tokio::pin!(watch);
        let mut buf = Vec::new();
        let why = 'connected: loop {
            buf.clear();
            let first = tokio::select! {
                o = rx.recv() => o,
                _ = &mut watch => break 'connected "closed by the peer",
                _ = reset.notified() => break 'connected "reset",
                _ = tokio::time::sleep(PEER_IDLE) => break 'connected "idle",
            };
            let Some(o) = first else { return };
            let speaks = upgraded.load(Ordering::Acquire);
            match o.delay {
                Some(d) => {
                    delay(o, d, &requeue);
                    continue;
                }
                None => add_frame(&mut buf, &o, speaks, name, &t),
            }
            // Coalesce what is waiting.
            while buf.len() < 1 << 20 {
                let Some(o) = rx.try_recv() else { break };
                match o.delay {
                    Some(d) => delay(o, d, &requeue),
                    None => add_frame(&mut buf, &o, speaks, name, &t),
                }
            }
            if buf.is_empty() {
                continue;
            }
            let written = async {
                wr.write_all(&buf).await?;
                wr.flush().await
            };
            tokio::select! {
                r = written => if r.is_err() {
                    // Unknown how much arrived: what was in this write is
                    // lost, as messages to a crashed peer may be.
                    break 'connected "write failed";
                },
                _ = reset.notified() => break 'connected "reset",
            }
            Metrics::add(&t.metrics.bytes_out, buf.len() as u64);
        };
        connected.store(false, Ordering::Release);
        if why == "reset" {
            let (items, bytes) = rx.discard();
            Metrics::bump(&t.metrics.peer_resets);
            Metrics::add(&t.metrics.peer_lost, items);
            warn_limited!(
                t.failed,
                peer = %name,
                lost = items,
                bytes,
                limit = t.limits.peer_bytes,
                "peer is not reading: connection reset and its queue discarded (messages lost)"
            );
        } else {
            tracing::info!(peer = %name, "connection to peer ended ({why}); reconnecting");
        }
    }
}

/// Puts a delayed frame back into the queue once its delay is over.
fn delay(o: Outgoing, d: Duration, requeue: &ByteQueue<Outgoing>) {
    let requeue = requeue.clone();
    tokio::spawn(async move {
        tokio::time::sleep(d).await;
        let _ = requeue.force(Outgoing { delay: None, ..o });
    });
}

/// Appends the frame of `o` this peer reads (`speaks`: the upgraded
/// encoding); a message the old version cannot read is lost, and said so.
fn add_frame<S: System>(
    buf: &mut Vec<u8>,
    o: &Outgoing,
    speaks: bool,
    peer: &str,
    t: &Transport<S>,
) {
    match o.for_peer(speaks) {
        Some(frame) => buf.extend_from_slice(frame),
        None => {
            Metrics::bump(&t.metrics.adapter_refused);
            warn_limited!(
                t.failed,
                %peer,
                "a message of the upgraded version was dropped: the upgrade's down adapter \
                 refuses it, and the peer runs the old version"
            );
        }
    }
}

/// Resolves when the peer closes the connection. In a live upgrade it
/// first reads the peer's answer to the marked hello, if one comes: an
/// upgraded peer's hello back sets `upgraded`. Peers write nothing else
/// on this connection, so anything else, or readable bytes later, means
/// closed.
async fn watch_peer<R: AsyncRead + Unpin, S: System>(
    rd: &mut R,
    idx: usize,
    t: &Transport<S>,
    upgraded: &AtomicBool,
) {
    if t.live.is_some() {
        let answer = match t.read(rd).await {
            Ok(Some((header, payload))) => (header.kind == FrameKind::Hello
                && header.mark == UPGRADED
                && header.sender as usize == idx)
                .then(|| codec::from_payload::<Hello>(&payload).ok())
                .flatten(),
            _ => None,
        };
        match answer {
            Some(Hello::Peer { name, .. }) if name == t.names[idx] => {
                upgraded.store(true, Ordering::Release);
                tracing::info!(peer = %name, "peer reads the upgraded version's messages");
            }
            _ => return,
        }
    }
    let mut probe = [0u8; 64];
    let _ = rd.read(&mut probe).await;
}

/// Wraps a new connection to peer `idx` in TLS, checking that the peer's
/// certificate names it; plain TCP when the cluster is insecure.
async fn secure<S: System>(tcp: TcpStream, idx: usize, t: &Transport<S>) -> Result<Stream, String> {
    let _ = tcp.set_nodelay(true);
    let Some(tls) = &t.tls else {
        return Ok(Box::new(tcp));
    };
    match tokio::time::timeout(HELLO_TIMEOUT, tls.connector.connect(tls.name_of(idx), tcp)).await {
        Ok(Ok(s)) => Ok(Box::new(s)),
        Ok(Err(e)) => Err(format!("TLS handshake failed: {e}")),
        Err(_) => Err("no TLS handshake within 10 s".into()),
    }
}
