//! The footprint audit: every example and every transformer keeps to its
//! declared footprints in every reachable step, and a system whose
//! metadata lies is caught with a counterexample — including the three
//! effects the hand-typed primary-backup table used to leave out.

use std::marker::PhantomData;

use verdict::meta::{FieldSet, HandlerId, InvariantId, KindId, RoleId, SystemMeta, TimerId};
use verdict::prelude::*;
use verdict::semantics::{StepError, World};
use verdict::transform::layer::{cached_meta, MetaBuilder};
use verdict::transform::projection::{project_world, same_network, Reads};
use verdict::transform::{
    plan_retransmitting, recovering_model, reliable_model, PbBug, PrimaryBackup,
};
use verdict::{Cluster, Effects, Outcome, Trigger, Violation};
use verdict_examples::{balancer, counter, kv, lockserv, paxos, pingpong, twophase};

fn audited<S: System>(model: Model<S>) -> Model<S> {
    model.auditing_footprints(true)
}

/// Checks exhaustively with the audit on; panics on any failed step.
fn passes<S: System>(model: Model<S>) -> u64 {
    let report = check(&audited(model), &CheckOptions::default());
    if let Some(cx) = report.counterexample() {
        if let Violation::Step(e) = &cx.violation {
            panic!("{}: {e}", S::meta().name);
        }
    }
    report.stats.unique
}

#[test]
fn every_example_keeps_to_its_footprints() {
    let none = Faults::none();
    let crash: Faults = "crash=1".parse().unwrap();
    assert!(passes(lockserv::model(3, 1, none).unwrap()) > 10);
    assert!(passes(lockserv::model(2, 1, "dup=1".parse().unwrap()).unwrap()) > 10);
    assert!(passes(counter::model(2, crash, false).unwrap()) > 10);
    assert!(passes(twophase::model(3, none, false).unwrap()) > 10);
    assert!(passes(paxos::model(1, none, false).unwrap()) > 10);
    let setup = pingpong::setup(false).unwrap();
    let workload = pingpong::workload(&setup, 3, 2);
    assert!(passes(Model::new(setup, none, workload)) > 1);
    assert!(passes(kv::single(2, 2, crash).unwrap()) > 10);
    let balancer = balancer::Config {
        capacity: 2,
        ignore_load: false,
    };
    assert!(passes(balancer::model(2, 3, balancer).unwrap()) > 10);
}

#[test]
fn every_transformer_keeps_to_its_footprints() {
    let harsh: Faults = "drop,dup,reorder".parse().unwrap();
    let base = lockserv::model(2, 1, Faults::none()).unwrap();
    let mut reliable = reliable_model(&base, harsh);
    plan_retransmitting(&mut reliable, false);
    assert!(passes(reliable) > 100);
    let crashes: Faults = "crash=1".parse().unwrap();
    assert!(passes(recovering_model(&base, crashes)) > 10);
    let mut both = reliable_model(&recovering_model(&base, crashes), harsh);
    plan_retransmitting(&mut both, false);
    assert!(passes(both) > 100);
    let pb = kv::primary_backup(2, 1, "crash=1".parse().unwrap(), None).unwrap();
    assert!(passes(pb) > 100);
}

/// Edits metadata: a lie about handlers whose code is unchanged.
trait Edit: Send + Sync + 'static {
    fn edit(meta: &mut MetaBuilder);
}

/// System `S` as it is, described by `S`'s metadata edited by `E`.
struct Edited<S, E>(PhantomData<fn() -> (S, E)>);

impl<S: System, E: Edit> System for Edited<S, E> {
    type Node = S::Node;
    type Role = S::Role;
    type State = S::State;
    type Input = S::Input;
    type Output = S::Output;
    type Msg = S::Msg;
    type Timer = S::Timer;
    type Config = S::Config;

