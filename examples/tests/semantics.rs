//! The step rules, checked on a small relay: FIFO channels, reordering,
//! loss, duplication, crashes with durable fields, partitions, budgets.

use std::collections::{HashSet, VecDeque};

use verdict::choice::Branch;
use verdict::prelude::*;
use verdict::semantics::{Action, StepError, World};
use verdict::{Effects, NodeWorkload};

verdict::system! {
    system Relay;

    input enum Input { Send(u8) }
    output enum Output { Got(u8) }
    message enum Msg { Data(u8) }
    timers { Tick }

    role A {
        state { sent: u8 = 0 }
        on input Send(x) writes(sent) sends(Data) {
            *self.sent += 1;
            let to = if x == 99 { Node::C(7) } else { Node::B };
            ctx.send(to, msg::Data(x));
        }
    }

    role B {
        state {
            #[durable]
            got: Vec<u8> = Vec::new(),
            seen: u8 = 0,
            restarted: bool = false,
        }
        on message Data(x) from _ writes(got, seen) emits(Got) sets(Tick) {
            assert!(x != 13, "unlucky {x}");
            self.got.push(x);
            *self.seen += 1;
            ctx.output(output::Got(x));
            ctx.set_timer(timer::Tick, Duration::from_millis(5));
        }
        on timer Tick writes(seen) {
            *self.seen = self.seen.saturating_add(100);
        }
        on restart writes(restarted) {
            *self.restarted = true;
        }
    }

    role C(u8) {
        on message Data(_x) from _ {}
    }
}

fn model(inputs: &[u8], faults: Faults) -> Model<Relay> {
    let setup = Setup::<Relay>::new(&Sizes::new().with(Role::C, 1)).unwrap();
    let steps = inputs
        .iter()
        .map(|&x| Step::send(Input::Send(input::Send(x))))
        .collect();
    let workload = Workload::none(&setup).with(&setup, Node::A, NodeWorkload::Script(steps));
    Model::new(setup, faults, workload)
}

/// Every reachable world.
fn reachable(m: &Model<Relay>) -> Vec<World<Relay>> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut queue = VecDeque::from([m.init().unwrap()]);
    let mut fx = Effects::default();
    while let Some(w) = queue.pop_front() {
        if !seen.insert(w.fingerprint()) {
            continue;
        }
        for a in m.enabled(&w) {
            let mut next = w.clone();
            m.apply(&mut next, a, &mut fx).unwrap();
            queue.push_back(next);
        }
        out.push(w);
    }
    out
}

fn b(w: &World<Relay>) -> &BState {
    match &w.nodes[1].state {
        State::B(s) => s,
        other => panic!("node 1 is B, found {other:?}"),
    }
}

fn deliveries(m: &Model<Relay>) -> HashSet<Vec<u8>> {
    reachable(m).iter().map(|w| b(w).got.clone()).collect()
}

#[test]
fn reliable_channels_deliver_in_order_exactly_once() {
    let got = deliveries(&model(&[1, 2], Faults::none()));
    let expected: HashSet<Vec<u8>> = [vec![], vec![1], vec![1, 2]].into_iter().collect();
    assert_eq!(got, expected);
}

#[test]
fn reordering_lets_later_messages_overtake() {
    let got = deliveries(&model(&[1, 2], Faults::none().reorder()));
    assert!(got.contains(&vec![2, 1]));
    // One reorder is enough for two messages.
    let got = deliveries(&model(&[1, 2, 4], Faults::none().reorders(Some(1))));
    assert!(got.contains(&vec![2, 1, 4]));
    assert!(
        !got.contains(&vec![4, 2, 1]),
        "two overtakes with a budget of one"
    );
}

#[test]
fn loss_and_duplication_respect_their_budgets() {
    let got = deliveries(&model(&[1, 2], Faults::none().drops(Some(1))));
    assert!(got.contains(&vec![2]));
    let finished_without_any = reachable(&model(&[1, 2], Faults::none().drops(Some(1))))
        .iter()
        .any(|w| b(w).got.is_empty() && w.network.is_empty() && w.nodes[0].inputs_taken == 2);
    assert!(!finished_without_any, "one drop cannot lose both messages");
    let got = deliveries(&model(&[1], Faults::none().dups(Some(1))));
    assert!(got.contains(&vec![1, 1]));
    assert!(!got.contains(&vec![1, 1, 1]));
}

