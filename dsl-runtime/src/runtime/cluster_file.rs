//! The cluster file: which nodes a deployment has, where each listens and
//! keeps its data, and the cluster's id.
//!
//! ```toml
//! cluster_id = "lockserv-demo"     # frames of other clusters are refused
//!
//! [tls]                            # made by the `certs` or `cluster` subcommand
//! ca = "tls/ca.pem"                # the cluster's certificate authority
//! client_cert = "tls/client.pem"   # what `client` presents
//! client_key = "tls/client-key.pem"
//!
//! [[node]]
//! name = "Server"                  # as the node prints: Server, Client(0), ...
//! addr = "127.0.0.1:7000"          # where it listens for peers and clients
//! data_dir = "data/server"         # its log and snapshot; relative to this file
//! cert = "tls/server.pem"          # its certificate and key
//! key = "tls/server-key.pem"
//! resp = "127.0.0.1:6379"          # optional: its Redis-protocol front end
//!
//! [[node]]
//! name = "Client(0)"
//! addr = "127.0.0.1:7001"
//! data_dir = "data/client-0"
//! cert = "tls/client-0.pem"
//! key = "tls/client-0-key.pem"
//! ```
//!
//! The nodes must be exactly the nodes of one run of the system: every
//! singleton role once, and each parameterised role numbered from 0 without
//! gaps. Their order in the file does not matter. Paths are relative to
//! the file.
//!
//! Without a `[tls]` section and a certificate for every node the file is
//! refused, unless it says `insecure = true`: then links are plaintext and
//! unauthenticated, and every node says so when it starts.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::runtime::client::Access;
use crate::runtime::tls::{self, TlsPaths};
use crate::setup::{Setup, Sizes};
use crate::system::System;

/// A cluster file as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterFile {
    /// The cluster's name; its hash is carried in every frame.
    pub cluster_id: String,
    /// Run without TLS: plaintext, and anyone who can reach a port can act
    /// as any node or client. For experiments on a trusted host only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure: bool,
    /// The cluster's certificate authority and the client certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsFiles>,
    /// The nodes.
    #[serde(rename = "node", default)]
    pub nodes: Vec<NodeEntry>,
}

/// One node of a cluster file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeEntry {
    /// The node's name, e.g. `Server` or `Client(0)`.
    pub name: String,
    /// `host:port` it listens on.
    pub addr: String,
    /// Where it keeps its log and snapshot.
    pub data_dir: PathBuf,
    /// Its certificate (PEM), signed by the cluster's authority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<PathBuf>,
    /// `host:port` of its Redis-protocol front end, for a program that has
    /// one (plaintext and unauthenticated: see
    /// [`crate::runtime::resp_gateway`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resp: Option<String>,
}

/// The `[tls]` section of a cluster file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    /// The cluster's certificate authority (PEM): every connection must
    /// present a certificate it signed.
    pub ca: PathBuf,
    /// The certificate clients present (PEM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert: Option<PathBuf>,
    /// Its private key (PEM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_key: Option<PathBuf>,
}

/// A cluster file that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// A cluster file checked against a system: the run's setup, and each
/// node's address and data directory by node index.
pub struct Deployment<S: System> {
    /// The cluster's name.
    pub cluster_id: String,
    /// The nodes, in the system's index order.
    pub setup: Setup<S>,
    /// Listen address of each node, by index.
    pub addrs: Vec<SocketAddr>,
    /// Data directory of each node, by index.
    pub data_dirs: Vec<PathBuf>,
    /// The certificates; `None` when the file says `insecure = true`.
    pub tls: Option<TlsPaths>,
    /// Redis-protocol address of each node that has one, by index.
    pub resp_addrs: Vec<Option<SocketAddr>>,
}

impl<S: System> fmt::Debug for Deployment<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deployment")
            .field("cluster_id", &self.cluster_id)
            .field("nodes", &self.setup.nodes())
            .field("addrs", &self.addrs)
            .field("data_dirs", &self.data_dirs)
            .field("tls", &self.tls)
            .finish()
    }
}

impl<S: System> Deployment<S> {
    /// The index of the node named `name`.
    pub fn index_named(&self, name: &str) -> Result<usize, ConfigError> {
        let node = parse_node::<S>(name).map_err(ConfigError)?;
        self.setup.index_of(node).ok_or_else(|| {
            ConfigError(format!(
                "node `{name}` is not in the cluster file; it has: {}",
                self.names().join(", ")
            ))
        })
    }

    /// Every node's name, in index order.
    pub fn names(&self) -> Vec<String> {
        self.setup.nodes().iter().map(|n| n.to_string()).collect()
    }
}

