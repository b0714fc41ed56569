//! `simulate --estimate` against probabilities known in closed form.
//!
//! In `Relay` every message gets exactly one delivery attempt, so under
//! `drop=pX` a run with `k` messages loses none with probability
//! `(1 - X)^k`. The estimates must put the true value inside their
//! interval, and the intervals must be narrow enough to exclude a value a
//! quarter off (so the test cannot pass with a vacuous `[0, 1]`).

use crate::command;

use command::run;

use verdict::prelude::*;
use verdict::simulate::{estimate, RatedFaults, RunProperty, SimulateOptions};
use verdict::{NodeWorkload, SetupError};

mod relay {
    verdict::system! {
        /// A client that sends `burst` notes on start, and asks a question
        /// on input.
        pub system Relay;

        config {
            /// Notes the client sends the server when it starts.
            burst: u64 = 0,
        }

        input enum Input { Ask }
        output enum Output { Answer }
        message enum Msg { Note, Req, Resp }

        role Client {
            state {
                /// Notes sent.
                sent: u64 = 0,
            }

            on start writes(sent) sends(Note) {
                for _ in 0..ctx.config().burst {
                    *self.sent += 1;
                    ctx.send(Node::Server, msg::Note);
                }
            }

            on input Ask sends(Req) {
                ctx.send(Node::Server, msg::Req);
            }

            on message Resp from _server emits(Answer) {
                ctx.output(output::Answer);
            }
        }

        role Server {
            state {
                /// Notes received.
                got: u64 = 0,
            }

            on message Note from _client writes(got) {
                *self.got += 1;
            }

            on message Req from client sends(Resp) {
                ctx.send(client, msg::Resp);
            }
        }

        /// Every note sent was received or is still in flight: a lost note
        /// breaks it.
        invariant no_note_lost reads(Client.sent, Server.got, network) {
            let flying = self.network.iter().filter(|p| matches!(p.msg, Msg::Note(_))).count() as u64;
            self.client.sent == self.server.got + flying
        }
    }
}

use relay::{Config, Node, Relay};

/// `burst` notes on start; one awaited question if `ask`.
fn model(burst: u64, ask: bool, faults: &str) -> Result<(Model<Relay>, RatedFaults), SetupError> {
    let rated: RatedFaults = faults.parse().expect("a fault list");
    let setup = Setup::with_config(&Sizes::new(), Config { burst })?;
    let mut workload = Workload::none(&setup);
    if ask {
        let steps = vec![Step::call(relay::input::Ask)];
        workload = workload.with(&setup, Node::Client, NodeWorkload::Script(steps));
    }
    Ok((Model::new(setup, rated.faults, workload), rated))
}

fn options(rated: &RatedFaults, runs: u64) -> SimulateOptions {
    SimulateOptions {
        seeds: 0..runs,
        depth: 50,
        threads: 2,
        rates: rated.rates,
        ..SimulateOptions::default()
    }
}

/// Estimates `property` for the model and checks the interval against
/// `truth`: inside, and excluding values 25% away.
fn assert_estimate(burst: u64, ask: bool, p: f64, property: RunProperty, truth: f64) {
    let (m, rated) = model(burst, ask, &format!("drop=p{p}")).unwrap();
    let report = estimate(&m, &options(&rated, 20_000), property, 0.99);
    let i = report.interval;
    assert_eq!(i.runs, 20_000);
    assert!(
        i.contains(truth),
        "burst {burst}, p {p}: {truth} not in {i:?}"
    );
    assert!(
        !i.contains(truth * 0.75) && !i.contains((truth * 1.25).min(1.0 - 1e-9)),
        "burst {burst}, p {p}: {i:?} too wide to tell {truth} from 25% off"
    );
}

#[test]
fn one_lost_note_among_k_matches_one_minus_the_survival_probability() {
    for (burst, p) in [(1u64, 0.05f64), (1, 0.3), (3, 0.1), (5, 0.2)] {
        let truth = 1.0 - (1.0 - p).powi(burst as i32);
        assert_estimate(burst, false, p, RunProperty::Invariants, truth);
    }
}

#[test]
fn an_unanswered_call_needs_its_request_or_its_reply_lost() {
    for p in [0.02f64, 0.1, 0.4] {
        let truth = 1.0 - (1.0 - p) * (1.0 - p);
        assert_estimate(0, true, p, RunProperty::Answered, truth);
    }
}

