//! The client library: connect to a node, submit inputs, read outputs.
//!
//! Blocking and small on purpose: tests, scripts and the generated `client`
//! subcommand use it. A client talks to one node; outputs of that node
//! arrive whenever the node emits them, interleaved with replies, so the
//! client keeps them in a queue until asked.
//!
//! ```no_run
//! # use verdict::runtime::Client;
//! # fn demo<S: verdict::System>(input: S::Input) -> Result<(), verdict::runtime::ClientError> {
//! let file = verdict::runtime::ClusterFile::load("cluster.toml".as_ref()).unwrap();
//! let access = file.access().unwrap(); // the client certificate, unless insecure
//! let addr = "127.0.0.1:7001".parse().unwrap();
//! let mut c = Client::<S>::connect(addr, "Client(0)", &access)?;
//! c.submit(input)?;                      // durable once this returns
//! let out = c.next_output(std::time::Duration::from_secs(5))?;
//! # Ok(()) }
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::io::{BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::runtime::codec::{self, FrameError, FrameKind, Hello, CLIENT_SENDER};
use crate::runtime::protocol::{Reply, Request};
use crate::system::System;

/// Why a client call failed.
#[derive(Debug)]
pub enum ClientError {
    /// Could not connect, or the connection failed.
    Io(std::io::Error),
    /// The node sent something unreadable.
    Frame(FrameError),
    /// The node refused the request.
    Refused(String),
    /// No answer in time.
    Timeout,
    /// The node answered something unexpected.
    Protocol(String),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Io(e) => write!(f, "{e}"),
            ClientError::Frame(e) => write!(f, "bad frame from the node: {e}"),
            ClientError::Refused(e) => write!(f, "refused: {e}"),
            ClientError::Timeout => write!(f, "no answer in time"),
            ClientError::Protocol(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ClientError {}

impl From<std::io::Error> for ClientError {
    fn from(e: std::io::Error) -> Self {
        ClientError::Io(e)
    }
}

impl From<FrameError> for ClientError {
    fn from(e: FrameError) -> Self {
        match e {
            FrameError::Io(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                ClientError::Timeout
            }
            FrameError::Io(e) => ClientError::Io(e),
            other => ClientError::Frame(other),
        }
    }
}

/// An output as a client sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedOutput<O> {
    /// The node's output number since it started.
    pub n: u64,
    /// Emitted before this client connected.
    pub earlier: bool,
    /// The output.
    pub output: O,
}

/// What a client needs to reach the nodes of one cluster: the cluster's
/// id and, unless the cluster runs with `insecure = true`, the client
/// certificate and the cluster's authority (see
/// [`crate::runtime::ClusterFile::access`]).
#[derive(Clone)]
pub struct Access {
    cluster_id: String,
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl fmt::Debug for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Access")
            .field("cluster_id", &self.cluster_id)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl Access {
    /// Plaintext, unauthenticated: for clusters with `insecure = true`.
    pub fn insecure(cluster_id: &str) -> Self {
        Access {
            cluster_id: cluster_id.to_string(),
            tls: None,
        }
    }

    /// Mutual TLS with `config` (a client certificate and the authority).
    pub fn tls(cluster_id: &str, config: Arc<rustls::ClientConfig>) -> Self {
        Access {
            cluster_id: cluster_id.to_string(),
            tls: Some(config),
        }
    }

    /// The cluster's id.
    pub fn cluster_id(&self) -> &str {
        &self.cluster_id
    }
}

/// The byte stream under a client: plain TCP or TLS over it.
enum Conn {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Conn {
    fn tcp(&self) -> &TcpStream {
        match self {
            Conn::Plain(s) => s,
            Conn::Tls(s) => &s.sock,
        }
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            Conn::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            Conn::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(s) => s.flush(),
        }
    }
}

/// A connection to one node.
pub struct Client<S: System> {
    /// Reads are buffered; writes go to the stream underneath, whole frames
    /// (or batches of them) at a time.
    reader: BufReader<Conn>,
    cluster: u64,
    node: String,
    outputs: VecDeque<ReceivedOutput<S::Output>>,
    /// How long a request waits for its reply.
    pub timeout: Duration,
}

impl<S: System> Client<S> {
    /// Connects to node `node` (its name, e.g. `Client(0)`) at `addr`.
    pub fn connect(addr: SocketAddr, node: &str, access: &Access) -> Result<Self, ClientError> {
        Self::connect_with(addr, node, access, false, Duration::from_secs(10))
    }

    /// Connects; with `recent`, the node first sends the outputs it emitted
    /// lately (marked `earlier`). `timeout` bounds the connect and each
    /// request. With TLS, the node must prove it is `node`; in any case the
    /// node must say it is `node`.
    pub fn connect_with(
        addr: SocketAddr,
        node: &str,
        access: &Access,
        recent: bool,
        timeout: Duration,
    ) -> Result<Self, ClientError> {
        let stream = TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_nodelay(true)?;
        let conn = match &access.tls {
            None => Conn::Plain(stream),
            Some(config) => {
                let name = rustls::pki_types::ServerName::try_from(
                    crate::runtime::tls::node_dns_name(node),
                )
                .map_err(|e| ClientError::Protocol(format!("node `{node}`: {e}")))?;
                let tls = rustls::ClientConnection::new(config.clone(), name)
                    .map_err(|e| ClientError::Protocol(format!("TLS: {e}")))?;
                stream.set_read_timeout(Some(timeout))?;
                stream.set_write_timeout(Some(timeout))?;
                let mut s = rustls::StreamOwned::new(tls, stream);
                // Finish the handshake now, so a refused certificate is
                // reported as such and not as a failed first request.
                while s.conn.is_handshaking() {
                    s.conn.complete_io(&mut s.sock).map_err(|e| {
                        ClientError::Protocol(format!("TLS handshake with {node} failed: {e}"))
                    })?;
                }
                Conn::Tls(Box::new(s))
            }
        };
        let cluster = codec::cluster_id(&access.cluster_id);
        let mut client = Client {
            reader: BufReader::new(conn),
            cluster,
            node: String::new(),
            outputs: VecDeque::new(),
            timeout,
        };
        let hello = codec::encode_value(
            FrameKind::Hello,
            cluster,
            CLIENT_SENDER,
            &Hello::Client { recent },
        );
        codec::write_frame(client.reader.get_mut(), &hello)?;
        match client.read_reply(Some(timeout))? {
            Some(Reply::Welcome { node: said }) if said == node => client.node = said,
            Some(Reply::Welcome { node: said }) => {
                return Err(ClientError::Protocol(format!(
                    "the node at {addr} is {said}, not {node}"
                )))
            }
            Some(_) => return Err(ClientError::Protocol("the node did not say welcome".into())),
            None => return Err(ClientError::Timeout),
        }
        Ok(client)
    }

    /// The name of the node this client talks to.
    pub fn node(&self) -> &str {
        &self.node
    }

    fn send(&mut self, req: &Request<S>) -> Result<(), ClientError> {
        let frame = codec::encode_value(FrameKind::Request, self.cluster, CLIENT_SENDER, req);
        codec::write_frame(self.reader.get_mut(), &frame)?;
        Ok(())
    }

    /// Reads one reply, or `None` after `timeout` (`None` waits forever).
    fn read_reply(&mut self, timeout: Option<Duration>) -> Result<Option<Reply<S>>, ClientError> {
        let timeout = timeout.map(|t| t.max(Duration::from_millis(1)));
        self.reader.get_ref().tcp().set_read_timeout(timeout)?;
        match codec::read_frame(&mut self.reader, self.cluster, codec::DEFAULT_MAX_PAYLOAD) {
            Ok((h, payload)) => {
                if h.kind != FrameKind::Reply {
                    return Err(ClientError::Protocol(format!(
                        "unexpected {:?} frame",
                        h.kind
                    )));
                }
                Ok(Some(codec::from_payload(&payload)?))
            }
            Err(e) => match ClientError::from(e) {
                ClientError::Timeout => Ok(None),
                other => Err(other),
            },
        }
    }

    /// Sends a request and waits for its reply, queueing outputs that
    /// arrive meanwhile.
    fn call(&mut self, req: Request<S>) -> Result<Reply<S>, ClientError> {
        self.send(&req)?;
        let deadline = Instant::now() + self.timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ClientError::Timeout);
            }
            match self.read_reply(Some(left))? {
                None => return Err(ClientError::Timeout),
                Some(Reply::Output { n, earlier, output }) => self
                    .outputs
                    .push_back(ReceivedOutput { n, earlier, output }),
                Some(Reply::Refused(why)) => return Err(ClientError::Refused(why)),
                Some(other) => return Ok(other),
            }
        }
    }

    /// Submits an input. Returns its log sequence number once the node has
    /// made it durable and released its effects; outputs it caused may
    /// already be queued (see [`Client::next_output`]).
    pub fn submit(&mut self, input: impl Into<S::Input>) -> Result<u64, ClientError> {
        match self.call(Request::Input(input.into()))? {
            Reply::Accepted { seq } => Ok(seq),
            _ => Err(ClientError::Protocol("expected Accepted".into())),
        }
    }

    /// Submits many inputs with up to `window` of them in flight at once,
    /// so the node can commit them in shared batches (group commit).
    /// Returns how many were accepted once every one was answered; stops at
    /// the first refusal or failure.
    pub fn submit_all(
        &mut self,
        inputs: impl IntoIterator<Item = impl Into<S::Input>>,
        window: usize,
    ) -> Result<u64, ClientError> {
        let window = window.max(1);
        let mut in_flight = 0usize;
        let mut accepted = 0u64;
        let mut inputs = inputs.into_iter().peekable();
        let mut batch = Vec::new();
        while inputs.peek().is_some() || in_flight > 0 {
            batch.clear();
            while in_flight < window {
                let Some(input) = inputs.next() else { break };
                batch.extend(codec::encode_value(
                    FrameKind::Request,
                    self.cluster,
                    CLIENT_SENDER,
                    &Request::<S>::Input(input.into()),
                ));
                in_flight += 1;
            }
            if !batch.is_empty() {
                codec::write_frame(self.reader.get_mut(), &batch)?;
            }
            match self.read_reply(Some(self.timeout))? {
                None => return Err(ClientError::Timeout),
                Some(Reply::Output { n, earlier, output }) => self
                    .outputs
                    .push_back(ReceivedOutput { n, earlier, output }),
                Some(Reply::Accepted { .. }) => {
                    in_flight -= 1;
                    accepted += 1;
                }
                Some(Reply::Refused(why)) => return Err(ClientError::Refused(why)),
                Some(_) => return Err(ClientError::Protocol("expected Accepted".into())),
            }
        }
        Ok(accepted)
    }

    /// The next output, waiting at most `timeout`.
    pub fn next_output(
        &mut self,
        timeout: Duration,
    ) -> Result<Option<ReceivedOutput<S::Output>>, ClientError> {
        if let Some(o) = self.outputs.pop_front() {
            return Ok(Some(o));
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            match self.read_reply(Some(left))? {
                None => return Ok(None),
                Some(Reply::Output { n, earlier, output }) => {
                    return Ok(Some(ReceivedOutput { n, earlier, output }))
                }
                Some(_) => {} // a late reply to nothing pending: ignore
            }
        }
    }

    /// The node's counters, as `name value` lines.
    pub fn stats(&mut self) -> Result<String, ClientError> {
        match self.call(Request::Stats)? {
            Reply::Stats(s) => Ok(s),
            _ => Err(ClientError::Protocol("expected Stats".into())),
        }
    }

    /// The node's state, field by field.
    pub fn state(&mut self) -> Result<Vec<(String, String)>, ClientError> {
        match self.call(Request::State)? {
            Reply::State(s) => Ok(s),
            _ => Err(ClientError::Protocol("expected State".into())),
        }
    }

    /// Cuts the named nodes off from the rest (this node's view; send it to
    /// every node for a clean partition).
    pub fn partition(&mut self, side: Vec<String>) -> Result<String, ClientError> {
        match self.call(Request::Partition(side))? {
            Reply::Done(s) => Ok(s),
            _ => Err(ClientError::Protocol("expected Done".into())),
        }
    }

    /// Heals a partition, releasing held messages.
    pub fn heal(&mut self) -> Result<String, ClientError> {
        match self.call(Request::Heal)? {
            Reply::Done(s) => Ok(s),
            _ => Err(ClientError::Protocol("expected Done".into())),
        }
    }
}
