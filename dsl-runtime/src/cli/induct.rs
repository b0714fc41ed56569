//! The `induct` subcommand: which (step, invariant) pairs footprints
//! discharge, and counterexamples to induction for the others.

use std::io::Write;
use std::process::ExitCode;

use crate::check::{check, CheckOptions, Reductions, Strategy};
use crate::faults::Faults;
use crate::induct::{induct, render, InductOptions};
use crate::semantics::Model;
use crate::system::System;

use super::{EXIT_NOT_INDUCTIVE, EXIT_OK, EXIT_VIOLATION};

/// Flags of the `induct` subcommand.
#[derive(clap::Args, Debug, Clone)]
pub struct InductArgs {
    /// Fault model, as for `check`: its faults are steps too.
    #[arg(long, default_value = "none", value_name = "LIST")]
    pub faults: Faults,
    /// Reachable worlds the bounded check collects for the domain.
    #[arg(long, default_value_t = 100_000, value_name = "N")]
    pub max_reachable: usize,
    /// Steps from the initial world the bounded check goes.
    #[arg(long, value_name = "N")]
    pub depth: Option<usize>,
    /// Packets in flight in a recombined pre-state.
    #[arg(long, default_value_t = 2, value_name = "K")]
    pub max_in_flight: usize,
    /// Distinct packets recombined pre-states draw from.
    #[arg(long, default_value_t = 64, value_name = "N")]
    pub max_packets: usize,
    /// Pre-states tried; beyond it they are sampled at random.
    #[arg(long, default_value_t = 200_000, value_name = "N")]
    pub max_prestates: u64,
    /// Seed of that sampling.
    #[arg(long, default_value_t = 0, value_name = "SEED")]
    pub seed: u64,
}

impl InductArgs {
    /// The search bounds these flags ask for.
    pub fn options(&self) -> InductOptions {
        InductOptions {
            max_reachable: self.max_reachable,
            max_depth: self.depth,
            max_in_flight: self.max_in_flight,
            max_packets: self.max_packets,
            max_prestates: self.max_prestates,
            seed: self.seed,
        }
    }
}

/// Runs `induct`: prints the table and the counterexamples to induction.
/// Exit codes: 0 no CTI within the domain, 1 an invariant fails at a
/// reachable state (shown as `check` shows it), 4 a CTI was found.
pub fn run_induct<S: System>(model: &Model<S>, args: &InductArgs) -> ExitCode {
    let options = args.options();
    let mut out = std::io::stdout().lock();
    super::print_header(model, &mut out);
    let _ = writeln!(
        out,
        "induct: at most {} reachable worlds, {} packets in flight per pre-state, {} pre-states",
        options.max_reachable, options.max_in_flight, options.max_prestates
    );
    match induct(model, &options) {
        Ok(report) => {
            let _ = write!(out, "{}", render(model, &report));
            if report.inductive() && report.footprint_errors.is_empty() {
                let _ = writeln!(
                    out,
                    "\nno counterexample to induction within the domain (evidence, not a proof: see the book's chapter Induction)"
                );
                ExitCode::from(EXIT_OK)
            } else {
                let _ = writeln!(
                    out,
                    "\nthe invariants are not inductive: {} counterexample(s) to induction; strengthen them (try `induct --infer`)",
                    report.ctis.len()
                );
                ExitCode::from(EXIT_NOT_INDUCTIVE)
            }
        }
        Err(failure) => {
            let _ = writeln!(
                out,
                "a reachable state breaks an invariant ({}): it is false, not merely not inductive",
                failure.what
            );
            // The checker finds and shows a shortest path to it.
            let options = CheckOptions {
                max_states: Some(options.max_reachable as u64 * 2),
                max_depth: options.max_depth,
                threads: 1,
                strategy: Strategy::Bfs,
                reductions: Reductions::default(),
                ..CheckOptions::default()
            };
            let report = check(model, &options);
            super::print_report(model, &report, &mut out);
            ExitCode::from(EXIT_VIOLATION)
        }
    }
}