impl ClusterFile {
    /// Reads and parses a cluster file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError(format!("cannot read cluster file {}: {e}", path.display()))
        })?;
        let mut file: ClusterFile = toml::from_str(&text).map_err(|e| {
            ConfigError(format!("cluster file {}: {}", path.display(), e.message()))
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let rebase = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        for n in &mut file.nodes {
            rebase(&mut n.data_dir);
            n.cert.iter_mut().for_each(rebase);
            n.key.iter_mut().for_each(rebase);
        }
        if let Some(t) = &mut file.tls {
            rebase(&mut t.ca);
            t.client_cert.iter_mut().for_each(rebase);
            t.client_key.iter_mut().for_each(rebase);
        }
        Ok(file)
    }

    /// Makes a new certificate authority and certificates for every node
    /// and for clients in `base/subdir`, and points this file at them
    /// (paths relative to `base`, where the file is meant to live).
    pub fn issue_certs(&mut self, base: &Path, subdir: &Path) -> Result<(), ConfigError> {
        let names: Vec<String> = self.nodes.iter().map(|n| n.name.clone()).collect();
        let issued =
            tls::issue(&base.join(subdir), &self.cluster_id, &names).map_err(ConfigError)?;
        for (n, (cert, key)) in self.nodes.iter_mut().zip(issued.nodes) {
            n.cert = Some(subdir.join(cert));
            n.key = Some(subdir.join(key));
        }
        self.tls = Some(TlsFiles {
            ca: subdir.join(issued.ca),
            client_cert: Some(subdir.join(issued.client.0)),
            client_key: Some(subdir.join(issued.client.1)),
        });
        self.insecure = false;
        Ok(())
    }

    /// What a client needs to reach this cluster's nodes: its id and, unless
    /// the file is insecure, the client certificate.
    pub fn access(&self) -> Result<Access, ConfigError> {
        if self.insecure {
            return Ok(Access::insecure(&self.cluster_id));
        }
        let missing = || {
            ConfigError(
                "the cluster file gives no client certificate: add client_cert and client_key \
                 to its [tls] section (the `certs` subcommand makes them)"
                    .into(),
            )
        };
        let t = self.tls.as_ref().ok_or_else(no_tls_error)?;
        let (Some(cert), Some(key)) = (&t.client_cert, &t.client_key) else {
            return Err(missing());
        };
        let config = tls::client_tls(&t.ca, cert, key).map_err(ConfigError)?;
        Ok(Access::tls(&self.cluster_id, config))
    }

    /// The file as TOML text.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }

    /// Checks the file against system `S` and builds the deployment.
    pub fn resolve<S: System>(&self, config: S::Config) -> Result<Deployment<S>, ConfigError> {
        if self.cluster_id.trim().is_empty() {
            return Err(ConfigError("cluster_id must not be empty".into()));
        }
        if self.nodes.is_empty() {
            return Err(ConfigError(
                "the cluster file lists no nodes; add [[node]] sections".into(),
            ));
        }
        let meta = S::meta();
        let mut by_node = BTreeMap::new();
        for entry in &self.nodes {
            let node = parse_node::<S>(&entry.name).map_err(ConfigError)?;
            if by_node.insert(node, entry).is_some() {
                return Err(ConfigError(format!(
                    "node `{}` is listed twice",
                    entry.name
                )));
            }
        }
        let mut sizes = Sizes::new();
        for (r, role) in meta.roles.iter().enumerate() {
            let count = by_node.keys().filter(|n| S::role_of(**n) == r).count();
            match role.param {
                None if count == 0 => {
                    return Err(ConfigError(format!(
                        "the cluster file has no `{}` node; every singleton role needs one",
                        role.name
                    )))
                }
                None => {}
                Some(_) => {
                    for i in 0..count {
                        if !by_node.contains_key(&S::node(r, i)) {
                            return Err(ConfigError(format!(
                                "`{}` nodes must be numbered 0..{count} without gaps; `{}({i})` is missing",
                                role.name, role.name
                            )));
                        }
                    }
                    sizes = sizes.with_name(role.name, count);
                }
            }
        }
        let setup = Setup::<S>::with_config(&sizes, config)
            .map_err(|e| ConfigError(format!("cluster file: {e}")))?;
        let mut addrs = Vec::new();
        let mut data_dirs = Vec::new();
        let mut resp_addrs = Vec::new();
        for node in setup.nodes() {
            let entry = by_node[node];
            let addr = entry
                .addr
                .to_socket_addrs()
                .ok()
                .and_then(|mut a| a.next())
                .ok_or_else(|| {
                    ConfigError(format!(
                        "node `{}`: `{}` is not a host:port address",
                        entry.name, entry.addr
                    ))
                })?;
            if addr.port() == 0 {
                return Err(ConfigError(format!(
                    "node `{}`: `{}` has port 0; peers and clients need a fixed port to find \
                     the node, so give it one",
                    entry.name, entry.addr
                )));
            }
            if addr.ip().is_unspecified() {
                return Err(ConfigError(format!(
                    "node `{}`: `{}` is not an address peers can connect to; give the \
                     address other nodes reach this one at",
                    entry.name, entry.addr
                )));
            }
            if addrs.contains(&addr) {
                return Err(ConfigError(format!(
                    "node `{}`: address {addr} is used by another node",
                    entry.name
                )));
            }
            // Textually equal directories are refused here; other aliases
            // of one directory (symlinks, `dir/.`) meet the directory lock.
            let same_dir = |d: &PathBuf| d.components().eq(entry.data_dir.components());
            if data_dirs.iter().any(same_dir) {
                return Err(ConfigError(format!(
                    "node `{}`: data directory {} is used by another node; every node \
                     needs its own (two logs in one directory would interleave)",
                    entry.name,
                    entry.data_dir.display()
                )));
            }
            let resp = match &entry.resp {
                None => None,
                Some(text) => Some(
                    text.to_socket_addrs()
                        .ok()
                        .and_then(|mut a| a.next())
                        .filter(|a| *a != addr)
                        .ok_or_else(|| {
                            ConfigError(format!(
                                "node `{}`: resp = `{text}` is not a host:port address \
                                 other than the node's own",
                                entry.name
                            ))
                        })?,
                ),
            };
            addrs.push(addr);
            data_dirs.push(entry.data_dir.clone());
            resp_addrs.push(resp);
        }
        let tls = if self.insecure {
            None
        } else {
            let t = self.tls.as_ref().ok_or_else(no_tls_error)?;
            let nodes = setup
                .nodes()
                .iter()
                .map(|n| {
                    let entry = by_node[n];
                    match (&entry.cert, &entry.key) {
                        (Some(c), Some(k)) => Ok((c.clone(), k.clone())),
                        _ => Err(ConfigError(format!(
                            "node `{}` has no cert and key; every node of a cluster with [tls] \
                             needs both (the `certs` subcommand makes them)",
                            entry.name
                        ))),
                    }
                })
                .collect::<Result<_, _>>()?;
            Some(TlsPaths {
                ca: t.ca.clone(),
                nodes,
                client: t.client_cert.clone().zip(t.client_key.clone()),
            })
        };
        Ok(Deployment {
            cluster_id: self.cluster_id.clone(),
            setup,
            addrs,
            data_dirs,
            tls,
            resp_addrs,
        })
    }
}

