//! The `serve`, `client`, `cluster` and `repair` subcommands: run a node,
//! talk to one, start a whole small deployment locally, or repair a data
//! directory recovery refuses.
//!
//! Exit codes: 0 on success, 2 for bad flags, bad configuration and every
//! failure to start or go on (a data directory recovery refuses, a port in
//! use, a node that cannot be reached), 1 only when a fatal runtime
//! monitor found a violated invariant.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitCode, Stdio};
use std::time::{Duration, Instant};

use clap::{ArgMatches, Args, Command, FromArgMatches};

use crate::cli::app::usage;

/// `println!` that ignores a closed stdout (`client ... | head`).
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}
use crate::cli::{EXIT_OK, EXIT_USAGE, EXIT_VIOLATION};
use crate::faults::Faults;
use crate::meta::TriggerMeta;
use crate::runtime::{
    self, parse_input, Client, ClusterFile, Deployment, InjectorSettings, Limits, LoopSettings,
    MonitorMode, NodeEntry, ServeOptions, SyncMode,
};
use crate::setup::Setup;
use crate::system::System;

/// How a node runs: durability, monitors, fault injection, logging.
/// Shared by `serve` and `cluster` (which passes them to every node).
#[derive(Args, Debug, Clone)]
pub struct NodeArgs {
    /// Faults to inject into this node's outgoing messages: the same list
    /// `check --faults` takes (drop, dup, reorder, partition, each
    /// optionally `=N`). Crashes are real: kill the process.
    #[arg(long, default_value = "none", value_name = "LIST")]
    pub faults: Faults,
    /// Probability that an allowed fault hits a given message.
    #[arg(long, default_value_t = 0.05, value_name = "P")]
    pub fault_rate: f64,
    /// Longest delay given to a reordered message, in milliseconds.
    #[arg(long, default_value_t = 50, value_name = "MS")]
    pub max_delay_ms: u64,
    /// Seed of the fault injector (default: derived from the node).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Evaluate the role's local invariants after every handler; log violations.
    #[arg(long)]
    pub monitor: bool,
    /// Like --monitor, and stop the node at the first violation, before
    /// the violating event's effects leave it.
    #[arg(long)]
    pub monitor_fatal: bool,
    /// When the log is forced to disk: group (one fsync per batch of
    /// events), per-event, or off (no fsync: survives kill -9, not power loss).
    #[arg(long, default_value = "group", value_name = "MODE")]
    pub fsync: SyncMode,
    /// Snapshot the state and empty the log after this many events.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    pub snapshot_every: u64,
    /// Largest frame payload accepted, in bytes.
    #[arg(long, default_value_t = runtime::codec::DEFAULT_MAX_PAYLOAD, value_name = "BYTES")]
    pub max_frame: u32,
    /// Most connections (peers and clients) open at once; more are closed
    /// at once.
    #[arg(long, default_value_t = Limits::default().max_connections, value_name = "N")]
    pub max_connections: usize,
    /// Close a client connection that sends no request for this long
    /// (`client --follow` pings well within it).
    #[arg(long, default_value_t = Limits::default().client_idle.as_secs(), value_name = "SECS")]
    pub idle_timeout_secs: u64,
    /// Bytes queued for one peer; past it on a live link the connection
    /// is reset and its queue lost (counted in --stats).
    #[arg(long, default_value_t = Limits::default().peer_bytes, value_name = "BYTES")]
    pub peer_buffer: usize,
    /// Bytes of replies and outputs queued for one client; past it the
    /// client is disconnected as not reading.
    #[arg(long, default_value_t = Limits::default().client_bytes, value_name = "BYTES")]
    pub client_buffer: usize,
    /// Bytes of received frames waiting for the event loop; past it the
    /// node stops reading its sockets until it catches up.
    #[arg(long, default_value_t = Limits::default().inbound_bytes, value_name = "BYTES")]
    pub inbound_buffer: usize,
    /// Log filter when RUST_LOG is unset (error, warn, info, debug, trace).
    #[arg(long, default_value = "info", value_name = "LEVEL")]
    pub log: String,
}

