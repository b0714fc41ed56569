//! A system's footprint graph as data: what `describe --json` writes and
//! `impact --against` reads back.

use serde::{Deserialize, Serialize};

use crate::meta::{FieldSet, InvariantScope, RoleId, SystemMeta, TriggerMeta};

/// The format number of [`Description`]; a file of another format is
/// refused rather than misread.
pub const FORMAT: u32 = 1;

/// Everything `impact` compares builds by: roles and fields with their
/// types, the kinds, timers, handlers with triggers, footprints and hashes,
/// invariants with what they read and hashes, and the workload the checks
/// run. Names, not indices, identify things, so a field added before
/// another does not make the later one look changed.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Description {
    /// [`FORMAT`].
    pub format: u32,
    /// The version of Verdict that built it (the checker's semantics).
    pub tool: String,
    /// The system's name.
    pub system: String,
    /// Hash of the whole `system!` invocation, as 16 hex digits.
    pub source_hash: String,
    /// Hash of its `config { .. }` section.
    pub config_hash: String,
    /// The checked workload at the flags given, as `check` prints it;
    /// `None` when described without one.
    pub workload: Option<String>,
    /// Whether some input of that workload waits for an output (true
    /// when there is no workload to ask), so outputs decide when inputs
    /// arrive.
    pub workload_waits: bool,
    /// Roles in declaration order.
    pub roles: Vec<RoleDesc>,
    /// Input variants.
    pub inputs: Vec<KindDesc>,
    /// Output variants.
    pub outputs: Vec<KindDesc>,
    /// Message variants.
    pub messages: Vec<KindDesc>,
    /// Timer names.
    pub timers: Vec<String>,
    /// Every handler of every role.
    pub handlers: Vec<HandlerDesc>,
    /// Every invariant.
    pub invariants: Vec<InvariantDesc>,
    /// The `eventually` properties, by name.
    pub eventually: Vec<String>,
}

/// One role.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct RoleDesc {
    /// Its name.
    pub name: String,
    /// Its parameter type, for a parameterised role.
    pub param: Option<String>,
    /// Its state fields.
    pub fields: Vec<FieldDesc>,
}

/// One state field.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct FieldDesc {
    /// Its name.
    pub name: String,
    /// Its type, as written.
    pub ty: String,
    /// Its initial value, as written.
    pub init: String,
    /// Whether it survives a crash.
    pub durable: bool,
}

/// One variant of the input, output or message type.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct KindDesc {
    /// The variant's name.
    pub name: String,
    /// Hash of its payload's declaration.
    pub hash: String,
}

/// What a handler runs on.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TriggerDesc {
    /// `start`, `input`, `message`, `timer` or `restart`.
    pub kind: String,
    /// The variant or timer, for `input`, `message` and `timer`.
    pub name: Option<String>,
}

/// One handler and its footprint.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct HandlerDesc {
    /// Its readable name (`Server on message Lock`), unique in a system.
    pub name: String,
    /// Its role.
    pub role: String,
    /// Its event.
    pub trigger: TriggerDesc,
    /// Fields it reads and does not write.
    pub reads: Vec<String>,
    /// Fields it writes.
    pub writes: Vec<String>,
    /// Messages it may send.
    pub sends: Vec<String>,
    /// Outputs it may emit.
    pub emits: Vec<String>,
    /// Timers it may set or cancel.
    pub sets: Vec<String>,
    /// Whether it may choose.
    pub chooses: bool,
    /// Hash of its trigger, footprint and body.
    pub hash: String,
}

/// One field of one role.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FieldRef {
    /// The role.
    pub role: String,
    /// The field.
    pub field: String,
}

/// One invariant and what it reads.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct InvariantDesc {
    /// Its name.
    pub name: String,
    /// `global`, `local` or `trace`.
    pub scope: String,
    /// The fields it reads.
    pub reads: Vec<FieldRef>,
    /// Whether it reads the messages in flight.
    pub network: bool,
    /// Whether it reads the trace.
    pub trace: bool,
    /// Whether it reads the history.
    pub history: bool,
    /// Hash of its reads clause and body.
    pub hash: String,
}

/// A hash as 16 hex digits.
pub fn hex(hash: u64) -> String {
    format!("{hash:016x}")
}

