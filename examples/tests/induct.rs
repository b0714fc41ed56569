//! `induct`: footprints discharge what they can, a counterexample to
//! induction (CTI) is found for an invariant true in every reachable state
//! but not inductive, and a false invariant is reported at a reachable state.

use crate::command;

use verdict::induct::{induct, InductOptions, PairVerdict, StepKind};
use verdict::prelude::*;
use verdict::System;

const LOCKSERV: &str = env!("CARGO_BIN_EXE_lockserv");

/// The exit code and standard output of `bin args`.
fn run(bin: &str, args: &[&str]) -> (Option<i32>, String) {
    let (code, stdout, _) = command::run(bin, args);
    (code, stdout)
}

mod ring {
    use verdict::prelude::*;

    verdict::system! {
        /// A token passed round a ring of sites, each pass on a timer, at most
        /// twice per site.
        pub system Ring;

        config {
            /// Also claim the false invariant `one_pass_each`.
            claim_one_pass: bool = false,
        }

        message enum Msg { Token }
        timers { Pass }

        role Site(u8) {
            state {
                /// Whether this site holds the token.
                has: bool = false,
                /// How often this site passed the token on.
                passes: u8 = 0,
            }

            on start writes(has) sets(Pass) {
                if ctx.me() == Node::Site(0) {
                    *self.has = true;
                    ctx.set_timer(timer::Pass, Duration::from_secs(1));
                }
            }

            on timer Pass writes(has, passes) sends(Token) {
                if *self.has && *self.passes < 2 {
                    *self.has = false;
                    *self.passes += 1;
                    let next = ctx.peers().find(|n| *n > ctx.me()).unwrap_or(Node::Site(0));
                    ctx.send(next, msg::Token);
                }
            }

            on message Token from _prev writes(has) sets(Pass) {
                *self.has = true;
                ctx.set_timer(timer::Pass, Duration::from_secs(1));
            }
        }

        /// True in every reachable state (there is one token), but not
        /// inductive alone: it says nothing about a token in flight.
        invariant one_holder reads(Site.has) {
            self.site.iter().filter(|s| s.has).count() <= 1
        }

        /// Never read by a handler that writes it: preserved by footprint by
        /// every step but a pass.
        invariant passes_bounded reads(Site.passes) {
            self.site.iter().all(|s| s.passes <= 2)
        }

        /// False: with two sites the token comes back to site 0, which passes
        /// it a second time.
        invariant one_pass_each reads(Site.passes, config) {
            !self.config.claim_one_pass || self.site.iter().all(|s| s.passes <= 1)
        }
    }
}

use ring::{Config, Ring, Role, State};

fn ring(sites: usize, claim_one_pass: bool) -> Model<Ring> {
    let sizes = Sizes::new().with(Role::Site, sites);
    let setup = Setup::with_config(&sizes, Config { claim_one_pass }).unwrap();
    let workload = Workload::none(&setup);
    Model::new(setup, Faults::none(), workload)
}

/// The ring's metadata id of an invariant or a handler, by name.
fn invariant(name: &str) -> usize {
    Ring::meta()
        .invariants
        .iter()
        .position(|i| i.name == name)
        .unwrap()
}

fn handler(name: &str) -> StepKind {
    StepKind::Handler(
        Ring::meta()
            .handlers
            .iter()
            .position(|h| h.name == name)
            .unwrap(),
    )
}

#[test]
fn a_false_invariant_fails_at_a_reachable_state_not_as_a_cti() {
    let failure = induct(&ring(2, true), &InductOptions::default()).unwrap_err();
    assert!(failure.what.contains("one_pass_each"), "{}", failure.what);
    // The subcommand says so and exits 1, as `check` does on a violation.
    let app = verdict::cli::App::<Ring>::new("ring")
        .size_flag(Role::Site, "sites", 2, "Sites on the ring")
        .config(|_| Config {
            claim_one_pass: true,
        });
    let matches = app
        .command()
        .try_get_matches_from(["ring", "induct"])
        .unwrap();
    assert_eq!(app.run_matches(&matches), std::process::ExitCode::from(1));
}

