//! Transformers on small purpose-built systems: what base invariants see
//! through a wrapper, how wrapper metadata keeps base footprints, how crash
//! recovery restores timers, and the saturated network.

use verdict::choice::Branch;
use verdict::meta::{InvariantScope, TriggerMeta};
use verdict::prelude::*;
use verdict::semantics::Action;
use verdict::transform::{
    plan_retransmitting, recovering_model, reliable_model, CrashRecovery, Reliable,
};
use verdict::{Effects, Outcome};

mod wide {
    verdict::system! {
        /// A node with more fields than one machine word has bits.
        pub system Wide;

        input enum Input { Bump }
        message enum Msg { Bumped }

        role Node {
            state {
                f0: u8 = 0, f1: u8 = 0, f2: u8 = 0, f3: u8 = 0, f4: u8 = 0, f5: u8 = 0, f6: u8 = 0, f7: u8 = 0, f8: u8 = 0, f9: u8 = 0,
                f10: u8 = 0, f11: u8 = 0, f12: u8 = 0, f13: u8 = 0, f14: u8 = 0, f15: u8 = 0, f16: u8 = 0, f17: u8 = 0, f18: u8 = 0, f19: u8 = 0,
                f20: u8 = 0, f21: u8 = 0, f22: u8 = 0, f23: u8 = 0, f24: u8 = 0, f25: u8 = 0, f26: u8 = 0, f27: u8 = 0, f28: u8 = 0, f29: u8 = 0,
                f30: u8 = 0, f31: u8 = 0, f32: u8 = 0, f33: u8 = 0, f34: u8 = 0, f35: u8 = 0, f36: u8 = 0, f37: u8 = 0, f38: u8 = 0, f39: u8 = 0,
                f40: u8 = 0, f41: u8 = 0, f42: u8 = 0, f43: u8 = 0, f44: u8 = 0, f45: u8 = 0, f46: u8 = 0, f47: u8 = 0, f48: u8 = 0, f49: u8 = 0,
                f50: u8 = 0, f51: u8 = 0, f52: u8 = 0, f53: u8 = 0, f54: u8 = 0, f55: u8 = 0, f56: u8 = 0, f57: u8 = 0, f58: u8 = 0, f59: u8 = 0,
                f60: u8 = 0, f61: u8 = 0, f62: u8 = 0, f63: u8 = 0, f64: u8 = 0, f65: u8 = 0, f66: u8 = 0, f67: u8 = 0, f68: u8 = 0, f69: u8 = 0,
            }

            on input Bump writes(f69) sends(Bumped) {
                *self.f69 += 1;
                ctx.send(Node::Node, msg::Bumped);
            }

            on message Bumped from _me reads(f0, f64) {}

            invariant last_field_small reads(f69) {
                self.f69 < 3
            }
        }
    }
}

#[test]
fn footprints_past_sixty_four_fields_are_kept_by_the_macro_and_by_wrappers() {
    let base = wide::Wide::meta();
    assert_eq!(base.roles[0].fields.len(), 70);
    assert!(base.handlers[0].writes.contains(69));
    assert_eq!(base.handlers[1].reads.iter().collect::<Vec<_>>(), [0, 64]);
    assert_eq!(
        base.invariants[0].reads_fields[0]
            .1
            .iter()
            .collect::<Vec<_>>(),
        [69]
    );
    // Reliable adds its two fields after the 70th: both stay in footprints.
    let meta = Reliable::<wide::Wide>::meta();
    let (out, inn) = (70, 71);
    assert_eq!(meta.roles[0].fields[out].name, "reliable_out");
    assert!(
        meta.handlers[0].writes.contains(out),
        "{:?}",
        meta.handlers[0].writes
    );
    assert!(
        meta.handlers[1].writes.contains(inn),
        "{:?}",
        meta.handlers[1].writes
    );
    let recovering = CrashRecovery::<Reliable<wide::Wide>>::meta();
    assert_eq!(recovering.roles[0].fields[72].name, "recovery_timers");
    assert!(recovering.handlers[0].writes.contains(72));
}

mod tally {
    use verdict::prelude::*;
    use verdict::NodeWorkload;

    verdict::system! {
        /// A sender counts pings sent, a receiver counts pings received.
        pub system Tally;

        input enum Input { Send }
        message enum Msg { Ping }

        role Sender {
            state { sent: u32 = 0 }

            on input Send writes(sent) sends(Ping) {
                *self.sent += 1;
                ctx.send(Node::Receiver, msg::Ping);
            }
        }

        role Receiver {
            state { received: u32 = 0 }

            on message Ping from _sender writes(received) {
                *self.received += 1;
            }
        }

        /// Every ping sent is either received or in flight, exactly once.
        invariant conserved reads(Sender.sent, Receiver.received, network) {
            let in_flight = self.network.len() as u32;
            let (sent, received) = (self.sender.sent, self.receiver.received);
            if sent == received + in_flight {
                Ok(())
            } else {
                Err(format!("sent {sent}, received {received}, {in_flight} in flight"))
            }
        }
    }

