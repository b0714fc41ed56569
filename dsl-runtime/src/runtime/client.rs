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
//! let addr = "127.0.0.1:7001".parse().unwrap();
//! let mut c = Client::<S>::connect(addr, "my-cluster")?;
//! c.submit(input)?;                      // durable once this returns
//! let out = c.next_output(std::time::Duration::from_secs(5))?;
//! # Ok(()) }
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::io::{BufReader, BufWriter};
use std::net::{SocketAddr, TcpStream};
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

/// A connection to one node.
pub struct Client<S: System> {
    reader: BufReader<TcpStream>,
    writer: BufWriter<TcpStream>,
    cluster: u64,
    node: String,
    outputs: VecDeque<ReceivedOutput<S::Output>>,
    /// How long a request waits for its reply.
    pub timeout: Duration,
}

impl<S: System> Client<S> {
    /// Connects to the node at `addr` of cluster `cluster_id`.
    pub fn connect(addr: SocketAddr, cluster_id: &str) -> Result<Self, ClientError> {
        Self::connect_with(addr, cluster_id, false, Duration::from_secs(10))
    }

    /// Connects; with `recent`, the node first sends the outputs it emitted
    /// lately (marked `earlier`). `timeout` bounds the connect and each
    /// request.
    pub fn connect_with(
        addr: SocketAddr,
        cluster_id: &str,
        recent: bool,
        timeout: Duration,
    ) -> Result<Self, ClientError> {
        let stream = TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_nodelay(true)?;
        let cluster = codec::cluster_id(cluster_id);
        let mut client = Client {
            reader: BufReader::new(stream.try_clone()?),
            writer: BufWriter::new(stream),
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
        codec::write_frame(&mut client.writer, &hello)?;
        match client.read_reply(Some(timeout))? {
            Some(Reply::Welcome { node }) => client.node = node,
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
        codec::write_frame(&mut self.writer, &frame)?;
        Ok(())
    }

    /// Reads one reply, or `None` after `timeout` (`None` waits forever).
    fn read_reply(&mut self, timeout: Option<Duration>) -> Result<Option<Reply<S>>, ClientError> {
        let timeout = timeout.map(|t| t.max(Duration::from_millis(1)));
        self.reader.get_ref().set_read_timeout(timeout)?;
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
    pub fn submit(&mut self, input: S::Input) -> Result<u64, ClientError> {
        match self.call(Request::Input(input))? {
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
        inputs: impl IntoIterator<Item = S::Input>,
        window: usize,
    ) -> Result<u64, ClientError> {
        let window = window.max(1);
        let mut in_flight = 0usize;
        let mut accepted = 0u64;
        let mut inputs = inputs.into_iter().peekable();
        while inputs.peek().is_some() || in_flight > 0 {
            while in_flight < window {
                let Some(input) = inputs.next() else { break };
                let frame = codec::encode_value(
                    FrameKind::Request,
                    self.cluster,
                    CLIENT_SENDER,
                    &Request::<S>::Input(input),
                );
                std::io::Write::write_all(&mut self.writer, &frame)?;
                in_flight += 1;
            }
            std::io::Write::flush(&mut self.writer)?;
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