#[test]
fn a_weak_invariant_gets_a_minimal_cti() {
    let report = induct(&ring(3, false), &InductOptions::default()).unwrap();
    let one = invariant("one_holder");
    let cti = report
        .ctis
        .iter()
        .find(|c| c.invariant == one)
        .expect("one_holder is not inductive");
    assert_eq!(cti.kind, handler("Site on message Token"));
    // Minimal: one holder, one token in flight to another site, the third
    // site in its initial state.
    assert_eq!(cti.pre.network.len(), 1, "{:?}", cti.pre.network);
    let holders = |w: &verdict::World<Ring>| {
        w.nodes
            .iter()
            .filter(|n| matches!(&n.state, State::Site(s) if s.has))
            .count()
    };
    assert_eq!(holders(&cti.pre), 1);
    assert_eq!(holders(&cti.post), 2);
    let initial = &report.initial;
    let changed = (0..3)
        .filter(|&i| format!("{:?}", cti.pre.nodes[i]) != format!("{:?}", initial.nodes[i]))
        .count();
    assert!(changed <= 2, "{:?}", cti.pre);
    // The other invariants: a token delivery writes no `passes`.
    assert_eq!(
        report.verdict(
            handler("Site on message Token"),
            invariant("passes_bounded")
        ),
        Some(PairVerdict::ByFootprint)
    );
    assert_eq!(
        report.verdict(handler("Site on timer Pass"), invariant("passes_bounded")),
        Some(PairVerdict::NoCti)
    );
    assert!(report.footprint_errors.is_empty());
}

#[test]
fn lockserv_mutual_exclusion_is_not_inductive_alone() {
    let (code, out) = run(LOCKSERV, &["induct", "--clients", "2"]);
    assert_eq!(code, Some(4), "{out}");
    assert!(
        out.contains("CTI 1: `Client on message Grant` breaks `mutual_exclusion`"),
        "{out}"
    );
    // The CTI Ivy would show: one client holds the lock while a grant is
    // in flight to the other; the server is not shown (initial state).
    let cti = out.split("CTI 1:").nth(1).unwrap();
    let pre = cti.split("step:").next().unwrap();
    assert!(
        pre.contains("in flight: Grant from Server to Client(1)"),
        "{out}"
    );
    assert!(pre.contains("Client(0): held = true"), "{out}");
    assert!(!pre.contains("Server:"), "{out}");
    // Handlers of the server write no client field and receive no grant.
    let row = |name: &str| {
        out.lines()
            .find(|l| l.starts_with(name))
            .unwrap()
            .to_string()
    };
    assert!(
        row("Server on message Lock ").contains("footprint"),
        "{out}"
    );
    assert!(row("Client on input Unlock ").contains("no CTI"), "{out}");
    assert!(out.contains("discharged by footprint: 5 of 10"), "{out}");
}

const TWOPHASE: &str = env!("CARGO_BIN_EXE_twophase");

/// The `invariant` items `induct --infer` printed.
fn inferred_items(out: &str) -> Vec<&str> {
    out.lines()
        .filter(|l| l.starts_with("/// Inferred: "))
        .map(|l| l.trim_start_matches("/// Inferred: "))
        .collect()
}

