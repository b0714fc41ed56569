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
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use crate::runtime::codec::{self, FrameError, FrameKind, Hello, CLIENT_SENDER};
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
/// Frames kept for a peer while it is unreachable; older ones are lost
/// first (the model allows losing messages to a crashed or cut-off node).
const BACKLOG_MAX: usize = 100_000;
/// Bytes of replies and outputs queued for one client before it counts as
/// not reading and is disconnected.
const CLIENT_BUFFER: usize = 8 << 20;

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
    ) -> Arc<Self> {
        Arc::new(Transport {
            cluster,
            me,
            names,
            events,
            metrics,
            max_payload,
            config,
            tls,
            next_client: AtomicU64::new(1),
        })
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
        let mut payload = vec![0u8; header.len as usize];
        r.read_exact(&mut payload).await.map_err(truncated)?;
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
                let t = t.clone();
                tokio::spawn(async move {
                    if let Err(e) = serve_connection(stream, t.clone()).await {
                        Metrics::bump(&t.metrics.rejected);
                        tracing::warn!(%addr, "closing connection: {e}");
                    }
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
        let msg: S::Msg = codec::from_payload(&payload)?;
        Metrics::bump(&t.metrics.messages_in);
        if t.events.send(LoopEvent::Message { from, msg }).is_err() {
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
    let (tx, rx) = crate::runtime::bounded::byte_queue::<Vec<u8>>(CLIENT_BUFFER);
    let writer = tokio::spawn(write_frames(wr, rx, t.metrics.clone()));
    let _ = t.events.send(LoopEvent::ClientConnected { id, tx, recent });
    let result = async {
        while let Some((header, payload)) = t.read(&mut rd).await? {
            if header.kind != FrameKind::Request || header.sender != CLIENT_SENDER {
                return Err(ConnError::Protocol(format!(
                    "a client sent a {:?} frame claiming sender {}",
                    header.kind, header.sender
                )));
            }
            let req: Request<S> = codec::from_payload(&payload)?;
            if t.events
                .send(LoopEvent::Request { client: id, req })
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

/// Starts the writer task of peer `idx`; returns where to queue its frames.
pub fn spawn_peer_writer<S: System>(
    idx: usize,
    addr: SocketAddr,
    t: Arc<Transport<S>>,
) -> UnboundedSender<Outgoing> {
    let (tx, rx) = unbounded_channel();
    tokio::spawn(peer_writer(idx, addr, rx, tx.clone(), t));
    tx
}

async fn peer_writer<S: System>(
    idx: usize,
    addr: SocketAddr,
    mut rx: UnboundedReceiver<Outgoing>,
    requeue: UnboundedSender<Outgoing>,
    t: Arc<Transport<S>>,
) {
    let name = &t.names[idx];
    let hello = codec::encode_value(
        FrameKind::Hello,
        t.cluster,
        t.me as u32,
        &Hello::Peer {
            name: t.names[t.me].clone(),
            config: t.config,
        },
    );
    let mut backlog: std::collections::VecDeque<Arc<Vec<u8>>> = Default::default();
    let mut backoff = BACKOFF_MIN;
    let mut was_connected = false;
    let mut seed = (t.me as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ idx as u64 | 1;
    loop {
        let stream = tokio::select! {
            s = TcpStream::connect(addr) => s,
            // Keep accepting frames while connecting, so the queue stays bounded.
            Some(o) = rx.recv() => {
                queue(&mut backlog, o, &requeue, name);
                continue;
            }
        };
        let stream = match stream {
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
                let wait = tokio::time::sleep(backoff + jitter);
                tokio::pin!(wait);
                loop {
                    tokio::select! {
                        _ = &mut wait => break,
                        Some(o) = rx.recv() => queue(&mut backlog, o, &requeue, name),
                    }
                }
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
        let (mut rd, mut wr) = tokio::io::split(stream);
        let mut probe = [0u8; 64];
        let mut buf = Vec::new();
        'connected: loop {
            // Send what is waiting, coalesced.
            while !backlog.is_empty() {
                buf.clear();
                while let Some(f) = backlog.front() {
                    if !buf.is_empty() && buf.len() + f.len() > 1 << 20 {
                        break;
                    }
                    buf.extend_from_slice(f);
                    backlog.pop_front();
                }
                if wr.write_all(&buf).await.is_err() || wr.flush().await.is_err() {
                    // Unknown how much arrived: what was in this write is lost,
                    // as messages to a crashed peer may be.
                    break 'connected;
                }
                Metrics::add(&t.metrics.bytes_out, buf.len() as u64);
            }
            tokio::select! {
                item = rx.recv() => match item {
                    Some(o) => {
                        queue(&mut backlog, o, &requeue, name);
                        while let Ok(o) = rx.try_recv() {
                            queue(&mut backlog, o, &requeue, name);
                        }
                    }
                    None => return,
                },
                // Peers never write on this connection: readable means closed.
                _ = rd.read(&mut probe) => break 'connected,
            }
        }
        tracing::info!(peer = %name, "connection to peer lost; reconnecting");
    }
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

/// Queues a frame for a peer, or schedules it later when delayed.
fn queue(
    backlog: &mut std::collections::VecDeque<Arc<Vec<u8>>>,
    o: Outgoing,
    requeue: &UnboundedSender<Outgoing>,
    name: &str,
) {
    if let Some(d) = o.delay {
        let requeue = requeue.clone();
        tokio::spawn(async move {
            tokio::time::sleep(d).await;
            let _ = requeue.send(Outgoing {
                frame: o.frame,
                delay: None,
            });
        });
        return;
    }
    if backlog.len() >= BACKLOG_MAX {
        backlog.pop_front();
        tracing::warn!(peer = %name, "peer backlog full: oldest message lost");
    }
    backlog.push_back(o.frame);
}
