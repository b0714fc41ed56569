//! A Jepsen-style campaign against a real Raft-KV cluster: concurrent
//! clients on the servers' RESP ports record every invocation and its
//! completion, a nemesis kills, pauses and partitions servers meanwhile,
//! and at the end every server reads every key; the whole history is then
//! checked for linearizability against the sequential store. A lost
//! acknowledged write shows up as a final read that no order explains.
//!
//! Shared by the short run in `cargo test` (`kv_redis::campaign`) and the
//! long runs of `cargo bench -p verdict-examples --bench jepsen`.

use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use verdict::lin::{self, History};
use verdict::transform::state_machine::Sequential;
use verdict_examples::redis_store::{Bytes, RaftRedis, RedisCommand, RedisReply, RedisStore};

use super::{eventually, Deployment};

/// The history a campaign records.
pub type KvHistory = History<RedisCommand, RedisReply>;

/// The servers of a three-server cluster.
pub const SERVERS: [&str; 3] = ["Server(0)", "Server(1)", "Server(2)"];

/// One field of a node's state, as its control port prints it.
pub fn field(d: &Deployment, node: &str, name: &str) -> String {
    d.client::<RaftRedis>(node)
        .state()
        .unwrap()
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("{node} has no field {name}"))
}

/// The leader of the highest term among `servers`, if any says it leads.
pub fn leader(d: &Deployment, servers: &[&str]) -> Option<String> {
    servers
        .iter()
        .filter(|s| field(d, s, "standing") == "Leader")
        .max_by_key(|s| field(d, s, "current_term").parse::<u32>().unwrap_or(0))
        .map(|s| s.to_string())
}

/// A started cluster of three `kv --transform raft-redis` servers, each
/// with a RESP port (returned), and `extra` flags for every server.
pub fn redis_cluster(exe: &str, extra: &[&str]) -> (Deployment, Vec<u16>) {
    let mut args = vec!["--transform", "raft-redis", "--retransmit"];
    args.extend_from_slice(extra);
    let mut d = Deployment::new(exe, &SERVERS, &args);
    let ports: Vec<u16> = (0..SERVERS.len())
        .map(|_| {
            std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        })
        .collect();
    d.edit_cluster_file(|f| {
        for (n, p) in f.nodes.iter_mut().zip(&ports) {
            n.resp = Some(format!("127.0.0.1:{p}"));
        }
    });
    d.start_all();
    (d, ports)
}

/// A minimal RESP client that reports what it cannot know as unknown.
pub struct RespConn {
    pub port: u16,
    stream: Option<std::io::BufReader<TcpStream>>,
}

impl RespConn {
    pub fn new(port: u16) -> Self {
        RespConn { port, stream: None }
    }

    /// Sends `args` and reads one reply; `None`: no reply (connection
    /// refused or lost, or no answer in time), the outcome is unknown.
    pub fn call(&mut self, args: &[&[u8]]) -> Option<Result<Option<Vec<u8>>, String>> {
        if self.stream.is_none() {
            let s = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
            s.set_read_timeout(Some(Duration::from_secs(8))).ok()?;
            self.stream = Some(std::io::BufReader::new(s));
        }
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        let result = (|| {
            let s = self.stream.as_mut()?;
            s.get_mut().write_all(&out).ok()?;
            let mut line = String::new();
            s.read_line(&mut line).ok().filter(|n| *n > 0)?;
            match line.as_bytes().first() {
                Some(b'+') | Some(b':') => Some(Ok(Some(line.trim_end().as_bytes()[1..].to_vec()))),
                Some(b'$') => {
                    let n: i64 = line[1..].trim().parse().ok()?;
                    if n < 0 {
                        return Some(Ok(None));
                    }
                    let mut body = vec![0u8; n as usize + 2];
                    s.read_exact(&mut body).ok()?;
                    body.truncate(n as usize);
                    Some(Ok(Some(body)))
                }
                _ => Some(Err(line.trim_end().to_string())),
            }
        })();
        if !matches!(result, Some(Ok(_))) {
            self.stream = None;
        }
        result
    }
}

/// A small xorshift generator: campaigns are reproducible in their
/// choices (not in their timing) from a seed.
struct Rand(u64);