impl NodeArgs {
    fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.fault_rate) {
            return Err(format!(
                "--fault-rate {} must be between 0 and 1",
                self.fault_rate
            ));
        }
        if self.snapshot_every == 0 {
            return Err("--snapshot-every must be at least 1".into());
        }
        if self.max_frame < 64 {
            return Err("--max-frame must be at least 64 bytes".into());
        }
        if self.max_connections == 0 || self.idle_timeout_secs == 0 {
            return Err("--max-connections and --idle-timeout-secs must be at least 1".into());
        }
        for (flag, v) in [
            ("--peer-buffer", self.peer_buffer),
            ("--client-buffer", self.client_buffer),
            ("--inbound-buffer", self.inbound_buffer),
        ] {
            if v < 4096 {
                return Err(format!("{flag} must be at least 4096 bytes"));
            }
        }
        Ok(())
    }

    fn options(&self, node: &str, index: usize) -> ServeOptions {
        ServeOptions {
            node: node.to_string(),
            settings: LoopSettings {
                sync: self.fsync,
                snapshot_every: self.snapshot_every,
                monitor: if self.monitor_fatal {
                    MonitorMode::Fatal
                } else if self.monitor {
                    MonitorMode::Log
                } else {
                    MonitorMode::Off
                },
                injector: InjectorSettings {
                    faults: self.faults,
                    rate: self.fault_rate,
                    max_delay: Duration::from_millis(self.max_delay_ms),
                    seed: self.seed.unwrap_or(index as u64 + 1),
                },
                ..LoopSettings::default()
            },
            max_payload: self.max_frame,
            limits: Limits {
                inbound_bytes: self.inbound_buffer,
                peer_bytes: self.peer_buffer,
                client_bytes: self.client_buffer,
                max_connections: self.max_connections,
                client_idle: Duration::from_secs(self.idle_timeout_secs),
            },
        }
    }

    /// The flags again, for a child `serve` process.
    fn to_args(&self) -> Vec<String> {
        let mut a = vec![
            "--faults".into(),
            self.faults.to_string(),
            "--fault-rate".into(),
            self.fault_rate.to_string(),
            "--max-delay-ms".into(),
            self.max_delay_ms.to_string(),
            "--fsync".into(),
            match self.fsync {
                SyncMode::Group => "group",
                SyncMode::PerEvent => "per-event",
                SyncMode::Off => "off",
            }
            .into(),
            "--snapshot-every".into(),
            self.snapshot_every.to_string(),
            "--max-frame".into(),
            self.max_frame.to_string(),
            "--max-connections".into(),
            self.max_connections.to_string(),
            "--idle-timeout-secs".into(),
            self.idle_timeout_secs.to_string(),
            "--peer-buffer".into(),
            self.peer_buffer.to_string(),
            "--client-buffer".into(),
            self.client_buffer.to_string(),
            "--inbound-buffer".into(),
            self.inbound_buffer.to_string(),
            "--log".into(),
            self.log.clone(),
        ];
        if let Some(seed) = self.seed {
            a.extend(["--seed".into(), seed.to_string()]);
        }
        if self.monitor {
            a.push("--monitor".into());
        }
        if self.monitor_fatal {
            a.push("--monitor-fatal".into());
        }
        a
    }
}

/// Flags of `serve`.
#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// The cluster file (TOML: `cluster_id` and `[[node]]` sections with name, addr, data_dir).
    #[arg(long, value_name = "FILE")]
    pub cluster: PathBuf,
    /// The node to run, as named in the cluster file, e.g. 'Client(0)'.
    #[arg(long, value_name = "NAME")]
    pub node: String,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub node_args: NodeArgs,
}

