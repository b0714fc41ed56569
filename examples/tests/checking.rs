//! The checker, simulator, transformer and CLI tests on the example
//! systems, gathered in one test binary: one link instead of one per file,
//! and one pool of test threads. Each file stays a module named as before,
//! so `cargo test -p verdict-examples --test checking liveness::` runs one.

mod command;
mod steps;

#[path = "bgp.rs"]
mod bgp;
#[path = "chart.rs"]
mod chart;
#[path = "checker_cli.rs"]
mod checker_cli;
#[path = "choice.rs"]
mod choice;
#[path = "config_invariants.rs"]
mod config_invariants;
#[path = "counter.rs"]
mod counter;
#[path = "deep_bugs.rs"]
mod deep_bugs;
#[path = "derive_relabel.rs"]
mod derive_relabel;
#[path = "dynamic_por.rs"]
mod dynamic_por;
#[path = "estimate.rs"]
mod estimate;
#[path = "footprint_audit.rs"]
mod footprint_audit;
#[path = "generic_systems.rs"]
mod generic_systems;
#[path = "ignore_rule.rs"]
mod ignore_rule;
#[path = "impact.rs"]
mod impact;
#[path = "induct.rs"]
mod induct;
#[path = "kv_primary_backup.rs"]
mod kv_primary_backup;
#[path = "kv_raft.rs"]
mod kv_raft;
#[path = "liveness.rs"]
mod liveness;
#[path = "lockserv.rs"]
mod lockserv;
#[path = "paxos.rs"]
mod paxos;
#[path = "payoff.rs"]
mod payoff;
#[path = "progress.rs"]
mod progress;
#[path = "reductions.rs"]
mod reductions;
#[path = "refinement_lockserv.rs"]
mod refinement_lockserv;
#[path = "semantics.rs"]
mod semantics;
#[path = "simulate.rs"]
mod simulate;
#[path = "strategies.rs"]
mod strategies;
#[path = "symmetry_history.rs"]
mod symmetry_history;
#[path = "timed.rs"]
mod timed;
#[path = "transform_cli.rs"]
mod transform_cli;
#[path = "transform_lockserv.rs"]
mod transform_lockserv;
#[path = "twophase.rs"]
mod twophase;
#[path = "upgrade.rs"]
mod upgrade;
