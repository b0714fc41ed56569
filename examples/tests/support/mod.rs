//! A real deployment for tests: one `serve` process per node on loopback,
//! free ports, a temporary directory, SIGKILL on demand.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use verdict::runtime::{Access, Client, ClusterFile, NodeEntry};
use verdict::System;
use verdict_examples::lockserv;

pub mod campaign;

/// Generous: CI boxes are small and busy.
pub const PATIENCE: Duration = Duration::from_secs(30);

pub struct Deployment {
    pub dir: tempfile::TempDir,
    pub cluster_file: PathBuf,
    pub cluster_id: String,
    /// The client certificate (or nothing, when insecure).
    pub access: Access,
    exe: PathBuf,
    extra: Vec<String>,
    pub names: Vec<String>,
    pub addrs: HashMap<String, SocketAddr>,
    procs: Mutex<HashMap<String, Child>>,
    starts: HashMap<String, usize>,
}

fn free_ports(n: usize) -> Vec<u16> {
    let ls: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    ls.iter().map(|l| l.local_addr().unwrap().port()).collect()
}

impl Deployment {
    /// Writes a cluster file for `names`, with certificates made for it;
    /// starts nothing.
    pub fn new(exe: &str, names: &[&str], extra: &[&str]) -> Self {
        Self::with_security(exe, names, extra, false)
    }

    /// A deployment whose cluster file says `insecure = true`: plaintext,
    /// no certificates.
    pub fn new_insecure(exe: &str, names: &[&str], extra: &[&str]) -> Self {
        Self::with_security(exe, names, extra, true)
    }

    fn with_security(exe: &str, names: &[&str], extra: &[&str], insecure: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ports = free_ports(names.len());
        let cluster_id = format!("test-{}", std::process::id());
        let mut file = ClusterFile {
            cluster_id: cluster_id.clone(),
            insecure,
            tls: None,
            nodes: names
                .iter()
                .zip(&ports)
                .map(|(n, p)| NodeEntry {
                    name: n.to_string(),
                    addr: format!("127.0.0.1:{p}"),
                    data_dir: PathBuf::from(slug(n)),
                    cert: None,
                    key: None,
                    resp: None,
                })
                .collect(),
        };
        if !insecure {
            file.issue_certs(dir.path(), Path::new("tls")).unwrap();
        }
        let cluster_file = dir.path().join("cluster.toml");
        std::fs::write(&cluster_file, file.to_toml()).unwrap();
        let access = ClusterFile::load(&cluster_file).unwrap().access().unwrap();
        Deployment {
            addrs: names
                .iter()
                .zip(&ports)
                .map(|(n, p)| (n.to_string(), format!("127.0.0.1:{p}").parse().unwrap()))
                .collect(),
            names: names.iter().map(|s| s.to_string()).collect(),
            dir,
            cluster_file,
            cluster_id,
            access,
            exe: PathBuf::from(exe),
            extra: extra.iter().map(|s| s.to_string()).collect(),
            procs: Mutex::new(HashMap::new()),
            starts: HashMap::new(),
        }
    }

    pub fn data_dir(&self, name: &str) -> PathBuf {
        self.dir.path().join(slug(name))
    }

    pub fn log_path(&self, name: &str, start: usize) -> PathBuf {
        self.dir.path().join(format!("{}.{start}.log", slug(name)))
    }

    /// Flags given to nodes started from now on.
    pub fn set_extra(&mut self, extra: &[&str]) {
        self.extra = extra.iter().map(|s| s.to_string()).collect();
    }

    /// Everything the node's processes logged so far.
    pub fn log(&self, name: &str) -> String {
        let n = self.starts.get(name).copied().unwrap_or(0);
        (1..=n)
            .map(|i| std::fs::read_to_string(self.log_path(name, i)).unwrap_or_default())
            .collect()
    }

