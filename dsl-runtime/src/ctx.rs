//! What a handler may do besides changing its own state: send messages, emit
//! outputs, set timers and choose — each only as its footprint allows.
//!
//! The macro gives every handler a marker type and implements [`MaySend`],
//! [`MayEmit`] and [`MaySet`] on it for exactly the messages, outputs and
//! timers the handler declares. [`Ctx`] methods require those traits, so an
//! undeclared effect is a type error, not a convention.

use std::marker::PhantomData;
use std::time::Duration;

use crate::meta::RoleEnum;
use crate::setup::Cluster;
use crate::system::System;

/// Permission to send message type `M`; implemented by the macro for a
/// handler's marker type for each message in its `sends(...)`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no permission to send `{M}`",
    label = "sent here without permission",
    note = "in a handler: add the message's variant name to the handler's `sends(...)` list, e.g. `sends(Grant)`",
    note = "in a helper generic over the handler (`fn helper<H>(ctx: &mut Ctx<'_, S, H>)`), the calling handler's `sends(...)` is not visible: the fix is a bound on the helper, `H: MaySend<msg::Grant>`, for each message it sends"
)]
pub trait MaySend<M> {}

/// Permission to emit output type `O`; implemented for each output in a
/// handler's `emits(...)`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no permission to emit `{O}`",
    label = "emitted here without permission",
    note = "in a handler: add the output's variant name to the handler's `emits(...)` list",
    note = "in a helper generic over the handler (`fn helper<H>(ctx: &mut Ctx<'_, S, H>)`), the calling handler's `emits(...)` is not visible: the fix is a bound on the helper, `H: MayEmit<output::Done>`, for each output it emits"
)]
pub trait MayEmit<O> {}

/// Permission to set or cancel timer `T`; implemented for each timer in a
/// handler's `sets(...)`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no permission to set or cancel timer `{T}`",
    label = "set here without permission",
    note = "in a handler: add the timer's name to the handler's `sets(...)` list",
    note = "in a helper generic over the handler (`fn helper<H>(ctx: &mut Ctx<'_, S, H>)`), the calling handler's `sets(...)` is not visible: the fix is a bound on the helper, `H: MaySet<timer::Retry>`, for each timer it sets"
)]
pub trait MaySet<T> {}

/// Permission to choose ([`Ctx::choose`]); implemented for a handler whose
/// footprint says `chooses`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no permission to choose",
    label = "chosen here without permission",
    note = "in a handler: add `chooses` to the handler's footprint, e.g. `on message Prepare from c chooses sends(Vote) {{ .. }}`, so the checker explores every alternative",
    note = "in a helper generic over the handler (`fn helper<H>(ctx: &mut Ctx<'_, S, H>)`), the calling handler's footprint is not visible: the fix is a bound on the helper, `H: MayChoose`"
)]
pub trait MayChoose {}

/// `M` may be sent by handler `H`: holds exactly when `H: MaySend<M>`.
///
/// [`Ctx`]'s methods ask for this rather than for `H: MaySend<M>` directly,
/// so the compiler checks the permission once it knows the message's type.
/// In a helper generic over the handler that lacks its bound, the error
/// then names the message and suggests the missing `H: MaySend<..>` bound.
#[doc(hidden)]
pub trait SentBy<H> {}
impl<H: MaySend<M>, M> SentBy<H> for M {}

/// `O` may be emitted by handler `H` (see [`SentBy`]).
#[doc(hidden)]
pub trait EmittedBy<H> {}
impl<H: MayEmit<O>, O> EmittedBy<H> for O {}

/// Timer `T` may be set by handler `H` (see [`SentBy`]).
#[doc(hidden)]
pub trait SetBy<H> {}
impl<H: MaySet<T>, T> SetBy<H> for T {}

/// A type no handler can send, emit or set. Generated code gives every
/// handler permissions for two of these, so the compiler never guesses an
/// effect's type from a handler's single declared permission and instead
/// reports an undeclared effect as a missing permission.
#[doc(hidden)]
pub struct Forbidden<const N: u8>;

/// A change to a node's timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TimerOp<T> {
    /// Arm the timer to fire after the duration (re-arming replaces it).
    Set(T, Duration),
    /// Disarm the timer.
    Cancel(T),
}

/// The effects of one handler run, in the order the handler produced them.
#[derive(Debug)]
pub struct Effects<S: System> {
    /// Messages to send: `(destination, message)`.
    pub sends: Vec<(S::Node, S::Msg)>,
    /// Outputs to emit.
    pub outputs: Vec<S::Output>,
    /// Timer changes.
    pub timers: Vec<TimerOp<S::Timer>>,
}

impl<S: System> Default for Effects<S> {
    fn default() -> Self {
        Effects {
            sends: Vec::new(),
            outputs: Vec::new(),
            timers: Vec::new(),
        }
    }
}

impl<S: System> Effects<S> {
    /// Empties the buffers, keeping their capacity for the next step.
    pub fn clear(&mut self) {
        self.sends.clear();
        self.outputs.clear();
        self.timers.clear();
    }