/// Flags of `client`.
#[derive(Args, Debug, Clone)]
pub struct ClientArgs {
    /// The cluster file.
    #[arg(long, value_name = "FILE")]
    pub cluster: PathBuf,
    /// The node to talk to. Without it, --stats, --partition and --heal go
    /// to every node.
    #[arg(long, value_name = "NAME")]
    pub node: Option<String>,
    /// Inputs to submit in order, each written `Name`, `Name(args)` with
    /// JSON arguments, or as JSON: `Lock`, `Add(5)`, `{"Add": 5}`.
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// Wait until this many outputs arrived (exit 2 if they do not in --timeout-ms).
    #[arg(long, value_name = "N")]
    pub expect: Option<usize>,
    /// Submit each input only once the one before it has had an output
    /// (within --timeout-ms): for clients that take one request at a time,
    /// as the replicated stores' clients do (a new input replaces the one
    /// they wait for).
    #[arg(long)]
    pub each: bool,
    /// Without --expect: print outputs that arrive this long after the last input.
    #[arg(long, default_value_t = 500, value_name = "MS")]
    pub wait_ms: u64,
    /// Give up on a request or an expected output after this long.
    #[arg(long, default_value_t = 10_000, value_name = "MS")]
    pub timeout_ms: u64,
    /// Keep printing the node's outputs until interrupted.
    #[arg(long)]
    pub follow: bool,
    /// First print the outputs the node emitted lately (up to 64).
    #[arg(long)]
    pub recent: bool,
    /// Print the node's counters.
    #[arg(long)]
    pub stats: bool,
    /// Print the node's state, field by field.
    #[arg(long)]
    pub state: bool,
    /// Partition these nodes (comma-separated names) from the rest. The
    /// nodes must run with --faults including partition.
    #[arg(long, value_name = "NAMES")]
    pub partition: Option<String>,
    /// Heal the partition, releasing held messages.
    #[arg(long)]
    pub heal: bool,
}

/// Flags of `cluster` (besides the system's size and config flags).
#[derive(Args, Debug, Clone)]
pub struct ClusterArgs {
    /// Directory for the cluster file, data and logs (default: a new
    /// temporary directory). A directory with a cluster.toml is reused,
    /// state and all.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// First port; nodes get consecutive ports (default: free ports).
    #[arg(long, value_name = "PORT")]
    pub base_port: Option<u16>,
    /// Stop after this many seconds (default: run until Ctrl-C).
    #[arg(long, value_name = "SECS")]
    pub duration: Option<u64>,
    /// A new cluster runs plaintext and unauthenticated (`insecure = true`)
    /// instead of with mutual TLS and certificates made for it.
    #[arg(long)]
    pub insecure: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub node_args: NodeArgs,
}

pub(crate) fn serve_command() -> Command {
    ServeArgs::augment_args(Command::new("serve"))
        .about("Run one node of a deployment described by a cluster file")
}

pub(crate) fn client_command() -> Command {
    ClientArgs::augment_args(Command::new("client")).about(
        "Submit inputs to a node and print its outputs; or print stats or state; or partition and heal",
    )
}

/// Flags of `repair`.
#[derive(Args, Debug, Clone)]
pub struct RepairArgs {
    /// The cluster file.
    #[arg(long, value_name = "FILE")]
    pub cluster: PathBuf,
    /// The node whose data directory to inspect or repair (it must be stopped).
    #[arg(long, value_name = "NAME")]
    pub node: String,
    /// Repair: keep the longest history the directory can be trusted with,
    /// move every old file aside (nothing is deleted), and give the node a
    /// new incarnation. Without it, only report.
    #[arg(long)]
    pub accept_data_loss: bool,
    /// Accept that this peer lost its state (its directory was wiped or
    /// repaired): forget the incarnation this node knew it by.
    #[arg(long, value_name = "PEER")]
    pub forget_peer: Vec<String>,
}

pub(crate) fn repair_command() -> Command {
    RepairArgs::augment_args(Command::new("repair")).about(
        "Inspect a stopped node's data directory; with --accept-data-loss repair one recovery \
         refuses; with --forget-peer accept a peer that lost its state",
    )
}

/// Flags of `certs`.
#[derive(Args, Debug, Clone)]
pub struct CertsArgs {
    /// The cluster file to make certificates for; it is rewritten to point
    /// at them.
    #[arg(long, value_name = "FILE")]
    pub cluster: PathBuf,
    /// Directory for the certificates, relative to the cluster file.
    #[arg(long, default_value = "tls", value_name = "DIR")]
    pub out: PathBuf,
    /// Replace the certificates the file already names (every node then
    /// needs the new ones before it can talk to the others).
    #[arg(long)]
    pub force: bool,
}

pub(crate) fn certs_command() -> Command {
    CertsArgs::augment_args(Command::new("certs")).about(
        "Make a certificate authority and certificates for every node and for clients, and \
         point the cluster file at them",
    )
}

