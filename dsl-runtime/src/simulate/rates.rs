//! Fault rates: faults a simulated run draws at random with a stated
//! probability, instead of choosing them like any other enabled step.
//!
//! Under a fault *budget* (`--faults drop`) a simulation picks a drop like
//! any other step, so how often messages are lost depends on how many
//! other steps happen to be enabled. A *rate* (`--faults drop=p0.1`) fixes
//! it: every delivery the run picks loses its message instead with
//! probability 0.1, independently. That makes "how likely is a violation
//! when 10% of messages are lost" a question with an answer
//! ([`mod@super::estimate`]).
//!
//! - `drop=pX`: each delivery picked loses its message instead, with
//!   probability X;
//! - `dup=pX`: each delivery picked duplicates its message instead (both
//!   copies stay in flight), with probability X;
//! - `crash=pX` (`crash-stop=pX`): before each step, with probability X, a
//!   node picked uniformly among those up crashes (and may later restart,
//!   a step picked like any other; `crash-stop` never restarts).
//!
//! Rates mix with budgets in one list (`drop=p0.1,reorder,partition=1`);
//! the faults without a rate are still chosen like any other step. Drops
//! the network forces (a message to a crashed node, or across a
//! partition) are chosen as before.

use std::fmt;
use std::str::FromStr;

use crate::faults::{Budget, Faults};
use crate::semantics::{Action, Model};
use crate::system::System;

use super::SplitMix64;

/// The rates of the faults a run draws at random; 0 means the fault, if
/// allowed at all, is chosen like any other step.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FaultRates {
    /// Probability that a delivery loses its message instead.
    pub drop: f64,
    /// Probability that a delivery duplicates its message instead.
    pub duplicate: f64,
    /// Probability, before each step, that a node crashes.
    pub crash: f64,
}

impl FaultRates {
    /// Whether no fault is drawn at a rate.
    pub fn is_none(&self) -> bool {
        self.drop == 0.0 && self.duplicate == 0.0 && self.crash == 0.0
    }

    /// Removes from `actions` the fault steps drawn at a rate instead
    /// (drops the network does not force, duplicates, crashes).
    pub(crate) fn filter<S: System>(
        &self,
        model: &Model<S>,
        world: &crate::semantics::World<S>,
        actions: &mut Vec<Action>,
    ) {
        if self.is_none() {
            return;
        }
        actions.retain(|&a| match a {
            Action::Drop(j) => self.drop == 0.0 || forced_drop(model, world, j),
            Action::Duplicate(_) => self.duplicate == 0.0,
            Action::Crash(_) => self.crash == 0.0,
            _ => true,
        });
    }

    /// The crash drawn before a step, if any: a node picked among those
    /// up, with probability [`FaultRates::crash`] (and budget left).
    pub(crate) fn crash_before<S: System>(
        &self,
        model: &Model<S>,
        world: &crate::semantics::World<S>,
        rng: &mut SplitMix64,
    ) -> Option<Action> {
        if self.crash == 0.0 || !chance(rng, self.crash) {
            return None;
        }
        if !model.faults.crash.allows(world.used.crash) {
            return None;
        }
        let up: Vec<usize> = (0..world.nodes.len())
            .filter(|&i| world.nodes[i].up)
            .collect();
        if up.is_empty() {
            return None;
        }
        Some(Action::Crash(up[rng.below(up.len() as u64) as usize]))
    }

    /// `picked`, or the fault a delivery turns into at these rates.
    pub(crate) fn instead_of(&self, picked: Action, rng: &mut SplitMix64) -> Action {
        let Action::Deliver(j, _) = picked else {
            return picked;
        };
        if self.drop > 0.0 && chance(rng, self.drop) {
            Action::Drop(j)
        } else if self.duplicate > 0.0 && chance(rng, self.duplicate) {
            Action::Duplicate(j)
        } else {
            picked
        }
    }
}

/// Whether the network forces the drop of packet `j`: its receiver is down
/// or across the partition.
fn forced_drop<S: System>(model: &Model<S>, world: &crate::semantics::World<S>, j: usize) -> bool {
    let p = &world.network.packets()[j];
    match (model.setup.index_of(p.src), model.setup.index_of(p.dst)) {
        (Some(s), Some(d)) => world.across_partition(s, d) || !world.nodes[d].up,
        _ => true,
    }
}

/// True with probability `p` (exact to 2^-53).
fn chance(rng: &mut SplitMix64, p: f64) -> bool {
    let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    u < p
}

/// A `--faults` list for `simulate`: the budgets [`Faults`] parses, plus
/// rates written `name=pX` (`drop=p0.1`, `dup=p0.01`, `crash=p0.001`,
/// `crash-stop=p0.001`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RatedFaults {
    /// The fault model runs step under; a fault with a rate is allowed in
    /// it without limit (crashes: up to 255).
    pub faults: Faults,
    /// The faults drawn at a rate.
    pub rates: FaultRates,
}

