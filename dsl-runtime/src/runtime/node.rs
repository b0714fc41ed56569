//! One node = one process: a single-threaded event loop that owns the
//! node's state and runs the generated handlers, exactly as the checker's
//! step function runs them.
//!
//! Connection tasks (see [`crate::runtime::transport`]) turn frames into
//! [`LoopEvent`]s; the loop takes every event that is waiting, runs a
//! handler for each, appends each trigger to the write-ahead log, forces the
//! log to disk once for the whole batch (group commit), and only then
//! releases the batch's effects: messages to peers (through fault
//! injection), outputs and replies to clients. While the loop waits on the
//! disk, new events queue up and form the next batch.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::runtime::transport::{PeerLink, Queued};

use crate::runtime::bounded::{warn_limited, ByteQueue, Credit, RateLimited, SendError};

use crate::choice::{self, Source};
use crate::ctx::{Effects, TimerOp};
use crate::rng::SplitMix64;
use crate::runtime::codec::{self, FrameKind};
use crate::runtime::disk::Disk;
use crate::runtime::faults::{HeldBack, Injector, InjectorSettings, Route};
use crate::runtime::live_upgrade::LiveUpgrade;
use crate::runtime::metrics::Metrics;
use crate::runtime::monitor::{Monitor, MonitorMode};
use crate::runtime::protocol::{Reply, Request};
use crate::runtime::recovery::Recovered;
use crate::runtime::snapshot;
use crate::runtime::timers::TimerTable;
use crate::runtime::wal::{Record, SyncMode, Wal};
use crate::setup::Setup;
use crate::system::{System, Trigger};

/// How many recent outputs a node keeps for clients that connect later.
const RECENT_OUTPUTS: usize = 64;

/// Settings of one node's event loop.
#[derive(Debug, Clone)]
pub struct LoopSettings {
    /// When the log is forced to disk.
    pub sync: SyncMode,
    /// Write a snapshot (and empty the log) after this many records.
    pub snapshot_every: u64,
    /// The most events one commit covers.
    pub batch_max: usize,
    /// Runtime monitors.
    pub monitor: MonitorMode,
    /// Fault injection.
    pub injector: InjectorSettings,
}

impl Default for LoopSettings {
    fn default() -> Self {
        LoopSettings {
            sync: SyncMode::Group,
            snapshot_every: 10_000,
            batch_max: 4096,
            monitor: MonitorMode::Off,
            injector: InjectorSettings::default(),
        }
    }
}

/// A frame for a peer, possibly held back (fault-injected delay).
#[derive(Debug)]
pub struct Outgoing {
    /// The whole frame; in a live upgrade, the frame for a peer of the old
    /// version, `None` when the plan's `down` adapter refused the message.
    pub frame: Option<Arc<Vec<u8>>>,
    /// In a live upgrade, the frame for an upgraded peer, when it differs
    /// from `frame` (a message of the new version, in its encoding).
    pub upgraded: Option<Arc<Vec<u8>>>,
    /// Wait this long before sending.
    pub delay: Option<Duration>,
}

impl Outgoing {
    /// The frame to write to a peer that reads the upgraded version's
    /// encoding (`upgraded`) or not; `None`: nothing for that peer.
    pub fn for_peer(&self, upgraded: bool) -> Option<&[u8]> {
        let own = if upgraded {
            self.upgraded.as_ref()
        } else {
            None
        };
        own.or(self.frame.as_ref()).map(|f| f.as_slice())
    }
}

impl crate::runtime::bounded::HasBytes for Outgoing {
    fn bytes(&self) -> usize {
        self.frame.as_ref().map_or(0, |f| f.len()) + self.upgraded.as_ref().map_or(0, |f| f.len())
    }
}

