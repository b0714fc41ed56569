//! Single-node state machines, and checking that a replicated one is
//! linearizable.
//!
//! A [`StateMachine`] is the service a replication transformer makes
//! fault-tolerant: a deterministic value that applies one input at a time
//! and returns an output. The same value is its own sequential
//! specification: [`Sequential<M>`] hands it to [`crate::lin`], and
//! [`check_linearizable`] reads a history out of a system's trace (each
//! input a client receives is an invocation, each output it emits the
//! return of its pending invocation) and checks it. A system serving `M`
//! is correct when every trace passes: it behaves like one copy of `M`
//! applying operations one at a time, in an order that respects real time.

use std::any::TypeId;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::marker::PhantomData;

use crate::fingerprint::fingerprint;
use crate::lin::{self, ClientId, History, OpId, Spec, Verdict};
use crate::semantics::TraceEvent;
use crate::system::{Data, System};

/// A deterministic single-node service: apply an input, return an output.
pub trait StateMachine: Data + Default {
    /// What a client asks.
    type Input: Data;
    /// What it gets back.
    type Output: Data;

    /// Applies `input`, returning its output. Must be deterministic.
    fn apply(&mut self, input: &Self::Input) -> Self::Output;

    /// Whether `input` never changes the machine (a read). Replication may
    /// then answer it from any up-to-date copy, and the linearizability
    /// checker places it without search. Answer `false` when unsure.
    fn is_read_only(input: &Self::Input) -> bool {
        let _ = input;
        false
    }

    /// The independent part of the machine `input` touches (a key), if the
    /// machine is a product of independent parts; lets the linearizability
    /// checker check each part on its own. `None` by default.
    fn partition_key(input: &Self::Input) -> Option<u64> {
        let _ = input;
        None
    }
}

/// State machine `M` as the sequential specification of a linearizability
/// check: its initial value, and `apply` as the only legal step.
pub struct Sequential<M>(PhantomData<fn() -> M>);

impl<M> Sequential<M> {
    /// The specification.
    pub fn new() -> Self {
        Sequential(PhantomData)
    }
}

impl<M> Default for Sequential<M> {
    fn default() -> Self {
        Self::new()
    }
}

impl<M: StateMachine> Spec for Sequential<M> {
    type Op = M::Input;
    type Ret = M::Output;
    type State = M;

    fn init(&self) -> M {
        M::default()
    }

    fn step(&self, state: &M, op: &M::Input, ret: Option<&M::Output>, next: &mut Vec<M>) {
        let mut after = state.clone();
        let out = after.apply(op);
        if ret.is_none_or(|r| *r == out) {
            next.push(after);
        }
    }

    fn is_read_only(&self, op: &M::Input, _ret: Option<&M::Output>) -> bool {
        M::is_read_only(op)
    }

    fn partition_key(&self, op: &M::Input) -> Option<u64> {
        M::partition_key(op)
    }
}

/// The history a trace records: every node that receives an input is a
/// client; its input starts an operation and its next output ends it. An
/// operation still pending when the same client receives its next input (a
/// client that crashed and moved on) stays open: it may have taken effect
/// or not. Fails when a node emits an output with no operation pending.
pub fn history_of<S: System>(
    trace: &[TraceEvent<S>],
) -> Result<History<S::Input, S::Output>, String> {
    history_with(trace, &|i: &S::Input| i.clone(), &|o: &S::Output| o.clone())
}

/// [`history_of`], with each input read as operation `op(input)` and each
/// output as return value `ret(output)` of a specification's own types.
pub fn history_with<S: System, Op, Ret>(
    trace: &[TraceEvent<S>],
    op: &dyn Fn(&S::Input) -> Op,
    ret: &dyn Fn(&S::Output) -> Ret,
) -> Result<History<Op, Ret>, String> {
    let mut history = History::with_capacity(trace.len());
    let mut clients: HashMap<S::Node, (ClientId, Option<OpId>)> = HashMap::new();
    for event in trace {
        let next_id = clients.len() as ClientId;
        match event {
            TraceEvent::Input { node, input } => {
                let entry = clients.entry(*node).or_insert((next_id, None));
                entry.1 = Some(history.invoke(entry.0, op(input)));
            }
            TraceEvent::Output { node, output } => {
                let pending = clients.get_mut(node).and_then(|e| e.1.take());
                let Some(id) = pending else {
                    return Err(format!(
                        "{node} emitted {output:?} with no operation pending"
                    ));
                };
                history
                    .complete(id, ret(output))
                    .map_err(|e| e.to_string())?;
            }
        }
    }
    Ok(history)
}

