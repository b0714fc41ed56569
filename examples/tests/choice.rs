//! Choice in handlers (`chooses`, `ctx.choose`): the checker explores every
//! answer as a step of its own, in every search; counterexamples say what
//! was chosen and replay; bad choices are failed steps; and the runtime's
//! random answers are logged, so recovery rebuilds the state they made.

use verdict::check::{Reductions, Strategy};
use verdict::prelude::*;
use verdict::semantics::StepError;
use verdict::{Event, Outcome, Violation};
use verdict_examples::balancer::{self, Balancer};

mod picker {
    verdict::system! {
        /// One node that picks a number; 2 is the bad one, reached only by
        /// a choice other than the first.
        pub system Picker;

        input enum Input { Pick, Twice, Zero }

        role Node {
            state {
                picked: Vec<usize> = Vec::new(),
            }

            on input Pick writes(picked) chooses {
                let n = ctx.choose(3);
                self.picked.push(n);
            }

            // The second choice depends on the first: 2 then 1 is bad.
            on input Twice writes(picked) chooses {
                let a = ctx.choose(3);
                let b = if a == 2 { ctx.choose(2) } else { 0 };
                self.picked.push(a * 10 + b);
            }

            on input Zero chooses {
                ctx.choose(0);
            }
        }

        invariant no_two reads(Node.picked) {
            !self.node.picked.contains(&2)
        }

        invariant no_twenty_one reads(Node.picked) {
            !self.node.picked.contains(&21)
        }
    }
}
use picker::Picker;

fn picker_model(input: picker::Input) -> Model<Picker> {
    let setup = Setup::<Picker>::new(&Sizes::new()).unwrap();
    let workload = Workload::none(&setup).with(
        &setup,
        picker::Node::Node,
        NodeWorkload::Script(vec![Step::send(input)]),
    );
    Model::new(setup, Faults::none(), workload)
}

fn every_search() -> Vec<(&'static str, CheckOptions)> {
    let with = |strategy, reductions| CheckOptions {
        strategy,
        reductions,
        ..CheckOptions::default()
    };
    vec![
        (
            "bfs, all reductions",
            with(Strategy::Bfs, Reductions::all()),
        ),
        ("bfs, none", with(Strategy::Bfs, Reductions::none())),
        (
            "dfs, all reductions",
            with(Strategy::Dfs, Reductions::all()),
        ),
        ("dfs, none", with(Strategy::Dfs, Reductions::none())),
    ]
}

/// The counterexample `options` finds in `model`, which must violate
/// `invariant`; `search` names the run in failures.
fn violation_of<S: System>(
    model: &Model<S>,
    options: &CheckOptions,
    search: &str,
    invariant: &str,
) -> Box<verdict::check::Counterexample<S>> {
    let report = check(model, options);
    let Outcome::Violation(cx) = report.outcome else {
        panic!("{search}: no violation ({})", report.stats)
    };
    assert!(
        matches!(&cx.violation, Violation::Invariant { name, .. } if *name == invariant),
        "{search}: {:?}",
        cx.violation
    );
    cx
}

#[test]
fn an_answer_other_than_the_first_is_explored_in_every_search() {
    for (name, options) in every_search() {
        let model = picker_model(picker::input::Pick.into());
        let cx = violation_of(&model, &options, name, "no_two");
        assert_eq!(cx.events.len(), 1, "{name}");
        assert_eq!(
            cx.events[0].to_string(),
            "Node receives input Pick, choosing 2"
        );
        // Replay finds the same violation from the events alone.
        let (_, steps) = cx.replay(&model).unwrap();
        let last = &steps.last().unwrap().world;
        assert_eq!(
            last.nodes[0].state,
            picker::State::Node(picker::NodeState { picked: vec![2] })
        );
    }
}