/// What connection tasks tell the event loop.
pub enum LoopEvent<S: System> {
    /// A message from the peer with this node index.
    Message {
        /// Sender's node index.
        from: usize,
        /// The message.
        msg: S::Msg,
        /// Its frame's share of the inbound budget.
        credit: Credit,
    },
    /// A client connected; replies go to `tx`.
    ClientConnected {
        /// The connection's id.
        id: u64,
        /// Where its reply frames go, bounded: a client that does not read
        /// its replies and outputs fast enough is disconnected.
        tx: ByteQueue<Vec<u8>>,
        /// Whether it asked for the recent outputs.
        recent: bool,
    },
    /// A client's request.
    Request {
        /// The connection's id.
        client: u64,
        /// The request.
        req: Request<S>,
        /// Its frame's share of the inbound budget.
        credit: Credit,
    },
    /// A client went away.
    ClientGone {
        /// The connection's id.
        id: u64,
    },
    /// Stop: commit, log the counters and return.
    Shutdown,
}

/// An effect waiting for its batch to become durable.
enum Release<S: System> {
    Send(usize, S::Msg),
    Output(S::Output),
    Reply(u64, Reply<S>),
}

/// Why the loop stopped with an error.
#[derive(Debug)]
pub enum LoopError {
    /// The disk failed; nothing of the failed batch left the node.
    Storage(String),
    /// A runtime monitor found a violated invariant and was fatal.
    Violation(String),
}

impl fmt::Display for LoopError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoopError::Storage(e) => write!(f, "storage failed: {e}"),
            LoopError::Violation(e) => write!(f, "stopped by the monitor: {e}"),
        }
    }
}

/// The state-owning event loop of one node.
pub struct NodeLoop<S: System> {
    me: usize,
    node: S::Node,
    setup: Setup<S>,
    state: S::State,
    wal: Wal,
    disk: Arc<dyn Disk>,
    incarnation: u64,
    dir: PathBuf,
    settings: LoopSettings,
    cluster: u64,
    timers: TimerTable<S::Timer>,
    injector: Injector,
    held: HeldBack<S::Msg>,
    held_overflow: RateLimited,
    monitor: Monitor<S>,
    metrics: Arc<Metrics>,
    events: Receiver<LoopEvent<S>>,
    to_self: Sender<LoopEvent<S>>,
    peers: Vec<Option<PeerLink>>,
    peer_overflow: RateLimited,
    clients: HashMap<u64, ByteQueue<Vec<u8>>>,
    slow_client: RateLimited,
    recent: VecDeque<(u64, S::Output)>,
    outputs: u64,
    pending: Vec<Release<S>>,
    effects: Effects<S>,
    since_snapshot: u64,
    /// The random source that answers handlers' choices; each answer is
    /// logged with its event, so recovery does not need the seed.
    random: SplitMix64,
    /// Encodes messages for old and upgraded peers in a live upgrade.
    live: Option<Arc<dyn LiveUpgrade<S>>>,
}

/// Everything a [`NodeLoop`] is built from.
pub struct LoopParts<S: System> {
    /// This node's index.
    pub me: usize,
    /// The run's nodes and configuration.
    pub setup: Setup<S>,
    /// The recovered state.
    pub recovered: Recovered<S>,
    /// The node's data directory.
    pub dir: PathBuf,
    /// Where the log and snapshots are written.
    pub disk: Arc<dyn Disk>,
    /// The cluster id carried in frames.
    pub cluster: u64,
    /// Settings.
    pub settings: LoopSettings,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Events in.
    pub events: Receiver<LoopEvent<S>>,
    /// A sender into the same queue, for messages a node sends itself.
    pub to_self: Sender<LoopEvent<S>>,
    /// Frames out, per peer index (`None` for this node).
    pub peers: Vec<Option<PeerLink>>,
}

