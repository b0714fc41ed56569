//! Raft-KV next to etcd on one machine, in one run: three Verdict servers
//! (`kv --transform raft-redis`, spoken to over RESP) and three etcd
//! members (over etcd's v3 JSON gateway), both on loopback, both with
//! fsync on commit, driven by the same closed-loop load generator: each
//! of N clients has one connection and one request in flight, puts of
//! 256-byte values, then linearizable gets of the keys it wrote.
//!
//! `cargo bench -p verdict-examples --bench vs_etcd`. Environment:
//! `CLIENTS=1,16,64,256`, `ROUNDS=3`, `SECONDS=3` (per level, per kind,
//! per round). etcd is taken from `PATH` (`etcd`; Debian: `apt-get install
//! etcd-server`); without it only Verdict is measured, with a message.
//! Prints per level the median over rounds of throughput, p50 and p99,
//! and the ratio Verdict / etcd. A report, not a pass/fail test.
//!
//! Caveat: etcd is reached through its JSON gateway (HTTP/1.1, base64
//! keys and values), not gRPC, so it pays a translation its own
//! `benchmark` tool does not; the harness needs no gRPC stack that way.

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::Deployment;

const KV: &str = env!("CARGO_BIN_EXE_kv");
const VALUE_BYTES: usize = 256;

/// One connection's protocol: put and linearizable get.
trait Conn: Send {
    fn put(&mut self, key: &str, value: &[u8]) -> Result<(), String>;
    fn get(&mut self, key: &str) -> Result<Option<Vec<u8>>, String>;
}

/// A loopback connection to `port`, split into a buffered reader and a
/// writer, with Nagle off and a read timeout so a stuck server fails the
/// round instead of hanging it.
fn dial(port: u16) -> Result<(BufReader<TcpStream>, TcpStream), String> {
    let s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_nodelay(true).ok();
    s.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let wr = s.try_clone().map_err(|e| e.to_string())?;
    Ok((BufReader::new(s), wr))
}

// ---- RESP ----

struct Resp {
    rd: BufReader<TcpStream>,
    wr: TcpStream,
}

impl Resp {
    fn connect(port: u16) -> Result<Self, String> {
        let (rd, wr) = dial(port)?;
        Ok(Resp { rd, wr })
    }

    fn call(&mut self, args: &[&[u8]]) -> Result<Option<Vec<u8>>, String> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        self.wr.write_all(&out).map_err(|e| e.to_string())?;
        let mut line = String::new();
        self.rd.read_line(&mut line).map_err(|e| e.to_string())?;
        match line.as_bytes().first() {
            Some(b'+') | Some(b':') => Ok(Some(line.trim_end().as_bytes()[1..].to_vec())),
            Some(b'$') => {
                let n: i64 = line[1..].trim().parse().map_err(|_| line.clone())?;
                if n < 0 {
                    return Ok(None);
                }
                let mut body = vec![0u8; n as usize + 2];
                self.rd.read_exact(&mut body).map_err(|e| e.to_string())?;
                body.truncate(n as usize);
                Ok(Some(body))
            }
            _ => Err(format!("RESP: {}", line.trim_end())),
        }
    }
}

impl Conn for Resp {
    fn put(&mut self, key: &str, value: &[u8]) -> Result<(), String> {
        self.call(&[b"SET", key.as_bytes(), value]).map(|_| ())
    }
    fn get(&mut self, key: &str) -> Result<Option<Vec<u8>>, String> {
        self.call(&[b"GET", key.as_bytes()])
    }
}

// ---- etcd v3 JSON gateway ----

struct Etcd {
    rd: BufReader<TcpStream>,
    wr: TcpStream,
    port: u16,
}

impl Etcd {
    fn connect(port: u16) -> Result<Self, String> {
        let (rd, wr) = dial(port)?;
        Ok(Etcd { rd, wr, port })
    }

    fn post(&mut self, path: &str, body: &str) -> Result<String, String> {
        let req = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            self.port,
            body.len()
        );
        self.wr
            .write_all(req.as_bytes())
            .map_err(|e| e.to_string())?;
        let mut status = String::new();
        self.rd.read_line(&mut status).map_err(|e| e.to_string())?;
        let (mut length, mut chunked) = (None, false);
        loop {
            let mut h = String::new();
            self.rd.read_line(&mut h).map_err(|e| e.to_string())?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let lower = h.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = v.trim().parse::<usize>().ok();
            }
            if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
                chunked = true;
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                let mut size = String::new();
                self.rd.read_line(&mut size).map_err(|e| e.to_string())?;
                let n = usize::from_str_radix(size.trim(), 16).map_err(|_| size.clone())?;
                let mut chunk = vec![0u8; n + 2];
                self.rd.read_exact(&mut chunk).map_err(|e| e.to_string())?;
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..n]);
            }
        } else {
            let n = length.ok_or("etcd: no content length")?;
            body.resize(n, 0);
            self.rd.read_exact(&mut body).map_err(|e| e.to_string())?;
        }
        let body = String::from_utf8_lossy(&body).to_string();
        if !status.contains(" 200 ") {
            return Err(format!("etcd: {} {body}", status.trim_end()));
        }
        Ok(body)
    }
}

