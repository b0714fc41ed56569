//! How far the checker can go on a system that retransmits.
//!
//! A retransmission timer may fire at any point, so a system wrapped in
//! [`crate::transform::Reliable`] can put any number of copies of a packet
//! in flight: in the multiset network of the semantics, its state space is
//! infinite under every fault model, even a reliable network. Two ways
//! out, chosen by [`plan_retransmitting`]:
//!
//! - Under unlimited drop, duplication and reordering
//!   (`--faults drop,dup,reorder`) the number of copies cannot be observed,
//!   so the network is kept as a set ([`Model::saturating_duplicates`]) and
//!   stale packets are dropped at once ([`crate::System::is_stale`]). The
//!   state space is then finite and the check exhaustive. Since this fault
//!   model allows every behaviour of the weaker network fault models (drop
//!   alone, dup alone, reorder alone, and their bounded versions), an
//!   exhaustive pass here covers those too for invariants that do not
//!   count copies in flight.
//! - Under any other fault model, exploration is bounded by a depth
//!   ([`DEFAULT_DEPTH`] unless the user gave a bound), and the report says
//!   so.

use crate::semantics::Model;
use crate::system::System;

/// The depth explored by default when a retransmitting system's state
/// space is infinite (about ten seconds for the three-client lock server
/// in release mode).
pub const DEFAULT_DEPTH: usize = 12;

/// How a check of a retransmitting system is bounded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The depth to explore to, when the user gave no bound and the state
    /// space is infinite.
    pub default_depth: Option<usize>,
    /// What to tell the user, one line per entry.
    pub notes: Vec<String>,
}

/// Prepares `model` (of a system that retransmits) for checking: keeps the
/// network as a set when that is exact, and otherwise asks for a depth
/// bound unless `user_bounded` (the user gave `--depth` or `--max-states`).
pub fn plan_retransmitting<T: System>(model: &mut Model<T>, user_bounded: bool) -> Plan {
    model.saturate_duplicates = true;
    if model.saturates() {
        return Plan {
            default_depth: None,
            notes: vec![
                "note: drop, dup and reorder are unlimited, so how many copies of a packet are \
                 in flight cannot be observed: the network is checked as a set of distinct \
                 packets, and the check is exhaustive"
                    .to_string(),
            ],
        };
    }
    model.saturate_duplicates = false;
    let mut notes = vec![
        "note: retransmission can put any number of copies of a packet in flight under this \
         fault model, so the state space is infinite and exploration is bounded"
            .to_string(),
    ];
    let default_depth = if user_bounded {
        None
    } else {
        notes.push(format!(
            "note: exploring to depth {DEFAULT_DEPTH} by default (give --depth or --max-states)"
        ));
        Some(DEFAULT_DEPTH)
    };
    notes.push(
        "note: adding unlimited drop, dup and reorder to the fault model includes every \
         behaviour of this one and makes the state space finite (exhaustive check)"
            .to_string(),
    );
    Plan {
        default_depth,
        notes,
    }
}