fn no_tls_error() -> ConfigError {
    ConfigError(
        "the cluster file has no [tls] section: make certificates with the `certs` subcommand \
         (`<program> certs --cluster FILE`), or write `insecure = true` to run without \
         authentication or encryption (anyone who can reach a port can then act as any node)"
            .into(),
    )
}

/// Parses a node name as nodes print: `Server`, `Client(2)`.
pub fn parse_node<S: System>(text: &str) -> Result<S::Node, String> {
    let text = text.trim();
    let meta = S::meta();
    let (role_name, instance) = match text.split_once('(') {
        Some((r, rest)) => {
            let Some(num) = rest.strip_suffix(')') else {
                return Err(format!(
                    "`{text}`: a node name looks like `Server` or `Client(0)`"
                ));
            };
            let n: usize = num.trim().parse().map_err(|_| {
                format!("`{text}`: the instance number must be a non-negative integer")
            })?;
            (r.trim(), Some(n))
        }
        None => (text, None),
    };
    let roles: Vec<String> = meta
        .roles
        .iter()
        .map(|r| match r.param {
            Some(_) => format!("{}(N)", r.name),
            None => r.name.to_string(),
        })
        .collect();
    let Some(role) = meta.role_named(role_name) else {
        return Err(format!(
            "`{text}` names no role of {}; its nodes are {}",
            meta.name,
            roles.join(", ")
        ));
    };
    match (meta.roles[role].param, instance) {
        (None, None) => Ok(S::node(role, 0)),
        (Some(_), Some(i)) => {
            let param = meta.roles[role].param.unwrap_or_default();
            let cap = match param {
                "u8" => 1 << 8,
                "u16" => 1 << 16,
                _ => usize::MAX,
            };
            if i >= cap {
                return Err(format!("`{text}`: `{role_name}` is numbered by {param}"));
            }
            Ok(S::node(role, i))
        }
        (None, Some(_)) => Err(format!(
            "`{role_name}` is a single node: write `{role_name}`"
        )),
        (Some(_), None) => Err(format!(
            "`{role_name}` has numbered instances: write `{role_name}(0)`"
        )),
    }
}
