//! The step function: which events a world enables under a fault model and
//! a workload, and what each does.
//!
//! This is the one definition of Verdict's semantics. The checker, the
//! simulator and counterexample replay all step worlds through [`Model`].

use crate::choice::{self, Branch, Chosen, Source};
use crate::ctx::{Effects, TimerOp};
use crate::faults::Faults;
use crate::meta::HandlerId;
use crate::semantics::event::{Action, Event, StepError, StepInfo};
use crate::semantics::network::{Network, Packet};
use crate::semantics::world::{FaultsUsed, NodeSlot, TraceEvent, World};
use crate::setup::Setup;
use crate::system::{System, Trigger};
use crate::workload::{NodeWorkload, Workload};

/// A system, a cluster, a fault model and a workload: everything that
/// decides how worlds evolve.
pub struct Model<S: System> {
    /// The nodes and configuration.
    pub setup: Setup<S>,
    /// Which faults may happen, and how many.
    pub faults: Faults,
    /// Which inputs the outside world may give.
    pub workload: Workload<S>,
    /// Whether worlds record the trace of inputs and outputs. On by default
    /// when an invariant reads the trace; recording it makes worlds with
    /// different histories different states.
    pub record_trace: bool,
    /// Keep at most one copy of each distinct packet in flight; see
    /// [`Model::saturating_duplicates`]. Off by default.
    pub saturate_duplicates: bool,
    /// Whether the recorded trace is kept as a *history*: each run of
    /// adjacent inputs, and each run of adjacent outputs, in node order.
    /// That keeps every "output before input" order and each node's own
    /// order — all linearizability depends on — and merges worlds that
    /// differ only in the order of concurrent calls or of concurrent
    /// replies. On by default when invariants read `history` and none reads
    /// `trace`.
    pub history_only: bool,
    /// Messages their receivers ignore for good, dropped as soon as they
    /// are (see [`Model::ignoring`]).
    pub ignores: Option<IgnoreRule<S>>,
    /// Check the ignore rule's promise on every step instead of dropping
    /// (see [`Model::auditing_ignore_rule`]).
    pub audit_ignores: bool,
    /// Check after every handler that it changed, sent, emitted and set
    /// only what its footprint declares (see [`Model::auditing_footprints`]).
    /// On by default in debug builds.
    pub audit_footprints: bool,
    /// Why a run that stops with a node still waiting is a normal end of
    /// this model, not a deadlock (see [`Model::allowing_deadlock`]);
    /// `None`: such a state is a `deadlock` violation.
    pub deadlock_allowed: Option<&'static str>,
    /// The world runs start from instead of the initial one (see
    /// [`Model::starting_from`]); `None` for the initial world.
    pub start: Option<std::sync::Arc<World<S>>>,
    /// The most memory a check of this model may hold, in bytes (see
    /// [`Model::with_memory_budget`]); `None`: the checker's default, a
    /// share of the memory available when the check starts.
    pub memory_budget: Option<u64>,
    /// Whether some handler declares `chooses`: its steps are then
    /// enumerated once per branch (see [`crate::choice`]).
    pub(crate) chooses: bool,
}

/// Says whether a node in `state` (of a run configured with `config`)
/// ignores a message from `src` now *and in every state it can reach from
/// here*: its handler would change no field, send nothing, emit nothing and
/// touch no timer. See [`Model::ignoring`].
pub type IgnoreRule<S> = fn(
    config: &<S as System>::Config,
    state: &<S as System>::State,
    src: <S as System>::Node,
    msg: &<S as System>::Msg,
) -> bool;

impl<S: System> Clone for Model<S> {
    fn clone(&self) -> Self {
        Model {
            setup: self.setup.clone(),
            faults: self.faults,
            workload: self.workload.clone(),
            record_trace: self.record_trace,
            saturate_duplicates: self.saturate_duplicates,
            history_only: self.history_only,
            ignores: self.ignores,
            audit_ignores: self.audit_ignores,
            audit_footprints: self.audit_footprints,
            deadlock_allowed: self.deadlock_allowed,
            start: self.start.clone(),
            memory_budget: self.memory_budget,
            chooses: self.chooses,
        }
    }
}

impl<S: System> Model<S> {
    /// A model; the trace is recorded when an invariant needs it.
    pub fn new(setup: Setup<S>, faults: Faults, workload: Workload<S>) -> Self {
        Model {
            setup,
            faults,
            workload,
            record_trace: S::meta().needs_trace(),
            saturate_duplicates: false,
            history_only: S::meta().history_suffices(),
            ignores: None,
            audit_ignores: false,
            audit_footprints: cfg!(debug_assertions),
            deadlock_allowed: None,
            start: None,
            memory_budget: None,
            chooses: S::meta().handlers.iter().any(|h| h.chooses),
        }
    }

    /// Lets a check of this model hold at most `bytes` (visited set,
    /// waiting worlds, the reductions' tables): on reaching it the check
    /// stops with a bounded verdict instead of outgrowing the machine.
    /// `u64::MAX` means no budget. [`crate::check::CheckOptions::memory`]
    /// (`check --memory`) overrides it.
    pub fn with_memory_budget(mut self, bytes: u64) -> Self {
        self.memory_budget = Some(bytes);
        self
    }

