//! Partial-order reduction driven by handler footprints.
//!
//! At each world the search may expand only an *ample* subset of the
//! enabled steps when the others commute with it. The subset is a stubborn
//! set built per node: all enabled steps of a set of nodes closed under
//! "may put a new deliverable message in front of":
//!
//! - steps of one node touch only that node's state, take the head of one
//!   of its incoming channels and append to its outgoing ones, so steps of
//!   different nodes commute, and a step never disables another node's step;
//! - a node's *future* steps can be enabled by other nodes only through a
//!   message to it. On a FIFO channel that is not empty the next delivery is
//!   already fixed, so only senders on *empty* channels (and, on an
//!   unordered network, every sender) matter; and only senders whose
//!   role's `sends(..)` footprint includes a message the receiver's role
//!   handles. Those senders join the set, and so on.
//!
//! The reduction keeps every invariant verdict under three more conditions:
//! the ample steps are *invisible* (no invariant reads what they write,
//! judged from `writes(..)`, `sends(..)`, `emits(..)` and the invariants'
//! `reads(..)`); a world with no reduction available is expanded fully; and
//! the *cycle proviso*: when an ample step leads back to a state discovered
//! at the same or a smaller depth, the world is expanded fully, so every
//! cycle of the reduced graph has a fully expanded state.
//!
//! Fault steps (drop, duplicate, crash, partition, bounded reorder) do not
//! fit this scheme, so the reduction is off when the fault model has any.

use crate::meta::TriggerMeta;
use crate::semantics::{Action, Model, World};
use crate::system::System;
use crate::workload::NodeWorkload;

/// Footprint tables for the ample-set choice.
pub struct Por {
    /// Handler id by role and trigger.
    handler_of: Vec<Vec<(TriggerMeta, usize)>>,
    /// Whether a handler's effects are visible to some invariant.
    visible: Vec<bool>,
    /// Some invariant reads the network: every delivery is visible.
    network_read: bool,
    /// Some invariant reads the trace: every input is visible.
    trace_read: bool,
    /// `may_enable[sender role][receiver role]`.
    may_enable: Vec<Vec<bool>>,
    /// Role of each node index.
    role_of: Vec<usize>,
}

impl Por {
    /// The tables for `model`, or why the reduction cannot apply.
    pub fn new<S: System>(model: &Model<S>) -> Result<Self, String> {
        if !model.faults.is_none() {
            return Err("the fault model has faults".into());
        }
        let meta = S::meta();
        if model.setup.len() > 64 {
            return Err("more than 64 nodes".into());
        }
        let network_read = meta.invariants.iter().any(|i| i.reads_network);
        let trace_read = meta.needs_trace();
        let mut read = vec![crate::meta::FieldSet::EMPTY; meta.roles.len()];
        for inv in meta.invariants {
            for (role, fields) in inv.reads_fields {
                read[*role].extend(fields);
            }
        }
        let visible = meta
            .handlers
            .iter()
            .map(|h| {
                h.writes.intersects(&read[h.role])
                    || (network_read && !h.sends.is_empty())
                    || (trace_read && !h.emits.is_empty())
            })
            .collect();
        let mut handler_of = vec![Vec::new(); meta.roles.len()];
        for (id, h) in meta.handlers.iter().enumerate() {
            handler_of[h.role].push((h.trigger, id));
        }
        let roles = meta.roles.len();
        let mut sends = vec![Vec::new(); roles];
        let mut handles = vec![Vec::new(); roles];
        for h in meta.handlers {
            sends[h.role].extend_from_slice(h.sends);
            if let TriggerMeta::Message(k) = h.trigger {
                handles[h.role].push(k);
            }
        }
        let may_enable = (0..roles)
            .map(|s| {
                (0..roles)
                    .map(|r| sends[s].iter().any(|k| handles[r].contains(k)))
                    .collect()
            })
            .collect();
        let role_of = model.setup.nodes().iter().map(|&n| S::role_of(n)).collect();
        Ok(Por {
            handler_of,
            visible,
            network_read,
            trace_read,
            may_enable,
            role_of,
        })
    }

    fn handler(&self, role: usize, trigger: TriggerMeta) -> Option<usize> {
        self.handler_of[role]
            .iter()
            .find(|(t, _)| *t == trigger)
            .map(|&(_, h)| h)
    }

