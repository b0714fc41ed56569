//! Message sequence charts of counterexamples and of any path of events,
//! as SVG or a self-contained HTML page.
//!
//! One lifeline per node, time going down, one row per step. A message is
//! an arrow from the step that sent it to the step that delivered it; a
//! dropped message ends in a red cross, a duplicated one gets an orange mark
//! on its arrow where the copy was made and the copy its own arrow from
//! there; crashes are red crosses on the lifeline, which is dashed while the
//! node is down, and restarts green rings; partitions and heals are purple
//! bands. Below a counterexample's chart: the violated invariant and every
//! node's state at the failing step.
//!
//! Labels are laid out after everything else is drawn, each at the first
//! of its candidate spots that overlaps no other label or mark: where
//! arrows cross, their labels move apart along them.

mod labels;
mod layout;
mod svg;

use std::path::Path;

use crate::semantics::{Event, Model, World};
use crate::system::System;
use crate::violation::{replay, replay_from, Counterexample, Violation};

const COL: f64 = 170.0;
const ROW: f64 = 38.0;
const LEFT: f64 = 60.0;
const TOP: f64 = 90.0;

/// Escapes text for SVG and HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Shortens long labels so they stay near their arrow.
fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let t: String = s.chars().take(max - 1).collect();
        format!("{t}…")
    }
}

/// The chart of `cx` under `model` as an SVG document, with the violation
/// and the failing state below it.
pub fn to_svg<S: System>(model: &Model<S>, cx: &Counterexample<S>) -> String {
    draw(model, None, &cx.events, Some(&cx.violation))
}

/// The chart of `events` from `start`, a world that need not be reachable
/// (the pre-state of a counterexample to induction: its packets in flight
/// are the arrows coming from the top), with `violation` and the state it
/// ends in below it.
pub fn from_world_svg<S: System>(
    model: &Model<S>,
    start: &World<S>,
    events: &[Event<S>],
    violation: &Violation,
) -> String {
    draw(model, Some(start), events, Some(violation))
}

/// The chart of any path of `events` from `model`'s initial world, without
/// a footer: what the explorer shows as the path grows.
pub fn path_svg<S: System>(model: &Model<S>, events: &[Event<S>]) -> String {
    draw(model, None, events, None)
}

/// The chart of `events` from `start` (the initial world when `None`):
/// replay, lay the steps out, then draw.
fn draw<S: System>(
    model: &Model<S>,
    start: Option<&World<S>>,
    events: &[Event<S>],
    footer: Option<&Violation>,
) -> String {
    let replayed = match start {
        Some(w) => replay_from(model, w.clone(), events),
        None => replay(model, events),
    };
    let (init, steps) = match replayed {
        Ok(r) => r,
        Err(e) => {
            return format!(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"600\" height=\"40\"><text x=\"10\" y=\"25\">the trace cannot be replayed: {}</text></svg>",
                esc(&e.to_string())
            )
        }
    };
    let mut layout = layout::Layout::new(model, &init);
    for (k, step) in steps.iter().enumerate() {
        layout.step(k, step);
    }
    if let Some(Violation::Liveness {
        cycle_start: Some(c),
        ..
    }) = footer
    {
        layout.lasso(*c, steps.len());
    }
    let what = match (start, footer) {
        (Some(_), _) => {
            "counterexample to induction (from a pre-state that satisfies every invariant)"
        }
        (None, Some(_)) => "counterexample",
        (None, None) => "path",
    };
    let last = steps.last().map_or(&init, |s| &s.world);
    let footer = footer.map(|v| (v, state_lines(model, last)));
    svg::document(model, layout.finish(steps.len()), what, steps.len(), footer)
}

/// Each node's fields in `world`, one line per node.
fn state_lines<S: System>(model: &Model<S>, world: &World<S>) -> Vec<String> {
    let nodes = model.setup.nodes();
    world
        .nodes
        .iter()
        .enumerate()
        .map(|(i, slot)| {
            let fields: Vec<String> = S::fields(&slot.state)
                .into_iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let down = if slot.up { "" } else { " (down)" };
            format!("{}{down}: {}", nodes[i], fields.join(", "))
        })
        .collect()
}

const STYLE: &str = "<style>
.title{font-size:15px;font-weight:bold}
.head{fill:#e8eef6;stroke:#1f4e79}
.node{font-weight:bold;fill:#1f4e79}
.life{stroke:#555;stroke-width:1.5}
.life.down{stroke:#c00;stroke-dasharray:4 4}
.band{fill:transparent}
.row{stroke:#eee}
.num{fill:#888;font-size:11px}
.msg{stroke:#1f4e79;stroke-width:1.5}
.dup-msg{stroke:#d9822b}
.dropped{stroke:#c00;stroke-dasharray:5 3}
.in-flight{stroke:#888;stroke-dasharray:2 3}
.label{font-size:11px;fill:#333;paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
.msg-label{fill:#1f4e79}
.input{fill:#2a7}
.input-label{fill:#185}
.output-label{fill:#185;font-style:italic}
.choice-label{fill:#6a3d9a;font-style:italic}
.recv{fill:#1f4e79}
.timer{fill:#888}
.cross{stroke:#c00;stroke-width:2.5;fill:none}
.drop-label,.crash-label{fill:#c00}
.dup{fill:#f4c27a;stroke:#d9822b}
.dup-label{fill:#b5651d}
.restart{fill:none;stroke:#2a7;stroke-width:2.5}
.restart-label{fill:#185}
.partition{fill:#b38fd6;opacity:.5}
.part-label{fill:#6a3d9a}
.cycle{fill:#e08a1e}
.cycle-label{fill:#b35f00}
.violation{fill:#fde8e8;stroke:#c00}
.violation-text{fill:#c00;font-weight:bold}
.state-title{font-weight:bold}
.state{font-family:monospace}
</style>
";

/// The chart as a self-contained HTML page: the SVG and the text trace.
pub fn to_html<S: System>(model: &Model<S>, cx: &Counterexample<S>) -> String {
    let svg = to_svg(model, cx);
    let text = cx.render(model);
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{name}: {v}</title>\n<style>body{{font-family:sans-serif;margin:16px}} pre{{background:#f6f6f6;padding:8px;font-size:12px}}</style></head>\n<body>\n<h2>{name}: {v}</h2>\n{svg}\n<h3>Trace</h3>\n<pre>{text}</pre>\n</body></html>\n",
        name = esc(S::meta().name),
        v = esc(&cx.violation.to_string()),
        text = esc(&text)
    )
}

/// Writes the chart of `cx` to `path`: SVG when the name ends in `.svg`,
/// HTML otherwise.
pub fn write_chart<S: System>(
    path: &Path,
    model: &Model<S>,
    cx: &Counterexample<S>,
) -> std::io::Result<()> {
    let svg = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("svg"));
    let doc = if svg {
        to_svg(model, cx)
    } else {
        to_html(model, cx)
    };
    std::fs::write(path, doc)
}