    /// Says that in this model a run may stop with a node still waiting
    /// for a reply — a client whose request the system drops by design —
    /// for the reason `why`, so the checker does not report such a state
    /// as a deadlock. `check --allow-deadlock` does the same for one run.
    pub fn allowing_deadlock(mut self, why: &'static str) -> Self {
        self.deadlock_allowed = Some(why);
        self
    }

    /// The same model, with runs starting from `world` (reached from the
    /// initial world by this model's steps) instead of the initial world:
    /// [`Model::init`] returns it, so a check, a simulation or a replay
    /// continues from there and its counterexamples' events follow on from
    /// `world`. The explorer checks "from here" this way.
    pub fn starting_from(mut self, world: World<S>) -> Self {
        self.start = Some(std::sync::Arc::new(world));
        self
    }

    /// Checks, after every handler runs, that the step kept to the
    /// handler's declared footprint: every field of the node that changed
    /// is in its `writes(..)`, every message sent in its `sends(..)`, every
    /// output in its `emits(..)`, every timer set or cancelled in its
    /// `sets(..)`, and a step that ran no handler changed and did nothing.
    /// A step that did more fails ([`StepError::FootprintViolated`]) with
    /// its counterexample.
    ///
    /// The compiler already holds `system!` handlers to their footprints;
    /// this catches what it cannot see — interior mutability, globals,
    /// `unsafe`, and metadata written by hand for a transformer — which
    /// the checker's reductions would otherwise trust. It costs a copy of
    /// the node's state per step, so it is on by default in debug builds
    /// (every test) and asked for in release (`check --audit-footprints`).
    pub fn auditing_footprints(mut self, on: bool) -> Self {
        self.audit_footprints = on;
        self
    }