pub(crate) fn run_certs<S: System>(m: &ArgMatches) -> ExitCode {
    let args = match CertsArgs::from_arg_matches(m) {
        Ok(a) => a,
        Err(e) => return usage(e),
    };
    // Read as written: paths stay relative to the file.
    let text = match std::fs::read_to_string(&args.cluster) {
        Ok(t) => t,
        Err(e) => return usage(format!("cannot read {}: {e}", args.cluster.display())),
    };
    let mut file: ClusterFile = match toml::from_str(&text) {
        Ok(f) => f,
        Err(e) => return usage(format!("{}: {}", args.cluster.display(), e.message())),
    };
    if file.tls.is_some() && !args.force {
        return usage(format!(
            "{} already names certificates; give --force to replace them",
            args.cluster.display()
        ));
    }
    let base = args
        .cluster
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let base = if base.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        base
    };
    let was_insecure = file.insecure;
    if let Err(e) = file.issue_certs(&base, &args.out) {
        return usage(e.0);
    }
    // Check the result against the system before writing it.
    if let Err(e) = file.resolve::<S>(S::Config::default()) {
        return usage(e.0);
    }
    if let Err(e) = std::fs::write(&args.cluster, file.to_toml()) {
        return usage(format!("cannot write {}: {e}", args.cluster.display()));
    }
    say!(
        "certificates for {} nodes and clients in {}; {} now uses them{}",
        file.nodes.len(),
        base.join(&args.out).display(),
        args.cluster.display(),
        if was_insecure {
            " (insecure = true removed)"
        } else {
            ""
        }
    );
    say!(
        "keep {} private: it can make certificates for this cluster",
        base.join(&args.out).join("ca-key.pem").display()
    );
    ExitCode::from(EXIT_OK)
}

pub(crate) fn cluster_command() -> Command {
    ClusterArgs::augment_args(Command::new("cluster"))
        .about("Start every node of a small deployment locally, as separate processes")
}

fn load<S: System>(path: &Path, config: S::Config) -> Result<Deployment<S>, String> {
    ClusterFile::load(path)
        .and_then(|f| f.resolve::<S>(config))
        .map_err(|e| e.0)
}

pub(crate) fn run_serve<S: System>(
    m: &ArgMatches,
    config: S::Config,
    refused: &dyn Fn(&crate::Setup<S>) -> Result<(), crate::SetupError>,
    resp: Option<std::sync::Arc<dyn runtime::RespService<S>>>,
    live: Option<std::sync::Arc<dyn runtime::LiveUpgrade<S>>>,
) -> ExitCode {
    let args = match ServeArgs::from_arg_matches(m) {
        Ok(a) => a,
        Err(e) => return usage(e),
    };
    if let Err(e) = args.node_args.validate() {
        return usage(e);
    }
    runtime::init_logging(&args.node_args.log);
    let deployment = match load::<S>(&args.cluster, config) {
        Ok(d) => d,
        Err(e) => return usage(e),
    };
    if let Err(e) = refused(&deployment.setup) {
        return usage(e);
    }
    let index = match deployment.index_named(&args.node) {
        Ok(i) => i,
        Err(e) => return usage(e),
    };
    let opts = args.node_args.options(&args.node, index);
    match runtime::serve_live(deployment, opts, resp, live) {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("error: {e}");
            ExitCode::from(match e {
                runtime::ServeError::Violation(_) => EXIT_VIOLATION,
                runtime::ServeError::Failed(_) => EXIT_USAGE,
            })
        }
    }
}