/// Verdicts already computed on this thread, by (specification, mapping and
/// system type, the specification's initial state, trace fingerprint): the
/// checker evaluates the invariant at every state, and most states share
/// their trace with another.
type Verdicts = RefCell<HashMap<(TypeId, u64, u64), Result<(), String>>>;

thread_local! {
    static VERDICTS: Verdicts = RefCell::new(HashMap::new());
}

/// Remembered verdicts per thread before the memo is emptied.
const MEMO_LIMIT: usize = 1 << 20;

/// Checks that the trace's history is linearizable with respect to `M`.
/// The error names the clients by node and explains which operations
/// cannot be ordered.
pub fn check_linearizable<M, S>(trace: &[TraceEvent<S>]) -> Result<(), String>
where
    M: StateMachine,
    S: System<Input = M::Input, Output = M::Output>,
{
    check_linearizable_with(
        &Sequential::<M>::new(),
        trace,
        |i: &M::Input| i.clone(),
        |o: &M::Output| o.clone(),
    )
}

/// Checks that the trace's history is linearizable with respect to `spec`,
/// reading each input a client receives as operation `op(input)` and each
/// output it emits as return value `ret(output)`: for a system whose
/// inputs and outputs are not the specification's own types (a register
/// served by Paxos: `Put(v)` is `Write(v)`, `GetOk(v)` is `Value(Some(v))`).
///
/// Verdicts are remembered per thread (at most about a million, then the
/// memo is emptied), keyed by the types of `spec`, `op` and `ret`, the
/// specification's initial state and the trace; two specifications of one
/// type with the same initial state must therefore agree. Invocations after
/// the last output are left out: they may take effect or not, which cannot
/// make a linearizable history stop being one.
pub fn check_linearizable_with<P, S, F, G>(
    spec: &P,
    trace: &[TraceEvent<S>],
    op: F,
    ret: G,
) -> Result<(), String>
where
    P: Spec + 'static,
    S: System,
    F: Fn(&S::Input) -> P::Op + 'static,
    G: Fn(&S::Output) -> P::Ret + 'static,
{
    let end = trace
        .iter()
        .rposition(|e| matches!(e, TraceEvent::Output { .. }))
        .map_or(0, |i| i + 1);
    let trace = &trace[..end];
    if trace.is_empty() {
        return Ok(());
    }
    let key = (
        TypeId::of::<(P, S, F, G)>(),
        fingerprint(&spec.init()),
        fingerprint(trace),
    );
    if let Some(known) = VERDICTS.with(|v| v.borrow().get(&key).cloned()) {
        return known;
    }
    let verdict = linearizable(spec, trace, &op, &ret);
    VERDICTS.with(|v| {
        let mut memo = v.borrow_mut();
        if memo.len() >= MEMO_LIMIT {
            memo.clear();
        }
        memo.insert(key, verdict.clone());
    });
    verdict
}

fn linearizable<P: Spec, S: System>(
    spec: &P,
    trace: &[TraceEvent<S>],
    op: &dyn Fn(&S::Input) -> P::Op,
    ret: &dyn Fn(&S::Output) -> P::Ret,
) -> Result<(), String> {
    let history = history_with(trace, op, ret)?;
    match lin::check_history(spec, &history) {
        Verdict::Linearizable => Ok(()),
        Verdict::NotLinearizable(explanation) => {
            let mut names: Vec<(ClientId, String)> = Vec::new();
            let mut seen = HashMap::new();
            for event in trace {
                if let TraceEvent::Input { node, .. } = event {
                    let next = seen.len() as ClientId;
                    if let std::collections::hash_map::Entry::Vacant(v) = seen.entry(*node) {
                        v.insert(next);
                        names.push((next, node.to_string()));
                    }
                }
            }
            let mut text = String::from("the history is not linearizable (clients: ");
            let list: Vec<String> = names.iter().map(|(i, n)| format!("{i} = {n}")).collect();
            let _ = write!(
                text,
                "{})\n{}",
                list.join(", "),
                explanation.to_text(&history)
            );
            Err(text.trim_end().to_string())
        }
        Verdict::Unknown => Err("the linearizability check gave up (time limit)".into()),
    }
}