    /// Starts (or restarts) a node and waits until it accepts connections.
    pub fn start(&mut self, name: &str) {
        let n = {
            let n = self.starts.entry(name.to_string()).or_insert(0);
            *n += 1;
            *n
        };
        let log = std::fs::File::create(self.log_path(name, n)).unwrap();
        let child = Command::new(&self.exe)
            .arg("serve")
            .arg("--cluster")
            .arg(&self.cluster_file)
            .arg("--node")
            .arg(name)
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("spawn serve");
        self.procs.lock().unwrap().insert(name.to_string(), child);
        // The port is bound before recovery runs, so a connection may be
        // accepted by the kernel before the node is up: wait for the
        // line the node prints once it serves.
        let path = self.log_path(name, n);
        let deadline = Instant::now() + PATIENCE;
        while !std::fs::read_to_string(&path)
            .unwrap_or_default()
            .contains(" listening on ")
        {
            let status = self
                .procs
                .lock()
                .unwrap()
                .get_mut(name)
                .unwrap()
                .try_wait()
                .unwrap();
            if let Some(status) = status {
                panic!("{name} exited ({status}):\n{}", self.log(name));
            }
            assert!(
                Instant::now() < deadline,
                "{name} did not listen:\n{}",
                self.log(name)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts a node that must refuse to start: waits for it to exit and
    /// returns its exit code and everything it printed.
    pub fn start_refused(&mut self, name: &str) -> (Option<i32>, String) {
        let n = {
            let n = self.starts.entry(name.to_string()).or_insert(0);
            *n += 1;
            *n
        };
        let log = std::fs::File::create(self.log_path(name, n)).unwrap();
        let mut child = Command::new(&self.exe)
            .arg("serve")
            .arg("--cluster")
            .arg(&self.cluster_file)
            .arg("--node")
            .arg(name)
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("spawn serve");
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("{name} kept running:\n{}", self.log(name));
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let text = std::fs::read_to_string(self.log_path(name, n)).unwrap_or_default();
        (status.code(), text)
    }

    /// Rewrites the cluster file through `edit`.
    pub fn edit_cluster_file(&self, edit: impl FnOnce(&mut ClusterFile)) {
        let text = std::fs::read_to_string(&self.cluster_file).unwrap();
        let mut file: ClusterFile = toml::from_str(&text).unwrap();
        edit(&mut file);
        std::fs::write(&self.cluster_file, file.to_toml()).unwrap();
    }

    pub fn start_all(&mut self) {
        for n in self.names.clone() {
            self.start(&n);
        }
    }

    /// SIGKILL: no chance to flush or say goodbye.
    pub fn kill9(&self, name: &str) {
        let mut child = self.procs.lock().unwrap().remove(name).expect("running");
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// The process id of a running node.
    pub fn pid(&self, name: &str) -> u32 {
        self.procs.lock().unwrap()[name].id()
    }

    /// A running node's resident memory in KiB (`VmRSS` of /proc/PID/status).
    pub fn rss_kib(&self, name: &str) -> u64 {
        self.status_kib(name, "VmRSS:")
    }

    /// The peak resident memory of a running node so far, in KiB (`VmHWM`):
    /// catches growth that was freed again before a test looked.
    pub fn peak_rss_kib(&self, name: &str) -> u64 {
        self.status_kib(name, "VmHWM:")
    }

    fn status_kib(&self, name: &str, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid(name))).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {field} in /proc status"))
    }

    /// Sends a signal (`STOP`, `CONT`, ...) to a running node.
    pub fn signal(&self, name: &str, sig: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.pid(name).to_string())
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{sig} {name}");
    }

    /// The exit status of a node's process, once it has exited.
    pub fn exit_status(&self, name: &str) -> Option<std::process::ExitStatus> {
        self.procs.lock().unwrap().get_mut(name)?.try_wait().ok()?
    }

    /// A node's `--stats` figure `key`, e.g. `injected_drops`.
    pub fn stat<S: System>(&self, node: &str, key: &str) -> u64 {
        let stats = self.client::<S>(node).stats().unwrap();
        stats
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key} ")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {key} in {stats}"))
    }

    pub fn client<S: System>(&self, name: &str) -> Client<S> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            match Client::<S>::connect_with(self.addrs[name], name, &self.access, false, PATIENCE) {
                Ok(c) => return c,
                Err(e) if Instant::now() > deadline => panic!("cannot reach {name}: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        for (_, mut c) in self.procs.lock().unwrap().drain() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn slug(name: &str) -> String {
    name.replace('(', "-").replace(')', "").to_lowercase()
}

/// The log file of a node's data directory.
pub fn wal(dir: &Path) -> PathBuf {
    dir.join("wal.log")
}

/// Polls `f` until it returns `Some`, or panics after PATIENCE.
pub fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One round of a lock-server client `name` (the plain lock server or a
/// wrapper with its inputs and outputs): lock, wait for `Locked`, check that
/// no other client was told `Locked` meanwhile, hold it for `hold`, unlock.
pub fn lock_round<S>(d: &Deployment, name: &str, holder: &Mutex<Option<String>>, hold: Duration)
where
    S: System<Input = lockserv::Input, Output = lockserv::Output>,
{
    let mut c = d.client::<S>(name);
    c.submit(lockserv::Input::Lock(lockserv::input::Lock))
        .unwrap();
    let out = c.next_output(PATIENCE).unwrap().expect("Locked");
    assert!(matches!(out.output, lockserv::Output::Locked(_)));
    {
        let mut h = holder.lock().unwrap();
        assert_eq!(
            *h, None,
            "{name} told Locked while another client holds the lock"
        );
        *h = Some(name.to_string());
    }
    std::thread::sleep(hold);
    *holder.lock().unwrap() = None;
    c.submit(lockserv::Input::Unlock(lockserv::input::Unlock))
        .unwrap();
}
