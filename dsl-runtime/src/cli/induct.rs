//! The `induct` subcommand: which (step, invariant) pairs footprints
//! discharge, and counterexamples to induction for the others.

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use crate::check::{check, CheckOptions, Reductions, Strategy};
use crate::faults::Faults;
use crate::induct::report::render_cti;
use crate::induct::{domain, induct_on, infer, render, Cti, InductOptions};
use crate::semantics::Model;
use crate::system::System;
use crate::violation::Violation;

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
    /// States per node in the domain: the reachable ones, then those a
    /// field domain adds (`#[domain(..)]`, booleans), up to this many.
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub max_slots: usize,
    /// Seed of that sampling.
    #[arg(long, default_value_t = 0, value_name = "SEED")]
    pub seed: u64,
    /// Infer invariants that make the declared ones inductive: mine
    /// candidates from reachable states, keep an inductive subset
    /// (Houdini), print a small strengthening as `invariant` items and
    /// re-check it with every size flag one larger.
    #[arg(long)]
    pub infer: bool,
    /// Also draw the first counterexample to induction (with `--infer`:
    /// the one left, if any) as a message sequence chart: its pre-state's
    /// packets in flight, the step, the broken invariant and the
    /// post-state. SVG when FILE ends in `.svg`.
    #[arg(long, value_name = "FILE")]
    pub chart: Option<std::path::PathBuf>,
    /// Report progress on stderr from the start (the phase, how far along
    /// it is, states examined, candidates kept and dropped). A terminal
    /// gets a bar anyway; elsewhere, without this flag, plain lines every
    /// two seconds begin only once a phase has lasted six.
    #[arg(long)]
    pub progress: bool,
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
            max_slots: self.max_slots,
            seed: self.seed,
            progress: Some(Default::default()),
        }
    }
}

/// Writes the chart of `cti` to `path` (SVG for `.svg`, else an HTML page
/// around it) and says so; with no CTI, says there is nothing to draw. A
/// file that cannot be written is a usage error (exit 2).
fn chart_first<S: System>(
    model: &Model<S>,
    path: &std::path::Path,
    cti: Option<&Cti<S>>,
    out: &mut impl Write,
) -> Result<(), ExitCode> {
    let Some(cti) = cti else {
        let _ = writeln!(
            out,
            "chart: no counterexample to induction to draw; {} not written",
            path.display()
        );
        return Ok(());
    };
    let violation = crate::violation::check_invariant(&model.setup, &cti.post, cti.invariant)
        .err()
        .unwrap_or_else(|| Violation::Invariant {
            name: S::meta().invariants[cti.invariant].name,
            node: None,
            message: cti.message.clone(),
        });
    let svg = crate::chart::from_world_svg(
        model,
        &cti.pre,
        std::slice::from_ref(&cti.event),
        &violation,
    );
    let is_svg = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("svg"));
    let doc = if is_svg {
        svg
    } else {
        let title = format!(
            "{}: counterexample to induction, {violation}",
            S::meta().name
        );
        format!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{t}</title></head>\n<body>\n<h2>{t}</h2>\n{svg}\n</body></html>\n",
            t = title.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
        )
    };
    match std::fs::write(path, doc) {
        Ok(()) => {
            let _ = writeln!(out, "chart of CTI 1 ({}): {}", violation, path.display());
            Ok(())
        }
        Err(e) => Err(super::app::usage(format!(
            "--chart {}: cannot write it: {e}",
            path.display()
        ))),
    }
}