impl<S: System> NodeLoop<S> {
    /// Opens the log and builds the loop; [`NodeLoop::run`] starts it.
    pub fn new(parts: LoopParts<S>) -> Result<Self, String> {
        let node = parts.setup.nodes()[parts.me];
        let incarnation = parts.recovered.identity.incarnation();
        let wal = Wal::open(
            &*parts.disk,
            &parts.dir,
            incarnation,
            parts.recovered.next_seq,
            parts.settings.sync,
        )
        .map_err(|e| format!("cannot open the log in {}: {e}", parts.dir.display()))?;
        // Differs per node, per start and per run; nothing depends on it
        // being unpredictable.
        let clock = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let random = SplitMix64::new(
            clock ^ incarnation.rotate_left(32) ^ parts.me as u64 ^ parts.recovered.next_seq,
        );
        Ok(NodeLoop {
            random,
            disk: parts.disk,
            incarnation,
            me: parts.me,
            node,
            state: parts.recovered.state,
            setup: parts.setup,
            wal,
            dir: parts.dir,
            cluster: parts.cluster,
            timers: TimerTable::default(),
            injector: Injector::new(parts.settings.injector),
            held: HeldBack::new(HeldBack::<S::Msg>::NODE_LIMIT),
            held_overflow: RateLimited::default(),
            monitor: Monitor::new(parts.settings.monitor, node),
            settings: parts.settings,
            metrics: parts.metrics,
            events: parts.events,
            to_self: parts.to_self,
            peers: parts.peers,
            peer_overflow: RateLimited::default(),
            clients: HashMap::new(),
            slow_client: RateLimited::default(),
            recent: VecDeque::new(),
            outputs: 0,
            pending: Vec::new(),
            effects: Effects::default(),
            since_snapshot: 0,
            live: None,
        })
    }

    /// The loop of the upgraded side of a live upgrade: messages leave in
    /// the encoding each peer reads ([`crate::runtime::live_upgrade`]).
    pub fn with_live(mut self, live: Option<Arc<dyn LiveUpgrade<S>>>) -> Self {
        self.live = live;
        self
    }

    /// Runs until shutdown or a fatal error. `fresh` says whether the node
    /// starts for the first time (run `on start`) or restarts after a
    /// crash (reset volatile fields, run `on restart`).
    pub fn run(mut self, fresh: bool) -> Result<(), LoopError> {
        if fresh {
            self.handle(Trigger::Start, None)?;
        } else {
            S::crash(self.node, &mut self.state, self.setup.config());
            self.handle(Trigger::Restart, None)?;
        }
        self.flush()?;
        loop {
            let first = match self.timers.next_deadline() {
                Some(deadline) => {
                    let wait = deadline.saturating_duration_since(Instant::now());
                    match self.events.recv_timeout(wait) {
                        Ok(ev) => Some(ev),
                        Err(RecvTimeoutError::Timeout) => None,
                        Err(RecvTimeoutError::Disconnected) => break,
                    }
                }
                None => match self.events.recv() {
                    Ok(ev) => Some(ev),
                    Err(_) => break,
                },
            };
            let mut stop = false;
            if let Some(ev) = first {
                stop = self.on_event(ev)?;
            }
            while let Some(t) = self.timers.pop_due(Instant::now()) {
                self.handle(Trigger::Timer(t), None)?;
            }
            let mut taken = 1;
            while !stop && taken < self.settings.batch_max {
                match self.events.try_recv() {
                    Ok(ev) => {
                        stop = self.on_event(ev)?;
                        taken += 1;
                    }
                    Err(TryRecvError::Empty) | Err(TryRecvError::Disconnected) => break,
                }
            }
            self.flush()?;
            self.maybe_snapshot()?;
            if stop {
                break;
            }
        }
        tracing::info!(node = %self.node, "stopping\n{}", self.metrics.render());
        Ok(())
    }

    /// Handles one event; returns whether the loop should stop.
    fn on_event(&mut self, ev: LoopEvent<S>) -> Result<bool, LoopError> {
        match ev {
            LoopEvent::Message { from, msg, .. } => {
                if self.injector.is_cut(from, self.me) {
                    self.hold(true, from, msg);
                    return Ok(false);
                }
                let from = self.setup.nodes()[from];
                let kind = S::meta().messages.get(S::message_kind(&msg)).copied();
                let ran = self.handle(Trigger::Message { from, msg }, None)?;
                if !ran && self.live.is_some() {
                    // The usual reason: the upgrade's `up` or `down` adapter
                    // refused the message, which is then lost.
                    Metrics::bump(&self.metrics.adapter_refused);
                    warn_limited!(
                        self.peer_overflow,
                        node = %self.node,
                        %from,
                        kind = kind.unwrap_or("?"),
                        "a message no handler took was dropped (the upgrade's adapter refuses it)"
                    );
                }
            }
            LoopEvent::ClientConnected { id, tx, recent } => {
                let welcome = Reply::<S>::Welcome {
                    node: self.node.to_string(),
                };
                let _ = tx.force(self.reply_frame(&welcome));
                self.clients.insert(id, tx);
                if recent {
                    let recent: Vec<Vec<u8>> = self
                        .recent
                        .iter()
                        .map(|(n, output)| {
                            self.reply_frame(&Reply::<S>::Output {
                                n: *n,
                                earlier: true,
                                output: output.clone(),
                            })
                        })
                        .collect();
                    for frame in recent {
                        self.send_client(id, frame);
                    }
                }
            }
            LoopEvent::ClientGone { id } => {
                self.clients.remove(&id);
            }
            LoopEvent::Request { client, req, .. } => self.on_request(client, req)?,
            LoopEvent::Shutdown => return Ok(true),
        }
        Ok(false)
    }