impl Conn for Etcd {
    fn put(&mut self, key: &str, value: &[u8]) -> Result<(), String> {
        let body = format!(
            "{{\"key\":\"{}\",\"value\":\"{}\"}}",
            b64(key.as_bytes()),
            b64(value)
        );
        self.post("/v3/kv/put", &body).map(|_| ())
    }
    fn get(&mut self, key: &str) -> Result<Option<Vec<u8>>, String> {
        // Linearizable is the default (no "serializable": true).
        let body = format!("{{\"key\":\"{}\"}}", b64(key.as_bytes()));
        let text = self.post("/v3/kv/range", &body)?;
        Ok(text.contains("\"value\"").then(|| text.into_bytes()))
    }
}

fn b64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

// ---- the load generator ----

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Put,
    Get,
}

struct Figures {
    ops_per_sec: f64,
    p50: Duration,
    p99: Duration,
    errors: u64,
}

/// `clients` closed-loop clients for `secs`, each on its own connection
/// from `connect(i)`.
fn drive(
    clients: usize,
    secs: f64,
    kind: Kind,
    connect: &(dyn Fn(usize) -> Result<Box<dyn Conn>, String> + Sync),
) -> Figures {
    let value = vec![b'v'; VALUE_BYTES];
    let stop = Arc::new(AtomicBool::new(false));
    let results: Vec<(Vec<Duration>, u64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|c| {
                let stop = stop.clone();
                let value = &value;
                scope.spawn(move || {
                    let mut lat = Vec::new();
                    let mut errors = 0u64;
                    let Ok(mut conn) = connect(c) else {
                        return (lat, 1);
                    };
                    let mut i = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        let key = format!("key:{c}:{}", i % 512);
                        let t = Instant::now();
                        let r = match kind {
                            Kind::Put => conn.put(&key, value),
                            Kind::Get => conn.get(&key).map(|_| ()),
                        };
                        match r {
                            Ok(()) => lat.push(t.elapsed()),
                            Err(_) => errors += 1,
                        }
                        i += 1;
                    }
                    (lat, errors)
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs_f64(secs));
        stop.store(true, Ordering::Relaxed);
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let errors = results.iter().map(|r| r.1).sum();
    let mut all: Vec<Duration> = results.into_iter().flat_map(|r| r.0).collect();
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len().max(1) - 1) as f64 * p) as usize)
            .copied()
            .unwrap_or_default()
    };
    Figures {
        ops_per_sec: all.len() as f64 / secs,
        p50: pct(0.5),
        p99: pct(0.99),
        errors,
    }
}

