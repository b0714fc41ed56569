//! The checker agrees with a brute-force oracle on small random histories,
//! and readers never panic on arbitrary text.

use proptest::prelude::*;
use std::cell::RefCell;
use verdict::lin::formats::{self, native, Model, ParsedHistory};
use verdict::lin::specs::{
    KvMap, KvMapOp, KvMapRet, KvStore, KvStoreOp, KvStoreRet, Register, RegisterOp, RegisterRet,
};
use verdict::lin::{Checker, History, HistoryOptions, OpOutcome, Spec, Verdict};

/// Straight from the definition: some subset of the operations that keeps
/// every operation that returned, in some order (all permutations are
/// tried), respects real time and is a legal run of the spec.
fn oracle<S: Spec>(spec: &S, history: &History<S::Op, S::Ret>) -> bool {
    let ops = history.operations();
    let n = ops.len();
    let optional: Vec<usize> = (0..n)
        .filter(|&i| !matches!(ops[i].outcome, OpOutcome::Returned(_)))
        .collect();
    for mask in 0u32..(1 << optional.len()) {
        let chosen: Vec<usize> = (0..n)
            .filter(|i| match optional.iter().position(|o| o == i) {
                Some(bit) => mask & (1 << bit) != 0,
                None => true,
            })
            .collect();
        let mut order = chosen.clone();
        if permutations_any(&mut order, 0, &mut |order| legal(spec, history, order)) {
            return true;
        }
    }
    false
}

/// Calls `f` on every permutation of `items[k..]` (after `items[..k]`)
/// until it returns true.
fn permutations_any(items: &mut Vec<usize>, k: usize, f: &mut dyn FnMut(&[usize]) -> bool) -> bool {
    if k == items.len() {
        return f(items);
    }
    for i in k..items.len() {
        items.swap(k, i);
        if permutations_any(items, k + 1, f) {
            return true;
        }
        items.swap(k, i);
    }
    false
}

fn legal<S: Spec>(spec: &S, history: &History<S::Op, S::Ret>, order: &[usize]) -> bool {
    let ops = history.operations();
    // Real time: nothing placed after an operation may have finished before
    // that operation started.
    for (i, &a) in order.iter().enumerate() {
        for &b in &order[i + 1..] {
            if let Some(done) = ops[b].finished_at {
                if done < ops[a].invoked_at {
                    return false;
                }
            }
        }
    }
    // Also: an operation that finished (with a result or not) and is placed
    // must come before everything invoked after it finished.
    let mut states = vec![spec.init()];
    for &i in order {
        let mut next_states = Vec::new();
        for s in &states {
            let mut next = Vec::new();
            spec.step(s, &ops[i].op, ops[i].outcome.returned(), &mut next);
            next_states.extend(next);
        }
        if next_states.is_empty() {
            return false;
        }
        states = next_states;
    }
    true
}

/// A recipe for a random history: a sequence of steps over a few clients.
#[derive(Clone, Debug)]
enum Step<Op, Ret> {
    Invoke(u8, Op),
    Return(u8, Ret),
    Unknown(u8),
}

fn build<Op: Clone, Ret: Clone>(steps: &[Step<Op, Ret>], max_ops: usize) -> History<Op, Ret> {
    let mut h = History::new();
    let mut pending = [None; 4];
    for step in steps {
        match step {
            Step::Invoke(c, op) => {
                let c = *c as usize % 4;
                if pending[c].is_none() && h.len() < max_ops {
                    pending[c] = Some(h.invoke(c as u64, op.clone()));
                }
            }
            Step::Return(c, ret) => {
                if let Some(id) = pending[*c as usize % 4].take() {
                    h.complete(id, ret.clone()).unwrap();
                }
            }
            Step::Unknown(c) => {
                if let Some(id) = pending[*c as usize % 4].take() {
                    h.complete_unknown(id).unwrap();
                }
            }
        }
    }
    // Whatever is still pending stays open.
    h
}

fn steps<Op: Clone + std::fmt::Debug, Ret: Clone + std::fmt::Debug>(
    op: impl Strategy<Value = Op> + Clone,
    ret: impl Strategy<Value = Ret> + Clone,
) -> impl Strategy<Value = Vec<Step<Op, Ret>>> {
    let step = prop_oneof![
        4 => (any::<u8>(), op).prop_map(|(c, o)| Step::Invoke(c, o)),
        4 => (any::<u8>(), ret).prop_map(|(c, r)| Step::Return(c, r)),
        2 => any::<u8>().prop_map(Step::Unknown),
    ];
    prop::collection::vec(step, 0..20)
}