#[test]
fn a_crash_keeps_durable_fields_resets_the_rest_and_runs_restart() {
    let m = model(&[1], Faults::none().crash(1));
    let worlds = reachable(&m);
    // Down B after having received: durable `got` kept, volatile `seen` reset, no timers.
    let down = worlds
        .iter()
        .find(|w| !w.nodes[1].up && b(w).got == vec![1])
        .expect("B can crash after receiving");
    assert_eq!(b(down).seen, 0);
    assert_eq!(down.nodes[1].timers, 0);
    // After a restart the restart handler has run.
    assert!(worlds
        .iter()
        .any(|w| w.nodes[1].up && b(w).restarted && b(w).got == vec![1]));
    // Crash-stop never restarts.
    let stop = reachable(&model(&[1], Faults::none().crash_stop(1)));
    assert!(stop.iter().all(|w| !b(w).restarted));
    assert!(stop.iter().any(|w| !w.nodes[1].up));
}

#[test]
fn messages_to_a_down_node_wait_or_are_lost() {
    let m = model(&[1], Faults::none().crash_stop(1));
    for w in reachable(&m) {
        if !w.nodes[1].up && !w.network.is_empty() {
            let actions = m.enabled(&w);
            assert!(
                !actions.iter().any(|a| matches!(a, Action::Deliver(..))),
                "delivered to a down node"
            );
            assert!(
                actions.iter().any(|a| matches!(a, Action::Drop(_))),
                "crash loss must be possible"
            );
        }
    }
}

#[test]
fn partitions_hold_messages_until_they_heal() {
    let m = model(&[1], Faults::none().partition(1));
    let worlds = reachable(&m);
    let mut saw_cut = false;
    for w in &worlds {
        let actions = m.enabled(w);
        if w.partition != 0 {
            assert!(actions.contains(&Action::Heal));
            if w.across_partition(0, 1) && !w.network.is_empty() {
                saw_cut = true;
                assert!(!actions.iter().any(|a| matches!(a, Action::Deliver(..))));
            }
        }
    }
    assert!(saw_cut);
    assert!(worlds
        .iter()
        .any(|w| b(w).got == vec![1] && w.used.partition == 1));
}

#[test]
fn timers_fire_only_when_armed() {
    let worlds = reachable(&model(&[1], Faults::none()));
    assert!(
        worlds.iter().any(|w| b(w).seen == 101),
        "the tick fires after the delivery"
    );
    assert!(
        worlds.iter().all(|w| b(w).seen != 100),
        "the tick never fires before it is set"
    );
}

#[test]
fn sending_outside_the_cluster_is_reported() {
    let m = model(&[99], Faults::none());
    let w = m.init().unwrap();
    let mut next = w.clone();
    let err = m.apply(
        &mut next,
        Action::Input {
            node: 0,
            choice: 0,
            branch: Branch::FIRST,
        },
        &mut Effects::default(),
    );
    assert!(
        matches!(err, Err(StepError::SendToUnknownNode { ref to, .. }) if to == "C(7)"),
        "{err:?}"
    );
    let report = check(&m, &CheckOptions::default());
    assert!(report
        .counterexample()
        .unwrap()
        .violation
        .to_string()
        .contains("not part of this run"));
}

#[test]
fn a_panicking_handler_is_a_failed_step_not_a_crash_of_the_checker() {
    let m = model(&[1, 13], Faults::none());
    let report = check(&m, &CheckOptions::default());
    let cx = report.counterexample().expect("the overflow must be found");
    let text = cx.violation.to_string();
    assert!(
        text.contains("a handler on B panicked: unlucky 13"),
        "{text}"
    );
    assert_eq!(cx.len(), 4, "input, input, deliver 1, deliver 13");
}

#[test]
fn outputs_and_inputs_are_recorded_when_asked() {
    let m = model(&[1, 2], Faults::none()).recording_trace();
    let worlds = reachable(&m);
    let full = worlds.iter().find(|w| b(w).got == vec![1, 2]).unwrap();
    let outputs = full
        .trace
        .iter()
        .filter(|e| matches!(e, TraceEvent::Output { .. }))
        .count();
    assert_eq!(outputs, 2);
    assert!(reachable(&model(&[1, 2], Faults::none()))
        .iter()
        .all(|w| w.trace.is_empty()));
}

#[test]
fn equal_messages_at_different_places_in_a_channel_are_distinct() {
    // Channel A->B holds [1, 2, 1] after three sends. Losing the last 1
    // (not the first) is the only way to have [1, 2] in flight with nothing
    // delivered yet.
    let m = model(&[1, 2, 1], Faults::none().drops(Some(1)));
    let in_flight = |w: &World<Relay>| -> Vec<u8> {
        w.network
            .packets()
            .iter()
            .map(|p| match &p.msg {
                Msg::Data(msg::Data(x)) => *x,
            })
            .collect()
    };
    let found = reachable(&m)
        .iter()
        .any(|w| w.nodes[0].inputs_taken == 3 && b(w).got.is_empty() && in_flight(w) == vec![1, 2]);
    assert!(
        found,
        "dropping the second copy of an equal message must be explored"
    );
}