#[test]
fn lockserv_infer_finds_a_strengthening_that_holds_one_size_up() {
    let (code, out) = run(LOCKSERV, &["induct", "--clients", "2", "--infer"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("under which no CTI exists in the domain"),
        "{out}"
    );
    let items = inferred_items(&out);
    // The lock server's textbook strengthening: the holder and the client
    // a grant goes to are at the head of the queue.
    assert!(
        items.contains(&"∀n ∈ Client: held(n) → Server.queue.first = n"),
        "{out}"
    );
    assert!(
        items.contains(&"∀n ∈ Client: Grant in flight to n → Server.queue.first = n"),
        "{out}"
    );
    assert!(
        out.contains("re-check one size larger: Server, Client(0..3)"),
        "{out}"
    );
    assert!(
        out.contains("inductive with the declared invariants on that domain"),
        "{out}"
    );
    assert!(!out.contains("NOT inductive"), "{out}");
    // Each item says what it reads, so it pastes into the system as is.
    assert!(out.contains("invariant inferred_1 reads("), "{out}");
}

#[test]
fn twophase_infer_finds_a_strengthening_that_holds_one_size_up() {
    let (code, out) = run(TWOPHASE, &["induct", "--rms", "2", "--infer"]);
    assert_eq!(code, Some(0), "{out}");
    let items = inferred_items(&out);
    assert!(
        items.contains(&"∀n ∈ Rm: status(n) = Committed → Tm.decision = Committed"),
        "{out}"
    );
    assert!(
        items.contains(&"∀n ∈ Rm: Abort in flight to n → Tm.decision = Aborted"),
        "{out}"
    );
    assert!(
        out.contains("re-check one size larger: Tm, Rm(0..3)"),
        "{out}"
    );
    assert!(!out.contains("NOT inductive"), "{out}");
}

const DISTRIBUTED_LOCK: &str = env!("CARGO_BIN_EXE_distributed_lock");

#[test]
fn distributed_lock_one_holder_has_a_cti_with_a_transfer_in_flight() {
    let (code, out) = run(DISTRIBUTED_LOCK, &["induct", "--nodes", "3"]);
    assert_eq!(code, Some(4), "{out}");
    assert!(
        out.contains("CTI 1: `Lock on message Transfer` breaks `one_holder`"),
        "{out}"
    );
    // The minimal CTI: the first node still holds (its initial state, not
    // shown) while a transfer is in flight to another node, which accepts.
    let cti = out.split("CTI 1:").nth(1).unwrap();
    let pre = cti.split("step:").next().unwrap();
    assert!(pre.contains("in flight: Transfer { epoch: 2 }"), "{out}");
    assert!(!pre.contains("Lock(0): held = false"), "{out}");
    assert!(out.contains("discharged by footprint: 0 of 4"), "{out}");
}

#[test]
fn distributed_lock_infer_finds_a_strengthening() {
    let (code, out) = run(DISTRIBUTED_LOCK, &["induct", "--nodes", "3", "--infer"]);
    assert_eq!(code, Some(0), "{out}");
    let items = inferred_items(&out);
    assert!(
        items.contains(&"∀n ∈ Lock: Transfer in flight → ¬held(n)"),
        "{out}"
    );
    assert!(items.contains(&"at most one Transfer in flight"), "{out}");
    assert!(
        out.contains("re-check one size larger: Lock(0..4)"),
        "{out}"
    );
    assert!(!out.contains("NOT inductive"), "{out}");
}

#[test]
fn inference_makes_the_weak_invariant_inductive() {
    let model = ring(3, false);
    let options = InductOptions::default();
    let domain = verdict::induct::domain::build(&model, &options).unwrap();
    let found = verdict::induct::infer::infer(&model, &options, &domain);
    assert!(found.strengthens);
    assert!(!found.chosen.is_empty() && found.chosen.len() <= found.houdini);
    assert!(found.houdini <= found.mined && found.mined <= found.templates);
    // One size larger the set still holds and is still inductive.
    let larger = ring(4, false);
    let bigger = verdict::induct::domain::build(&larger, &options).unwrap();
    let again =
        verdict::induct::infer::recheck(&larger, &options, &bigger, &found.universe, &found.chosen);
    assert_eq!(again.false_at_reachable, None);
    assert!(again.inductive);
}

#[test]
fn bounds_that_would_fill_memory_are_refused() {
    let (code, _) = run(LOCKSERV, &["induct", "--max-in-flight", "9"]);
    assert_eq!(code, Some(2));
    let (code, _) = run(LOCKSERV, &["induct", "--max-prestates", "0"]);
    assert_eq!(code, Some(2));
    let (code, _) = run(LOCKSERV, &["induct", "--max-in-flight", "lots"]);
    assert_eq!(code, Some(2));
}

#[test]
fn faults_are_steps_too() {
    use verdict_examples::twophase::{self, TwoPhase};
    let consistent = TwoPhase::meta()
        .invariants
        .iter()
        .position(|i| i.name == "consistent")
        .unwrap();
    let rm = TwoPhase::meta().role_named("Rm").unwrap();
    // A lost message changes no field: `consistent` reads none of the network.
    let model = twophase::model(2, Faults::none().drop(), false).unwrap();
    let report = induct(&model, &InductOptions::default()).unwrap();
    assert_eq!(
        report.verdict(StepKind::Drop, consistent),
        Some(PairVerdict::ByFootprint)
    );
    assert_eq!(report.verdict(StepKind::Crash(rm), consistent), None);
    // A crash resets a resource manager's status, which `consistent` reads:
    // searched, not discharged.
    let model = twophase::model(2, Faults::none().crash(1), false).unwrap();
    let report = induct(&model, &InductOptions::default()).unwrap();
    let crash = report.verdict(StepKind::Crash(rm), consistent).unwrap();
    assert_ne!(crash, PairVerdict::ByFootprint);
    assert!(report.footprint_errors.is_empty());
}

mod gauge {
    use verdict::prelude::*;

    verdict::system! {
        /// A gauge that climbs to 2 on a timer and stops there; its level
        /// may take 0..=4 in an induction pre-state.
        pub system Gauge;

        timers { Bump }

        role Meter {
            state {
                /// How far it has climbed.
                #[domain(0..=4)]
                level: u8 = 0,
            }

            on start sets(Bump) {
                ctx.set_timer(timer::Bump, Duration::from_secs(1));
            }

            on timer Bump writes(level) sets(Bump) {
                if *self.level != 2 {
                    *self.level += 1;
                    ctx.set_timer(timer::Bump, Duration::from_secs(1));
                }
            }
        }

        /// True in every reachable state (the level stops at 2), but a
        /// level of 3 steps to 4.
        invariant at_most_three reads(Meter.level) {
            self.meter.level <= 3
        }
    }
}

#[test]
fn a_field_domain_gives_a_cti_from_a_value_no_run_reached() {
    use gauge::{Gauge, State};
    let setup = Setup::<Gauge>::new(&Sizes::new()).unwrap();
    let workload = Workload::none(&setup);
    let model = Model::new(setup, Faults::none(), workload);
    let level = |w: &verdict::World<Gauge>| match &w.nodes[0].state {
        State::Meter(m) => m.level,
    };
    let domain = verdict::induct::domain::build(&model, &InductOptions::default()).unwrap();
    assert!(domain.worlds.iter().all(|w| level(w) <= 2));
    // 3 and 4 are added to each reachable state (0, 1, 2), and so are the
    // reachable levels where a state did not have them.
    assert!(domain.varied > 0);
    let report = induct(&model, &InductOptions::default()).unwrap();
    let cti = report.ctis.first().expect("level 3 steps to 4");
    assert_eq!(level(&cti.pre), 3);
    assert_eq!(level(&cti.post), 4);
    // Without the domain's values the search would find nothing: every
    // reachable pre-state keeps the level at most 3.
    let mut options = InductOptions::default();
    options.max_slots = 0;
    assert!(induct(&model, &options).unwrap().ctis.is_empty());
}

#[test]
fn a_cti_is_drawn_as_a_chart() {
    let dir = std::env::temp_dir().join(format!("verdict-induct-chart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("cti.svg");
    let path = file.to_str().unwrap();
    let (code, out) = run(
        DISTRIBUTED_LOCK,
        &["induct", "--nodes", "3", "--chart", path],
    );
    assert_eq!(code, Some(4), "{out}");
    assert!(
        out.contains("chart of CTI 1 (invariant `one_holder` is violated)"),
        "{out}"
    );
    let svg = std::fs::read_to_string(&file).unwrap();
    assert!(svg.starts_with("<svg"), "{svg}");
    assert!(svg.contains("counterexample to induction"), "{svg}");
    assert!(svg.contains("invariant `one_holder` is violated"), "{svg}");
    // The pre-state's packet in flight is an arrow, and the post-state,
    // with two holders, is below the chart.
    assert!(svg.contains("Transfer { epoch: 2 }"), "{svg}");
    assert!(svg.contains("Lock(1): held=true, epoch=2"), "{svg}");
    // A file that cannot be written is a usage error.
    let bad = dir.join("missing").join("cti.svg");
    let (code, _) = run(
        DISTRIBUTED_LOCK,
        &["induct", "--chart", bad.to_str().unwrap()],
    );
    assert_eq!(code, Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}