impl Rand {
    fn new(seed: u64) -> Self {
        Rand(0x2545_f491_4f6c_dd1d ^ seed.wrapping_add(1).wrapping_mul(0x9e37_79b9))
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// What the nemesis does to the cluster, one fault at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nemesis {
    /// SIGKILL the leader, restart it from its data directory.
    KillLeader,
    /// SIGKILL a random server, restart it.
    KillAny,
    /// SIGSTOP a random server, then SIGCONT.
    Pause,
    /// Cut the leader off from the other two (the runtime's partition
    /// injection on every node), then heal.
    IsolateLeader,
    /// Cut a random server off from the other two, then heal.
    IsolateAny,
}

impl Nemesis {
    /// Every nemesis, in the order a campaign cycles through them.
    pub const ALL: [Nemesis; 5] = [
        Nemesis::KillLeader,
        Nemesis::IsolateLeader,
        Nemesis::Pause,
        Nemesis::IsolateAny,
        Nemesis::KillAny,
    ];

    /// Whether the servers must run with partition injection on.
    fn partitions(self) -> bool {
        matches!(self, Nemesis::IsolateLeader | Nemesis::IsolateAny)
    }
}

/// What a campaign does.
#[derive(Clone, Debug)]
pub struct Plan {
    /// How long the clients and the nemesis work.
    pub length: Duration,
    /// Concurrent clients.
    pub clients: u64,
    /// Keys the clients share.
    pub keys: u64,
    /// The faults, cycled through in this order.
    pub nemeses: Vec<Nemesis>,
    /// Quiet time between two faults.
    pub interval: Duration,
    /// How long a fault lasts before it is undone.
    pub hold: Duration,
    /// Seed of the clients' and the nemesis's choices.
    pub seed: u64,
}

impl Plan {
    /// A campaign of `length` with every nemesis.
    pub fn new(length: Duration, seed: u64) -> Self {
        Plan {
            length,
            clients: 4,
            keys: 3,
            nemeses: Nemesis::ALL.to_vec(),
            interval: Duration::from_millis(1500),
            hold: Duration::from_millis(1000),
            seed,
        }
    }
}

/// What a campaign saw.
pub struct Report {
    /// The faults in the order they happened.
    pub faults: Vec<String>,
    /// The recorded history, final reads included.
    pub history: KvHistory,
    /// Operations left open: no reply, an error or a timeout.
    pub unknown: usize,
    /// The linearizability verdict and, if not, the explanation.
    pub linearizable: Result<(), String>,
    /// Time `verdict::lin` took on the history.
    pub check_time: Duration,
    /// Acknowledged appends the final reads had to show, and how many
    /// they did not (see [`lost_appends`]).
    pub appends_checked: usize,
    pub appends_lost: usize,
}

/// One client: random SETs, APPENDs and GETs on `keys` keys, each
/// invocation and completion recorded; an error or no answer is unknown.
fn client(id: u64, plan: &Plan, ports: &[u16], history: &Mutex<KvHistory>, stop: &AtomicBool) {
    let mut rand = Rand::new(plan.seed.wrapping_mul(1000).wrapping_add(id));
    let mut conn = RespConn::new(ports[id as usize % ports.len()]);
    let mut n = 0;
    // A client whose operation has an unknown outcome goes on as a new
    // process (as Jepsen's do): the old operation stays open, since a
    // command that timed out may still take effect later.
    let mut process = id;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let key = format!("k{}", rand.next() % plan.keys);
        let value = format!("{id}.{n} ");
        let command = match rand.next() % 3 {
            0 => RedisCommand::Set(Bytes::from(key.as_str()), Bytes::from(value.as_str())),
            1 => RedisCommand::Append(Bytes::from(key.as_str()), Bytes::from(value.as_str())),
            _ => RedisCommand::Get(Bytes::from(key.as_str())),
        };
        let at = history.lock().unwrap().invoke(process, command.clone());
        let answer = match &command {
            RedisCommand::Set(k, v) => conn.call(&[b"SET", &k.0, &v.0]),
            RedisCommand::Append(k, v) => conn.call(&[b"APPEND", &k.0, &v.0]),
            _ => conn.call(&[b"GET", key.as_bytes()]),
        };
        let ret = match (&command, answer) {
            (RedisCommand::Set(..), Some(Ok(Some(_)))) => Some(RedisReply::Ok),
            (RedisCommand::Append(..), Some(Ok(Some(len)))) => String::from_utf8_lossy(&len)
                .parse()
                .ok()
                .map(RedisReply::Int),
            (RedisCommand::Get(_), Some(Ok(v))) => Some(RedisReply::Value(v.map(Bytes))),
            _ => None,
        };
        let mut h = history.lock().unwrap();
        match ret {
            Some(r) => h.complete(at, r).unwrap(),
            None => {
                drop(h);
                process += 1000;
                // A server down or cut off: try another one.
                conn.port = ports[rand.below(ports.len())];
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// Cuts `victim` off from the other servers, on every server's injector
/// (each decides for its own messages), and returns what was done.
fn isolate(d: &Deployment, victim: &str) -> String {
    for s in SERVERS {
        if let Err(e) = d.client::<RaftRedis>(s).partition(vec![victim.to_string()]) {
            panic!("{s} refused to partition {victim}: {e}");
        }
    }
    format!("isolate {victim}")
}

fn heal(d: &Deployment) {
    for s in SERVERS {
        d.client::<RaftRedis>(s)
            .heal()
            .unwrap_or_else(|e| panic!("{s} could not heal: {e}"));
    }
}

/// Applies one fault, holds it for `plan.hold`, undoes it; returns its name.
fn strike(d: &mut Deployment, nemesis: Nemesis, plan: &Plan, rand: &mut Rand) -> String {
    let any = SERVERS[rand.below(SERVERS.len())].to_string();
    let victim = match nemesis {
        Nemesis::KillLeader | Nemesis::IsolateLeader => leader(d, &SERVERS).unwrap_or(any),
        _ => any,
    };
    match nemesis {
        Nemesis::KillLeader | Nemesis::KillAny => {
            d.kill9(&victim);
            std::thread::sleep(plan.hold);
            d.start(&victim);
            format!("kill -9 {victim}")
        }
        Nemesis::Pause => {
            d.signal(&victim, "STOP");
            std::thread::sleep(plan.hold);
            d.signal(&victim, "CONT");
            format!("SIGSTOP {victim}")
        }
        Nemesis::IsolateLeader | Nemesis::IsolateAny => {
            let done = isolate(d, &victim);
            std::thread::sleep(plan.hold);
            heal(d);
            done
        }
    }
}

/// Runs a campaign on a fresh cluster of `exe` (the `kv` binary).
pub fn run(exe: &str, plan: &Plan) -> Report {
    // A partition budget far above what a campaign uses: one a second.
    let budget = format!("partition={}", u8::MAX);
    let extra: Vec<&str> = if plan.nemeses.iter().any(|n| n.partitions()) {
        vec!["--faults", &budget]
    } else {
        vec![]
    };
    let (mut d, ports) = redis_cluster(exe, &extra);
    eventually("a leader", || leader(&d, &SERVERS));
    let history = Mutex::new(KvHistory::new());
    let stop = AtomicBool::new(false);
    let mut faults = Vec::new();
    let mut rand = Rand::new(plan.seed ^ 0x6e65_6d65);
    std::thread::scope(|scope| {
        for id in 0..plan.clients {
            let (history, stop, ports) = (&history, &stop, &ports);
            scope.spawn(move || client(id, plan, ports, history, stop));
        }
        let end = Instant::now() + plan.length;
        let mut round = 0usize;
        while Instant::now() < end {
            std::thread::sleep(plan.interval);
            if plan.nemeses.is_empty() {
                continue;
            }
            let nemesis = plan.nemeses[round % plan.nemeses.len()];
            faults.push(strike(&mut d, nemesis, plan, &mut rand));
            round += 1;
        }
        stop.store(true, Ordering::Relaxed);
    });
    // Every acknowledged write must still be there: with all servers up
    // and whole, each reads every key (recorded, so the check covers them).
    eventually("a leader after the campaign", || leader(&d, &SERVERS));
    let mut finals = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        let mut conn = RespConn::new(*port);
        for k in 0..plan.keys {
            let key = format!("k{k}");
            let get = RedisCommand::Get(Bytes::from(key.as_str()));
            let mut attempt = 0;
            let (at, value) = eventually("a final read", || {
                // A failed attempt stays open, so each is its own process.
                attempt += 1;
                let process = 1_000_000_000 + attempt * 1000 + i as u64 * 100 + k;
                let at = history.lock().unwrap().invoke(process, get.clone());
                match conn.call(&[b"GET", key.as_bytes()]) {
                    Some(Ok(v)) => Some((at, v)),
                    _ => None,
                }
            });
            finals.push((key.clone(), value.clone()));
            history
                .lock()
                .unwrap()
                .complete(at, RedisReply::Value(value.map(Bytes)))
                .unwrap();
        }
    }
    let history = history.into_inner().unwrap();
    let unknown = history
        .operations()
        .iter()
        .filter(|o| o.outcome.returned().is_none())
        .count();
    let (appends_checked, appends_lost) = lost_appends(&history, &finals);
    let t = Instant::now();
    let verdict = lin::check_history(&Sequential::<RedisStore>::new(), &history);
    let check_time = t.elapsed();
    let linearizable = if verdict.is_linearizable() {
        Ok(())
    } else {
        Err(verdict
            .explanation()
            .map(|e| e.to_text(&history))
            .unwrap_or_else(|| "not linearizable (no explanation)".into()))
    };
    Report {
        faults,
        history,
        unknown,
        linearizable,
        check_time,
        appends_checked,
        appends_lost,
    }
}

/// Acknowledged appends that the final reads must show, and how many of
/// them they do not: an append acknowledged on key `k` and invoked after
/// every SET of `k` had returned (or, for a SET left open, never) cannot
/// be overwritten, so its text must be in each final read of `k`.
/// Linearizability covers this too; this names the loss directly.
pub fn lost_appends(history: &KvHistory, finals: &[(String, Option<Vec<u8>>)]) -> (usize, usize) {
    let (mut checked, mut lost) = (0, 0);
    for (key, value) in finals {
        let key = Bytes::from(key.as_str());
        let ops = history.operations();
        let last_set = ops
            .iter()
            .filter(|o| matches!(&o.op, RedisCommand::Set(k, _) if *k == key))
            .map(|o| o.finished_at.unwrap_or(u64::MAX))
            .max()
            .unwrap_or(0);
        let text = format!(
            " {}",
            String::from_utf8_lossy(value.as_deref().unwrap_or(b""))
        );
        for o in ops {
            let RedisCommand::Append(k, v) = &o.op else {
                continue;
            };
            if *k != key || o.invoked_at <= last_set || o.outcome.returned().is_none() {
                continue;
            }
            checked += 1;
            if !text.contains(&format!(" {}", String::from_utf8_lossy(&v.0))) {
                lost += 1;
            }
        }
    }
    (checked, lost)
}

/// The history as EDN lines, the Jepsen key-value form `lincheck` reads.
/// An operation left open is `:info`.
pub fn edn(history: &KvHistory) -> String {
    let mut events: Vec<(u64, String)> = Vec::new();
    let text = |b: &Bytes| format!("{:?}", String::from_utf8_lossy(&b.0));
    for op in history.operations() {
        let (f, key, value) = match &op.op {
            RedisCommand::Set(k, v) => ("put", k, text(v)),
            RedisCommand::Append(k, v) => ("append", k, text(v)),
            RedisCommand::Get(k) => ("get", k, "nil".to_string()),
            _ => continue,
        };
        let key = text(key);
        let process = op.client;
        events.push((
            op.invoked_at,
            format!("{{:process {process}, :type :invoke, :f :{f}, :key {key}, :value {value}}}"),
        ));
        let (kind, value) = match op.outcome.returned() {
            Some(RedisReply::Value(v)) => (":ok", v.as_ref().map_or("nil".into(), text)),
            Some(_) => (":ok", value),
            None => (":info", value),
        };
        let at = op.finished_at.unwrap_or(u64::MAX);
        events.push((
            at,
            format!("{{:process {process}, :type {kind}, :f :{f}, :key {key}, :value {value}}}"),
        ));
    }
    events.sort_by_key(|e| e.0);
    events.into_iter().map(|e| e.1 + "\n").collect()
}