pub(crate) fn run_repair<S: System>(m: &ArgMatches, config: S::Config) -> ExitCode {
    let args = match RepairArgs::from_arg_matches(m) {
        Ok(a) => a,
        Err(e) => return usage(e),
    };
    if S::upgrade_timer().is_some() {
        return usage(
            "repair does not handle the data directory of a rolling upgrade: repair an old \
             version's directory with the old program before upgrading the node",
        );
    }
    let deployment = match load::<S>(&args.cluster, config) {
        Ok(d) => d,
        Err(e) => return usage(e),
    };
    let index = match deployment.index_named(&args.node) {
        Ok(i) => i,
        Err(e) => return usage(e),
    };
    let node = deployment.setup.nodes()[index];
    let name = node.to_string();
    let dir = &deployment.data_dirs[index];
    let _lock = match runtime::datadir::lock(dir) {
        Ok(l) => l,
        Err(e) => return usage(e),
    };
    let disk = runtime::disk::OsDisk;
    for peer in &args.forget_peer {
        if let Err(e) = deployment.index_named(peer) {
            return usage(e);
        }
        let mut known = match runtime::datadir::KnownPeers::load(&disk, dir) {
            Ok(k) => k,
            Err(e) => return usage(e),
        };
        match known.peers.remove(peer.trim()) {
            Some(inc) => {
                if let Err(e) = known.store(&disk, dir) {
                    return usage(format!("cannot write {}: {e}", dir.display()));
                }
                say!("{name}: forgot {peer} (incarnation {inc}); it is accepted as it is now when it next connects");
            }
            None => say!("{name}: does not know {peer}; nothing to forget"),
        }
    }
    if !args.forget_peer.is_empty() && !args.accept_data_loss {
        return ExitCode::from(EXIT_OK);
    }
    let owner = runtime::recovery::Owner {
        cluster_id: &deployment.cluster_id,
        node: &name,
    };
    let report = match runtime::recovery::repair::<S>(
        &disk,
        dir,
        owner,
        node,
        &deployment.setup,
        args.accept_data_loss,
    ) {
        Ok(r) => r,
        Err(e) => return usage(e),
    };
    if report.problems.is_empty() {
        say!(
            "{name}: {} is sound (history through record {}); nothing to repair",
            dir.display(),
            report.kept_through
        );
        return ExitCode::from(EXIT_OK);
    }
    for p in &report.problems {
        say!("{name}: {p}");
    }
    match (&report.moved_to, &report.new_incarnation) {
        (Some(aside), Some(inc)) => {
            say!(
                "{name}: repaired: kept the history before record {}; the old files are in {}",
                report.kept_through,
                aside.display()
            );
            say!(
                "{name}: new incarnation {inc}; its peers refuse it until you run, on each, \
                 `repair --cluster {} --node PEER --forget-peer '{name}'`",
                args.cluster.display()
            );
            ExitCode::from(EXIT_OK)
        }
        _ => {
            say!(
                "{name}: a repair would keep the history before record {} and move the old \
                 files aside; run again with --accept-data-loss to do it",
                report.kept_through
            );
            ExitCode::from(EXIT_USAGE)
        }
    }
}

pub(crate) fn run_client<S: System>(m: &ArgMatches) -> ExitCode {
    let args = match ClientArgs::from_arg_matches(m) {
        Ok(a) => a,
        Err(e) => return usage(e),
    };
    // The client never runs handlers: the default configuration is enough
    // to check names against the cluster file.
    let (deployment, access) = match ClusterFile::load(&args.cluster).and_then(|f| {
        let d = f.resolve::<S>(S::Config::default())?;
        Ok((d, f.access()?))
    }) {
        Ok(d) => d,
        Err(e) => return usage(e.0),
    };
    let inputs = match args
        .inputs
        .iter()
        .map(|t| parse_input::<S>(t))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(i) => i,
        Err(e) => return usage(e),
    };
    let timeout = Duration::from_millis(args.timeout_ms);
    let targets: Vec<usize> = match &args.node {
        Some(name) => match deployment.index_named(name) {
            Ok(i) => vec![i],
            Err(e) => return usage(e),
        },
        None => {
            if !inputs.is_empty() || args.state || args.follow || args.expect.is_some() {
                return usage("say which node with --node, e.g. --node 'Client(0)'");
            }
            (0..deployment.setup.len()).collect()
        }
    };
    let control = args.stats || args.partition.is_some() || args.heal || args.state;
    if !control && inputs.is_empty() && !args.follow && !args.recent && args.expect.is_none() {
        return usage("nothing to do: give inputs, or --follow, --recent, --stats, --state, --partition, --heal");
    }
    let side: Option<Vec<String>> = args.partition.as_ref().map(|p| {
        p.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    });
    let mut failed = false;
    for &i in &targets {
        let name = deployment.setup.nodes()[i].to_string();
        let addr = deployment.addrs[i];
        let mut client = match Client::<S>::connect_with(addr, &name, &access, args.recent, timeout)
        {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: cannot reach {name} at {addr}: {e}");
                failed = true;
                continue;
            }
        };
        if let Err(e) = talk(&mut client, &name, &args, &inputs, side.as_ref()) {
            eprintln!("error: {name}: {e}");
            failed = true;
        }
    }
    if failed {
        ExitCode::from(EXIT_USAGE)
    } else {
        ExitCode::from(EXIT_OK)
    }
}