    fn on_request(&mut self, client: u64, req: Request<S>) -> Result<(), LoopError> {
        let reply = match req {
            Request::Input(input) => {
                Metrics::bump(&self.metrics.inputs);
                match self.handle(Trigger::Input(input), Some(client))? {
                    true => return Ok(()), // the handler's commit sends `Accepted`
                    false => Reply::Refused(format!("{} has no handler for this input", self.node)),
                }
            }
            Request::Stats => Reply::Stats(format!(
                "node {}\nlog_next_seq {}\ntimers_armed {}\nclients {}\n{}",
                self.node,
                self.wal.next_seq(),
                self.timers.len(),
                self.clients.len(),
                self.metrics.render()
            )),
            Request::State => Reply::State(
                S::fields(&self.state)
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect(),
            ),
            Request::Partition(names) => match self.side_of(&names) {
                Err(e) => Reply::Refused(e),
                Ok(side) => match self.injector.partition(side) {
                    Ok(()) => {
                        tracing::warn!(node = %self.node, side = ?names, "partition injected");
                        Reply::Done(format!(
                            "partitioned {{{}}} from the rest",
                            names.join(", ")
                        ))
                    }
                    Err(e) => Reply::Refused(e),
                },
            },
            Request::Heal => {
                let had = self.injector.heal();
                let released = self.held.take();
                let (held_out, held_in) = (released.outgoing, released.incoming);
                let n = held_out.len() + held_in.len();
                for (dst, msg) in held_out {
                    self.pending.push(Release::Send(dst, msg));
                }
                for (from, msg) in held_in {
                    let _ = self.to_self.send(LoopEvent::Message {
                        from,
                        msg,
                        credit: Credit::none(),
                    });
                }
                tracing::warn!(node = %self.node, released = n, "partition healed");
                Reply::Done(if had {
                    format!("healed; {n} held messages released")
                } else {
                    "the network was whole".into()
                })
            }
        };
        self.pending.push(Release::Reply(client, reply));
        Ok(())
    }

    /// The partition side bits of these node names.
    fn side_of(&self, names: &[String]) -> Result<u64, String> {
        let mut side = 0u64;
        for name in names {
            let node = crate::runtime::cluster_file::parse_node::<S>(name)?;
            let i = self
                .setup
                .index_of(node)
                .ok_or_else(|| format!("`{name}` is not a node of this cluster"))?;
            if i >= 64 {
                return Err("partitions are supported among the first 64 nodes".into());
            }
            side |= 1 << i;
        }
        Ok(side)
    }

