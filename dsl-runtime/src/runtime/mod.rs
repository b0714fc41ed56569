//! The runtime: the same handlers the checker explored, run as one process
//! per node on real sockets, with durable state.
//!
//! - [`node`] — the event loop that owns a node's state and runs handlers;
//! - [`transport`] — peers and clients over TCP, handshake, reconnection;
//! - [`tls`] — certificates and who a connection's certificate names;
//! - [`codec`] — frames (versioned header, cluster id, sender, size limit);
//! - [`protocol`] — what clients and nodes say inside frames;
//! - [`wal`], [`snapshot`], [`recovery`] — durability, on a [`disk`] a
//!   test can crash; [`datadir`] — the data directory's lock and identity;
//! - [`live_upgrade`] — an upgraded program on an old version's data
//!   directory and among its peers;
//! - [`timers`] — the handlers' named timers as deadlines;
//! - [`faults`] — fault injection driven by [`crate::Faults`];
//! - [`bounded`] — queues bounded in bytes, rate-limited warnings;
//! - [`monitor`] — local invariants checked after each handler;
//! - [`metrics`] — counters;
//! - [`cluster_file`] — the TOML deployment description;
//! - [`client`] — the client library;
//! - [`resp`], [`resp_gateway`] — the Redis protocol, and a front end
//!   speaking it in a node's process;
//! - [`input_syntax`] — inputs written on a command line.
//!
//! Compiled only with the `runtime` cargo feature.

pub mod bounded;
pub mod client;
pub mod cluster_file;
pub mod codec;
pub mod datadir;
pub mod disk;
pub mod faults;
pub mod input_syntax;
pub mod live_upgrade;
pub mod metrics;
pub mod monitor;
pub mod node;
pub mod protocol;
pub mod recovery;
pub mod resp;
pub mod resp_gateway;
pub mod snapshot;
pub mod timers;
pub mod tls;
pub mod transport;
pub mod wal;

use std::sync::Arc;

pub use client::{Access, Client, ClientError};
pub use cluster_file::{parse_node, ClusterFile, ConfigError, Deployment, NodeEntry, TlsFiles};
pub use faults::{Injector, InjectorSettings};
pub use input_syntax::{input_names, parse_input};
pub use live_upgrade::{LivePlan, LiveUpgrade};
pub use metrics::Metrics;
pub use monitor::MonitorMode;
pub use node::LoopSettings;
pub use protocol::{Reply, Request};
pub use resp::{RespLimits, RespValue};
pub use resp_gateway::{GatewayLimits, RespService};
pub use transport::Limits;
pub use wal::SyncMode;

use crate::system::System;

/// Everything `serve` needs besides the deployment.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The node to run, by name (`Server`, `Client(0)`).
    pub node: String,
    /// Event-loop settings: durability, monitors, fault injection.
    pub settings: LoopSettings,
    /// The frame payload limit.
    pub max_payload: u32,
    /// Bounds on queues, connections and idle clients.
    pub limits: transport::Limits,
}

/// Why [`serve`] stopped with an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServeError {
    /// The node could not start or could not go on: bad configuration, a
    /// data directory recovery refuses, a port in use, a failed disk.
    /// (The generated binary exits 2.)
    Failed(String),
    /// A fatal runtime monitor found a violated invariant. (Exit 1.)
    Violation(String),
}

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServeError::Failed(e) | ServeError::Violation(e) => f.write_str(e),
        }
    }
}

impl From<String> for ServeError {
    fn from(e: String) -> Self {
        ServeError::Failed(e)
    }
}

/// Runs one node of `deployment` until it is told to stop (Ctrl-C or
/// SIGTERM) or fails. Locks the node's data directory and recovers its
/// state from it first.
pub fn serve<S: System>(deployment: Deployment<S>, opts: ServeOptions) -> Result<(), ServeError> {
    serve_with(deployment, opts, None)
}