fn median<T: Copy + PartialOrd>(mut v: Vec<T>) -> T {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

// ---- the clusters ----

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

fn verdict_cluster() -> (Deployment, Vec<u16>) {
    let servers = ["Server(0)", "Server(1)", "Server(2)"];
    let mut d = Deployment::new_insecure(
        KV,
        &servers,
        &["--transform", "raft-redis", "--retransmit", "--log", "warn"],
    );
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    d.edit_cluster_file(|f| {
        for (n, p) in f.nodes.iter_mut().zip(&ports) {
            n.resp = Some(format!("127.0.0.1:{p}"));
        }
    });
    d.start_all();
    (d, ports)
}

struct EtcdCluster {
    children: Vec<Child>,
    client_ports: Vec<u16>,
    _dir: tempfile::TempDir,
}

impl Drop for EtcdCluster {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn etcd_cluster() -> Option<EtcdCluster> {
    Command::new("etcd").arg("--version").output().ok()?;
    let dir = tempfile::tempdir().ok()?;
    let peer: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let client: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let initial: Vec<String> = (0..3)
        .map(|i| format!("e{i}=http://127.0.0.1:{}", peer[i]))
        .collect();
    let mut children = Vec::new();
    for i in 0..3 {
        let log = std::fs::File::create(dir.path().join(format!("e{i}.log"))).ok()?;
        let child = Command::new("etcd")
            .args(["--name", &format!("e{i}")])
            .arg("--data-dir")
            .arg(dir.path().join(format!("e{i}")))
            .args([
                "--listen-peer-urls",
                &format!("http://127.0.0.1:{}", peer[i]),
            ])
            .args([
                "--initial-advertise-peer-urls",
                &format!("http://127.0.0.1:{}", peer[i]),
            ])
            .args([
                "--listen-client-urls",
                &format!("http://127.0.0.1:{}", client[i]),
            ])
            .args([
                "--advertise-client-urls",
                &format!("http://127.0.0.1:{}", client[i]),
            ])
            .args(["--initial-cluster", &initial.join(",")])
            .args([
                "--initial-cluster-state",
                "new",
                "--initial-cluster-token",
                "bench",
            ])
            .stdin(Stdio::null())
            .stdout(log.try_clone().ok()?)
            .stderr(log)
            .spawn()
            .ok()?;
        children.push(child);
    }
    let cluster = EtcdCluster {
        children,
        client_ports: client,
        _dir: dir,
    };
    // Ready when a put goes through.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ok = Etcd::connect(cluster.client_ports[0])
            .and_then(|mut c| c.put("ready", b"1"))
            .is_ok();
        if ok {
            return Some(cluster);
        }
        if Instant::now() > deadline {
            eprintln!("etcd did not come up; see its logs");
            return None;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let levels: Vec<usize> = std::env::var("CLIENTS")
        .unwrap_or_else(|_| "1,16,64,256".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let rounds: usize = env_or("ROUNDS", 3);
    let secs: f64 = env_or("SECONDS", 3.0);
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "Raft-KV vs etcd: 3 nodes each on loopback, fsync on commit, {VALUE_BYTES}-byte values, \
         closed loop, {secs} s per measurement, {rounds} rounds, median shown; {cores} cores"
    );

    let (verdict, resp_ports) = verdict_cluster();
    let etcd = etcd_cluster();
    if etcd.is_none() {
        println!("etcd not found on PATH (Debian: apt-get install etcd-server): Verdict only");
    }
    // Clients spread over the nodes (Verdict followers forward to the
    // leader; etcd followers forward too).
    let verdict_connect = |i: usize| -> Result<Box<dyn Conn>, String> {
        Ok(Box::new(Resp::connect(resp_ports[i % resp_ports.len()])?))
    };
    let etcd_ports = etcd
        .as_ref()
        .map(|e| e.client_ports.clone())
        .unwrap_or_default();
    let etcd_connect = |i: usize| -> Result<Box<dyn Conn>, String> {
        Ok(Box::new(Etcd::connect(etcd_ports[i % etcd_ports.len()])?))
    };
    // Warm up (and let the first election settle).
    let _ = drive(4, 1.0, Kind::Put, &verdict_connect);
    if etcd.is_some() {
        let _ = drive(4, 1.0, Kind::Put, &etcd_connect);
    }

    println!(
        "\n| op | clients | Verdict ops/s | p50 | p99 | etcd ops/s | p50 | p99 | ops/s ratio | errors V/e |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for kind in [Kind::Put, Kind::Get] {
        for &clients in &levels {
            let mut v = Vec::new();
            let mut e = Vec::new();
            for _ in 0..rounds {
                // Alternate, so drift on a busy machine hits both.
                v.push(drive(clients, secs, kind, &verdict_connect));
                if etcd.is_some() {
                    e.push(drive(clients, secs, kind, &etcd_connect));
                }
            }
            let summary = |f: &[Figures]| {
                if f.is_empty() {
                    return (0.0, Duration::ZERO, Duration::ZERO, 0);
                }
                (
                    median(f.iter().map(|x| x.ops_per_sec).collect()),
                    median(f.iter().map(|x| x.p50).collect()),
                    median(f.iter().map(|x| x.p99).collect()),
                    f.iter().map(|x| x.errors).sum::<u64>(),
                )
            };
            let (vo, v50, v99, verr) = summary(&v);
            let (eo, e50, e99, eerr) = summary(&e);
            let ratio = if eo > 0.0 {
                format!("{:.2}x", vo / eo)
            } else {
                "-".into()
            };
            println!(
                "| {} | {clients} | {vo:.0} | {} | {} | {eo:.0} | {} | {} | {ratio} | {verr}/{eerr} |",
                if kind == Kind::Put { "put" } else { "get" },
                ms(v50),
                ms(v99),
                ms(e50),
                ms(e99),
            );
        }
    }
    drop(verdict);
    drop(etcd);
}