    pub fn tally(sends: usize, faults: Faults) -> Model<Tally> {
        let setup = Setup::<Tally>::new(&Sizes::new()).unwrap();
        let steps = (0..sends)
            .map(|_| Step::send(Input::Send(input::Send)))
            .collect();
        let workload =
            Workload::none(&setup).with(&setup, Node::Sender, NodeWorkload::Script(steps));
        Model::new(setup, faults, workload)
    }
}

use tally::{tally, Tally};

#[test]
fn conservation_breaks_under_loss_and_duplication_without_the_transformer() {
    for faults in [Faults::none().drops(Some(1)), Faults::none().dups(Some(1))] {
        let report = check(&tally(2, faults), &CheckOptions::default());
        assert!(!report.passed(), "{faults}: {:?}", report.outcome);
    }
}

#[test]
fn base_invariants_see_the_messages_not_yet_delivered_through_reliable() {
    let mut model = reliable_model(
        &tally(2, Faults::none()),
        "drop,dup,reorder".parse().unwrap(),
    );
    let plan = plan_retransmitting(&mut model, false);
    assert_eq!(plan.default_depth, None, "{plan:?}");
    let report = check(&model, &CheckOptions::default());
    assert!(
        matches!(report.outcome, Outcome::Exhausted),
        "{:?}",
        report.outcome
    );
    assert!(report.stats.unique > 20);
}

#[test]
fn a_fault_model_that_cannot_saturate_gets_a_depth_bound() {
    let mut model = reliable_model(&tally(1, Faults::none()), Faults::none().drop());
    let plan = plan_retransmitting(&mut model, false);
    assert_eq!(plan.default_depth, Some(verdict::transform::DEFAULT_DEPTH));
    assert!(!model.saturates());
    let options = CheckOptions {
        max_depth: plan.default_depth,
        ..CheckOptions::default()
    };
    let report = check(&model, &options);
    assert!(
        matches!(
            report.outcome,
            Outcome::Bounded {
                bound: verdict::check::Bound::Depth
            }
        ),
        "{:?}",
        report.outcome
    );
    // With the user's own bound, no default is imposed.
    let plan = plan_retransmitting(&mut model, true);
    assert_eq!(plan.default_depth, None);
}

#[test]
fn reliable_keeps_base_handler_ids_and_footprints_and_adds_its_own() {
    let base = Tally::meta();
    let meta = Reliable::<Tally>::meta();
    assert_eq!(meta.name, "Reliable<Tally>");
    assert!(std::ptr::eq(meta, Reliable::<Tally>::meta()), "built once");
    for (b, w) in base.handlers.iter().zip(meta.handlers) {
        assert_eq!(b.name, w.name);
        assert_eq!(b.trigger, w.trigger);
        assert!(
            b.writes.is_subset(&w.writes),
            "{}: base writes kept",
            b.name
        );
        assert_eq!(b.emits, w.emits);
        assert!(b.sends.iter().all(|k| w.sends.contains(k)));
    }
    // The sender's input handler now also writes the outbox.
    let sender = base.role_named("Sender").unwrap();
    let outbox = base.roles[sender].fields.len();
    assert!(meta.handlers[0].writes.contains(outbox));
    // Base fields first, then the transformer's two, which are durable.
    let fields: Vec<&str> = meta.roles[sender].fields.iter().map(|f| f.name).collect();
    assert_eq!(fields, ["sent", "reliable_out", "reliable_in"]);
    assert!(meta.roles[sender].fields[1].durable);
    assert_eq!(meta.messages, ["Ping", "Ack"]);
    assert_eq!(meta.timers, ["Retransmit"]);
    assert!(meta.handlers.len() > base.handlers.len());
    assert!(meta
        .handlers
        .iter()
        .any(|h| h.trigger == TriggerMeta::Message(1) && h.name == "Sender on reliable Ack"));
    let names: Vec<&str> = meta.invariants.iter().map(|i| i.name).collect();
    assert_eq!(names, ["conserved"]);
    assert_eq!(meta.invariants[0].scope, InvariantScope::Global);
}

#[test]
fn nested_wrappers_compose_their_metadata() {
    let meta = Reliable::<CrashRecovery<Tally>>::meta();
    assert_eq!(meta.name, "Reliable<CrashRecovery<Tally>>");
    let receiver = meta.role_named("Receiver").unwrap();
    let fields = meta.roles[receiver].fields;
    assert!(fields.iter().all(|f| f.durable), "{fields:?}");
    let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
    assert_eq!(
        names,
        ["received", "recovery_timers", "reliable_out", "reliable_in"]
    );
}

mod beacon {
    use verdict::prelude::*;
    use verdict::NodeWorkload;