/// One client session: control requests, inputs, then outputs.
fn talk<S: System>(
    client: &mut Client<S>,
    name: &str,
    args: &ClientArgs,
    inputs: &[S::Input],
    side: Option<&Vec<String>>,
) -> Result<(), runtime::ClientError> {
    if let Some(side) = side {
        say!("{name}: {}", client.partition(side.clone())?);
    }
    if args.heal {
        say!("{name}: {}", client.heal()?);
    }
    if args.stats {
        say!("{name}:");
        for line in client.stats()?.lines() {
            say!("  {line}");
        }
    }
    if args.state {
        for (field, value) in client.state()? {
            say!("{name}: {field} = {value}");
        }
    }
    let seen = std::cell::Cell::new(0usize);
    let print = |o: runtime::client::ReceivedOutput<S::Output>| {
        let when = if o.earlier { " (earlier)" } else { "" };
        say!("{name}: output {:?}{when}", o.output);
        seen.set(seen.get() + 1);
    };
    let quiet = Duration::from_millis(0);
    let timeout = Duration::from_millis(args.timeout_ms);
    for (k, (text, input)) in args.inputs.iter().zip(inputs).enumerate() {
        let seq = client.submit(input.clone())?;
        say!("{name}: input {} accepted (log #{seq})", text.trim());
        if args.each {
            match client.next_output(timeout)? {
                Some(o) => print(o),
                None => {
                    return Err(runtime::ClientError::Protocol(format!(
                        "no output for input {} ({}) within {} ms",
                        k + 1,
                        text.trim(),
                        args.timeout_ms
                    )))
                }
            }
        }
        while let Some(o) = client.next_output(quiet)? {
            print(o);
        }
    }
    if args.follow {
        loop {
            match client.next_output(Duration::from_secs(60))? {
                Some(o) => print(o),
                // Say something, so the node does not close us as idle.
                None => drop(client.stats()?),
            }
        }
    }
    if let Some(n) = args.expect {
        let deadline = Instant::now() + timeout;
        while seen.get() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            match client.next_output(left)? {
                Some(o) => print(o),
                None => {
                    return Err(runtime::ClientError::Protocol(format!(
                        "expected {n} outputs, {} arrived within {} ms",
                        seen.get(),
                        args.timeout_ms
                    )))
                }
            }
        }
    } else if !inputs.is_empty() || args.recent {
        let wait = Duration::from_millis(args.wait_ms);
        while let Some(o) = client.next_output(wait)? {
            print(o);
        }
    }
    Ok(())
}

