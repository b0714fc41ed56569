//! Which steps can change what an invariant reads, from footprints alone.
//!
//! An invariant is a function of the fields it declares in `reads(..)` (and
//! whether those nodes are up), of the network when it reads `network`, and
//! of the trace when it reads `trace` or `history`. The macro compiles each
//! handler against a view that holds only its declared fields and a context
//! that sends and emits only its declared kinds, so a step whose possible
//! changes miss all three cannot change the invariant's value: it holds
//! after the step whenever it held before. That is the whole argument; the
//! rules below only list, per kind of step, what it may change.

use crate::faults::Faults;
use crate::meta::{FieldSet, HandlerId, InvariantMeta, RoleId, SystemMeta, TriggerMeta};

/// A kind of step, the rows of the induction table: a handler, or a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StepKind {
    /// A handler running on an input, a message or a timer.
    Handler(HandlerId),
    /// A message delivered to a node whose role has no handler for it: the
    /// packet is consumed and nothing else happens.
    Unhandled,
    /// The network loses a message.
    Drop,
    /// The network duplicates a message.
    Duplicate,
    /// A node of this role crashes.
    Crash(RoleId),
    /// A node of this role restarts (running its `on restart` handler, if any).
    Restart(RoleId),
    /// The network splits, cuts a link, or heals.
    Partition,
}

/// What one kind of step may change.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    /// Fields it may write, per role (with "all fields" for a crash or a
    /// restart, which also change whether the node is up).
    pub fields: Vec<(RoleId, FieldSet)>,
    /// Whether it may add or remove messages in flight.
    pub network: bool,
    /// Whether it may add to the trace (an input, an output).
    pub trace: bool,
}

impl Changes {
    fn add_handler(&mut self, h: &crate::meta::HandlerMeta) {
        self.fields.push((h.role, h.writes.clone()));
        self.network |= !h.sends.is_empty() || matches!(h.trigger, TriggerMeta::Message(_));
        self.trace |= !h.emits.is_empty() || matches!(h.trigger, TriggerMeta::Input(_));
    }

    /// Whether these changes may change what `inv` reads.
    pub fn may_affect(&self, inv: &InvariantMeta) -> bool {
        let fields = inv.reads_fields.iter().any(|(r, read)| {
            self.fields
                .iter()
                .any(|(role, written)| role == r && written.intersects(read))
        });
        fields
            || (inv.reads_network && self.network)
            || ((inv.reads_trace || inv.reads_history) && self.trace)
    }
}

/// Everything a step of kind `kind` may change. `network_mid_step` says
/// that the model drops packets after any handler (a saturated network, an
/// ignore rule: [`crate::Model::reads_network_mid_step`]), so every handler
/// may change the network.
pub fn changes(meta: &SystemMeta, kind: StepKind, network_mid_step: bool) -> Changes {
    let mut c = Changes::default();
    let all_fields = |r: RoleId| FieldSet::all(meta.roles[r].fields.len());
    match kind {
        StepKind::Handler(id) => {
            let h = &meta.handlers[id];
            c.add_handler(h);
            // A handler that emits may let a chained workload give the node
            // its next input, whose handler runs in the same step.
            if !h.emits.is_empty() {
                for (_, input) in meta.handlers_of(h.role) {
                    if matches!(input.trigger, TriggerMeta::Input(_)) {
                        c.add_handler(input);
                    }
                }
            }
            c.network |= network_mid_step;
        }
        StepKind::Unhandled | StepKind::Drop | StepKind::Duplicate => c.network = true,
        // A crash resets volatile fields and marks the node down, which
        // every view of its role shows (`is_up`, and local invariants skip
        // down nodes).
        StepKind::Crash(r) => c.fields.push((r, all_fields(r))),
        StepKind::Restart(r) => {
            c.fields.push((r, all_fields(r)));
            for (_, h) in meta.handlers_of(r) {
                if h.trigger == TriggerMeta::Restart {
                    c.add_handler(h);
                }
            }
            c.network |= network_mid_step;
        }
        StepKind::Partition => {}
    }
    c
}

/// The kinds of step a model can take: every handler that runs as a step
/// (not `on start`, which runs before the first world, nor `on restart`,
/// part of a restart), a delivery without handler, and the faults `faults`
/// allows.
pub fn step_kinds(meta: &SystemMeta, faults: &Faults) -> Vec<StepKind> {
    let mut kinds: Vec<StepKind> = meta
        .handlers
        .iter()
        .enumerate()
        .filter(|(_, h)| !matches!(h.trigger, TriggerMeta::Start | TriggerMeta::Restart))
        .map(|(id, _)| StepKind::Handler(id))
        .collect();
    if faults.drop.is_on() || faults.partition.is_on() || faults.cut.is_on() || faults.crash.is_on()
    {
        // Packets across a cut, or to a down node, may be lost too.
        kinds.push(StepKind::Drop);
    }
    if faults.duplicate.is_on() {
        kinds.push(StepKind::Duplicate);
    }
    if faults.crash.is_on() {
        kinds.extend((0..meta.roles.len()).map(StepKind::Crash));
        if faults.restart {
            kinds.extend((0..meta.roles.len()).map(StepKind::Restart));
        }
    }
    if faults.partition.is_on() || faults.cut.is_on() {
        kinds.push(StepKind::Partition);
    }
    kinds
}

