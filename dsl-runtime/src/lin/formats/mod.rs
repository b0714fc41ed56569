//! Reading histories from text: Jepsen's etcd register logs, EDN key-value
//! logs, and Verdict's own line format.
//!
//! Every reader works line by line, never panics, and reports the first
//! line it cannot read with its number and a sentence saying what was
//! expected. Which reader applies is found from the text itself
//! ([`detect`]).

pub mod edn_kv;
mod events;
pub mod jepsen;
pub mod native;

use super::history::History;
use super::specs::{KvMapOp, KvMapRet, KvStoreOp, KvStoreRet, RegisterOp, RegisterRet};
use std::fmt;

/// A line that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number (0 when the problem is not on one line).
    pub line: usize,
    /// What is wrong, as a sentence.
    pub message: String,
}

impl ParseError {
    pub(crate) fn at(line: usize, message: impl Into<String>) -> Self {
        ParseError {
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.message)
        } else {
            write!(f, "line {}: {}", self.line, self.message)
        }
    }
}

impl std::error::Error for ParseError {}

/// The text formats understood.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `INFO  jepsen.util - 3 :invoke :write 4`, tab-separated (register).
    Jepsen,
    /// `{:process 0, :type :invoke, :f :get, :key "1", :value nil}` (key-value map).
    EdnKv,
    /// Verdict's own line format, see [`native`].
    Native,
}

/// The specifications a text history can be read for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Model {
    /// [`crate::lin::specs::Register`].
    Register,
    /// [`crate::lin::specs::KvMap`] (get / put / append).
    Kv,
    /// [`crate::lin::specs::KvStore`] (get / put / del / cas / cad).
    KvStore,
}

impl Model {
    /// The name used on the command line and in native files.
    pub fn name(self) -> &'static str {
        match self {
            Model::Register => "register",
            Model::Kv => "kv",
            Model::KvStore => "kvstore",
        }
    }

    /// The model with this name.
    pub fn from_name(name: &str) -> Option<Model> {
        match name {
            "register" => Some(Model::Register),
            "kv" => Some(Model::Kv),
            "kvstore" => Some(Model::KvStore),
            _ => None,
        }
    }
}

/// A history read from text, typed by its model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParsedHistory {
    /// For [`crate::lin::specs::Register`].
    Register(History<RegisterOp, RegisterRet>),
    /// For [`crate::lin::specs::KvMap`].
    Kv(History<KvMapOp, KvMapRet>),
    /// For [`crate::lin::specs::KvStore`].
    KvStore(History<KvStoreOp, KvStoreRet>),
}

impl ParsedHistory {
    /// The model the history is for.
    pub fn model(&self) -> Model {
        match self {
            ParsedHistory::Register(_) => Model::Register,
            ParsedHistory::Kv(_) => Model::Kv,
            ParsedHistory::KvStore(_) => Model::KvStore,
        }
    }

    /// Number of operations.
    pub fn len(&self) -> usize {
        match self {
            ParsedHistory::Register(h) => h.len(),
            ParsedHistory::Kv(h) => h.len(),
            ParsedHistory::KvStore(h) => h.len(),
        }
    }

    /// True when there is no operation.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Guesses the format from the first line that is not blank or a comment.
pub fn detect(text: &str) -> Format {
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('{') {
            return Format::EdnKv;
        }
        if line.contains("jepsen.") {
            return Format::Jepsen;
        }
        return Format::Native;
    }
    Format::Native
}

/// Reads `text` in its own format ([`detect`]). `model` is what the caller
/// asked for, if anything; a Jepsen log is always a register history and an
/// EDN log a key-value map history, so asking for another model there is an
/// error.
pub fn parse(text: &str, model: Option<Model>) -> Result<ParsedHistory, ParseError> {
    let format = detect(text);
    let fixed = match format {
        Format::Jepsen => Some(Model::Register),
        Format::EdnKv => Some(Model::Kv),
        Format::Native => None,
    };
    if let (Some(fixed), Some(asked)) = (fixed, model) {
        if fixed != asked {
            return Err(ParseError::at(
                0,
                format!(
                    "this looks like a {} log, which holds {} histories, not {}",
                    if format == Format::Jepsen {
                        "Jepsen"
                    } else {
                        "EDN key-value"
                    },
                    fixed.name(),
                    asked.name()
                ),
            ));
        }
    }
    match format {
        Format::Jepsen => jepsen::parse(text).map(ParsedHistory::Register),
        Format::EdnKv => edn_kv::parse(text).map(ParsedHistory::Kv),
        Format::Native => native::parse(text, model),
    }
}