    /// Runs the handler for `trigger`, logs it and queues its effects.
    /// Returns whether a handler ran. `client` gets `Accepted` once durable.
    fn handle(&mut self, trigger: Trigger<S>, client: Option<u64>) -> Result<bool, LoopError> {
        let record = Record::of(&trigger);
        self.effects.clear();
        let (handler, chosen) = choice::run(Source::Random(self.random.clone()), || {
            S::dispatch(
                self.setup.cluster(),
                self.node,
                &mut self.state,
                trigger,
                &mut self.effects,
            )
        });
        if let Some(r) = chosen.random {
            self.random = r;
        }
        if let Some(e) = &chosen.error {
            tracing::warn!(node = %self.node, "{e}");
        }
        let record = if chosen.answers.is_empty() {
            record
        } else {
            Record::Chose {
                choices: chosen.answers,
                record: Box::new(record),
            }
        };
        // Start and Restart are logged even without a handler: recovery
        // must know the node started, and must replay each crash's reset
        // of volatile fields at the point where it happened.
        let always = matches!(record, Record::Start | Record::Restart);
        if handler.is_none() && !always {
            return Ok(false);
        }
        let seq = self.wal.append(&record);
        self.since_snapshot += 1;
        Metrics::bump(&self.metrics.events);
        if self.monitor.is_on() {
            let event = RecordText::<S>(&record);
            let violations = self.monitor.check(&self.state, self.setup.config(), &event);
            if !violations.is_empty() {
                Metrics::add(&self.metrics.violations, violations.len() as u64);
                if self.monitor.is_fatal() {
                    let v = &violations[0];
                    return Err(LoopError::Violation(format!(
                        "{} violated {} after {event}: {}",
                        self.node, v.invariant, v.message
                    )));
                }
            }
        }
        let now = Instant::now();
        for op in self.effects.timers.drain(..) {
            match op {
                TimerOp::Set(t, after) => self.timers.set(t, now, after),
                TimerOp::Cancel(t) => self.timers.cancel(t),
            }
        }
        for (to, msg) in self.effects.sends.drain(..) {
            match self.setup.index_of(to) {
                Some(dst) => self.pending.push(Release::Send(dst, msg)),
                None => tracing::error!(
                    node = %self.node, to = %to,
                    "a handler sent a message to a node that is not in the cluster; dropped"
                ),
            }
        }
        for output in self.effects.outputs.drain(..) {
            self.pending.push(Release::Output(output));
        }
        if let Some(c) = client {
            self.pending
                .push(Release::Reply(c, Reply::Accepted { seq }));
        }
        if self.wal.mode() == SyncMode::PerEvent {
            self.flush()?;
        }
        Ok(handler.is_some())
    }

    /// Makes the logged events durable, then lets their effects leave.
    fn flush(&mut self) -> Result<(), LoopError> {
        let start = Instant::now();
        let n = self
            .wal
            .commit()
            .map_err(|e| LoopError::Storage(format!("log write failed: {e}")))?;
        if n > 0 {
            let synced = self.wal.mode() != SyncMode::Off;
            self.metrics
                .commit(n as u64, start.elapsed().as_nanos() as u64, synced);
        }
        for release in std::mem::take(&mut self.pending) {
            match release {
                Release::Send(dst, msg) => self.send(dst, msg),
                Release::Output(output) => self.emit(output),
                Release::Reply(client, reply) => {
                    let frame = self.reply_frame(&reply);
                    self.send_client(client, frame);
                }
            }
        }
        Ok(())
    }

    /// Keeps a message a partition cut until it heals; past the bound it
    /// is lost, counted and warned of.
    fn hold(&mut self, incoming: bool, peer: usize, msg: S::Msg) {
        if self.held.hold(incoming, peer, msg) {
            Metrics::bump(&self.metrics.held);
            return;
        }
        Metrics::bump(&self.metrics.held_lost);
        if let Some(suppressed) = self.held_overflow.admit() {
            tracing::warn!(
                node = %self.node,
                peer,
                suppressed,
                "a partition holds its limit of messages; this one is lost"
            );
        }
    }

