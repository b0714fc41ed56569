//! The one contract between a system and everything that runs it.
//!
//! The `system!` macro implements [`System`] for the type it declares. The
//! checker, the simulator, the transformers and the runtime consume only this
//! trait, so they all run exactly the handlers the user wrote.

use std::fmt::{Debug, Display};
use std::hash::Hash;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::ctx::Effects;
use crate::meta::{
    FieldSet, HandlerId, InvariantId, KindId, RoleEnum, RoleId, SystemMeta, TimerId,
};
use crate::semantics::World;
use crate::setup::{Cluster, Setup};

/// What every value that lives in a world must be: cloneable for branching,
/// hashable for the visited set, printable for counterexamples, serialisable
/// for traces on disk and frames on the wire.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not data",
    label = "`{Self}` is used where the checker clones, hashes, prints and serialises values",
    note = "data is `Clone + Eq + Hash + Debug + Serialize + Deserialize + Send + Sync + 'static`: derive what is missing, or bound a type parameter by `verdict::Data`"
)]
pub trait Data:
    Clone + Eq + Hash + Debug + Serialize + DeserializeOwned + Send + Sync + 'static
{
}
// Not recommended, so a missing piece is reported once, as "not data".
#[diagnostic::do_not_recommend]
impl<T> Data for T where
    T: Clone + Eq + Hash + Debug + Serialize + DeserializeOwned + Send + Sync + 'static
{
}

/// The event a handler is dispatched on.
#[derive(Debug, Clone)]
pub enum Trigger<S: System> {
    /// The node starts for the first time.
    Start,
    /// An external input arrives.
    Input(S::Input),
    /// A message arrives from `from`.
    Message {
        /// The sender.
        from: S::Node,
        /// The message.
        msg: S::Msg,
    },
    /// A named timer fires.
    Timer(S::Timer),
    /// The node comes back after a crash, with only its durable fields.
    Restart,
}

/// The result of an invariant: `true`/`Ok(())` when it holds, otherwise
/// `false` or an explanation.
pub trait InvariantResult {
    /// `Ok(())` when the invariant holds, else why not.
    fn into_result(self) -> Result<(), String>;
}

impl InvariantResult for bool {
    fn into_result(self) -> Result<(), String> {
        if self {
            Ok(())
        } else {
            Err(String::new())
        }
    }
}

impl InvariantResult for Result<(), String> {
    fn into_result(self) -> Result<(), String> {
        self
    }
}

impl InvariantResult for Result<(), &str> {
    fn into_result(self) -> Result<(), String> {
        self.map_err(str::to_string)
    }
}