fn register_op() -> impl Strategy<Value = RegisterOp> + Clone {
    prop_oneof![
        Just(RegisterOp::Read),
        (0..3i64).prop_map(RegisterOp::Write),
        (0..3i64, 0..3i64).prop_map(|(from, to)| RegisterOp::Cas { from, to }),
    ]
}

fn register_ret() -> impl Strategy<Value = RegisterRet> + Clone {
    prop_oneof![
        prop::option::of(0..3i64).prop_map(RegisterRet::Value),
        Just(RegisterRet::Ok),
        Just(RegisterRet::Fail),
    ]
}

fn key() -> impl Strategy<Value = String> + Clone {
    prop_oneof![Just("a".to_string()), Just("b".to_string())]
}

fn value() -> impl Strategy<Value = String> + Clone {
    prop_oneof![Just("x".to_string()), Just("y".to_string())]
}

fn kvstore_op() -> impl Strategy<Value = KvStoreOp> + Clone {
    prop_oneof![
        key().prop_map(KvStoreOp::Get),
        (key(), value()).prop_map(|(k, v)| KvStoreOp::Put(k, v)),
        key().prop_map(KvStoreOp::Del),
        (key(), value(), value()).prop_map(|(key, expected, new)| KvStoreOp::Cas {
            key,
            expected,
            new
        }),
        (key(), value()).prop_map(|(key, expected)| KvStoreOp::Cad { key, expected }),
    ]
}

fn kvstore_ret() -> impl Strategy<Value = KvStoreRet> + Clone {
    prop_oneof![
        prop::option::of(value()).prop_map(KvStoreRet::Value),
        Just(KvStoreRet::Ok),
        any::<bool>().prop_map(KvStoreRet::Success),
    ]
}

fn kvmap_op() -> impl Strategy<Value = KvMapOp> + Clone {
    prop_oneof![
        key().prop_map(|key| KvMapOp::Get { key }),
        (key(), value()).prop_map(|(key, value)| KvMapOp::Put { key, value }),
        (key(), value()).prop_map(|(key, value)| KvMapOp::Append { key, value }),
    ]
}

fn kvmap_ret() -> impl Strategy<Value = KvMapRet> + Clone {
    prop_oneof![
        prop_oneof![Just(""), Just("x"), Just("xy"), Just("y"), Just("yx")]
            .prop_map(|v| KvMapRet::Value(v.to_string())),
        Just(KvMapRet::Ok),
    ]
}

/// Checks with a reused checker (as a model checker would), with and
/// without partitioning, and compares both with the oracle.
fn agrees<S: Spec + Clone + 'static>(
    checkers: &'static std::thread::LocalKey<RefCell<Option<[Checker<S>; 2]>>>,
    spec: S,
    history: &History<S::Op, S::Ret>,
) -> Result<(), TestCaseError> {
    let expected = oracle(&spec, history);
    checkers.with(|cell| {
        let mut cell = cell.borrow_mut();
        let pair = cell.get_or_insert_with(|| {
            let whole = HistoryOptions {
                partition: false,
                ..HistoryOptions::default()
            };
            [
                Checker::new(spec.clone()),
                Checker::with_options(spec.clone(), whole),
            ]
        });
        for checker in pair.iter_mut() {
            let verdict = checker.check(history);
            prop_assert_eq!(
                verdict.is_linearizable(),
                expected,
                "history {:#?} verdict {:?}",
                history.operations(),
                verdict
            );
            if let Verdict::NotLinearizable(e) = &verdict {
                // The explanation names operations of the history only.
                for id in e
                    .longest_prefix
                    .iter()
                    .chain(e.unplaceable.iter().map(|u| &u.op))
                {
                    prop_assert!(history.get(*id).is_some());
                }
            }
        }
        Ok(())
    })
}