    fn send(&mut self, dst: usize, msg: S::Msg) {
        match self.injector.route(self.me, dst) {
            Route::Hold => self.hold(false, dst, msg),
            Route::Drop => {
                Metrics::bump(&self.metrics.injected_drops);
                tracing::debug!(to = dst, "fault injection: message dropped");
            }
            Route::Send { copies, delay } => {
                if copies > 1 {
                    Metrics::bump(&self.metrics.injected_dups);
                }
                if delay.is_some() {
                    Metrics::bump(&self.metrics.injected_delays);
                }
                if dst == self.me {
                    for _ in 0..copies {
                        let _ = self.to_self.send(LoopEvent::Message {
                            from: self.me,
                            msg: msg.clone(),
                            credit: Credit::none(),
                        });
                    }
                    return;
                }
                let (cluster, me) = (self.cluster, self.me as u32);
                let frame = |mark: u8, payload: &[u8]| {
                    Arc::new(codec::encode_marked(
                        FrameKind::Message,
                        cluster,
                        me,
                        mark,
                        payload,
                    ))
                };
                let (old, upgraded) = match &self.live {
                    None => (Some(frame(0, &codec::to_payload(&msg))), None),
                    Some(live) => {
                        let enc = live.encode(&msg);
                        (
                            enc.old.map(|p| frame(0, &p)),
                            enc.new.map(|p| frame(codec::UPGRADED, &p)),
                        )
                    }
                };
                if let Some(Some(link)) = self.peers.get(dst) {
                    for _ in 0..copies {
                        Metrics::bump(&self.metrics.messages_out);
                        let queued = link.send(Outgoing {
                            frame: old.clone(),
                            upgraded: upgraded.clone(),
                            delay,
                        });
                        if queued == Queued::LostUnreachable {
                            Metrics::bump(&self.metrics.peer_lost);
                            warn_limited!(
                                self.peer_overflow,
                                node = %self.node,
                                to = dst,
                                "peer unreachable and its queue full: message lost"
                            );
                        } else if queued == Queued::Reset {
                            Metrics::bump(&self.metrics.peer_lost);
                        }
                    }
                }
            }
        }
    }

    fn emit(&mut self, output: S::Output) {
        self.outputs += 1;
        Metrics::bump(&self.metrics.outputs);
        tracing::debug!(node = %self.node, n = self.outputs, "output {output:?}");
        let reply = Reply::<S>::Output {
            n: self.outputs,
            earlier: false,
            output: output.clone(),
        };
        let frame = self.reply_frame(&reply);
        let ids: Vec<u64> = self.clients.keys().copied().collect();
        for id in ids {
            self.send_client(id, frame.clone());
        }
        if self.recent.len() == RECENT_OUTPUTS {
            self.recent.pop_front();
        }
        self.recent.push_back((self.outputs, output));
    }

    /// Queues a frame for a client; a client whose queue is full is not
    /// reading: it is disconnected (its writer sees the queue close), so
    /// its backlog cannot grow without bound.
    fn send_client(&mut self, id: u64, frame: Vec<u8>) {
        let Some(tx) = self.clients.get(&id) else {
            return;
        };
        match tx.try_send(frame) {
            Ok(()) => {}
            Err(SendError::Closed) => {
                self.clients.remove(&id);
            }
            Err(SendError::Full(_)) => {
                let limit = tx.limit();
                self.clients.remove(&id);
                Metrics::bump(&self.metrics.slow_clients);
                warn_limited!(
                    self.slow_client,
                    node = %self.node,
                    limit,
                    "disconnecting a client that does not read: its output buffer is full"
                );
            }
        }
    }

    fn reply_frame(&self, reply: &Reply<S>) -> Vec<u8> {
        codec::encode_value(FrameKind::Reply, self.cluster, self.me as u32, reply)
    }

    /// Writes a snapshot and empties the log once enough records piled up.
    fn maybe_snapshot(&mut self) -> Result<(), LoopError> {
        if self.since_snapshot < self.settings.snapshot_every || self.wal.pending() > 0 {
            return Ok(());
        }
        snapshot::write::<S>(
            &*self.disk,
            &self.dir,
            self.incarnation,
            self.wal.next_seq(),
            &self.state,
        )
        .and_then(|()| self.wal.truncate_all(&*self.disk))
        .map_err(|e| LoopError::Storage(format!("snapshot failed: {e}")))?;
        self.since_snapshot = 0;
        Metrics::bump(&self.metrics.snapshots);
        tracing::debug!(node = %self.node, seq = self.wal.next_seq(), "snapshot written");
        Ok(())
    }
}

/// A log record as a monitor message names it.
struct RecordText<'a, S: System>(&'a Record<S>);

impl<S: System> fmt::Display for RecordText<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Record::Start => write!(f, "start"),
            Record::Input(i) => write!(f, "input {i:?}"),
            Record::Message { from, msg } => write!(f, "message {msg:?} from {from}"),
            Record::Timer(t) => write!(f, "timer {t:?}"),
            Record::Restart => write!(f, "restart"),
            Record::Chose { choices, record } => {
                write!(f, "{}, choosing {choices:?}", RecordText::<S>(record))
            }
        }
    }
}