/// Runs `induct`: prints the table and the counterexamples to induction,
/// and with `--infer` a strengthening, re-checked on `larger` (the model
/// one size up). Exit codes: 0 no CTI within the domain (with `--infer`:
/// the strengthened set has none, here and one size up), 1 an invariant
/// fails at a reachable state (shown as `check` shows it), 4 a CTI remains.
pub fn run_induct<S: System>(
    model: &Model<S>,
    args: &InductArgs,
    larger: Option<Model<S>>,
) -> ExitCode {
    let options = args.options();
    if domain::multiset_count(options.max_packets, options.max_in_flight) > domain::MAX_NETWORKS {
        return super::app::usage(format!(
            "--max-in-flight {} with --max-packets {} gives more than {} networks per pre-state; lower one of them",
            options.max_in_flight,
            options.max_packets,
            domain::MAX_NETWORKS
        ));
    }
    if options.max_reachable == 0 || options.max_prestates == 0 {
        return super::app::usage("--max-reachable and --max-prestates must be at least 1");
    }
    let mut out = std::io::stdout().lock();
    super::print_header(model, &mut out);
    let _ = writeln!(
        out,
        "induct: at most {} reachable worlds, {} packets in flight per pre-state, {} pre-states",
        options.max_reachable, options.max_in_flight, options.max_prestates
    );
    let started = Instant::now();
    let domain = match watched(args.progress, &options, || domain::build(model, &options)) {
        Ok(d) => d,
        Err(failure) => return reachable_failure(model, &options, &failure.what, &mut out),
    };
    let report = watched(args.progress, &options, || {
        induct_on(model, &options, &domain)
    });
    let _ = write!(out, "{}", render(model, &report));
    let _ = writeln!(out, "(took {:.2?})", started.elapsed());
    if let Some(path) = &args.chart {
        if let Err(code) = chart_first(model, path, report.ctis.first(), &mut out) {
            return code;
        }
    }
    let footprints_ok = report.footprint_errors.is_empty();
    if !args.infer {
        return if report.inductive() && footprints_ok {
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
        };
    }
    let meta = S::meta();
    if !(0..meta.invariants.len()).any(crate::induct::is_state_invariant::<S>) {
        let _ = writeln!(
            out,
            "\ninfer: nothing to strengthen: every invariant reads the trace, which induction over recombined states cannot judge"
        );
        return ExitCode::from(EXIT_OK);
    }
    let started = Instant::now();
    let found = watched(args.progress, &options, || {
        infer::infer(model, &options, &domain)
    });
    let _ = writeln!(
        out,
        "\ninfer: {} candidates from the templates, {} true in every reachable world, {} kept by Houdini (inductive together on the domain); {} sweeps, {:.2?}",
        found.templates,
        found.mined,
        found.houdini,
        found.sweeps,
        started.elapsed()
    );
    if !found.strengthens {
        let _ = writeln!(
            out,
            "no strengthening within the templates: the declared invariants still have a CTI with every kept candidate assumed"
        );
        if let Some(cti) =
            infer::remaining_cti(model, &options, &domain, &found.universe, &found.kept)
        {
            let _ = write!(out, "\n{}", render_cti(model, &domain.initial, 1, &cti));
            if let Some(path) = &args.chart {
                if let Err(code) = chart_first(model, path, Some(&cti), &mut out) {
                    return code;
                }
            }
        }
        return ExitCode::from(EXIT_NOT_INDUCTIVE);
    }
    if found.chosen.is_empty() {
        let _ = writeln!(
            out,
            "the declared invariants need no strengthening on this domain"
        );
    } else {
        let _ = writeln!(
            out,
            "a strengthening of {} invariant(s) under which no CTI exists in the domain; paste into the system:\n",
            found.chosen.len()
        );
        for (i, c) in found.chosen.iter().enumerate() {
            let _ = writeln!(
                out,
                "{}",
                infer::print(model, &found.universe, c, i + 1).item
            );
        }
    }
    let Some(larger) = larger else {
        let _ = writeln!(out, "(no size flag to re-check one size larger)");
        return ExitCode::from(EXIT_OK);
    };
    let started = Instant::now();
    let _ = writeln!(out, "re-check one size larger: {}", larger.setup.describe());
    // The candidates are counted again only by another inference.
    options.watch().candidates(0, 0);
    let bigger = match watched(args.progress, &options, || domain::build(&larger, &options)) {
        Ok(d) => d,
        Err(failure) => return reachable_failure(&larger, &options, &failure.what, &mut out),
    };
    let again = watched(args.progress, &options, || {
        infer::recheck(&larger, &options, &bigger, &found.universe, &found.chosen)
    });
    let reachable = if bigger.reachable_exhausted {
        "every reachable world"
    } else {
        "the reachable worlds collected"
    };
    match again.false_at_reachable {
        Some(i) => {
            let _ = writeln!(
                out,
                "  inferred_{} is false in a reachable world there: mined at too small a size",
                i + 1
            );
        }
        None => {
            let _ = writeln!(
                out,
                "  all {} hold in {reachable} ({})",
                found.chosen.len(),
                bigger.reachable
            );
        }
    }
    let _ =
        writeln!(
        out,
        "  {} with the declared invariants on that domain ({} pre-states satisfy them all); {:.2?}",
        if again.inductive { "inductive" } else { "NOT inductive" },
        again.prestates,
        started.elapsed()
    );
    if again.inductive && again.false_at_reachable.is_none() {
        ExitCode::from(EXIT_OK)
    } else {
        ExitCode::from(EXIT_NOT_INDUCTIVE)
    }
}

/// `work` with the progress display on, when these options count for one
/// (one display per part of the run, cleared before its results print;
/// `asked` is `--progress`).
fn watched<R>(asked: bool, options: &InductOptions, work: impl FnOnce() -> R) -> R {
    match &options.progress {
        Some(w) => {
            crate::progress::watch(crate::progress::Shown::asked(asked), || w.sample(), work)
        }
        None => work(),
    }
}

/// A reachable world breaks an invariant: say so and let the checker show
/// a shortest path to one.
fn reachable_failure<S: System>(
    model: &Model<S>,
    options: &InductOptions,
    what: &str,
    out: &mut impl Write,
) -> ExitCode {
    let _ = writeln!(
        out,
        "a reachable state breaks an invariant ({what}): it is false, not merely not inductive"
    );
    let options = CheckOptions {
        max_states: Some(options.max_reachable as u64 * 2),
        max_depth: options.max_depth,
        threads: 1,
        strategy: Strategy::Bfs,
        reductions: Reductions::default(),
        ..CheckOptions::default()
    };
    let report = check(model, &options);
    super::print_report(model, &report, out);
    ExitCode::from(EXIT_VIOLATION)
}
