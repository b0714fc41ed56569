//! Raft-KV spoken to with the Redis protocol: the server-side command
//! handlers are checked exhaustively for linearizability, and a real
//! three-server cluster is driven with `redis-cli` (and `redis-benchmark`)
//! through a `kill -9` of its leader. The tools are Debian's `redis-tools`;
//! without them the deployment test says so and passes.

#![cfg(feature = "runtime")]

use crate::support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use support::{eventually, Deployment};
use verdict::prelude::*;
use verdict::transform::RaftConfig;
use verdict::Outcome;
use verdict_examples::redis_store::{self, RaftRedis};

const KV: &str = env!("CARGO_BIN_EXE_kv");

fn bounded(max_term: u32, max_log: u64) -> RaftConfig {
    RaftConfig {
        max_term,
        max_log,
        max_retries: Some(0),
        ..RaftConfig::default()
    }
}

#[test]
fn commands_given_to_servers_are_linearizable_in_every_interleaving() {
    // Two servers, each taking one command (a SET on one, an INCR of the
    // same key on the other, which forwards it when it follows), two
    // terms: who leads, who forwards to whom, and a leader change between.
    let model = redis_store::gateway_model(2, 1, Faults::none(), bounded(2, 2)).unwrap();
    let report = check(&model, &CheckOptions::default());
    assert!(
        matches!(report.outcome, Outcome::Exhausted),
        "{:?}",
        report.outcome
    );
    assert!(report.stats.unique > 1_000, "{}", report.stats);
}

#[test]
fn a_server_that_crashes_does_not_answer_commands_from_before_the_crash() {
    // After a restart the server re-applies its log; the outputs of its
    // commands from before the crash must not be emitted again (nobody
    // waits for them), or the history would hold an answer to nothing.
    let model = redis_store::gateway_model(2, 1, Faults::none().crash(1), bounded(1, 2)).unwrap();
    let report = check(&model, &CheckOptions::default());
    assert!(
        matches!(report.outcome, Outcome::Exhausted),
        "{:?}",
        report.outcome
    );
}

fn have(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok()
}

/// `redis-cli -p port args...`, its output trimmed.
fn cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .arg("-p")
        .arg(port.to_string())
        .args(args)
        .output()
        .expect("run redis-cli");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn field(d: &Deployment, node: &str, name: &str) -> String {
    d.client::<RaftRedis>(node)
        .state()
        .unwrap()
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("{node} has no field {name}"))
}

fn leader(d: &Deployment, servers: &[&str]) -> Option<String> {
    servers
        .iter()
        .filter(|s| field(d, s, "standing") == "Leader")
        .max_by_key(|s| field(d, s, "current_term").parse::<u32>().unwrap_or(0))
        .map(|s| s.to_string())
}