/// The name of a step kind as the induction table shows it.
pub fn step_name(meta: &SystemMeta, kind: StepKind) -> String {
    match kind {
        StepKind::Handler(id) => meta.handlers[id].name.to_string(),
        StepKind::Unhandled => "delivery without handler".to_string(),
        StepKind::Drop => "fault: drop".to_string(),
        StepKind::Duplicate => "fault: duplicate".to_string(),
        StepKind::Crash(r) => format!("fault: {} crashes", meta.roles[r].name),
        StepKind::Restart(r) => format!("fault: {} restarts", meta.roles[r].name),
        StepKind::Partition => "fault: partition/heal".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::{FieldMeta, HandlerMeta, InvariantScope, RoleMeta};

    const FIELDS: &[FieldMeta] = &[
        FieldMeta {
            name: "a",
            ty: "bool",
            init: "false",
            durable: false,
        },
        FieldMeta {
            name: "b",
            ty: "bool",
            init: "false",
            durable: true,
        },
    ];
    const ROLES: &[RoleMeta] = &[RoleMeta {
        name: "R",
        view: "r",
        param: Some("u8"),
        fields: FIELDS,
    }];

    fn handler(trigger: TriggerMeta, writes: &[usize], sends: &'static [usize]) -> HandlerMeta {
        HandlerMeta {
            role: 0,
            trigger,
            name: "h",
            reads: FieldSet::EMPTY,
            writes: FieldSet::of(writes.iter().copied()),
            sends,
            emits: &[],
            sets: &[],
            chooses: false,
            hash: 0,
        }
    }

    fn meta(handlers: Vec<HandlerMeta>) -> SystemMeta {
        SystemMeta {
            name: "T",
            roles: ROLES,
            inputs: &["I"],
            outputs: &[],
            messages: &["M"],
            timers: &["T"],
            handlers: Box::leak(handlers.into_boxed_slice()),
            invariants: &[],
            hashes: crate::meta::SystemHashes::NONE,
        }
    }

    fn reads(fields: &[usize], network: bool) -> InvariantMeta {
        let set = FieldSet::of(fields.iter().copied());
        InvariantMeta {
            name: "i",
            scope: InvariantScope::Global,
            reads_fields: Box::leak(vec![(0, set)].into_boxed_slice()),
            reads_network: network,
            reads_trace: false,
            reads_history: false,
            hash: 0,
        }
    }

    #[test]
    fn writes_sends_and_consumed_messages_are_changes() {
        let m = meta(vec![
            handler(TriggerMeta::Timer(0), &[0], &[]),
            handler(TriggerMeta::Message(0), &[], &[]),
            handler(TriggerMeta::Input(0), &[], &[0]),
        ]);
        let on = |k, inv: &InvariantMeta| changes(&m, k, false).may_affect(inv);
        // A timer writing `a`: affects readers of `a`, not of `b` or the network.
        assert!(on(StepKind::Handler(0), &reads(&[0], false)));
        assert!(!on(StepKind::Handler(0), &reads(&[1], true)));
        // A message handler consumes its message even if it sends nothing.
        assert!(on(StepKind::Handler(1), &reads(&[], true)));
        assert!(!on(StepKind::Handler(1), &reads(&[0, 1], false)));
        // An input handler that sends changes the network.
        assert!(on(StepKind::Handler(2), &reads(&[], true)));
        // When the model drops packets after a handler, every handler may.
        assert!(changes(&m, StepKind::Handler(0), true).may_affect(&reads(&[], true)));
    }

    #[test]
    fn faults_change_what_they_touch() {
        let m = meta(vec![]);
        let on = |k, inv: &InvariantMeta| changes(&m, k, false).may_affect(inv);
        // A crash changes whether the node is up, which any reader of its
        // role sees, durable field or not.
        assert!(on(StepKind::Crash(0), &reads(&[1], false)));
        assert!(on(StepKind::Restart(0), &reads(&[1], false)));
        assert!(!on(StepKind::Crash(0), &reads(&[], true)));
        assert!(on(StepKind::Drop, &reads(&[], true)));
        assert!(!on(StepKind::Duplicate, &reads(&[0], false)));
        assert!(!on(StepKind::Partition, &reads(&[0], true)));
    }
}