    /// The node an action happens at and whether an invariant can see it.
    pub(crate) fn classify<S: System>(
        &self,
        model: &Model<S>,
        world: &World<S>,
        a: Action,
    ) -> (usize, bool) {
        match a {
            Action::Input { node, choice, .. } => {
                let slot = &world.nodes[node];
                let kind = match model.workload.of(node) {
                    Some(NodeWorkload::Script(steps)) => steps
                        .get(slot.inputs_taken as usize)
                        .map(|s| S::input_kind(&s.input)),
                    Some(NodeWorkload::Any { choices, .. }) => {
                        choices.get(choice).map(S::input_kind)
                    }
                    Some(NodeWorkload::Chain(_)) | None => None,
                };
                let h = kind.and_then(|k| self.handler(self.role_of[node], TriggerMeta::Input(k)));
                (node, self.trace_read || h.is_some_and(|h| self.visible[h]))
            }
            Action::Deliver(j, _) => {
                let p = &world.network.packets()[j];
                let Some(dst) = model.setup.index_of(p.dst) else {
                    return (usize::MAX, true);
                };
                let kind = S::message_kind(&p.msg);
                let h = self.handler(self.role_of[dst], TriggerMeta::Message(kind));
                // A reply to a chained client also runs its next call.
                let chains = matches!(model.workload.of(dst), Some(NodeWorkload::Chain(_)))
                    && h.is_some_and(|h| !S::meta().handlers[h].emits.is_empty());
                (
                    dst,
                    chains || self.network_read || h.is_some_and(|h| self.visible[h]),
                )
            }
            Action::Timeout { node, timer, .. } => {
                let h = self.handler(self.role_of[node], TriggerMeta::Timer(timer));
                (node, h.is_some_and(|h| self.visible[h]))
            }
            _ => (usize::MAX, true),
        }
    }

    /// Chooses an ample subset of `actions` (enabled in `world`): fills
    /// `ample` with indices into `actions` and returns `true`, or returns
    /// `false` when the world must be expanded fully.
    pub fn ample<S: System>(
        &self,
        model: &Model<S>,
        world: &World<S>,
        actions: &[Action],
        ample: &mut Vec<usize>,
    ) -> bool {
        let n = world.nodes.len();
        if actions.len() < 2 {
            return false;
        }
        let mut node_of = Vec::with_capacity(actions.len());
        let mut has_visible = 0u64;
        let mut has_action = 0u64;
        for &a in actions {
            let (node, visible) = self.classify(model, world, a);
            if node >= n {
                return false;
            }
            node_of.push(node);
            has_action |= 1 << node;
            if visible {
                has_visible |= 1 << node;
            }
        }
        // Non-empty channels, as a bit set of senders per receiver.
        let mut busy = vec![0u64; n];
        let unordered = world.network.is_unordered();
        for p in world.network.packets() {
            if let (Some(s), Some(d)) = (model.setup.index_of(p.src), model.setup.index_of(p.dst)) {
                busy[d] |= 1 << s;
            }
        }
        let mut best: Option<(u64, usize)> = None;
        let mut tried = 0u64;
        for seed in 0..n {
            if has_action >> seed & 1 == 0 || has_visible >> seed & 1 == 1 || tried >> seed & 1 == 1
            {
                continue;
            }
            let mut set = 1u64 << seed;
            let mut stack = vec![seed];
            let mut bad = false;
            while let Some(x) = stack.pop() {
                for y in 0..n {
                    if set >> y & 1 == 1 {
                        continue;
                    }
                    let empty = unordered || busy[x] >> y & 1 == 0;
                    if empty && self.may_enable[self.role_of[y]][self.role_of[x]] {
                        set |= 1 << y;
                        if has_visible >> y & 1 == 1 {
                            bad = true;
                            break;
                        }
                        stack.push(y);
                    }
                }
                if bad {
                    break;
                }
            }
            if bad {
                continue;
            }
            // A seed's set contains the sets of its members only partly, so
            // remember the seed alone as tried.
            tried |= 1 << seed;
            let count = node_of.iter().filter(|&&x| set >> x & 1 == 1).count();
            if count < actions.len() && best.is_none_or(|(_, c)| count < c) {
                best = Some((set, count));
                if count == 1 {
                    break;
                }
            }
        }
        let Some((set, _)) = best else {
            return false;
        };
        ample.clear();
        ample.extend((0..actions.len()).filter(|&i| set >> node_of[i] & 1 == 1));
        true
    }
}
