//! One run's cluster: which nodes exist and the configuration handlers read.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use crate::meta::{RoleEnum, RoleId};
use crate::system::System;

/// How many instances each parameterised role has in a run
/// (`Sizes::new().with(Role::Client, 3)`). Singleton roles always have one
/// node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sizes(BTreeMap<String, usize>);

impl Sizes {
    /// No sizes set yet.
    pub fn new() -> Self {
        Sizes::default()
    }

    /// Sets the number of instances of a parameterised role, named by the
    /// system's generated `Role` enum.
    pub fn with(self, role: impl RoleEnum, count: usize) -> Self {
        self.with_name(role.name(), count)
    }

    /// The same, by name: for sizes read from a file, checked against the
    /// system's roles when the [`Setup`] is built.
    pub(crate) fn with_name(mut self, role: &str, count: usize) -> Self {
        self.0.insert(role.to_string(), count);
        self
    }

    /// The count set for `role`, if any.
    pub fn get(&self, role: &str) -> Option<usize> {
        self.0.get(role).copied()
    }
}

/// Why a [`Setup`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetupError {
    /// A parameterised role was given no size.
    MissingSize {
        /// The role.
        role: &'static str,
    },
    /// A size was given for a role that does not exist or is not parameterised.
    UnknownRole {
        /// The name given.
        role: String,
        /// The parameterised roles that exist.
        known: Vec<&'static str>,
    },
    /// More instances than the role's parameter type can number.
    TooMany {
        /// The role.
        role: &'static str,
        /// The count asked for.
        count: usize,
        /// The parameter type.
        param: &'static str,
    },
    /// The fault model asks for a step this system does not have (an
    /// `upgrade` budget for a system that is not a rolling upgrade).
    Unsupported(String),
    /// The program refuses this configuration (see
    /// [`crate::cli::App::refusing`]); the text says why and what to give
    /// instead.
    Refused(String),
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetupError::Unsupported(why) | SetupError::Refused(why) => f.write_str(why),
            SetupError::MissingSize { role } => {
                write!(
                    f,
                    "role `{role}` is parameterised: say how many instances it has"
                )
            }
            SetupError::UnknownRole { role, known } if known.is_empty() => write!(
                f,
                "no parameterised role is named `{role}`; this system has none, so give no sizes"
            ),
            SetupError::UnknownRole { role, known } => write!(
                f,
                "no parameterised role is named `{role}`; sizes can be given for: {}",
                known.join(", ")
            ),
            SetupError::TooMany { role, count, param } => write!(
                f,
                "role `{role}` is numbered by `{param}`, which cannot number {count} instances"
            ),
        }
    }
}

impl std::error::Error for SetupError {}

/// What a handler may know of the run it is part of: every node, and the
/// configuration. Generic over the node and configuration types rather
/// than the system, so a system that wraps another (a transformer) can hand
/// its own cluster to the wrapped system's handlers.
#[derive(Debug)]
pub struct Cluster<'a, N, C> {
    /// Every node, in index order.
    pub nodes: &'a [N],
    /// The run's configuration.
    pub config: &'a C,
}

impl<N, C> Clone for Cluster<'_, N, C> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<N, C> Copy for Cluster<'_, N, C> {}

/// The nodes of one run (in index order) and its configuration.
///
/// Node `i` of the run is `nodes()[i]`; roles occupy contiguous index
/// ranges in declaration order.
pub struct Setup<S: System> {
    nodes: Vec<S::Node>,
    role_ranges: Vec<Range<usize>>,
    config: S::Config,
}

impl<S: System> Clone for Setup<S> {
    fn clone(&self) -> Self {
        Setup {
            nodes: self.nodes.clone(),
            role_ranges: self.role_ranges.clone(),
            config: self.config.clone(),
        }
    }
}

impl<S: System> fmt::Debug for Setup<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Setup")
            .field("nodes", &self.nodes)
            .field("config", &self.config)
            .finish()
    }
}

impl<S: System> Setup<S> {
    /// Builds the node list from role sizes, with the default configuration.
    pub fn new(sizes: &Sizes) -> Result<Self, SetupError> {
        Self::with_config(sizes, S::Config::default())
    }

    /// Builds the node list from role sizes and a configuration.
    pub fn with_config(sizes: &Sizes, config: S::Config) -> Result<Self, SetupError> {
        let meta = S::meta();
        let known: Vec<&'static str> = meta
            .roles
            .iter()
            .filter(|r| r.param.is_some())
            .map(|r| r.name)
            .collect();
        if let Some(bad) = sizes.0.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(SetupError::UnknownRole {
                role: bad.clone(),
                known,
            });
        }
        let mut nodes = Vec::new();
        let mut role_ranges = Vec::with_capacity(meta.roles.len());
        for (role, rm) in meta.roles.iter().enumerate() {
            let count = match rm.param {
                None => 1,
                Some(param) => {
                    let count = sizes
                        .get(rm.name)
                        .ok_or(SetupError::MissingSize { role: rm.name })?;
                    if count > param_capacity(param) {
                        return Err(SetupError::TooMany {
                            role: rm.name,
                            count,
                            param,
                        });
                    }
                    count
                }
            };
            let start = nodes.len();
            nodes.extend((0..count).map(|i| S::node(role, i)));
            role_ranges.push(start..nodes.len());
        }
        Ok(Setup {
            nodes,
            role_ranges,
            config,
        })
    }

    /// Every node, in index order.
    pub fn nodes(&self) -> &[S::Node] {
        &self.nodes
    }

    /// How many nodes the run has.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the run has no nodes at all.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The configuration handlers read.
    pub fn config(&self) -> &S::Config {
        &self.config
    }

    /// What handlers may know of the run: its nodes and configuration.
    pub fn cluster(&self) -> Cluster<'_, S::Node, S::Config> {
        Cluster {
            nodes: &self.nodes,
            config: &self.config,
        }
    }

    /// Node indices of `role`.
    pub fn role_range(&self, role: RoleId) -> Range<usize> {
        self.role_ranges[role].clone()
    }

    /// The index of `node`, or `None` when it is not part of this run
    /// (for example `Client(7)` in a run with three clients).
    pub fn index_of(&self, node: S::Node) -> Option<usize> {
        let range = self.role_ranges.get(S::role_of(node))?;
        let i = range.start + S::instance_of(node);
        (i < range.end).then_some(i)
    }

    /// The same nodes, numbered the same way, as a setup of system `T`
    /// with `config`: how a transformer hands its base system the cluster
    /// it wraps, or wraps a base system's cluster. `T` must declare the same
    /// roles, in the same order, as `S` (every transformer that keeps its
    /// base's nodes does).
    pub fn with_system<T: System<Node = S::Node>>(&self, config: T::Config) -> Setup<T> {
        Setup {
            nodes: self.nodes.clone(),
            role_ranges: self.role_ranges.clone(),
            config,
        }
    }

    /// A readable list such as `Server, Client(0..3)`.
    pub fn describe(&self) -> String {
        let meta = S::meta();
        meta.roles
            .iter()
            .zip(&self.role_ranges)
            .map(|(r, range)| match r.param {
                None => r.name.to_string(),
                Some(_) => format!("{}(0..{})", r.name, range.len()),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// How many instances a parameter type can number.
fn param_capacity(param: &str) -> usize {
    match param {
        "u8" => 1 << 8,
        "u16" => 1 << 16,
        _ => usize::MAX,
    }
}