thread_local! {
    static REGISTER: RefCell<Option<[Checker<Register>; 2]>> = const { RefCell::new(None) };
    static KVSTORE: RefCell<Option<[Checker<KvStore>; 2]>> = const { RefCell::new(None) };
    static KVMAP: RefCell<Option<[Checker<KvMap>; 2]>> = const { RefCell::new(None) };
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    #[test]
    fn register_checks_agree_with_brute_force(s in steps(register_op(), register_ret())) {
        let h = build(&s, 7);
        agrees(&REGISTER, Register, &h)?;
    }

    #[test]
    fn kvstore_checks_agree_with_brute_force(s in steps(kvstore_op(), kvstore_ret())) {
        let h = build(&s, 7);
        agrees(&KVSTORE, KvStore::new(), &h)?;
    }

    #[test]
    fn kvmap_checks_agree_with_brute_force(s in steps(kvmap_op(), kvmap_ret())) {
        let h = build(&s, 7);
        agrees(&KVMAP, KvMap, &h)?;
    }
}

/// Text with the characters the native format must quote.
fn tricky() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        "[a-z]{0,3}",
        "[ \"#\\\\\n\t\rnil]{0,4}",
        Just("nil".to_string()),
        "\\PC{0,4}",
    ]
}

fn tricky_kvstore_op() -> impl Strategy<Value = KvStoreOp> + Clone {
    prop_oneof![
        tricky().prop_map(KvStoreOp::Get),
        (tricky(), tricky()).prop_map(|(k, v)| KvStoreOp::Put(k, v)),
        tricky().prop_map(KvStoreOp::Del),
        (tricky(), tricky(), tricky()).prop_map(|(key, expected, new)| KvStoreOp::Cas {
            key,
            expected,
            new
        }),
        (tricky(), tricky()).prop_map(|(key, expected)| KvStoreOp::Cad { key, expected }),
    ]
}

fn tricky_kvstore_ret() -> impl Strategy<Value = KvStoreRet> + Clone {
    prop_oneof![
        prop::option::of(tricky()).prop_map(KvStoreRet::Value),
        Just(KvStoreRet::Ok),
        any::<bool>().prop_map(KvStoreRet::Success),
    ]
}

/// A history the native writer accepts reads back identical.
fn round_trips(parsed: ParsedHistory) -> Result<(), TestCaseError> {
    // Results that do not fit their operation (a get that returned Ok)
    // cannot be written; the writer says so instead.
    if let Ok(text) = native::render(&parsed) {
        let back = formats::parse(&text, None);
        prop_assert_eq!(back.as_ref().ok(), Some(&parsed), "{}\n{:?}", text, back);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    #[test]
    fn native_files_round_trip_register(s in steps(register_op(), register_ret())) {
        round_trips(ParsedHistory::Register(build(&s, 12)))?;
    }

    #[test]
    fn native_files_round_trip_kvstore(s in steps(tricky_kvstore_op(), tricky_kvstore_ret())) {
        round_trips(ParsedHistory::KvStore(build(&s, 12)))?;
    }

    #[test]
    fn native_files_round_trip_kv(s in steps(kvmap_op(), kvmap_ret())) {
        round_trips(ParsedHistory::Kv(build(&s, 12)))?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn readers_never_panic_on_arbitrary_text(text in "(\\PC|\n|\t){0,200}") {
        for model in [None, Some(Model::Register), Some(Model::Kv), Some(Model::KvStore)] {
            let _ = formats::parse(&text, model);
        }
    }

    #[test]
    fn readers_never_panic_on_mangled_lines(
        lines in prop::collection::vec(prop_oneof![
            Just("INFO  jepsen.util - 1\t:invoke\t:cas\t[1 2]".to_string()),
            Just("INFO  jepsen.util - 1\t:ok\t:cas\t[1 2]".to_string()),
            Just("INFO  jepsen.util - 1\t:fail\t:read\t:timed-out".to_string()),
            Just("INFO  jepsen.util - 2\t:info\t:write\t:timed-out".to_string()),
            Just("{:process 0, :type :invoke, :f :append, :key \"0\", :value \"x\"}".to_string()),
            Just("{:process 0, :type :ok, :f :get, :key \"0\", :value \"x\"}".to_string()),
            Just("model kvstore".to_string()),
            Just("1 invoke cas k a b".to_string()),
            Just("1 ok".to_string()),
            Just("1 fail".to_string()),
            Just("1 info".to_string()),
            "\\PC{0,30}",
        ], 0..12),
        cut in any::<prop::sample::Index>(),
    ) {
        let text = lines.join("\n");
        let cut = cut.index(text.len() + 1);
        let text = text.get(..cut).unwrap_or(&text);
        for model in [None, Some(Model::Register), Some(Model::Kv), Some(Model::KvStore)] {
            let _ = formats::parse(text, model);
        }
    }
}