impl fmt::Display for RatedFaults {
    /// The same syntax [`FromStr`] parses, e.g. `drop=p0.1,crash=1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut budgets = self.faults;
        let mut parts = Vec::new();
        if self.rates.drop > 0.0 {
            budgets.drop = Budget::Off;
            parts.push(format!("drop=p{}", self.rates.drop));
        }
        if self.rates.duplicate > 0.0 {
            budgets.duplicate = Budget::Off;
            parts.push(format!("dup=p{}", self.rates.duplicate));
        }
        if self.rates.crash > 0.0 {
            let name = if budgets.restart {
                "crash"
            } else {
                "crash-stop"
            };
            budgets.crash = Budget::Off;
            budgets.restart = false;
            parts.push(format!("{name}=p{}", self.rates.crash));
        }
        if !budgets.is_none() || parts.is_empty() {
            parts.insert(0, budgets.to_string());
        }
        f.write_str(&parts.join(","))
    }
}

impl FromStr for RatedFaults {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut rates = FaultRates::default();
        let mut stop = None;
        let mut budgets = Vec::new();
        for part in s.split(',') {
            let trimmed = part.trim();
            let rate = trimmed
                .split_once('=')
                .filter(|(_, v)| v.trim_start().starts_with('p'));
            let Some((name, value)) = rate else {
                budgets.push(trimmed);
                continue;
            };
            let p = parse_rate(trimmed, &value.trim()[1..])?;
            let slot = match name.trim() {
                "drop" => &mut rates.drop,
                "dup" | "duplicate" => &mut rates.duplicate,
                n @ ("crash" | "crash-stop") => {
                    stop = Some(n == "crash-stop");
                    &mut rates.crash
                }
                other => {
                    return Err(format!(
                        "`{trimmed}`: `{other}` takes no rate; rates are for drop, dup, crash \
                         and crash-stop (e.g. drop=p0.1)"
                    ))
                }
            };
            *slot = p;
        }
        let mut faults: Faults = if budgets.is_empty() {
            Faults::none()
        } else {
            budgets
                .join(",")
                .parse()
                .map_err(|e: crate::faults::FaultsParseError| e.to_string())?
        };
        let both =
            |name: &str| format!("`{s}`: give {name} either a count or a rate (=pX), not both");
        if rates.drop > 0.0 {
            if faults.drop.is_on() {
                return Err(both("drop"));
            }
            faults.drop = Budget::Unlimited;
        }
        if rates.duplicate > 0.0 {
            if faults.duplicate.is_on() {
                return Err(both("dup"));
            }
            faults.duplicate = Budget::Unlimited;
        }
        if rates.crash > 0.0 {
            if faults.crash.is_on() {
                return Err(both("crash"));
            }
            faults.crash = Budget::Limited(u8::MAX);
            faults.restart = stop == Some(false);
        }
        Ok(RatedFaults { faults, rates })
    }
}

/// The probability written after `p` in `part`: a number from 0 to 1.
fn parse_rate(part: &str, text: &str) -> Result<f64, String> {
    let bad = || {
        format!(
            "`{part}`: a rate is `p` and a probability from 0 to 1, e.g. drop=p0.1 or drop=p1e-3"
        )
    };
    let p: f64 = text.trim().parse().map_err(|_| bad())?;
    if !(0.0..=1.0).contains(&p) {
        return Err(bad());
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_mix_with_budgets_and_print_back() {
        let r: RatedFaults = "drop=p0.1,reorder".parse().unwrap();
        assert_eq!(r.rates.drop, 0.1);
        assert_eq!(r.faults.drop, Budget::Unlimited);
        assert!(r.faults.is_unordered());
        assert_eq!(r.to_string(), "reorder,drop=p0.1");
        let r: RatedFaults = "crash-stop=p1e-3".parse().unwrap();
        assert_eq!(r.rates.crash, 0.001);
        assert!(!r.faults.restart);
        assert_eq!(r.to_string(), "crash-stop=p0.001");
        let r: RatedFaults = "crash=p0.5,dup=p0.25".parse().unwrap();
        assert!(r.faults.restart);
        assert_eq!(r.to_string(), "dup=p0.25,crash=p0.5");
        let plain: RatedFaults = "drop=2,crash=1".parse().unwrap();
        assert!(plain.rates.is_none());
        assert_eq!(plain.to_string(), "drop=2,crash=1");
        assert_eq!("none".parse::<RatedFaults>().unwrap().to_string(), "none");
    }

    #[test]
    fn bad_rates_are_refused_with_a_reason() {
        for (text, says) in [
            ("drop=p1.5", "from 0 to 1"),
            ("drop=p-0.1", "from 0 to 1"),
            ("drop=pNaN", "from 0 to 1"),
            ("drop=p", "from 0 to 1"),
            ("drop=pabc", "from 0 to 1"),
            ("reorder=p0.1", "takes no rate"),
            ("drop=2,drop=p0.1", "not both"),
            ("drip=p0.1", "takes no rate"),
            ("drip", "unknown fault"),
        ] {
            let err = text.parse::<RatedFaults>().unwrap_err();
            assert!(err.contains(says), "{text}: {err}");
        }
    }

    #[test]
    fn draws_happen_at_their_rate() {
        let rates = FaultRates {
            drop: 0.25,
            ..FaultRates::default()
        };
        let mut rng = SplitMix64::new(9);
        let deliver = Action::Deliver(0, crate::choice::Branch::FIRST);
        let drops = (0..40_000)
            .filter(|_| rates.instead_of(deliver, &mut rng) == Action::Drop(0))
            .count();
        // 40 000 draws at 0.25: the standard deviation is about 87.
        assert!((9_500..10_500).contains(&drops), "{drops}");
        assert_eq!(rates.instead_of(Action::Heal, &mut rng), Action::Heal);
    }
}