pub(crate) fn run_cluster<S: System>(
    program: &str,
    m: &ArgMatches,
    setup: &Setup<S>,
    config_args: &[String],
    resp_role: Option<usize>,
    live: bool,
) -> ExitCode {
    let args = match ClusterArgs::from_arg_matches(m) {
        Ok(a) => a,
        Err(e) => return usage(e),
    };
    if let Err(e) = args.node_args.validate() {
        return usage(e);
    }
    if let Some(why) = runtime::refuses_to_serve::<S>().filter(|_| !live) {
        return usage(why);
    }
    let dir = args.dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("verdict-{program}-{}", std::process::id()))
    });
    if let Err(e) = std::fs::create_dir_all(dir.join("logs")) {
        return usage(format!("cannot create {}: {e}", dir.display()));
    }
    let dir = dir.canonicalize().unwrap_or(dir);
    let path = dir.join("cluster.toml");
    let names: Vec<String> = setup.nodes().iter().map(|n| n.to_string()).collect();
    let file = if path.exists() {
        match ClusterFile::load(&path) {
            Ok(f) => {
                let mut theirs: Vec<&str> = f.nodes.iter().map(|n| n.name.as_str()).collect();
                let mut ours: Vec<&str> = names.iter().map(String::as_str).collect();
                theirs.sort_unstable();
                ours.sort_unstable();
                if theirs != ours {
                    return usage(format!(
                        "{} describes nodes {}, but the flags ask for {}; use another --dir",
                        path.display(),
                        theirs.join(", "),
                        ours.join(", ")
                    ));
                }
                say!("reusing {} (state and all)", path.display());
                f
            }
            Err(e) => return usage(e),
        }
    } else {
        let fronted: Vec<bool> = setup
            .nodes()
            .iter()
            .map(|n| resp_role == Some(S::role_of(*n)))
            .collect();
        let resp_count = fronted.iter().filter(|f| **f).count();
        let ports = match ports(names.len() + resp_count, args.base_port) {
            Ok(p) => p,
            Err(e) => return usage(e),
        };
        let (ports, resp_ports) = ports.split_at(names.len());
        let mut resp_ports = resp_ports.iter();
        let mut file = ClusterFile {
            cluster_id: format!("{program}-local"),
            insecure: args.insecure,
            tls: None,
            nodes: names
                .iter()
                .zip(ports)
                .zip(&fronted)
                .map(|((name, port), fronted)| NodeEntry {
                    name: name.clone(),
                    addr: format!("127.0.0.1:{port}"),
                    data_dir: PathBuf::from("data").join(slug(name)),
                    cert: None,
                    key: None,
                    resp: fronted
                        .then(|| resp_ports.next().map(|p| format!("127.0.0.1:{p}")))
                        .flatten(),
                })
                .collect(),
        };
        if !args.insecure {
            if let Err(e) = file.issue_certs(&dir, Path::new("tls")) {
                return usage(e.0);
            }
        }
        if let Err(e) = std::fs::write(&path, file.to_toml()) {
            return usage(format!("cannot write {}: {e}", path.display()));
        }
        file
    };
    let deployment = match load::<S>(&path, setup.config().clone()) {
        Ok(d) => d,
        Err(e) => return usage(e),
    };
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => return usage(format!("cannot find this program's path: {e}")),
    };
    let mut children: Vec<(String, Child, PathBuf)> = Vec::new();
    for entry in &file.nodes {
        let log_path = dir.join("logs").join(format!("{}.log", slug(&entry.name)));
        let spawned = std::fs::File::create(&log_path).and_then(|log| {
            let err = log.try_clone()?;
            std::process::Command::new(&exe)
                .arg("serve")
                .arg("--cluster")
                .arg(&path)
                .arg("--node")
                .arg(&entry.name)
                .args(args.node_args.to_args())
                .args(config_args)
                .stdin(Stdio::null())
                .stdout(log)
                .stderr(err)
                .spawn()
        });
        match spawned {
            Ok(child) => children.push((entry.name.clone(), child, log_path)),
            Err(e) => {
                stop(&mut children);
                return usage(format!("cannot start {}: {e}", entry.name));
            }
        }
    }
    // Ready when every node says it serves (its port is bound before
    // recovery, so accepting a connection is not enough).
    let deadline = Instant::now() + Duration::from_secs(30);
    for (i, addr) in deployment.addrs.iter().enumerate() {
        let name = deployment.setup.nodes()[i].to_string();
        let log = children
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|(_, _, log)| log.clone());
        let serving = || {
            log.as_ref()
                .and_then(|l| std::fs::read_to_string(l).ok())
                .is_some_and(|text| text.contains(" listening on "))
        };
        while !serving() {
            if Instant::now() > deadline || exited(&mut children).is_some() {
                let name = deployment.setup.nodes()[i];
                stop(&mut children);
                return usage(format!(
                    "{name} did not start listening on {addr}; see its log in {}",
                    dir.join("logs").display()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    say!(
        "{program}: {} nodes of cluster `{}` running (Ctrl-C stops them)",
        children.len(),
        deployment.cluster_id
    );
    for (i, node) in deployment.setup.nodes().iter().enumerate() {
        say!(
            "  {:<12} {:<21} data {}",
            node.to_string(),
            deployment.addrs[i].to_string(),
            deployment.data_dirs[i].display()
        );
    }
    for (i, node) in deployment.setup.nodes().iter().enumerate() {
        if let Some(at) = deployment.resp_addrs[i] {
            say!(
                "  {:<12} Redis protocol: redis-cli -p {}",
                node.to_string(),
                at.port()
            );
        }
    }
    say!("  logs in {}", dir.join("logs").display());
    say!("cluster file: {}", path.display());
    let config = config_args.join(" ");
    let config = if config.is_empty() {
        String::new()
    } else {
        format!(" {config}")
    };
    // Where nodes speak the Redis protocol, that is what a user drives them
    // with; their own inputs are the gateway's, not a person's.
    let tries: Vec<String> = if let Some(at) = deployment.resp_addrs.iter().flatten().next() {
        vec![
            format!("redis-cli -p {} SET greeting hello", at.port()),
            format!("redis-cli -p {} GET greeting", at.port()),
        ]
    } else if let Some((node, input)) = example_input::<S>(setup) {
        vec![format!(
            "{program} client --cluster {}{config} --node '{node}' {input}",
            path.display()
        )]
    } else {
        Vec::new()
    };
    if !tries.is_empty() {
        say!("try, in another terminal:");
        for line in tries {
            say!("  {line}");
        }
        say!(
            "  {program} client --cluster {}{config} --stats",
            path.display()
        );
    }
    run_until_stopped(children, args.duration, &dir)
}

/// Waits until Ctrl-C, SIGTERM or the `--duration`, reporting nodes that
/// exit on their own, then stops the rest.
fn run_until_stopped(
    mut children: Vec<(String, Child, PathBuf)>,
    duration: Option<u64>,
    dir: &Path,
) -> ExitCode {
    let until = duration.map(|s| Instant::now() + Duration::from_secs(s));
    let stopping = signal_flag();
    loop {
        if let Some((name, status)) = exited(&mut children) {
            say!("{name} exited ({status}); the others keep running");
        }
        if stopping() || until.is_some_and(|u| Instant::now() >= u) || children.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    stop(&mut children);
    say!("stopped; state kept in {}", dir.display());
    ExitCode::from(EXIT_OK)
}

/// A node with an input handler, and the name of one input it handles.
fn example_input<S: System>(setup: &Setup<S>) -> Option<(String, String)> {
    let meta = S::meta();
    let names = runtime::input_names::<S>();
    setup.nodes().iter().find_map(|&n| {
        meta.handlers_of(S::role_of(n))
            .find_map(|(_, h)| match h.trigger {
                // An input of the user's own type is named by its variants.
                TriggerMeta::Input(k) if names.iter().any(|v| v == meta.inputs[k]) => {
                    Some((n.to_string(), meta.inputs[k].to_string()))
                }
                TriggerMeta::Input(_) => Some((n.to_string(), names.first()?.clone())),
                _ => None,
            })
    })
}

/// `Client(0)` -> `client-0`: a file-name-safe form of a node name.
fn slug(name: &str) -> String {
    name.chars()
        .filter_map(|c| match c {
            '(' => Some('-'),
            ')' => None,
            c if c.is_alphanumeric() => Some(c.to_ascii_lowercase()),
            _ => Some('_'),
        })
        .collect()
}

/// `n` ports: consecutive from `base`, or free ones the OS hands out.
fn ports(n: usize, base: Option<u16>) -> Result<Vec<u16>, String> {
    if let Some(b) = base {
        return (0..n)
            .map(|i| {
                b.checked_add(i as u16)
                    .ok_or_else(|| "--base-port is too high for this many nodes".to_string())
            })
            .collect();
    }
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("cannot find free ports: {e}"))?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a: SocketAddr| a.port()))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("cannot find free ports: {e}"))
}