/// Why the runtime will not run `S` without a [`LiveUpgrade`], if it will
/// not: a rolling-upgrade model (the checker's `transform::Upgrade`)
/// served as a plain system would read the old version's data directory
/// and peers in the wrong formats, so it is served only through its live
/// upgrade ([`serve_live`]), and refused otherwise.
pub fn refuses_to_serve<S: System>() -> Option<String> {
    S::upgrade_timer().map(|_| {
        "this system is a rolling-upgrade model without a live upgrade: `check` explores its \
         mixed-version worlds, but this program cannot migrate a node's data or speak to old \
         peers; deploy the old or the new version"
            .to_string()
    })
}

/// [`serve`], with a Redis-protocol front end on the node's `resp`
/// address (from the cluster file) when `resp` is given and the node has
/// one.
pub fn serve_with<S: System>(
    deployment: Deployment<S>,
    opts: ServeOptions,
    resp: Option<Arc<dyn RespService<S>>>,
) -> Result<(), ServeError> {
    serve_live(deployment, opts, resp, None)
}

/// [`serve_with`], as the upgraded side of a live upgrade when `live` is
/// given: an old version's data directory is migrated before the node
/// starts, and old peers are spoken to in their encoding (see
/// [`live_upgrade`]).
pub fn serve_live<S: System>(
    deployment: Deployment<S>,
    opts: ServeOptions,
    resp: Option<Arc<dyn RespService<S>>>,
    live: Option<Arc<dyn LiveUpgrade<S>>>,
) -> Result<(), ServeError> {
    if live.is_none() {
        if let Some(why) = refuses_to_serve::<S>() {
            return Err(ServeError::Failed(why));
        }
    }
    let me = deployment.index_named(&opts.node).map_err(|e| e.0)?;
    let node = deployment.setup.nodes()[me];
    let addr = deployment.addrs[me];
    let dir = deployment.data_dirs[me].clone();
    let cluster = codec::cluster_id(&deployment.cluster_id);

    let node_name = node.to_string();
    let owner = recovery::Owner {
        cluster_id: &deployment.cluster_id,
        node: &node_name,
    };
    // The lock before anything reads the directory: a second process on it
    // must not even run recovery.
    let _lock = datadir::lock(&dir)?;
    let listener = std::net::TcpListener::bind(addr)
        .map_err(|e| format!("{node} cannot listen on {addr}: {e}"))?;
    let resp_listener = match (deployment.resp_addrs.get(me).copied().flatten(), resp) {
        (Some(at), Some(service)) => {
            let l = std::net::TcpListener::bind(at)
                .map_err(|e| format!("{node} cannot listen for RESP on {at}: {e}"))?;
            l.set_nonblocking(true)
                .map_err(|e| format!("cannot configure the RESP listener: {e}"))?;
            Some((at, l, service))
        }
        (Some(at), None) => {
            tracing::warn!(%node, "the cluster file gives resp = {at}, but this program has no RESP front end");
            None
        }
        _ => None,
    };
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("cannot configure the listener: {e}"))?;
    let disk: Arc<dyn disk::Disk> = Arc::new(disk::OsDisk);
    let recovered =
        match &live {
            None => recovery::recover::<S>(&*disk, &dir, owner, node, &deployment.setup),
            Some(live) => {
                live.open(&*disk, &dir, owner, node, &deployment.setup)
                    .map(|opened| {
                        if let Some(m) = &opened.migrated {
                            println!(
                        "{node} migrated its data directory to version {} at log position {} \
                         ({} old records replayed{})",
                        live.version(),
                        m.next_seq,
                        m.replayed,
                        if m.from_snapshot { " after the old snapshot" } else { "" }
                    );
                        }
                        opened.recovered
                    })
            }
        }
        .map_err(|r| format!("{node}: {r}"))?;
    if let Some((bytes, why)) = &recovered.cut {
        tracing::warn!(%node, bytes, "log tail cut off during recovery: {why}");
    }
    let fresh = recovered.fresh;
    tracing::info!(
        %node,
        replayed = recovered.replayed,
        snapshot = recovered.from_snapshot,
        fresh,
        "recovered"
    );

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the I/O runtime: {e}"))?;

    let tls = match &deployment.tls {
        Some(paths) => Some(Arc::new(
            tls::NodeTls::load(paths, me, &deployment.names())
                .map_err(|e| format!("{node}: {e}"))?,
        )),
        None => {
            tracing::warn!(
                %node,
                "INSECURE: the cluster file says insecure = true: links are plaintext and \
                 unauthenticated, so anyone who can reach {addr} can act as any node or client"
            );
            None
        }
    };
    let security = if tls.is_some() {
        "mutual TLS"
    } else {
        "INSECURE plaintext"
    };
    let metrics = Arc::new(Metrics::default());
    let (events_tx, events_rx) = std::sync::mpsc::channel();
    let names = deployment.names();
    let transport = transport::Transport::<S>::new(
        cluster,
        me,
        names,
        events_tx.clone(),
        metrics.clone(),
        opts.max_payload,
        codec::config_hash(deployment.setup.config()),
        tls,
        opts.limits.clone(),
        live.clone(),
    );

    let result = rt.block_on(async {
        let listener = tokio::net::TcpListener::from_std(listener)
            .map_err(|e| ServeError::Failed(format!("cannot use the listener: {e}")))?;
        let peers = (0..deployment.setup.len())
            .map(|i| {
                (i != me).then(|| {
                    transport::spawn_peer_writer(i, deployment.addrs[i], transport.clone())
                })
            })
            .collect();
        let node_loop = node::NodeLoop::new(node::LoopParts {
            me,
            setup: deployment.setup.clone(),
            recovered,
            dir: dir.clone(),
            disk: disk.clone(),
            cluster,
            settings: opts.settings.clone(),
            metrics: metrics.clone(),
            events: events_rx,
            to_self: events_tx.clone(),
            peers,
        })?
        .with_live(live.clone());
        let looper = std::thread::Builder::new()
            .name(format!("verdict-node-{me}"))
            .spawn(move || node_loop.run(fresh))
            .map_err(|e| format!("cannot start the event loop: {e}"))?;
        tokio::spawn(transport::accept_loop(listener, transport.clone()));
        if let Some((at, l, service)) = resp_listener {
            let listener = tokio::net::TcpListener::from_std(l)
                .map_err(|e| ServeError::Failed(format!("cannot use the RESP listener: {e}")))?;
            tokio::spawn(resp_gateway::run(resp_gateway::Gateway {
                listener,
                service,
                events: events_tx.clone(),
                node: node.to_string(),
                limits: GatewayLimits::default(),
            }));
            println!("{node} serves the Redis protocol on {at} (INSECURE plaintext)");
        }
        println!(
            "{node} listening on {addr} ({security}, cluster {}, data {})",
            deployment.cluster_id,
            dir.display()
        );
        use std::io::Write;
        let _ = std::io::stdout().flush();

        // Wait for a stop signal or for the loop to end by itself.
        let done = tokio::task::spawn_blocking(move || looper.join());
        tokio::pin!(done);
        let stop = shutdown_signal();
        tokio::pin!(stop);
        let joined = tokio::select! {
            j = &mut done => j,
            _ = &mut stop => {
                let _ = events_tx.send(node::LoopEvent::Shutdown);
                done.await
            }
        };
        match joined {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(e @ node::LoopError::Violation(_)))) => {
                Err(ServeError::Violation(format!("{node}: {e}")))
            }
            Ok(Ok(Err(e))) => Err(ServeError::Failed(format!("{node}: {e}"))),
            _ => Err(ServeError::Failed(format!(
                "{node}: the event loop panicked"
            ))),
        }
    });
    rt.shutdown_timeout(std::time::Duration::from_millis(100));
    result
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Installs a `tracing` subscriber writing to stderr; the filter comes from
/// `RUST_LOG`, else `default` (e.g. `info`). Safe to call twice.
pub fn init_logging(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}