    fn meta() -> &'static SystemMeta {
        cached_meta::<Self>(|| {
            let mut b =
                MetaBuilder::from_base(format!("Edited<{}>", S::meta().name), S::meta(), false);
            E::edit(&mut b);
            b.build()
        })
    }

    fn node(role: RoleId, instance: usize) -> S::Node {
        S::node(role, instance)
    }
    fn role_of(node: S::Node) -> RoleId {
        S::role_of(node)
    }
    fn instance_of(node: S::Node) -> usize {
        S::instance_of(node)
    }
    fn initial_state(node: S::Node, config: &S::Config) -> S::State {
        S::initial_state(node, config)
    }
    fn dispatch(
        cluster: Cluster<'_, S::Node, S::Config>,
        node: S::Node,
        state: &mut S::State,
        trigger: Trigger<Self>,
        effects: &mut Effects<Self>,
    ) -> Option<HandlerId> {
        let trigger = match trigger {
            Trigger::Start => Trigger::Start,
            Trigger::Input(i) => Trigger::Input(i),
            Trigger::Message { from, msg } => Trigger::Message { from, msg },
            Trigger::Timer(t) => Trigger::Timer(t),
            Trigger::Restart => Trigger::Restart,
        };
        let mut fx = Effects::<S>::default();
        let ran = S::dispatch(cluster, node, state, trigger, &mut fx);
        effects.sends.append(&mut fx.sends);
        effects.outputs.append(&mut fx.outputs);
        effects.timers.append(&mut fx.timers);
        ran
    }
    fn crash(node: S::Node, state: &mut S::State, config: &S::Config) {
        S::crash(node, state, config)
    }
    fn timer_id(timer: S::Timer) -> TimerId {
        S::timer_id(timer)
    }
    fn timer(id: TimerId) -> S::Timer {
        S::timer(id)
    }
    fn input_kind(input: &S::Input) -> KindId {
        S::input_kind(input)
    }
    fn output_kind(output: &S::Output) -> KindId {
        S::output_kind(output)
    }
    fn message_kind(msg: &S::Msg) -> KindId {
        S::message_kind(msg)
    }
    fn check_global(
        invariant: InvariantId,
        setup: &Setup<Self>,
        world: &World<Self>,
    ) -> Result<(), String> {
        let base = setup.with_system::<S>(setup.config().clone());
        let projected = project_world::<Self, S>(
            world,
            Reads::of::<S>(invariant),
            u64::MAX,
            Clone::clone,
            || same_network::<Self, S>(&world.network),
        );
        S::check_global(invariant, &base, &projected)
    }
    fn check_local(
        invariant: InvariantId,
        node: S::Node,
        state: &S::State,
        config: &S::Config,
    ) -> Result<(), String> {
        S::check_local(invariant, node, state, config)
    }
    fn fields(state: &S::State) -> Vec<(&'static str, String)> {
        S::fields(state)
    }
    fn changed_fields(role: RoleId, before: &S::State, after: &S::State) -> Option<FieldSet> {
        S::changed_fields(role, before, after)
    }
}

/// The handler of `meta` named `name`.
fn handler<'a>(meta: &'a mut MetaBuilder, name: &str) -> &'a mut verdict::meta::HandlerMeta {
    meta.handlers
        .iter_mut()
        .find(|h| h.name == name)
        .unwrap_or_else(|| panic!("no handler {name}"))
}

/// The field `name` of role `role`.
fn field(meta: &MetaBuilder, role: &str, name: &str) -> usize {
    let (_, _, _, fields) = meta.roles.iter().find(|(r, _, _, _)| *r == role).unwrap();
    fields.iter().position(|f| f.name == name).unwrap()
}

/// The message kind `name`.
fn kind(meta: &MetaBuilder, name: &str) -> KindId {
    meta.messages.iter().position(|m| *m == name).unwrap()
}

/// The lock server's `Lock` handler, said not to write the queue.
struct ForgetsQueueWrite;
impl Edit for ForgetsQueueWrite {
    fn edit(meta: &mut MetaBuilder) {
        let queue = field(meta, "Server", "queue");
        let h = handler(meta, "Server on message Lock");
        h.writes = h.writes.minus(&FieldSet::of([queue]));
    }
}

/// The lock server's `Lock` handler, said to send nothing.
struct ForgetsGrant;
impl Edit for ForgetsGrant {
    fn edit(meta: &mut MetaBuilder) {
        handler(meta, "Server on message Lock").sends = &[];
    }
}

/// The client's `Grant` handler, said to emit nothing.
struct ForgetsLocked;
impl Edit for ForgetsLocked {
    fn edit(meta: &mut MetaBuilder) {
        handler(meta, "Client on message Grant").emits = &[];
    }
}

/// The audit's verdict on `model`: the failed step's message.
fn audit_failure<S: System>(model: Model<S>) -> String {
    let report = check(&audited(model), &CheckOptions::default());
    let cx = report
        .counterexample()
        .unwrap_or_else(|| panic!("the audit passed a lie: {}", report.stats));
    match &cx.violation {
        Violation::Step(e @ StepError::FootprintViolated { .. }) => {
            // The counterexample replays to the same failed step.
            assert!(!cx.events.is_empty());
            e.to_string()
        }
        other => panic!("expected a footprint violation, got {other}"),
    }
}

fn lockserv_as<E: Edit>() -> Model<Edited<lockserv::LockServ, E>> {
    let base = lockserv::model(2, 1, Faults::none()).unwrap();
    verdict::transform::wrap_model(&base, (), Faults::none())
}

#[test]
fn a_lie_about_writes_sends_or_emits_fails_the_audit_with_a_counterexample() {
    let text = audit_failure(lockserv_as::<ForgetsQueueWrite>());
    assert!(text.contains("`Server on message Lock`"), "{text}");
    assert!(
        text.contains("changed `queue` not in its `writes(..)`"),
        "{text}"
    );
    let text = audit_failure(lockserv_as::<ForgetsGrant>());
    assert!(text.contains("not in its `sends(..)`"), "{text}");
    let text = audit_failure(lockserv_as::<ForgetsLocked>());
    assert!(text.contains("not in its `emits(..)`"), "{text}");
}

