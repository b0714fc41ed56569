//! Fault models: which fault events a run may take, and how many of each.
//!
//! A [`Faults`] value is built by composition, `Faults::none().drop().dup().crash(1)`,
//! or parsed from a command line, `drop,dup=1,crash=1,cut=1`. The same value drives
//! the checker, the simulator and the runtime's fault injection.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How many times a run may take one kind of fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Budget {
    /// Never.
    #[default]
    Off,
    /// At most this many times.
    Limited(u8),
    /// Any number of times.
    Unlimited,
}

impl Budget {
    /// Whether one more fault is allowed after `used` of them.
    pub fn allows(self, used: u8) -> bool {
        match self {
            Budget::Off => false,
            Budget::Limited(n) => used < n,
            Budget::Unlimited => true,
        }
    }

    /// Whether the fault can happen at all.
    pub fn is_on(self) -> bool {
        self != Budget::Off && self != Budget::Limited(0)
    }

    /// Whether runs must count how many were used (a finite budget).
    pub fn is_counted(self) -> bool {
        matches!(self, Budget::Limited(_))
    }
}

/// A fault model.
///
/// With no faults the network is reliable: every message is delivered
/// exactly once, in order per channel (sender, receiver), and nodes never
/// crash. Each fault widens that:
/// - `drop`: a message in flight may be lost;
/// - `dup`: a message in flight may be duplicated;
/// - `reorder`: a message may overtake earlier ones on its channel
///   (unlimited reorder is an unordered network);
/// - `crash`: a node may crash, losing its volatile fields, timers and the
///   messages in flight to it, and later restart; `crash_stop` never restarts;
/// - `partition`: the nodes may be split in two sides; messages across the
///   cut are held (or lost) until the partition heals;
/// - `cut`: the link between two nodes may stop carrying messages, both
///   ways, while every other link works (a *partial* partition: A and B
///   cannot talk, yet each talks to C). Messages on the cut link are held,
///   and may be lost without spending the `drop` budget, until it heals;
/// - `upgrade`: a node of a rolling upgrade
///   ([`crate::transform::Upgrade`]) may switch from the old version to the
///   new one; each node does so at most once. Only an upgrade system has
///   this step; for any other system the budget is refused.
///
/// The network has one such fault at a time: a partition or a cut link
/// heals before the next one starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct Faults {
    /// Lost messages.
    pub drop: Budget,
    /// Duplicated messages.
    pub duplicate: Budget,
    /// Messages delivered ahead of earlier ones on their channel.
    pub reorder: Budget,
    /// Node crashes.
    pub crash: Budget,
    /// Whether crashed nodes may restart.
    pub restart: bool,
    /// Network partitions.
    pub partition: Budget,
    /// Cut links (one link between two nodes at a time).
    pub cut: Budget,
    /// Nodes switching to the new version of a rolling upgrade.
    pub upgrade: Budget,
}

impl Faults {
    /// A reliable network of nodes that never crash.
    pub fn none() -> Self {
        Faults::default()
    }

    /// Messages may be lost, any number of times.
    pub fn drop(self) -> Self {
        self.drops(None)
    }

    /// Messages may be lost, at most `n` times (`None`: unlimited).
    pub fn drops(mut self, n: Option<u8>) -> Self {
        self.drop = budget(n);
        self
    }

    /// Messages may be duplicated, any number of times.
    pub fn dup(self) -> Self {
        self.dups(None)
    }

    /// Messages may be duplicated, at most `n` times (`None`: unlimited).
    pub fn dups(mut self, n: Option<u8>) -> Self {
        self.duplicate = budget(n);
        self
    }

    /// Any message in flight may be delivered next: an unordered network.
    pub fn reorder(self) -> Self {
        self.reorders(None)
    }

    /// A message may overtake earlier ones on its channel at most `n` times
    /// (`None`: unlimited, an unordered network).
    pub fn reorders(mut self, n: Option<u8>) -> Self {
        self.reorder = budget(n);
        self
    }

    /// At most `n` crashes in total, each followed by a possible restart.
    pub fn crash(mut self, n: u8) -> Self {
        self.crash = Budget::Limited(n);
        self.restart = true;
        self
    }

    /// At most `n` crashes in total; crashed nodes stay down.
    pub fn crash_stop(mut self, n: u8) -> Self {
        self.crash = Budget::Limited(n);
        self.restart = false;
        self
    }

    /// At most `n` partitions (each may later heal).
    pub fn partition(mut self, n: u8) -> Self {
        self.partition = Budget::Limited(n);
        self
    }

    /// At most `n` cut links, one at a time (each may later heal).
    pub fn cut(mut self, n: u8) -> Self {
        self.cut = Budget::Limited(n);
        self
    }

    /// At most `n` nodes switch to the new version of a rolling upgrade
    /// (`None`: any number; each node switches at most once).
    pub fn upgrades(mut self, n: Option<u8>) -> Self {
        self.upgrade = budget(n);
        self
    }

    /// Whether channels keep their order: with unlimited reorder the network
    /// is a plain multiset of messages.
    pub fn is_unordered(&self) -> bool {
        self.reorder == Budget::Unlimited
    }