/// A cluster of three servers, each with a RESP port; returns the ports.
fn redis_cluster() -> (Deployment, Vec<u16>) {
    let servers = ["Server(0)", "Server(1)", "Server(2)"];
    let mut d = Deployment::new(KV, &servers, &["--transform", "raft-redis", "--retransmit"]);
    let ports: Vec<u16> = (0..3)
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

#[test]
fn redis_cli_writes_acknowledged_on_any_server_survive_kill_9_of_the_leader() {
    if !have("redis-cli") {
        println!("skipped: redis-cli is not installed (apt-get install redis-tools)");
        return;
    }
    let servers = ["Server(0)", "Server(1)", "Server(2)"];
    let (mut d, ports) = redis_cluster();
    let mut acked: Vec<(String, String)> = Vec::new();
    // A write is retried until acknowledged: before the first election,
    // and during the one after the kill, a command can time out.
    let mut write = |port: u16, key: &str, value: &str| {
        eventually("an acknowledged SET", || {
            (cli(port, &["SET", key, value]) == "OK").then_some(())
        });
        acked.push((key.to_string(), value.to_string()));
    };
    for i in 0..9 {
        write(ports[i % 3], &format!("key:{i}"), &format!("value-{i}"));
    }
    // Any server reads what any server wrote.
    assert_eq!(cli(ports[2], &["GET", "key:0"]), "value-0");
    assert_eq!(cli(ports[0], &["INCR", "counter"]), "1");
    assert_eq!(cli(ports[1], &["INCR", "counter"]), "2");
    assert_eq!(cli(ports[1], &["CAS", "counter", "2", "x"]), "1");
    assert_eq!(cli(ports[2], &["GET", "counter"]), "x");

    let victim = eventually("a leader", || leader(&d, &servers));
    let index = servers.iter().position(|s| *s == victim).unwrap();
    d.kill9(&victim);
    let alive: Vec<u16> = (0..3).filter(|&i| i != index).map(|i| ports[i]).collect();
    for i in 9..15 {
        write(alive[i % 2], &format!("key:{i}"), &format!("value-{i}"));
    }
    d.start(&victim);
    for i in 15..18 {
        write(ports[i % 3], &format!("key:{i}"), &format!("value-{i}"));
    }
    // Every acknowledged write is readable through every server, the
    // restarted one included.
    for port in &ports {
        for (key, value) in &acked {
            let got = eventually("a read", || {
                let got = cli(*port, &["GET", key]);
                (!got.starts_with("TIMEOUT")).then_some(got)
            });
            assert_eq!(&got, value, "GET {key} on port {port}");
        }
    }
    let mget = cli(ports[index], &["MGET", "key:0", "nokey", "key:17"]);
    assert_eq!(
        mget.lines().collect::<Vec<_>>(),
        ["value-0", "", "value-17"]
    );

    // Malformed input closes that connection with an error; others go on.
    let mut bad = TcpStream::connect(("127.0.0.1", ports[0])).unwrap();
    bad.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    bad.write_all(b"*99999999999\r\n").unwrap();
    let mut answer = String::new();
    let _ = bad.read_to_string(&mut answer);
    assert!(answer.starts_with("-ERR Protocol error"), "{answer:?}");
    assert_eq!(cli(ports[0], &["GET", "key:1"]), "value-1");

    if have("redis-benchmark") {
        let out = Command::new("redis-benchmark")
            .args(["-p", &ports[1].to_string()])
            .args(["-t", "set,get", "-c", "50", "-n", "2000", "-q"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{text}");
        assert!(text.contains("SET: ") && text.contains("GET: "), "{text}");
        assert!(!text.to_lowercase().contains("error"), "{text}");
    } else {
        println!("redis-benchmark part skipped: it is not installed");
    }
}

// ---- a short Jepsen-style campaign ----

/// A minimal RESP client that records what it cannot know as unknown.
struct RespConn {
    port: u16,
    stream: Option<std::io::BufReader<TcpStream>>,
}

impl RespConn {
    /// Sends `args` and reads one reply; `None`: no reply (connection
    /// refused or lost, or no answer in time), the outcome is unknown.
    fn call(&mut self, args: &[&[u8]]) -> Option<Result<Option<Vec<u8>>, String>> {
        use std::io::BufRead;
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

use verdict::lin::{self, History};
use verdict::transform::state_machine::Sequential;
use verdict_examples::redis_store::{Bytes, RedisCommand, RedisReply, RedisStore};

type KvHistory = History<RedisCommand, RedisReply>;

/// One client: random SETs, APPENDs and GETs on three keys, each
/// invocation and completion recorded; an error or no answer is unknown.
fn campaign_client(
    id: u64,
    ports: &[u16],
    history: &std::sync::Mutex<KvHistory>,
    stop: &std::sync::atomic::AtomicBool,
) {
    let mut x = 0x2545_f491_4f6c_dd1d_u64 ^ (id + 1).wrapping_mul(0x9e37_79b9);
    let mut rand = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut conn = RespConn {
        port: ports[id as usize % ports.len()],
        stream: None,
    };
    let mut n = 0;
    // A client whose operation has an unknown outcome goes on as a new
    // process (as Jepsen's do): the old operation stays open, since a
    // command that timed out may still take effect later.
    let mut process = id;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        n += 1;
        let key = format!("k{}", rand() % 3);
        let value = format!("{id}.{n} ");
        let command = match rand() % 3 {
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
                // A node down: try another one.
                conn.port = ports[(rand() % ports.len() as u64) as usize];
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// The history as EDN lines, the Jepsen key-value form `lincheck` reads.
/// An operation left open is `:info`.
fn edn(history: &KvHistory) -> String {
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

/// A real cluster under SIGKILL-and-restart and SIGSTOP/SIGCONT of random
/// servers while four clients work; the history must be linearizable.
/// `CAMPAIGN_SECS` sets the length (default 12), `CAMPAIGN_HISTORY` a file
/// to write the history to (EDN, readable by `lincheck`).
#[test]
fn a_short_fault_campaign_stays_linearizable() {
    let secs: u64 = std::env::var("CAMPAIGN_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(12);
    let servers = ["Server(0)", "Server(1)", "Server(2)"];
    let (mut d, ports) = redis_cluster();
    eventually("a leader", || leader(&d, &servers));
    let history = std::sync::Mutex::new(KvHistory::new());
    let stop = std::sync::atomic::AtomicBool::new(false);
    let mut faults = Vec::new();
    std::thread::scope(|scope| {
        for id in 0..4 {
            let (history, stop, ports) = (&history, &stop, &ports);
            scope.spawn(move || campaign_client(id, ports, history, stop));
        }
        let end = std::time::Instant::now() + Duration::from_secs(secs);
        let mut round = 0usize;
        while std::time::Instant::now() < end {
            std::thread::sleep(Duration::from_millis(1500));
            let victim = match leader(&d, &servers) {
                Some(l) if round.is_multiple_of(2) => l,
                _ => servers[round % 3].to_string(),
            };
            if round.is_multiple_of(2) {
                d.kill9(&victim);
                std::thread::sleep(Duration::from_millis(700));
                d.start(&victim);
                faults.push(format!("kill -9 {victim}"));
            } else {
                d.signal(&victim, "STOP");
                std::thread::sleep(Duration::from_millis(700));
                d.signal(&victim, "CONT");
                faults.push(format!("SIGSTOP {victim}"));
            }
            round += 1;
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    // Every acknowledged write must still be there: with all servers up,
    // each reads every key (recorded, so the check covers these reads).
    eventually("a leader after the campaign", || leader(&d, &servers));
    for (i, port) in ports.iter().enumerate() {
        let mut conn = RespConn {
            port: *port,
            stream: None,
        };
        for k in 0..3 {
            let key = format!("k{k}");
            let get = RedisCommand::Get(Bytes::from(key.as_str()));
            let mut attempt = 0;
            let value = eventually("a final read", || {
                // A failed attempt stays open, so each is its own process.
                attempt += 1;
                let process = 100_000 + attempt * 100 + i as u64 * 10 + k;
                let at = history.lock().unwrap().invoke(process, get.clone());
                match conn.call(&[b"GET", key.as_bytes()]) {
                    Some(Ok(v)) => Some((at, v)),
                    _ => None,
                }
            });
            let mut h = history.lock().unwrap();
            h.complete(value.0, RedisReply::Value(value.1.map(Bytes)))
                .unwrap();
        }
    }
    let history = history.into_inner().unwrap();
    let ops = history.len();
    let unknown = history
        .operations()
        .iter()
        .filter(|o| o.outcome.returned().is_none())
        .count();
    let t = std::time::Instant::now();
    let verdict = lin::check_history(&Sequential::<RedisStore>::new(), &history);
    let took = t.elapsed();
    println!(
        "campaign: {secs} s, faults [{}], {ops} operations, {unknown} unknown, checked in {took:?}",
        faults.join(", ")
    );
    if let Ok(path) = std::env::var("CAMPAIGN_HISTORY") {
        std::fs::write(&path, edn(&history)).unwrap();
    }
    assert!(
        verdict.is_linearizable(),
        "{}",
        verdict
            .explanation()
            .map(|e| e.to_text(&history))
            .unwrap_or_default()
    );
    assert!(!faults.is_empty());
    assert!(ops - unknown > 20, "{ops} operations, {unknown} unknown");
}