#[test]
fn without_the_audit_a_lie_goes_unnoticed() {
    let report = check(
        &lockserv_as::<ForgetsQueueWrite>().auditing_footprints(false),
        &CheckOptions::default(),
    );
    assert!(
        matches!(report.outcome, Outcome::Exhausted),
        "{}",
        report.stats
    );
}

/// The footprints the hand-typed primary-backup table gave: the primary's
/// `Request` handler did not write `sessions`, its `Snapshot` handler did
/// not write `queue`.
struct OldPrimaryBackupWrites;
impl Edit for OldPrimaryBackupWrites {
    fn edit(meta: &mut MetaBuilder) {
        let sessions = field(meta, "Primary", "sessions");
        let queue = field(meta, "Primary", "queue");
        let request = handler(meta, "Primary on message Request");
        request.writes = request.writes.minus(&FieldSet::of([sessions]));
        let snapshot = handler(meta, "Primary on message Snapshot");
        snapshot.writes = snapshot.writes.minus(&FieldSet::of([queue]));
    }
}

/// And the table's `Snapshot` handler sent no `Reply`.
struct OldPrimaryBackupSends;
impl Edit for OldPrimaryBackupSends {
    fn edit(meta: &mut MetaBuilder) {
        let (forward, resend) = (kind(meta, "Forward"), kind(meta, "Resend"));
        let snapshot = handler(meta, "Primary on message Snapshot");
        snapshot.sends = Box::leak(vec![forward, resend].into_boxed_slice());
    }
}

/// The store replicated by primary-backup, described by edited metadata.
fn old_pb<E: Edit>(
    clients: usize,
    faults: &str,
    bug: Option<PbBug>,
) -> Model<Edited<PrimaryBackup<kv::Store>, E>> {
    let base = kv::primary_backup(clients, 2, faults.parse().unwrap(), bug).unwrap();
    let config = base.setup.config().clone();
    verdict::transform::wrap_model(&base, config, base.faults)
}

#[test]
fn the_audit_catches_what_the_old_primary_backup_table_left_out() {
    // With the bug, the first request writes the sessions.
    let text = audit_failure(old_pb::<OldPrimaryBackupWrites>(
        2,
        "none",
        Some(PbBug::ReplyBeforeAck),
    ));
    assert!(text.contains("`Primary on message Request`"), "{text}");
    assert!(text.contains("`sessions`"), "{text}");
    // After two crashes of the primary, a request the backup applied
    // reaches it again while it recovers; the snapshot's sessions answer
    // it: the handler drops it from the queue and replies.
    let text = audit_failure(old_pb::<OldPrimaryBackupWrites>(1, "crash=2", None));
    assert!(text.contains("`Primary on message Snapshot`"), "{text}");
    assert!(text.contains("changed `queue`"), "{text}");
    let text = audit_failure(old_pb::<OldPrimaryBackupSends>(1, "crash=2", None));
    assert!(text.contains("`Primary on message Snapshot`"), "{text}");
    assert!(text.contains("Reply"), "{text}");
}

/// The balancer's `Job` handler, said not to choose.
struct HidesChoice;
impl Edit for HidesChoice {
    fn edit(meta: &mut MetaBuilder) {
        handler(meta, "Dispatcher on input Job").chooses = false;
    }
}

#[test]
fn a_handler_that_chooses_without_saying_so_fails_even_without_the_audit() {
    // Undeclared, its step would be explored with one answer only. While
    // another handler declares `chooses`, the model checks every step for
    // it, audit or not.
    let base = balancer::model(2, 1, balancer::Config::default()).unwrap();
    let config = base.setup.config().clone();
    let model: Model<Edited<balancer::Balancer, HidesChoice>> =
        verdict::transform::wrap_model(&base, config, Faults::none());
    let report = check(&model.auditing_footprints(false), &CheckOptions::default());
    let cx = report
        .counterexample()
        .expect("the hidden choice is caught");
    let Violation::Step(e @ StepError::FootprintViolated { .. }) = &cx.violation else {
        panic!("{:?}", cx.violation)
    };
    let text = e.to_string();
    assert!(text.contains("`Dispatcher on input Job`"), "{text}");
    assert!(text.contains("does not say `chooses`"), "{text}");
}

/// Every choosing handler of the balancer, said not to choose.
struct HidesEveryChoice;
impl Edit for HidesEveryChoice {
    fn edit(meta: &mut MetaBuilder) {
        handler(meta, "Dispatcher on input Job").chooses = false;
        handler(meta, "Dispatcher on message Done").chooses = false;
    }
}

#[test]
fn a_system_that_hides_every_choice_is_caught_by_the_audit() {
    let base = balancer::model(2, 1, balancer::Config::default()).unwrap();
    let config = base.setup.config().clone();
    let model: Model<Edited<balancer::Balancer, HidesEveryChoice>> =
        verdict::transform::wrap_model(&base, config, Faults::none());
    let text = audit_failure(model);
    assert!(text.contains("does not say `chooses`"), "{text}");
}