impl Description {
    /// The description of a system from its metadata, its `eventually`
    /// property names and the workload its checks run (if any: its
    /// description and whether it waits for outputs).
    pub fn of_meta(
        meta: &SystemMeta,
        eventually: &[&str],
        workload: Option<(String, bool)>,
    ) -> Self {
        let fields = |role: RoleId, set: &FieldSet| -> Vec<String> {
            meta.field_names(role, set)
                .into_iter()
                .map(str::to_string)
                .collect()
        };
        let kinds = |names: &[&str], hashes: &[u64]| -> Vec<KindDesc> {
            names
                .iter()
                .enumerate()
                .map(|(i, n)| KindDesc {
                    name: n.to_string(),
                    hash: hex(hashes.get(i).copied().unwrap_or(0)),
                })
                .collect()
        };
        let named = |list: &[&str], ids: &[usize]| -> Vec<String> {
            ids.iter()
                .filter_map(|&i| list.get(i).map(|s| s.to_string()))
                .collect()
        };
        let trigger = |t: TriggerMeta| {
            let (kind, name) = match t {
                TriggerMeta::Start => ("start", None),
                TriggerMeta::Restart => ("restart", None),
                TriggerMeta::Input(k) => ("input", meta.inputs.get(k)),
                TriggerMeta::Message(k) => ("message", meta.messages.get(k)),
                TriggerMeta::Timer(k) => ("timer", meta.timers.get(k)),
            };
            TriggerDesc {
                kind: kind.to_string(),
                name: name.map(|n| n.to_string()),
            }
        };
        Description {
            format: FORMAT,
            tool: env!("CARGO_PKG_VERSION").to_string(),
            system: meta.name.to_string(),
            source_hash: hex(meta.hashes.source),
            config_hash: hex(meta.hashes.config),
            workload_waits: !matches!(workload, Some((_, false))),
            workload: workload.map(|w| w.0),
            roles: meta
                .roles
                .iter()
                .map(|r| RoleDesc {
                    name: r.name.to_string(),
                    param: r.param.map(str::to_string),
                    fields: r
                        .fields
                        .iter()
                        .map(|f| FieldDesc {
                            name: f.name.to_string(),
                            ty: f.ty.to_string(),
                            init: f.init.to_string(),
                            durable: f.durable,
                        })
                        .collect(),
                })
                .collect(),
            inputs: kinds(meta.inputs, meta.hashes.inputs),
            outputs: kinds(meta.outputs, meta.hashes.outputs),
            messages: kinds(meta.messages, meta.hashes.messages),
            timers: meta.timers.iter().map(|t| t.to_string()).collect(),
            handlers: meta
                .handlers
                .iter()
                .map(|h| HandlerDesc {
                    name: h.name.to_string(),
                    role: meta.roles[h.role].name.to_string(),
                    trigger: trigger(h.trigger),
                    reads: fields(h.role, &h.reads),
                    writes: fields(h.role, &h.writes),
                    sends: named(meta.messages, h.sends),
                    emits: named(meta.outputs, h.emits),
                    sets: named(meta.timers, h.sets),
                    chooses: h.chooses,
                    hash: hex(h.hash),
                })
                .collect(),
            invariants: meta
                .invariants
                .iter()
                .map(|i| InvariantDesc {
                    name: i.name.to_string(),
                    scope: match i.scope {
                        InvariantScope::Global => "global",
                        InvariantScope::Local(_) => "local",
                        InvariantScope::Trace => "trace",
                    }
                    .to_string(),
                    reads: i
                        .reads_fields
                        .iter()
                        .flat_map(|(r, set)| {
                            fields(*r, set).into_iter().map(|f| FieldRef {
                                role: meta.roles[*r].name.to_string(),
                                field: f,
                            })
                        })
                        .collect(),
                    network: i.reads_network,
                    trace: i.reads_trace,
                    history: i.reads_history,
                    hash: hex(i.hash),
                })
                .collect(),
            eventually: eventually.iter().map(|e| e.to_string()).collect(),
        }
    }

    /// The description of system `S`, with the workload `model` checks
    /// (`None`: described without one).
    pub fn of<S: crate::System>(model: Option<&crate::Model<S>>) -> Self {
        let eventually: Vec<&str> = S::eventually().iter().map(|e| e.name).collect();
        let workload = model.map(|m| {
            (
                m.workload.describe(&m.setup),
                m.workload.waits_for_outputs(),
            )
        });
        Description::of_meta(S::meta(), &eventually, workload)
    }

    /// As pretty JSON.
    pub fn to_json(&self) -> String {
        // A tree of strings, numbers and booleans always serialises.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads a description written by [`Description::to_json`]; `Err`
    /// says why it cannot be one (not JSON, another format).
    pub fn from_json(text: &str) -> Result<Self, DescriptionError> {
        #[derive(Deserialize)]
        struct Format {
            format: Option<u32>,
        }
        let format: Format = serde_json::from_str(text).map_err(DescriptionError::json)?;
        match format.format {
            Some(FORMAT) => {}
            Some(other) => return Err(DescriptionError::Format(other)),
            None => return Err(DescriptionError::NoFormat),
        }
        serde_json::from_str(text).map_err(DescriptionError::json)
    }

    /// One hash of all of it: what the check cache keys verdicts by.
    pub fn hash(&self) -> u64 {
        let text = serde_json::to_string(self).unwrap_or_default();
        crate::meta::text_hash(&text)
    }

    /// The handler with this name.
    pub fn handler(&self, name: &str) -> Option<&HandlerDesc> {
        self.handlers.iter().find(|h| h.name == name)
    }

    /// The role with this name.
    pub fn role(&self, name: &str) -> Option<&RoleDesc> {
        self.roles.iter().find(|r| r.name == name)
    }
}

/// Why a file is not a description this build can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DescriptionError {
    /// Not JSON of the description's shape.
    #[error("not a system description (line {line}): {message}")]
    Json {
        /// The line the JSON reader stopped at.
        line: usize,
        /// What it found there.
        message: String,
    },
    /// A description written by a build with another format.
    #[error("a description in format {0}; this build reads format {FORMAT}: describe the old build with a matching version")]
    Format(u32),
    /// JSON without a `format` field.
    #[error("not a system description: it has no `format`")]
    NoFormat,
}

impl DescriptionError {
    fn json(e: serde_json::Error) -> Self {
        DescriptionError::Json {
            line: e.line(),
            message: e.to_string(),
        }
    }
}
