//! The induction report as text: the table, then each counterexample to
//! induction as Ivy shows one — pre-state, step, post-state, broken
//! invariant.

use std::fmt::Write;

use crate::induct::{nodes_that_matter, step_name, Cti, InductReport, PairVerdict};
use crate::numbers::thousands;
use crate::semantics::world::NodeSlot;
use crate::semantics::{Model, World};
use crate::system::System;

/// The text of a cell of the table.
fn cell(v: PairVerdict) -> String {
    match v {
        PairVerdict::ByFootprint => "footprint".to_string(),
        PairVerdict::NoCti => "no CTI".to_string(),
        PairVerdict::Cti(i) => format!("CTI {}", i + 1),
        PairVerdict::NotSearched(_) => "not searched".to_string(),
    }
}

/// The whole report: domain, table, counterexamples.
pub fn render<S: System>(model: &Model<S>, report: &InductReport<S>) -> String {
    let meta = S::meta();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "domain: {} reachable worlds ({}){}, {} distinct packets{}, networks of at most the in-flight bound, {} pre-states in all",
        thousands(report.reachable as u64),
        if report.reachable_exhausted { "all of them" } else { "a bounded part" },
        if report.varied > 0 {
            format!(", {} node states from field domains", thousands(report.varied as u64))
        } else {
            String::new()
        },
        report.packets.0,
        if report.packets.1 { " (capped)" } else { "" },
        thousands(report.domain_size.min(u64::MAX as u128) as u64),
    );
    let s = &report.stats;
    let _ = writeln!(
        out,
        "searched: {} pre-states ({}), {} satisfy every invariant searched; {} steps from them",
        thousands(s.prestates),
        if (s.prestates as u128) < report.domain_size {
            "sampled"
        } else {
            "all"
        },
        thousands(s.satisfying),
        thousands(s.steps),
    );
    if s.failed_steps > 0 {
        let _ = writeln!(
            out,
            "  {} steps failed and were skipped",
            thousands(s.failed_steps)
        );
    }
    let (by, all) = report.footprint_share();
    let _ = writeln!(
        out,
        "discharged by footprint: {by} of {all} (step, invariant) pairs"
    );
    out.push('\n');
    let names: Vec<&str> = meta.invariants.iter().map(|i| i.name).collect();
    let rows: Vec<String> = report.kinds.iter().map(|&k| step_name(meta, k)).collect();
    let first = rows.iter().map(|r| r.len()).max().unwrap_or(4).max(4);
    let widths: Vec<usize> = names.iter().map(|n| n.len().max(12)).collect();
    let mut header = format!("{:first$}", "step");
    for (n, w) in names.iter().zip(&widths) {
        let _ = write!(header, "  {n:w$}");
    }
    let _ = writeln!(out, "{}", header.trim_end());
    for (row, name) in report.table.iter().zip(&rows) {
        let mut line = format!("{name:first$}");
        for (v, w) in row.iter().zip(&widths) {
            let _ = write!(line, "  {:w$}", cell(*v));
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    if report
        .table
        .iter()
        .flatten()
        .any(|v| matches!(v, PairVerdict::NotSearched(_)))
    {
        out.push_str(
            "(not searched: the invariant reads the trace, which a recombined pre-state does not have)\n",
        );
    }
    for e in &report.footprint_errors {
        let _ = writeln!(out, "\nfootprint error: {e}");
    }
    for (i, cti) in report.ctis.iter().enumerate() {
        out.push('\n');
        out.push_str(&render_cti(model, &report.initial, i + 1, cti));
    }
    out
}

/// One node's slot as `held = true, timers {Prepare}`.
fn describe_slot<S: System>(slot: &NodeSlot<S>, before: Option<&NodeSlot<S>>) -> String {
    let meta = S::meta();
    let mut parts: Vec<String> = Vec::new();
    let was = before.map(|b| S::fields(&b.state));
    for (k, (name, value)) in S::fields(&slot.state).into_iter().enumerate() {
        match was.as_ref().and_then(|w| w.get(k)) {
            Some((_, old)) if *old != value => parts.push(format!("{name} = {value} (was {old})")),
            _ => parts.push(format!("{name} = {value}")),
        }
    }
    if !slot.up {
        parts.push("down".to_string());
    }
    if slot.timers != 0 {
        let armed: Vec<&str> = (0..64)
            .filter(|t| slot.timers >> t & 1 == 1)
            .filter_map(|t| meta.timers.get(t).copied())
            .collect();
        parts.push(format!("timers {{{}}}", armed.join(", ")));
    }
    if slot.inputs_taken > 0 || slot.awaiting {
        let waiting = if slot.awaiting {
            ", awaiting a reply"
        } else {
            ""
        };
        parts.push(format!("{} inputs taken{waiting}", slot.inputs_taken));
    }
    if parts.is_empty() {
        "(no fields)".to_string()
    } else {
        parts.join(", ")
    }
}

fn describe_network<S: System>(world: &World<S>) -> String {
    let packets: Vec<String> = world
        .network
        .packets()
        .iter()
        .map(|p| format!("{:?} from {} to {}", p.msg, p.src, p.dst))
        .collect();
    if packets.is_empty() {
        "(nothing)".to_string()
    } else {
        packets.join("; ")
    }
}

/// One counterexample to induction, numbered `number`.
pub fn render_cti<S: System>(
    model: &Model<S>,
    initial: &World<S>,
    number: usize,
    cti: &Cti<S>,
) -> String {
    let meta = S::meta();
    let nodes = model.setup.nodes();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "CTI {number}: `{}` breaks `{}`",
        step_name(meta, cti.kind),
        meta.invariants[cti.invariant].name
    );
    let _ = writeln!(
        out,
        "  pre-state (satisfies every invariant; nodes not shown are in their initial state):"
    );
    let shown = nodes_that_matter(model, initial, &cti.pre, &cti.event);
    for &i in &shown {
        let _ = writeln!(
            out,
            "    {}: {}",
            nodes[i],
            describe_slot(&cti.pre.nodes[i], None)
        );
    }
    let _ = writeln!(out, "    in flight: {}", describe_network(&cti.pre));
    let _ = writeln!(out, "  step: {}", cti.event);
    let _ = writeln!(out, "  post-state:");
    let mut after = shown.clone();
    for i in 0..cti.post.nodes.len() {
        if !after.contains(&i)
            && format!("{:?}", cti.post.nodes[i]) != format!("{:?}", cti.pre.nodes[i])
        {
            after.push(i);
        }
    }
    after.sort_unstable();
    for &i in &after {
        let _ = writeln!(
            out,
            "    {}: {}",
            nodes[i],
            describe_slot(&cti.post.nodes[i], Some(&cti.pre.nodes[i]))
        );
    }
    let _ = writeln!(out, "    in flight: {}", describe_network(&cti.post));
    let _ = writeln!(out, "  broken: {}", cti.message);
    out
}