    /// After node `i` ran `handler` from state `before`: it changed, sent,
    /// emitted and set only what the handler's footprint declares.
    fn audit_footprint(
        &self,
        i: usize,
        before: &S::State,
        after: &S::State,
        handler: Option<HandlerId>,
        effects: &Effects<S>,
    ) -> Result<(), StepError> {
        let node = self.setup.nodes()[i];
        let role = S::role_of(node);
        let meta = S::meta();
        let violated = |what: String| StepError::FootprintViolated {
            node: node.to_string(),
            handler: handler_name::<S>(handler),
            what,
        };
        let changed = S::changed_fields(role, before, after)
            .ok_or_else(|| violated("turned the node's state into another role's".into()))?;
        let Some(h) = handler.and_then(|h| meta.handlers.get(h)) else {
            if !changed.is_empty() || !effects.is_empty() {
                let fields = meta.field_names(role, &changed).join(", ");
                return Err(violated(format!(
                    "ran no handler, yet changed fields [{fields}] or had effects"
                )));
            }
            return Ok(());
        };
        let undeclared = changed.minus(&h.writes);
        if !undeclared.is_empty() {
            let fields = meta.field_names(role, &undeclared);
            return Err(violated(format!(
                "changed {} not in its `writes(..)`",
                fields
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        for (to, msg) in &effects.sends {
            if !h.sends.contains(&S::message_kind(msg)) {
                return Err(violated(format!(
                    "sent {msg:?} to {to}, a message not in its `sends(..)`"
                )));
            }
        }
        for output in &effects.outputs {
            if !h.emits.contains(&S::output_kind(output)) {
                return Err(violated(format!(
                    "emitted {output:?}, an output not in its `emits(..)`"
                )));
            }
        }
        for op in &effects.timers {
            let timer = match *op {
                TimerOp::Set(t, _) | TimerOp::Cancel(t) => t,
            };
            if !h.sets.contains(&S::timer_id(timer)) {
                return Err(violated(format!(
                    "set or cancelled timer {timer:?}, which is not in its `sets(..)`"
                )));
            }
        }
        Ok(())
    }

    /// Records the trace of inputs and outputs, in order, in every world.
    pub fn recording_trace(mut self) -> Self {
        self.record_trace = true;
        self.history_only = false;
        self
    }

    /// Appends an external event to the trace, keeping it a history when
    /// asked (see [`Model::history_only`]).
    fn record(&self, trace: &mut Vec<TraceEvent<S>>, event: TraceEvent<S>) {
        if !self.record_trace {
            return;
        }
        let mut at = trace.len();
        if self.history_only {
            let (input, node) = (event.is_input(), event.node());
            while at > 0 && trace[at - 1].is_input() == input && trace[at - 1].node() > node {
                at -= 1;
            }
        }
        trace.insert(at, event);
    }

    /// Gives node `i` the next input of its chained workload, if it has one
    /// left: the step that made the node emit an output also delivers the
    /// client's next call. Returns the input handler that ran.
    fn next_chained_input(
        &self,
        world: &mut World<S>,
        i: usize,
        effects: &mut Effects<S>,
    ) -> Result<Option<HandlerId>, StepError> {
        let Some(NodeWorkload::Chain(inputs)) = self.workload.of(i) else {
            return Ok(None);
        };
        let slot = &mut world.nodes[i];
        let Some(input) = inputs.get(slot.inputs_taken as usize) else {
            return Ok(None);
        };
        slot.inputs_taken += 1;
        slot.awaiting = true;
        let node = self.setup.nodes()[i];
        self.record(
            &mut world.trace,
            TraceEvent::Input {
                node,
                input: input.clone(),
            },
        );
        let mut nested = Effects::default();
        let info = self.run_handler(world, i, Trigger::Input(input.clone()), &mut nested)?;
        effects.sends.append(&mut nested.sends);
        effects.outputs.append(&mut nested.outputs);
        effects.timers.append(&mut nested.timers);
        Ok(info.handler)
    }

    /// Drops every packet in flight that `rule` says its receiver ignores
    /// for good, as soon as it does. Delivering such a packet changes
    /// nothing, whenever it happens, so dropping it keeps every behaviour
    /// and every verdict, while worlds that differ only by such packets
    /// become one. Protocols that answer stale ballots or terms with
    /// silence (Paxos, Raft) leave many of them in flight.
    ///
    /// The rule is the system's promise; the model checks the half it can:
    /// each packet dropped is first delivered to a copy of its receiver,
    /// and a handler that does anything with it fails the step
    /// ([`StepError::IgnoredMessageHandled`]). The "for good" half rests on
    /// fields that never change back; [`Model::auditing_ignore_rule`]
    /// checks it. A crash can undo what made a message ignored, so the rule
    /// is not used when the fault model can crash or restart nodes, nor when
    /// an invariant reads the network ([`Model::ignore_rule_blocked`]).
    pub fn ignoring(mut self, rule: IgnoreRule<S>) -> Self {
        self.ignores = Some(rule);
        self
    }

    /// Checks the ignore rule's whole promise instead of using it: nothing
    /// is dropped, and a step fails when a node acts on a message the rule
    /// called ignored in its state before the step
    /// ([`StepError::IgnoredMessageHandled`]), or when a step takes a node
    /// from a state where the rule ignores a packet in flight to it to one
    /// where it does not ([`StepError::IgnoredMessageRevived`]). An
    /// exhaustive check of this model then shows the rule keeps its promise
    /// in every reachable state, for every message that reaches it.
    pub fn auditing_ignore_rule(mut self) -> Self {
        self.audit_ignores = true;
        self
    }

    /// The ignore rule, when it applies to this fault model and drops
    /// messages (it is not being audited).
    pub fn ignore_rule(&self) -> Option<IgnoreRule<S>> {
        self.rule_in_force().filter(|_| !self.audit_ignores)
    }

    /// Why this model cannot use its ignore rule at all, if it cannot: a
    /// crash can reset what makes a message ignored, and an invariant that
    /// reads the network would see the dropped packets missing.
    pub fn ignore_rule_blocked(&self) -> Option<&'static str> {
        if self.faults.crash.is_on() || self.faults.restart {
            Some("a crash could undo what makes a message ignored")
        } else if S::meta().invariants.iter().any(|i| i.reads_network) {
            Some("an invariant reads the network")
        } else {
            None
        }
    }

    /// The ignore rule, when nothing blocks it.
    fn rule_in_force(&self) -> Option<IgnoreRule<S>> {
        self.ignores
            .filter(|_| self.ignore_rule_blocked().is_none())
    }

    /// Whether the ignore rule, in force and dropping, says node `dst` in
    /// `world` ignores `msg` from `src`.
    pub(crate) fn drops(&self, world: &World<S>, src: S::Node, dst: S::Node, msg: &S::Msg) -> bool {
        let (Some(rule), Some(d)) = (self.ignore_rule(), self.setup.index_of(dst)) else {
            return false;
        };
        let slot = &world.nodes[d];
        slot.up && rule(self.setup.config(), &slot.state, src, msg)
    }

    /// The ignore rule, when it is being audited.
    fn audited_rule(&self) -> Option<IgnoreRule<S>> {
        self.rule_in_force().filter(|_| self.audit_ignores)
    }

    /// After node `i` ran a handler: it did nothing with a message the rule
    /// called ignored in its state `before`, and every packet in flight to
    /// it that was ignored still is.
    fn audit_ignored(
        &self,
        world: &World<S>,
        i: usize,
        audit: &Audit<S>,
        effects: &Effects<S>,
        handler: Option<HandlerId>,
    ) -> Result<(), StepError> {
        let Audit {
            rule,
            before,
            delivered,
        } = audit;
        let config = self.setup.config();
        let node = self.setup.nodes()[i];
        let after = &world.nodes[i].state;
        if let Some((from, msg)) = delivered {
            if rule(config, before, *from, msg) && (after != before || !effects.is_empty()) {
                return Err(ignored_but_handled::<S>(node, *from, msg, handler));
            }
        }
        if after == before {
            return Ok(());
        }
        for p in world.network.packets().iter().filter(|p| p.dst == node) {
            if rule(config, before, p.src, &p.msg) && !rule(config, after, p.src, &p.msg) {
                return Err(StepError::IgnoredMessageRevived {
                    node: node.to_string(),
                    from: p.src.to_string(),
                    message: format!("{:?}", p.msg),
                    handler: handler_name::<S>(handler),
                });
            }
        }
        Ok(())
    }

    /// Drops the packets the ignore rule covers, after checking that each
    /// one's handler really does nothing with it now.
    fn drop_ignored(&self, world: &mut World<S>) -> Result<(), StepError> {
        for index in (0..world.network.len()).rev() {
            let p = &world.network.packets()[index];
            if !self.drops(world, p.src, p.dst, &p.msg) {
                continue;
            }
            let Some(d) = self.setup.index_of(p.dst) else {
                continue;
            };
            let before = &world.nodes[d].state;
            let mut state = before.clone();
            let mut fx = Effects::default();
            let trigger = Trigger::Message {
                from: p.src,
                msg: p.msg.clone(),
            };
            let handler = self.dispatch(p.dst, &mut state, trigger, &mut fx)?;
            if state != *before || !fx.is_empty() {
                return Err(ignored_but_handled::<S>(p.dst, p.src, &p.msg, handler));
            }
            world.network.take(index);
        }
        Ok(())
    }

    /// Runs `node`'s handler for `trigger` on `state`. A panicking handler
    /// is a bug in the system under check: it becomes a failed step with a
    /// counterexample instead of aborting the run.
    fn dispatch(
        &self,
        node: S::Node,
        state: &mut S::State,
        trigger: Trigger<S>,
        effects: &mut Effects<S>,
    ) -> Result<Option<HandlerId>, StepError> {
        let cluster = self.setup.cluster();
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            S::dispatch(cluster, node, state, trigger, effects)
        }))
        .map_err(|payload| StepError::HandlerPanicked {
            node: node.to_string(),
            message: panic_message(payload.as_ref()),
        })
    }

