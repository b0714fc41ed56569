//! Invariants read the run's configuration with `reads(config)`: the same
//! system passes under a generous limit and fails under a tight one, in
//! the checker (global and local invariants) and in the runtime monitor's
//! local check.

use verdict::prelude::*;
use verdict::{NodeWorkload, Violation};

verdict::system! {
    /// Workers count the jobs they took; the limit comes from the config.
    pub system Jobs;

    config {
        /// Most jobs one worker may hold.
        per_worker: u32 = 2,
        /// Most jobs all workers together may hold.
        total: u32 = 4,
    }

    input enum Input { Take }

    role Worker(u8) {
        state { taken: u32 = 0 }

        on input Take writes(taken) {
            *self.taken += 1;
        }

        /// No worker takes more than its share.
        invariant within_share reads(taken, config) {
            self.taken <= self.config.per_worker
        }
    }

    /// All workers together stay within the total.
    invariant within_total reads(Worker.taken, config) {
        self.worker.iter().map(|w| w.taken).sum::<u32>() <= self.config.total
    }
}

/// `workers` workers, each taking `jobs` jobs.
fn model(workers: usize, jobs: usize, config: Config) -> Model<Jobs> {
    let setup = Setup::with_config(&Sizes::new().with(Role::Worker, workers), config).unwrap();
    let workload = Workload::none(&setup).each(&setup, Role::Worker, |_| {
        NodeWorkload::Script(vec![Step::send(input::Take); jobs])
    });
    Model::new(setup, Faults::none(), workload)
}

fn failed(model: &Model<Jobs>) -> Option<&'static str> {
    let report = check(model, &CheckOptions::default());
    match report.counterexample().map(|cx| &cx.violation) {
        Some(Violation::Invariant { name, .. }) => Some(name),
        None => None,
        other => panic!("unexpected outcome {other:?}"),
    }
}

#[test]
fn a_generous_config_passes() {
    let config = Config {
        per_worker: 3,
        total: 6,
    };
    assert_eq!(failed(&model(2, 3, config)), None);
}

#[test]
fn a_local_invariant_fails_on_its_config_value() {
    let config = Config {
        per_worker: 2,
        total: 100,
    };
    assert_eq!(failed(&model(2, 3, config)), Some("within_share"));
}

#[test]
fn a_global_invariant_fails_on_its_config_value() {
    let config = Config {
        per_worker: 100,
        total: 5,
    };
    assert_eq!(failed(&model(2, 3, config)), Some("within_total"));
}

#[test]
fn the_local_check_takes_the_config_it_is_given() {
    let state = <Jobs as System>::initial_state(Node::Worker(0), &Config::default());
    let mut state = state;
    let State::Worker(w) = &mut state;
    w.taken = 3;
    let share = Jobs::meta()
        .invariants
        .iter()
        .position(|i| i.name == "within_share")
        .unwrap();
    let tight = Config::default();
    let loose = Config {
        per_worker: 3,
        ..Config::default()
    };
    assert!(Jobs::check_local(share, Node::Worker(0), &state, &tight).is_err());
    assert!(Jobs::check_local(share, Node::Worker(0), &state, &loose).is_ok());
}