    /// Whether the handler did nothing observable outside its node.
    pub fn is_empty(&self) -> bool {
        self.sends.is_empty() && self.outputs.is_empty() && self.timers.is_empty()
    }
}

/// The handle a handler body sees as `ctx`: who it is, the cluster, the
/// configuration, and the effects its footprint allows.
///
/// `H` is the handler's marker type; the permission traits on it decide
/// which messages, outputs and timers the typed methods accept.
pub struct Ctx<'a, S: System, H> {
    me: S::Node,
    cluster: Cluster<'a, S::Node, S::Config>,
    effects: &'a mut Effects<S>,
    _handler: PhantomData<fn() -> H>,
}

impl<'a, S: System, H> Ctx<'a, S, H> {
    /// Built by generated code only, through `__private::ctx`.
    pub(crate) fn new(
        me: S::Node,
        cluster: Cluster<'a, S::Node, S::Config>,
        effects: &'a mut Effects<S>,
    ) -> Self {
        Ctx {
            me,
            cluster,
            effects,
            _handler: PhantomData,
        }
    }

    /// The node running this handler.
    pub fn me(&self) -> S::Node {
        self.me
    }

    /// Every node of this run, in index order.
    pub fn nodes(&self) -> &'a [S::Node] {
        self.cluster.nodes
    }

    /// The nodes of `role` (`Role::Server`), in index order.
    pub fn nodes_of(&self, role: S::Role) -> impl Iterator<Item = S::Node> + 'a {
        let id = role.id();
        self.cluster
            .nodes
            .iter()
            .copied()
            .filter(move |&n| S::role_of(n) == id)
    }

    /// The other nodes of this node's role: its peers, in index order.
    pub fn peers(&self) -> impl Iterator<Item = S::Node> + 'a {
        let (me, role) = (self.me, S::role_of(self.me));
        self.cluster
            .nodes
            .iter()
            .copied()
            .filter(move |&n| n != me && S::role_of(n) == role)
    }

    /// The smallest majority of this node's role (2 of 3, 3 of 4 and 5):
    /// the quorum size of a protocol run by the nodes of one role.
    pub fn majority(&self) -> usize {
        let role = S::role_of(self.me);
        let n = self
            .cluster
            .nodes
            .iter()
            .filter(|&&n| S::role_of(n) == role)
            .count();
        n / 2 + 1
    }

    /// The run's configuration (`config { .. }` in `system!`).
    pub fn config(&self) -> &'a S::Config {
        self.cluster.config
    }

    /// Sends `msg` to `to`. Only messages in the handler's `sends(...)` compile.
    pub fn send<M>(&mut self, to: S::Node, msg: M)
    where
        M: Into<S::Msg> + SentBy<H>,
    {
        self.effects.sends.push((to, msg.into()));
    }

    /// Sends a copy of `msg` to each node in `to`.
    pub fn broadcast<M>(&mut self, to: impl IntoIterator<Item = S::Node>, msg: M)
    where
        M: Into<S::Msg> + SentBy<H>,
    {
        let msg: S::Msg = msg.into();
        for node in to {
            self.effects.sends.push((node, msg.clone()));
        }
    }

    /// One of `n` alternatives, `0..n`. The checker explores every answer
    /// as a step of its own; the runtime draws one at random and logs it,
    /// so recovery replays the same answer. Only handlers whose footprint
    /// says `chooses` compile. The checker explores up to
    /// [`crate::choice::MAX_ALTERNATIVES`] alternatives a choice and
    /// [`crate::choice::MAX_CHOICES`] choices a step; beyond that, or for
    /// `n == 0`, the step fails with a counterexample.
    pub fn choose(&mut self, n: usize) -> usize
    where
        H: MayChoose,
    {
        crate::choice::answer(n)
    }

    /// One of `options`, chosen as [`Ctx::choose`] does; `None` when empty.
    pub fn choose_from<'o, T>(&mut self, options: &'o [T]) -> Option<&'o T>
    where
        H: MayChoose,
    {
        if options.is_empty() {
            return None;
        }
        options.get(crate::choice::answer(options.len()))
    }

    /// Emits `output` to the outside world. Only outputs in `emits(...)` compile.
    pub fn output<O>(&mut self, output: O)
    where
        O: Into<S::Output> + EmittedBy<H>,
    {
        self.effects.outputs.push(output.into());
    }

    /// Arms `timer` to fire after `after` (the checker ignores durations: an
    /// armed timer may fire at any point). Only timers in `sets(...)` compile.
    pub fn set_timer<T>(&mut self, timer: T, after: Duration)
    where
        T: Into<S::Timer> + SetBy<H>,
    {
        self.effects.timers.push(TimerOp::Set(timer.into(), after));
    }

    /// Disarms `timer` if it is armed.
    pub fn cancel_timer<T>(&mut self, timer: T)
    where
        T: Into<S::Timer> + SetBy<H>,
    {
        self.effects.timers.push(TimerOp::Cancel(timer.into()));
    }
}