    /// Whether this is the reliable, crash-free model.
    pub fn is_none(&self) -> bool {
        !self.drop.is_on()
            && !self.duplicate.is_on()
            && !self.reorder.is_on()
            && !self.crash.is_on()
            && !self.partition.is_on()
            && !self.cut.is_on()
            && !self.upgrade.is_on()
    }
}

fn budget(n: Option<u8>) -> Budget {
    match n {
        None => Budget::Unlimited,
        Some(n) => Budget::Limited(n),
    }
}

impl fmt::Display for Faults {
    /// The same syntax [`FromStr`] parses, e.g. `drop,dup=1,crash=1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        let mut push = |name: &str, b: Budget| match b {
            Budget::Off => {}
            Budget::Unlimited => parts.push(name.to_string()),
            Budget::Limited(n) => parts.push(format!("{name}={n}")),
        };
        push("drop", self.drop);
        push("dup", self.duplicate);
        push("reorder", self.reorder);
        push(
            if self.restart { "crash" } else { "crash-stop" },
            self.crash,
        );
        push("partition", self.partition);
        push("cut", self.cut);
        push("upgrade", self.upgrade);
        if parts.is_empty() {
            write!(f, "none")
        } else {
            write!(f, "{}", parts.join(","))
        }
    }
}

/// A fault list that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultsParseError(String);

impl fmt::Display for FaultsParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FaultsParseError {}

impl FromStr for Faults {
    type Err = FaultsParseError;

    /// Parses a comma-separated list such as `none`, `dup`, `drop=2,reorder`,
    /// `crash=1`, `crash-stop=1`, `partition=1`, `cut=1`, `upgrade=2`. A name
    /// alone means unlimited, except `crash`, `crash-stop`, `partition` and `cut`, which
    /// mean 1.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut faults = Faults::none();
        let s = s.trim();
        if s.is_empty() || s == "none" {
            return Ok(faults);
        }
        for part in s.split(',') {
            let part = part.trim();
            let (name, count) = match part.split_once('=') {
                Some((name, n)) => {
                    if n.trim_start().starts_with('p') {
                        return Err(FaultsParseError(format!(
                            "`{part}`: a rate (=pX) is for `simulate`, which draws faults at \
                             random; here every fault is explored, so give a count (`{}=N`) \
                             or none (`{}`, unlimited)",
                            name.trim(),
                            name.trim()
                        )));
                    }
                    let n: u8 = n.trim().parse().map_err(|_| {
                        FaultsParseError(format!(
                            "`{part}`: the count after `=` must be a number from 0 to 255"
                        ))
                    })?;
                    (name.trim(), Some(n))
                }
                None => (part, None),
            };
            match name {
                "drop" => faults = faults.drops(count),
                "dup" | "duplicate" => faults = faults.dups(count),
                "reorder" => faults = faults.reorders(count),
                "crash" => faults = faults.crash(count.unwrap_or(1)),
                "crash-stop" => faults = faults.crash_stop(count.unwrap_or(1)),
                "partition" => faults = faults.partition(count.unwrap_or(1)),
                "cut" => faults = faults.cut(count.unwrap_or(1)),
                "upgrade" => faults = faults.upgrades(count),
                _ => {
                    return Err(FaultsParseError(format!(
                        "unknown fault `{name}`; use a comma-separated list of \
                         drop, dup, reorder, crash, crash-stop, partition, cut, upgrade (each optionally `=N`), or none"
                    )))
                }
            }
        }
        Ok(faults)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_the_same_syntax() {
        for text in [
            "none",
            "dup",
            "drop=2,reorder",
            "crash=1",
            "crash-stop=2,partition=1",
            "drop,cut=2",
            "upgrade=3",
            "drop,upgrade",
        ] {
            let faults: Faults = text.parse().unwrap();
            assert_eq!(faults.to_string(), text);
        }
        assert_eq!("crash".parse::<Faults>().unwrap(), Faults::none().crash(1));
        assert_eq!("cut".parse::<Faults>().unwrap(), Faults::none().cut(1));
        assert!(!Faults::none().cut(1).is_none());
        assert!(!Faults::none().upgrades(Some(1)).is_none());
        assert!(Faults::none().upgrades(Some(0)).is_none());
        assert_eq!(
            "drop,dup".parse::<Faults>().unwrap(),
            Faults::none().drop().dup()
        );
    }

    #[test]
    fn rejects_unknown_names_and_bad_counts() {
        let err = "drip".parse::<Faults>().unwrap_err().to_string();
        assert!(err.contains("unknown fault `drip`"), "{err}");
        let err = "drop=many".parse::<Faults>().unwrap_err().to_string();
        assert!(err.contains("must be a number"), "{err}");
        assert!("drop=300".parse::<Faults>().is_err());
        let err = "drop=p0.1".parse::<Faults>().unwrap_err().to_string();
        assert!(err.contains("is for `simulate`"), "{err}");
    }

    #[test]
    fn budgets_count_down() {
        assert!(Budget::Limited(1).allows(0));
        assert!(!Budget::Limited(1).allows(1));
        assert!(Budget::Unlimited.allows(200));
        assert!(!Budget::Off.allows(0));
        assert!(Faults::none().is_none());
        assert!(Faults::none().reorder().is_unordered());
        assert!(!Faults::none().reorders(Some(1)).is_unordered());
    }
}