#[test]
fn a_choice_that_depends_on_an_earlier_one_is_explored_too() {
    for (name, options) in every_search() {
        let model = picker_model(picker::input::Twice.into());
        let cx = violation_of(&model, &options, name, "no_twenty_one");
        let Event::Chose { choices, .. } = &cx.events[0] else {
            panic!("{name}: {:?}", cx.events)
        };
        assert_eq!(choices, &vec![2, 1]);
    }
    // Every branch is a state: 0, 1, 20 and 21 (the last violates).
    let model = picker_model(picker::input::Twice.into());
    let world = model.init().unwrap();
    assert_eq!(model.enabled(&world).len(), 4);
}

#[test]
fn choosing_among_none_is_a_failed_step_with_a_counterexample() {
    let report = check(
        &picker_model(picker::input::Zero.into()),
        &CheckOptions::default(),
    );
    let cx = report.counterexample().expect("a failed step");
    let Violation::Step(StepError::BadChoice { error, .. }) = &cx.violation else {
        panic!("{:?}", cx.violation)
    };
    assert!(
        error.to_string().contains("offers no alternative"),
        "{error}"
    );
}

fn balancer_model(workers: usize, jobs: u8, ignore_load: bool) -> Model<Balancer> {
    let config = balancer::Config {
        capacity: 1,
        ignore_load,
    };
    balancer::model(workers, jobs, config).unwrap()
}

#[test]
fn the_balancer_keeps_to_capacity_and_its_broken_variant_does_not() {
    for (name, options) in every_search() {
        let ok = check(&balancer_model(3, 3, false), &options);
        assert!(
            matches!(ok.outcome, Outcome::Exhausted),
            "{name}: {:?}",
            ok.outcome
        );
        violation_of(
            &balancer_model(3, 3, true),
            &options,
            name,
            "within_capacity",
        );
    }
}

#[test]
fn without_symmetry_each_worker_chosen_is_a_state_of_its_own() {
    // One job, three workers: the dispatcher's three choices are three
    // worlds (one under symmetry, which the counts also show).
    let options = |reductions| CheckOptions {
        reductions,
        ..CheckOptions::default()
    };
    let plain = check(&balancer_model(3, 1, false), &options(Reductions::none()));
    let reduced = check(
        &balancer_model(3, 1, false),
        &options(Reductions {
            symmetry: true,
            ..Reductions::none()
        }),
    );
    assert!(matches!(plain.outcome, Outcome::Exhausted));
    // init, 3 x assigned, 3 x received, 3 x finished, 3 x done delivered.
    assert_eq!(plain.stats.unique, 13, "{:?}", plain.stats);
    assert_eq!(reduced.stats.unique, 5, "{:?}", reduced.stats);
}

#[test]
fn simulation_takes_every_answer_sometimes() {
    let model = balancer_model(3, 1, false);
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..60 {
        let (events, violation) = verdict::simulate::run_one(&model, seed, 10);
        assert!(violation.is_none());
        for event in events {
            if let Event::Chose { choices, .. } = event {
                seen.insert(choices[0]);
            }
        }
    }
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), vec![0, 1, 2]);
}

/// The chart of a counterexample says what each choosing handler chose,
/// beside its event: the dependent pick 2 then 1 shows both answers.
#[test]
fn the_chart_labels_what_was_chosen() {
    let model = picker_model(picker::input::Twice.into());
    let cx = violation_of(&model, &CheckOptions::default(), "default", "no_twenty_one");
    let svg = verdict::chart::to_svg(&model, &cx);
    assert!(svg.contains("class=\"label choice-label\""), "{svg}");
    assert!(svg.contains(">chose [2, 1]</text>"), "{svg}");
    let plain = check(&balancer_model(3, 3, true), &CheckOptions::default());
    let Outcome::Violation(cx) = plain.outcome else {
        panic!("{}", plain.stats)
    };
    let svg = verdict::chart::to_svg(&balancer_model(3, 3, true), &cx);
    let chose = svg.matches(">chose ").count();
    let choosing = cx
        .events
        .iter()
        .filter(|e| matches!(e, Event::Chose { .. }))
        .count();
    assert!(
        choosing > 0 && chose == choosing,
        "{chose} labels, {choosing} choices: {svg}"
    );
}