    /// Keeps at most one copy of each distinct packet in flight, when the
    /// fault model drops, duplicates and reorders without limit (otherwise
    /// this changes nothing).
    ///
    /// Under that fault model how many copies of a packet are in flight
    /// cannot be observed: any copy may be duplicated again, any may be
    /// lost, and any may be delivered next. So the network is kept as a
    /// set: sending a packet already in flight changes nothing, delivering
    /// a packet leaves it in flight (a drop removes it), and duplication is
    /// not a separate step. Every run of the multiset network has a run
    /// here with the same deliveries and external trace, and the other way
    /// round; what changes is that the network stays finite, so a system
    /// that retransmits on a timer can be checked exhaustively. Invariants
    /// that count copies of a packet in flight see at most one.
    pub fn saturating_duplicates(mut self) -> Self {
        self.saturate_duplicates = true;
        self
    }

    /// Whether the network is kept as a set in this model: asked for, and
    /// drop, duplicate and reorder are all unlimited.
    pub fn saturates(&self) -> bool {
        use crate::faults::Budget::Unlimited;
        self.saturate_duplicates
            && self.faults.drop == Unlimited
            && self.faults.duplicate == Unlimited
            && self.faults.is_unordered()
    }

    /// Whether a step may read the network after changing it: a saturated
    /// network looks for a copy before sending and drops stale packets, and
    /// an ignore rule drops or audits packets after the handler ran. Other
    /// steps read a packet only before taking it, so a search may try them
    /// on the network's fingerprint alone ([`Network::start_trial`]).
    pub fn reads_network_mid_step(&self) -> bool {
        self.saturates() || self.rule_in_force().is_some()
    }