    verdict::system! {
        /// A node that counts heartbeats from its own timer, in memory only,
    /// and after a restart starts beating again from zero.
        pub system Beacon;

        input enum Input { Begin }
        output enum Output { Beat(u32) }
        timers { Tick }

        role Node0 {
            state { beats: u32 = 0 }

            on input Begin sets(Tick) {
                ctx.set_timer(timer::Tick, Duration::from_millis(10));
            }

            // Comes back beating, but having forgotten the count.
            on restart sets(Tick) {
                ctx.set_timer(timer::Tick, Duration::from_millis(10));
            }

            on timer Tick writes(beats) emits(Beat) sets(Tick) {
                *self.beats += 1;
                ctx.output(output::Beat(*self.beats));
                if *self.beats < 3 {
                    ctx.set_timer(timer::Tick, Duration::from_millis(10));
                }
            }
        }

        /// Beats are announced in order 1, 2, 3 with no repeats.
        invariant beats_increase reads(trace) {
            let mut last = 0;
            for e in self.trace {
                if let TraceEvent::Output { output: Output::Beat(output::Beat(n)), .. } = e {
                    if *n != last + 1 {
                        return Err(format!("beat {n} after beat {last}"));
                    }
                    last = *n;
                }
            }
            Ok(())
        }
    }

    pub fn beacon(faults: Faults) -> Model<Beacon> {
        let setup = Setup::<Beacon>::new(&Sizes::new()).unwrap();
        let workload = Workload::none(&setup).with(
            &setup,
            Node::Node0,
            NodeWorkload::Script(vec![Step::send(Input::Begin(input::Begin))]),
        );
        Model::new(setup, faults, workload)
    }
}

use beacon::beacon;

#[test]
fn crash_recovery_keeps_state_and_rearms_timers() {
    // Without recovery a restart forgets the count, so beat 1 is announced twice.
    let plain = check(&beacon(Faults::none().crash(1)), &CheckOptions::default());
    assert!(!plain.passed());
    let model = recovering_model(&beacon(Faults::none()), Faults::none().crash(1));
    let report = check(&model, &CheckOptions::default());
    assert!(
        matches!(report.outcome, Outcome::Exhausted),
        "{:?}",
        report.outcome
    );

    // Crash with the timer armed, restart: the timer is armed again.
    let mut world = model.init().unwrap();
    let mut fx = Effects::default();
    for action in [
        Action::Input {
            node: 0,
            choice: 0,
            branch: Branch::FIRST,
        },
        Action::Crash(0),
        Action::Restart(0),
    ] {
        assert!(model.enabled(&world).contains(&action), "{action:?}");
        model.apply(&mut world, action, &mut fx).unwrap();
    }
    assert_eq!(
        world.nodes[0].timers, 1,
        "Tick is re-armed after the restart"
    );
    assert!(model.enabled(&world).contains(&Action::Timeout {
        node: 0,
        timer: 0,
        branch: Branch::FIRST
    }));
}

#[test]
fn a_saturated_network_keeps_one_copy_and_delivery_keeps_it() {
    let faults: Faults = "drop,dup,reorder".parse().unwrap();
    let model = tally(2, faults).saturating_duplicates();
    assert!(model.saturates());
    assert!(!tally(2, Faults::none().drop().dup())
        .saturating_duplicates()
        .saturates());
    assert!(!tally(2, faults).saturates(), "off unless asked for");

    let mut world = model.init().unwrap();
    let mut fx = Effects::default();
    for _ in 0..2 {
        model
            .apply(
                &mut world,
                Action::Input {
                    node: 0,
                    choice: 0,
                    branch: Branch::FIRST,
                },
                &mut fx,
            )
            .unwrap();
    }
    assert_eq!(world.network.len(), 1, "two equal pings are one packet");
    let actions = model.enabled(&world);
    assert!(!actions.iter().any(|a| matches!(a, Action::Duplicate(_))));
    model
        .apply(&mut world, Action::Deliver(0, Branch::FIRST), &mut fx)
        .unwrap();
    assert_eq!(world.network.len(), 1, "delivery leaves the packet");
    model.apply(&mut world, Action::Drop(0), &mut fx).unwrap();
    assert!(world.network.is_empty());
}

#[test]
fn letting_packets_go_keeps_the_fingerprint_and_is_undone_by_the_journal() {
    use verdict::semantics::{Network, Packet};
    for unordered in [false, true] {
        let mut net: Network<Tally> = Network::new(unordered);
        for _ in 0..3 {
            net.send(Packet {
                src: tally::Node::Sender,
                dst: tally::Node::Receiver,
                msg: tally::Msg::Ping(tally::msg::Ping),
            });
        }
        let before = (net.packets().to_vec(), net.fingerprint());
        net.start_journal();
        let mut seen = 0;
        net.retain(|_| {
            seen += 1;
            seen == 2
        });
        assert_eq!(net.len(), 1);
        assert_eq!(net.fingerprint(), net.recompute_fingerprint());
        net.roll_back();
        assert_eq!((net.packets().to_vec(), net.fingerprint()), before);
    }
}