#[test]
fn a_crash_loses_the_call_unless_it_hits_the_server_after_it_replied() {
    // Three steps: ask, deliver the request, deliver the reply. Before
    // each, a crash comes with probability c and hits a node picked among
    // those up, for good. Any crash before the first two loses the call.
    // Before the third, the client's does (probability c/2); the server's
    // does not (its reply is on its way), but the reply is then still due
    // and a second draw may crash the client, the only node up (c/2 * c).
    // So P = 1 - (1 - c)^2 (1 - c/2 (1 + c)).
    for c in [0.05f64, 0.2] {
        let (m, rated) = model(0, true, &format!("crash-stop=p{c}")).unwrap();
        let report = estimate(&m, &options(&rated, 20_000), RunProperty::Answered, 0.99);
        let truth = 1.0 - (1.0 - c).powi(2) * (1.0 - c / 2.0 * (1.0 + c));
        let i = report.interval;
        assert!(i.contains(truth), "c {c}: {truth} not in {i:?}");
        assert!(
            !i.contains(truth * 0.8) && !i.contains(truth * 1.2),
            "{i:?}"
        );
    }
}

#[test]
fn estimates_do_not_depend_on_threads_and_no_failure_gives_the_rule_of_three() {
    let (m, rated) = model(3, true, "drop=p0.1").unwrap();
    let mut one = options(&rated, 3_000);
    one.threads = 1;
    let a = estimate(&m, &one, RunProperty::Answered, 0.95);
    let b = estimate(&m, &options(&rated, 3_000), RunProperty::Answered, 0.95);
    assert_eq!(a.interval, b.interval);
    assert_eq!(
        a.first_failure.as_ref().map(|f| f.0),
        b.first_failure.map(|f| f.0)
    );
    // No faults: nothing fails, and the bound is about 3 / runs.
    let (m, rated) = model(3, true, "none").unwrap();
    let r = estimate(&m, &options(&rated, 3_000), RunProperty::Answered, 0.95);
    assert_eq!(r.interval.failures, 0);
    assert!(r.interval.upper_bound < 3.0 / 3_000.0);
    assert!(r.interval.upper_bound > 2.9 / 3_000.0);
    // Budgeted drops, chosen like any step, fail some runs too; rates and
    // budgets are different questions.
    let (m, rated) = model(3, false, "drop").unwrap();
    let r = estimate(&m, &options(&rated, 2_000), RunProperty::Invariants, 0.95);
    assert!(r.interval.failures > 0);
}

#[test]
fn a_run_that_cannot_settle_in_its_depth_has_not_converged() {
    // Twelve notes and a question need 15 steps; 10 is too few.
    let (m, rated) = model(12, true, "none").unwrap();
    let mut short = options(&rated, 200);
    short.depth = 10;
    let r = estimate(&m, &short, RunProperty::Converged, 0.95);
    assert_eq!(r.interval.failures, 200);
    assert_eq!(r.violations, 0);
    let r = estimate(&m, &options(&rated, 200), RunProperty::Converged, 0.95);
    assert_eq!(r.interval.failures, 0);
}

const LOCKSERV: &str = env!("CARGO_BIN_EXE_lockserv");

#[test]
fn the_command_line_reports_intervals_and_refuses_bad_values() {
    let args = [
        "simulate",
        "--estimate",
        "answered",
        "--faults",
        "drop=p0.2",
        "--runs",
        "500",
        "--threads",
        "1",
    ];
    let (code, out, err) = run(LOCKSERV, &args);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("95% Clopper-Pearson interval"), "{out}");
    assert!(out.contains("first failing run: seed"), "{out}");
    assert!(out.contains("--faults drop=p0.2"), "{out}");
    // A bound that 500 runs at a 20% loss rate cannot show.
    let (code, out, _) = run(
        LOCKSERV,
        &[&args[..], &["--require-below", "0.01"]].concat(),
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("NOT SHOWN: P < 0.01"), "{out}");
    // Without faults, 500 clean runs show P < 0.01 (the bound is ~0.006).
    let clean = ["simulate", "--estimate", "answered", "--runs", "500"];
    let (code, out, _) = run(
        LOCKSERV,
        &[&clean[..], &["--require-below", "0.01"]].concat(),
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("no run failed: P < 5.974e-3"), "{out}");
    for (bad, says) in [
        (vec!["simulate", "--faults", "drop=p1.5"], "from 0 to 1"),
        (
            vec!["simulate", "--faults", "partition=p0.1"],
            "takes no rate",
        ),
        (vec!["check", "--faults", "drop=p0.1"], "is for `simulate`"),
        (
            vec!["simulate", "--estimate", "--confidence", "95"],
            "between 0 and 1",
        ),
        (
            vec!["simulate", "--confidence", "0.9"],
            "are for --estimate",
        ),
        (
            vec!["simulate", "--estimate", "--strategy", "coverage"],
            "independent runs",
        ),
        (
            vec![
                "simulate",
                "--faults",
                "drop=p0.1",
                "--strategy",
                "coverage",
            ],
            "do not go with --strategy coverage",
        ),
    ] {
        let (code, out, err) = run(LOCKSERV, &bad);
        assert_eq!(code, Some(2), "{bad:?}: {out}{err}");
        assert!(err.contains(says), "{bad:?}: {err}");
    }
}