    /// Whether `world`, where no step is enabled, is a deadlock rather
    /// than a normal end of the run: some node still waits for the reply to
    /// a call of its workload. `Some` names the waiting nodes.
    ///
    /// Only runs that took no fault can deadlock (under an unlimited fault
    /// budget, none is counted, so none is judged): a system that does not
    /// retransmit or deduplicate cannot get past a lost or duplicated
    /// message, and that stall is the fault's doing, not the protocol's (a
    /// liveness check with `eventually` properties judges it).
    pub fn deadlocked(&self, world: &World<S>) -> Option<Vec<String>> {
        use crate::faults::Budget;
        let used = &world.used;
        let taken = |budget: Budget, n: u8| budget == Budget::Unlimited || n > 0;
        let f = &self.faults;
        if taken(f.drop, used.drop)
            || taken(f.duplicate, used.duplicate)
            || taken(f.reorder, used.reorder)
            || taken(f.crash, used.crash)
            || taken(f.partition, used.partition)
            || taken(f.cut, used.cut)
        {
            return None;
        }
        if world.nodes.iter().any(|n| !n.up) || !self.enabled(world).is_empty() {
            return None;
        }
        let waiting: Vec<String> = world
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.awaiting)
            .map(|(i, _)| self.setup.nodes()[i].to_string())
            .collect();
        (!waiting.is_empty()).then_some(waiting)
    }

    /// The initial world: every node up in its initial state, after running
    /// each node's `on start` handler in index order (or the world given to
    /// [`Model::starting_from`]).
    pub fn init(&self) -> Result<World<S>, StepError> {
        if let Some(start) = &self.start {
            return Ok(World::clone(start));
        }
        let config = self.setup.config();
        let nodes = self
            .setup
            .nodes()
            .iter()
            .map(|&n| NodeSlot {
                state: S::initial_state(n, config),
                up: true,
                timers: 0,
                inputs_taken: 0,
                awaiting: false,
            })
            .collect();
        let mut world = World {
            nodes,
            network: Network::new(self.faults.is_unordered()),
            trace: Vec::new(),
            used: FaultsUsed::default(),
            partition: 0,
        };
        let mut fx = Effects::default();
        let (built, chosen) = choice::run(Source::Branch(Branch::FIRST), || {
            for i in 0..world.nodes.len() {
                self.run_handler(&mut world, i, Trigger::Start, &mut fx)?;
            }
            for i in 0..world.nodes.len() {
                self.next_chained_input(&mut world, i, &mut fx)?;
            }
            Ok(())
        });
        built?;
        if !chosen.answers.is_empty() {
            return Err(StepError::BadChoice {
                node: "a node".to_string(),
                error: choice::ChoiceError::WhileStarting,
            });
        }
        Ok(world)
    }

    /// Appends every action `world` enables to `out`, in a fixed order:
    /// per node inputs and timeouts, then deliveries, then faults.
    pub fn actions(&self, world: &World<S>, out: &mut Vec<Action>) {
        let faults = &self.faults;
        let used = &world.used;
        for (i, slot) in world.nodes.iter().enumerate() {
            if !slot.up {
                continue;
            }
            if !slot.awaiting {
                match self.workload.of(i) {
                    Some(NodeWorkload::Script(steps))
                        if (slot.inputs_taken as usize) < steps.len() =>
                    {
                        self.push_step(
                            world,
                            out,
                            Action::Input {
                                node: i,
                                choice: 0,
                                branch: Branch::FIRST,
                            },
                        )
                    }
                    Some(NodeWorkload::Any { choices, max }) if slot.inputs_taken < *max => {
                        for c in 0..choices.len() {
                            let a = Action::Input {
                                node: i,
                                choice: c,
                                branch: Branch::FIRST,
                            };
                            self.push_step(world, out, a);
                        }
                    }
                    _ => {}
                }
            }
            let mut timers = slot.timers;
            while timers != 0 {
                let t = timers.trailing_zeros() as usize;
                timers &= timers - 1;
                if S::upgrade_timer() == Some(t) && !faults.upgrade.allows(used.upgrade) {
                    continue;
                }
                self.push_step(
                    world,
                    out,
                    Action::Timeout {
                        node: i,
                        timer: t,
                        branch: Branch::FIRST,
                    },
                );
            }
        }
        let net = &world.network;
        let may_drop = faults.drop.allows(used.drop);
        // A saturated network never holds two copies: duplication is implied.
        let may_dup = faults.duplicate.allows(used.duplicate) && !self.saturates();
        let may_reorder = faults.reorder.allows(used.reorder);
        for (j, p) in net.packets().iter().enumerate() {
            if net.has_earlier_twin(j) {
                continue;
            }
            let (Some(src), Some(dst)) = (self.setup.index_of(p.src), self.setup.index_of(p.dst))
            else {
                continue;
            };
            let cut = world.across_partition(src, dst);
            let dst_up = world.nodes[dst].up;
            if dst_up && !cut && (net.is_unordered() || may_reorder || net.is_channel_head(j)) {
                self.push_step(world, out, Action::Deliver(j, Branch::FIRST));
            }
            if may_drop || cut || !dst_up {
                out.push(Action::Drop(j));
            }
            if may_dup {
                out.push(Action::Duplicate(j));
            }
        }
        if faults.crash.allows(used.crash) {
            for (i, slot) in world.nodes.iter().enumerate() {
                if slot.up {
                    out.push(Action::Crash(i));
                }
            }
        }
        if faults.restart {
            for (i, slot) in world.nodes.iter().enumerate() {
                if !slot.up {
                    out.push(Action::Restart(i));
                }
            }
        }
        let n = world.nodes.len();
        if world.partition != 0 {
            out.push(Action::Heal);
        } else if (2..=64).contains(&n) {
            if faults.partition.allows(used.partition) {
                // Each split once: the side without the last node, non-empty.
                let sides: u64 = 1u64 << (n - 1);
                out.extend((1..sides).map(Action::Partition));
            }
            if faults.cut.allows(used.cut) {
                for a in 0..n {
                    out.extend((a + 1..n).map(|b| Action::Cut(1 << a | 1 << b)));
                }
            }
        }
    }

    /// Every action `world` enables, as a new vector.
    pub fn enabled(&self, world: &World<S>) -> Vec<Action> {
        let mut out = Vec::new();
        self.actions(world, &mut out);
        out
    }

    /// Takes one step. `effects` holds what the handler did afterwards (empty
    /// when no handler ran). The action must come from [`Model::actions`] on
    /// this same world.
    pub fn apply(
        &self,
        world: &mut World<S>,
        action: Action,
        effects: &mut Effects<S>,
    ) -> Result<StepInfo, StepError> {
        // A system none of whose handlers declares `chooses` cannot choose
        // through `system!` (the compiler refuses `ctx.choose` there); only
        // the footprint audit still watches for one, as it watches every
        // other effect metadata could hide. So the hot path opens no choice
        // session for it.
        if !self.chooses && !self.audit_footprints {
            return self.apply_step(world, action, effects);
        }
        let declared = self.chooses && self.may_choose(world, action);
        let (result, chosen) = choice::run(Source::Branch(action.branch()), || {
            self.apply_step(world, action, effects)
        });
        let info = result?;
        if chosen.answers.is_empty() {
            return Ok(info);
        }
        let node = info
            .node
            .map_or_else(|| "?".to_string(), |i| self.setup.nodes()[i].to_string());
        if let Some(error) = chosen.error {
            return Err(StepError::BadChoice { node, error });
        }
        if !declared {
            return Err(StepError::FootprintViolated {
                node,
                handler: handler_name::<S>(info.handler),
                what: "chose (`ctx.choose`) but its footprint does not say `chooses`, so the \
                       checker would explore only one alternative"
                    .to_string(),
            });
        }
        Ok(info)
    }

    /// [`Model::apply`] inside the choice session that answers its choices.
    fn apply_step(
        &self,
        world: &mut World<S>,
        action: Action,
        effects: &mut Effects<S>,
    ) -> Result<StepInfo, StepError> {
        effects.clear();
        let faults = &self.faults;
        match action {
            Action::Input {
                node: i, choice, ..
            } => {
                let slot = &mut world.nodes[i];
                let input = match self.workload.of(i) {
                    Some(NodeWorkload::Script(steps)) => {
                        let step = &steps[slot.inputs_taken as usize];
                        slot.awaiting = step.awaits_output;
                        step.input.clone()
                    }
                    Some(NodeWorkload::Any { choices, .. }) => choices[choice].clone(),
                    Some(NodeWorkload::Chain(_)) | None => return Ok(StepInfo::default()),
                };
                slot.inputs_taken += 1;
                let node = self.setup.nodes()[i];
                self.record(
                    &mut world.trace,
                    TraceEvent::Input {
                        node,
                        input: input.clone(),
                    },
                );
                self.run_handler(world, i, Trigger::Input(input), effects)
            }
            Action::Deliver(j, _) => {
                let net = &mut world.network;
                if !net.is_unordered() && !net.is_channel_head(j) && faults.reorder.is_counted() {
                    world.used.reorder += 1;
                }
                // A saturated network keeps delivered packets (see
                // `saturating_duplicates`).
                let p = if self.saturates() {
                    net.packets()[j].clone()
                } else {
                    net.take(j)
                };
                let Some(dst) = self.setup.index_of(p.dst) else {
                    return Ok(StepInfo::default());
                };
                self.run_handler(
                    world,
                    dst,
                    Trigger::Message {
                        from: p.src,
                        msg: p.msg,
                    },
                    effects,
                )
            }
            Action::Timeout { node: i, timer, .. } => {
                world.nodes[i].timers &= !(1u64 << timer);
                if S::upgrade_timer() == Some(timer) && faults.upgrade.is_counted() {
                    world.used.upgrade += 1;
                }
                self.run_handler(world, i, Trigger::Timer(S::timer(timer)), effects)
            }
            Action::Drop(j) => {
                let p = &world.network.packets()[j];
                let free = match (self.setup.index_of(p.src), self.setup.index_of(p.dst)) {
                    (Some(s), Some(d)) => world.across_partition(s, d) || !world.nodes[d].up,
                    _ => true,
                };
                if !free && faults.drop.is_counted() {
                    world.used.drop += 1;
                }
                world.network.take(j);
                Ok(StepInfo::default())
            }
            Action::Duplicate(j) => {
                let p = world.network.packets()[j].clone();
                if faults.duplicate.is_counted() {
                    world.used.duplicate += 1;
                }
                world.network.send(p);
                Ok(StepInfo::default())
            }
            Action::Crash(i) => {
                let node = self.setup.nodes()[i];
                let slot = &mut world.nodes[i];
                S::crash(node, &mut slot.state, self.setup.config());
                slot.up = false;
                slot.timers = 0;
                slot.awaiting = false;
                if faults.crash.is_counted() {
                    world.used.crash += 1;
                }
                Ok(StepInfo {
                    node: Some(i),
                    ..StepInfo::default()
                })
            }
            Action::Restart(i) => {
                world.nodes[i].up = true;
                self.run_handler(world, i, Trigger::Restart, effects)
                    .map(|info| StepInfo {
                        node: Some(i),
                        ..info
                    })
            }
            Action::Partition(side) => {
                world.partition = side;
                if faults.partition.is_counted() {
                    world.used.partition += 1;
                }
                Ok(StepInfo::default())
            }
            Action::Cut(ends) => {
                world.partition = ends;
                world.used.link_cut = true;
                if faults.cut.is_counted() {
                    world.used.cut += 1;
                }
                Ok(StepInfo::default())
            }
            Action::Heal => {
                world.partition = 0;
                world.used.link_cut = false;
                Ok(StepInfo::default())
            }
        }
    }

    /// Drops every packet the system calls stale ([`System::is_stale`]) in
    /// a saturated network: a drop the fault model allows at any time,
    /// taken eagerly because the packet can no longer matter.
    fn drop_stale(&self, world: &mut World<S>) {
        let setup = &self.setup;
        let nodes = &world.nodes;
        world.network.retain(|p| match setup.index_of(p.dst) {
            Some(d) => !S::is_stale(setup.config(), &nodes[d].state, p.src, &p.msg),
            None => true,
        });
    }

    /// Runs node `i`'s handler for `trigger` and applies its effects.
    fn run_handler(
        &self,
        world: &mut World<S>,
        i: usize,
        trigger: Trigger<S>,
        effects: &mut Effects<S>,
    ) -> Result<StepInfo, StepError> {
        effects.clear();
        let node = self.setup.nodes()[i];
        let state = &mut world.nodes[i].state;
        let audit = self.audited_rule().map(|rule| {
            let delivered = match &trigger {
                Trigger::Message { from, msg } => Some((*from, msg.clone())),
                _ => None,
            };
            Audit {
                rule,
                before: state.clone(),
                delivered,
            }
        });
        let before = self.audit_footprints.then(|| state.clone());
        let handler = self.dispatch(node, state, trigger, effects)?;
        if let Some(before) = &before {
            self.audit_footprint(i, before, &world.nodes[i].state, handler, effects)?;
        }
        for (to, msg) in &effects.sends {
            if self.setup.index_of(*to).is_none() {
                return Err(StepError::SendToUnknownNode {
                    from: node.to_string(),
                    to: to.to_string(),
                    handler: handler_name::<S>(handler),
                });
            }
            let packet = Packet {
                src: node,
                dst: *to,
                msg: msg.clone(),
            };
            if self.saturates() && world.network.contains(&packet) {
                continue;
            }
            world.network.send(packet);
        }
        let emitted = !effects.outputs.is_empty();
        if emitted {
            world.nodes[i].awaiting = false;
            for output in &effects.outputs {
                self.record(
                    &mut world.trace,
                    TraceEvent::Output {
                        node,
                        output: output.clone(),
                    },
                );
            }
        }
        for op in &effects.timers {
            let (t, set) = match *op {
                TimerOp::Set(t, _) => (S::timer_id(t), true),
                TimerOp::Cancel(t) => (S::timer_id(t), false),
            };
            if t >= 64 {
                return Err(StepError::TooManyTimers);
            }
            if set {
                world.nodes[i].timers |= 1 << t;
            } else {
                world.nodes[i].timers &= !(1 << t);
            }
        }
        if self.saturates() {
            self.drop_stale(world);
        }
        if self.ignore_rule().is_some() {
            self.drop_ignored(world)?;
        }
        if let Some(audit) = &audit {
            self.audit_ignored(world, i, audit, effects, handler)?;
        }
        let chained = if emitted {
            self.next_chained_input(world, i, effects)?
        } else {
            None
        };
        Ok(StepInfo {
            node: Some(i),
            handler,
            chained,
        })
    }

    /// The index of the node whose slot `action` may change (its handler's
    /// node, or the node that crashes or restarts); `None` for steps that
    /// change only the network or the partition. [`Model::apply`] changes
    /// no other node, which lets a search rehash and undo just that one.
    pub fn node_of(&self, world: &World<S>, action: Action) -> Option<usize> {
        match action {
            Action::Input { node, .. }
            | Action::Timeout { node, .. }
            | Action::Crash(node)
            | Action::Restart(node) => Some(node),
            Action::Deliver(j, _) => self.setup.index_of(world.network.packets()[j].dst),
            Action::Drop(_)
            | Action::Duplicate(_)
            | Action::Partition(_)
            | Action::Cut(_)
            | Action::Heal => None,
        }
    }

    /// Whether `action` may add to the trace: an input, or a handler whose
    /// footprint emits outputs (a chained input follows only an output).
    /// A search uses it to save the trace only when it can change.
    pub fn may_record(&self, world: &World<S>, action: Action) -> bool {
        if !self.record_trace {
            return false;
        }
        let emits = |node: usize, trigger: crate::meta::TriggerMeta| {
            let role = S::role_of(self.setup.nodes()[node]);
            S::meta()
                .handlers
                .iter()
                .any(|h| h.role == role && h.trigger == trigger && !h.emits.is_empty())
        };
        match action {
            Action::Input { .. } => true,
            Action::Deliver(j, _) => {
                let p = &world.network.packets()[j];
                match self.setup.index_of(p.dst) {
                    Some(dst) => emits(
                        dst,
                        crate::meta::TriggerMeta::Message(S::message_kind(&p.msg)),
                    ),
                    None => false,
                }
            }
            Action::Timeout { node, timer, .. } => {
                emits(node, crate::meta::TriggerMeta::Timer(timer))
            }
            Action::Restart(node) => emits(node, crate::meta::TriggerMeta::Restart),
            Action::Crash(_)
            | Action::Drop(_)
            | Action::Duplicate(_)
            | Action::Partition(_)
            | Action::Cut(_)
            | Action::Heal => false,
        }
    }

    /// Describes `action` on `world` (before it is applied) as an [`Event`]:
    /// [`Event::Chose`] around the event when its handler chose.
    pub fn event(&self, world: &World<S>, action: Action) -> Event<S> {
        let event = self.event_without_choices(world, action);
        if !(self.chooses && self.may_choose(world, action)) {
            return event;
        }
        let chosen = self.dry_run(world, action);
        if chosen.answers.is_empty() {
            event
        } else {
            Event::Chose {
                choices: chosen.answers,
                step: Box::new(event),
            }
        }
    }

    /// The event `action` is, leaving out what its handler chose: every
    /// branch of one event gives the same.
    pub fn event_without_choices(&self, world: &World<S>, action: Action) -> Event<S> {
        let nodes = self.setup.nodes();
        match action {
            Action::Input { node, choice, .. } => {
                let slot = &world.nodes[node];
                let input = match self.workload.of(node) {
                    Some(NodeWorkload::Script(steps)) => {
                        steps[slot.inputs_taken as usize].input.clone()
                    }
                    Some(NodeWorkload::Any { choices, .. }) => choices[choice].clone(),
                    Some(NodeWorkload::Chain(_)) | None => unreachable_input(),
                };
                Event::Input {
                    node: nodes[node],
                    input,
                }
            }
            Action::Deliver(j, _) => Event::Deliver(world.network.packets()[j].clone()),
            Action::Timeout { node, timer, .. } => Event::Timeout {
                node: nodes[node],
                timer: S::timer(timer),
            },
            Action::Drop(j) => Event::Drop(world.network.packets()[j].clone()),
            Action::Duplicate(j) => Event::Duplicate(world.network.packets()[j].clone()),
            Action::Crash(i) => Event::Crash(nodes[i]),
            Action::Restart(i) => Event::Restart(nodes[i]),
            Action::Partition(side) => Event::Partition(
                (0..nodes.len())
                    .filter(|i| side >> i & 1 == 1)
                    .map(|i| nodes[i])
                    .collect(),
            ),
            Action::Cut(ends) => {
                let mut ends = (0..nodes.len()).filter(|i| ends >> i & 1 == 1);
                match (ends.next(), ends.next()) {
                    (Some(a), Some(b)) => Event::Cut(nodes[a], nodes[b]),
                    _ => Event::Heal,
                }
            }
            Action::Heal => Event::Heal,
        }
    }

    /// Pushes `action`, or one copy per branch when its step may choose.
    fn push_step(&self, world: &World<S>, out: &mut Vec<Action>, action: Action) {
        if !(self.chooses && self.may_choose(world, action)) {
            out.push(action);
            return;
        }
        let mut branches = Vec::new();
        choice::branches(
            |b| self.dry_run(world, action.with_branch(b)),
            &mut branches,
        );
        out.extend(branches.into_iter().map(|b| action.with_branch(b)));
    }

    /// What `action` chooses when taken on a copy of `world`.
    fn dry_run(&self, world: &World<S>, action: Action) -> Chosen {
        let mut copy = world.clone();
        let mut fx = Effects::default();
        choice::run(Source::Branch(action.branch()), || {
            self.apply_step(&mut copy, action, &mut fx)
        })
        .1
    }

    /// Whether the step of `action` runs a handler that declares `chooses`:
    /// its own, or the chained input that may follow an output.
    fn may_choose(&self, world: &World<S>, action: Action) -> bool {
        use crate::meta::TriggerMeta;
        let chooses = |node: usize, trigger: TriggerMeta| {
            let role = S::role_of(self.setup.nodes()[node]);
            S::meta()
                .handlers
                .iter()
                .any(|h| h.role == role && h.trigger == trigger && h.chooses)
        };
        let chained = |node: usize| {
            matches!(self.workload.of(node), Some(NodeWorkload::Chain(_)))
                && S::meta()
                    .handlers
                    .iter()
                    .any(|h| h.chooses && h.role == S::role_of(self.setup.nodes()[node]))
        };
        match action {
            Action::Input { node, choice, .. } => {
                let input = match self.workload.of(node) {
                    Some(NodeWorkload::Script(steps)) => steps
                        .get(world.nodes[node].inputs_taken as usize)
                        .map(|s| &s.input),
                    Some(NodeWorkload::Any { choices, .. }) => choices.get(choice),
                    Some(NodeWorkload::Chain(_)) | None => None,
                };
                input.is_some_and(|i| chooses(node, TriggerMeta::Input(S::input_kind(i))))
            }
            Action::Deliver(j, _) => {
                let p = &world.network.packets()[j];
                self.setup.index_of(p.dst).is_some_and(|dst| {
                    chooses(dst, TriggerMeta::Message(S::message_kind(&p.msg))) || chained(dst)
                })
            }
            Action::Timeout { node, timer, .. } => {
                chooses(node, TriggerMeta::Timer(timer)) || chained(node)
            }
            _ => false,
        }
    }

    /// The enabled action that `event` describes on `world`, if any: how a
    /// recorded trace is replayed.
    pub fn action_for(&self, world: &World<S>, event: &Event<S>) -> Option<Action> {
        self.enabled(world)
            .into_iter()
            .find(|&a| self.event(world, a) == *event)
    }
}

/// What an audit of the ignore rule keeps from before a handler runs.
struct Audit<S: System> {
    rule: IgnoreRule<S>,
    /// The node's state before.
    before: S::State,
    /// The message the handler was given, with its sender.
    delivered: Option<(S::Node, S::Msg)>,
}

/// A handler's readable name (`?` when none ran).
fn handler_name<S: System>(handler: Option<HandlerId>) -> &'static str {
    handler.map_or("?", |h| S::meta().handlers[h].name)
}

/// The error for a handler that acted on a message the ignore rule said
/// its node ignores.
fn ignored_but_handled<S: System>(
    node: S::Node,
    from: S::Node,
    msg: &S::Msg,
    handler: Option<HandlerId>,
) -> StepError {
    StepError::IgnoredMessageHandled {
        node: node.to_string(),
        from: from.to_string(),
        message: format!("{msg:?}"),
        handler: handler_name::<S>(handler),
    }
}

/// The text of a panic payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

/// Input actions are only enumerated for nodes with a workload.
#[cold]
fn unreachable_input<T>() -> T {
    panic!("an input action was applied to a node without a workload; actions must come from Model::actions on the same world")
}