/// A distributed system: node roles, their state, handlers and invariants.
///
/// Implemented by `system!`; implement it by hand only to wrap another
/// system (see the transformers).
pub trait System: Sized + Send + Sync + 'static {
    /// A node's identity, such as `Node::Server` or `Node::Client(2)`.
    /// Its order is the order of node indices in a [`Setup`].
    type Node: Copy
        + Ord
        + Hash
        + Debug
        + Display
        + Serialize
        + DeserializeOwned
        + Send
        + Sync
        + 'static;
    /// The roles, as values (`Role::Client`); a wrapper keeps its base's.
    type Role: RoleEnum;
    /// The state of one node (one variant per role).
    type State: Data;
    /// External inputs, delivered to a node by the outside world.
    type Input: Data;
    /// External outputs, emitted by a node to the outside world.
    type Output: Data;
    /// Network messages.
    type Msg: Data;
    /// Named timers.
    type Timer: Copy + Eq + Hash + Debug + Serialize + DeserializeOwned + Send + Sync + 'static;
    /// Fixed per-run settings handlers may read (`config { .. }`); `()` if none.
    type Config: Clone + Debug + Default + Send + Sync + 'static;

    /// The declared roles, fields, handlers, footprints and invariants.
    fn meta() -> &'static SystemMeta;

    /// The node of `role` with the given instance number (0 for singleton roles).
    fn node(role: RoleId, instance: usize) -> Self::Node;
    /// The role of `node`.
    fn role_of(node: Self::Node) -> RoleId;
    /// The instance number of `node` within its role (0 for singleton roles).
    fn instance_of(node: Self::Node) -> usize;

    /// The state `node` starts with.
    fn initial_state(node: Self::Node, config: &Self::Config) -> Self::State;

    /// Runs the handler of `node` for `trigger`, collecting its effects.
    /// Returns which handler ran, or `None` when the role has no handler for
    /// this event (the event then has no effect).
    fn dispatch(
        cluster: Cluster<'_, Self::Node, Self::Config>,
        node: Self::Node,
        state: &mut Self::State,
        trigger: Trigger<Self>,
        effects: &mut Effects<Self>,
    ) -> Option<HandlerId>;

    /// Resets every volatile field to its initial value, as a crash does;
    /// `#[durable]` fields keep their values.
    fn crash(node: Self::Node, state: &mut Self::State, config: &Self::Config);

    /// The index of a timer in [`SystemMeta::timers`].
    fn timer_id(timer: Self::Timer) -> TimerId;
    /// The timer with this index.
    fn timer(id: TimerId) -> Self::Timer;
    /// The variant index of an input in [`SystemMeta::inputs`].
    fn input_kind(input: &Self::Input) -> KindId;
    /// The variant index of an output in [`SystemMeta::outputs`].
    fn output_kind(output: &Self::Output) -> KindId;
    /// The variant index of a message in [`SystemMeta::messages`].
    fn message_kind(msg: &Self::Msg) -> KindId;

    /// Evaluates a global or trace invariant on a world.
    fn check_global(
        invariant: InvariantId,
        setup: &Setup<Self>,
        world: &World<Self>,
    ) -> Result<(), String>;

    /// Evaluates a local invariant on one node's state (and the run's
    /// configuration, which it may read). Returns `Ok(())` when `invariant`
    /// is not local to `node`'s role.
    fn check_local(
        invariant: InvariantId,
        node: Self::Node,
        state: &Self::State,
        config: &Self::Config,
    ) -> Result<(), String>;

    /// Each field of `state` as `(name, value printed with Debug)`, in
    /// declaration order; counterexamples use it to show what changed.
    fn fields(state: &Self::State) -> Vec<(&'static str, String)>;

    /// Each field of `state` broken into small observable parts (see
    /// [`crate::observe`]), for invariant inference. `system!`
    /// generates it for systems without type parameters; the default
    /// observes nothing, so inference mines only network predicates.
    fn observe(state: &Self::State, out: &mut Vec<crate::observe::Atom>) {
        let _ = (state, out);
    }

    /// The states that differ from `state` in one field, set to another
    /// value of that field's bounded domain: `#[domain(..)]` on the field,
    /// or every value of a `bool`. The induction search adds them to the
    /// states reachable runs produced, so a pre-state may hold a value no
    /// run reached. `system!` generates it; the default adds nothing.
    fn vary(state: &Self::State, out: &mut Vec<Self::State>) {
        let _ = (state, out);
    }

    /// The fields of `role` (indices in its [`crate::meta::RoleMeta::fields`])
    /// whose values differ between two states of one node, for the
    /// footprint audit ([`crate::Model::auditing_footprints`]); `None` when
    /// they are not both states of `role`.
    ///
    /// `system!` and the transformers compare the values. The default
    /// compares them as [`System::fields`] prints them, which misses a
    /// difference `Debug` does not show; override it in a hand-written
    /// system.
    fn changed_fields(role: RoleId, before: &Self::State, after: &Self::State) -> Option<FieldSet> {
        let (b, a) = (Self::fields(before), Self::fields(after));
        let names = Self::meta().roles.get(role)?.fields;
        let same_role = b.len() == names.len()
            && a.len() == names.len()
            && b.iter().zip(names).all(|((n, _), f)| *n == f.name)
            && a.iter().zip(names).all(|((n, _), f)| *n == f.name);
        same_role.then(|| {
            b.iter()
                .zip(&a)
                .enumerate()
                .filter(|(_, ((_, x), (_, y)))| x != y)
                .map(|(i, _)| i)
                .collect()
        })
    }

    /// Renames every node id inside `state` with `map`, for symmetry
    /// reduction. `Err` names a field whose type cannot be relabelled (see
    /// [`crate::Relabel`]); symmetry is then off. The default says the
    /// system does not support relabelling.
    fn relabel_state(
        state: &mut Self::State,
        map: &dyn Fn(Self::Node) -> Self::Node,
    ) -> Result<(), &'static str> {
        let _ = (state, map);
        Err("the system does not implement relabelling")
    }

    /// Renames every node id inside a message; see [`System::relabel_state`].
    fn relabel_msg(
        msg: &mut Self::Msg,
        map: &dyn Fn(Self::Node) -> Self::Node,
    ) -> Result<(), &'static str> {
        let _ = (msg, map);
        Err("the system does not implement relabelling")
    }

    /// Renames every node id inside an input; see [`System::relabel_state`].
    fn relabel_input(
        input: &mut Self::Input,
        map: &dyn Fn(Self::Node) -> Self::Node,
    ) -> Result<(), &'static str> {
        let _ = (input, map);
        Err("the system does not implement relabelling")
    }

    /// Renames every node id inside an output; see [`System::relabel_state`].
    fn relabel_output(
        output: &mut Self::Output,
        map: &dyn Fn(Self::Node) -> Self::Node,
    ) -> Result<(), &'static str> {
        let _ = (output, map);
        Err("the system does not implement relabelling")
    }

    /// The `eventually` properties (liveness), by index; see
    /// [`System::check_eventually`]. None by default.
    fn eventually() -> &'static [crate::meta::EventuallyMeta] {
        &[]
    }

    /// Whether `eventually` property `id` holds in `world` (the goal a fair
    /// run must reach again and again). `true` by default.
    fn check_eventually(id: usize, setup: &Setup<Self>, world: &World<Self>) -> bool {
        let _ = (id, setup, world);
        true
    }

    /// The timer whose firing switches a node to the new version of a
    /// rolling upgrade ([`crate::transform::Upgrade`]): the model lets it
    /// fire only while the fault model's `upgrade` budget allows, and
    /// counts it. `None` (the default): the system has no such step.
    fn upgrade_timer() -> Option<TimerId> {
        None
    }

    /// Whether a packet from `src` carrying `msg`, in flight to a node in
    /// state `dst_state` (in a run configured with `config`), is stale:
    /// delivering it now or later can only repeat what the sender can make
    /// happen anyway (so losing it loses no behaviour). A checker may then drop it as soon as it is stale, when
    /// the fault model lets the network drop any packet anyway. The default
    /// says no packet is ever stale; transformers that number messages
    /// recognise old duplicates and old acknowledgements.
    fn is_stale(
        config: &Self::Config,
        dst_state: &Self::State,
        src: Self::Node,
        msg: &Self::Msg,
    ) -> bool {
        let _ = (config, dst_state, src, msg);
        false
    }
}