/// The first child that has exited, removed from the list.
fn exited(children: &mut Vec<(String, Child, PathBuf)>) -> Option<(String, String)> {
    let i = children
        .iter_mut()
        .position(|(_, c, _)| matches!(c.try_wait(), Ok(Some(_))))?;
    let (name, mut child, log) = children.remove(i);
    let status = child
        .try_wait()
        .ok()
        .flatten()
        .map_or("unknown status".into(), |s| s.to_string());
    Some((name, format!("{status}; log {}", log.display())))
}

fn stop(children: &mut Vec<(String, Child, PathBuf)>) {
    for (_, child, _) in children.iter_mut() {
        // SIGKILL: their state is durable, so this is also a crash test.
        let _ = child.kill();
        let _ = child.wait();
    }
    children.clear();
}

/// A function telling whether Ctrl-C or SIGTERM arrived.
fn signal_flag() -> impl Fn() -> bool {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let flag = Arc::new(AtomicBool::new(false));
    let set = flag.clone();
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async {
            #[cfg(unix)]
            {
                use tokio::signal::unix::{signal, SignalKind};
                if let Ok(mut term) = signal(SignalKind::terminate()) {
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => {}
                        _ = term.recv() => {}
                    }
                } else {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
            #[cfg(not(unix))]
            {
                let _ = tokio::signal::ctrl_c().await;
            }
        });
        set.store(true, Ordering::SeqCst);
    });
    move || flag.load(Ordering::SeqCst)
}
