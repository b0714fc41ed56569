//! Message sequence charts of counterexamples, as SVG or a self-contained
//! HTML page.
//!
//! One lifeline per node, time going down, one row per step. A message is
//! an arrow from the step that sent it to the step that delivered it; a
//! dropped message ends in a red cross, a duplicated one gets an orange mark
//! where the copy was made and its own arrow from there; crashes are red
//! crosses on the lifeline, which is dashed while the node is down, and
//! restarts green rings; partitions and heals are purple bands. Below the
//! chart: the violated invariant and every node's state at the failing step.

use std::fmt::Write as _;
use std::path::Path;

use crate::check::{replay, Counterexample};
use crate::semantics::{Event, Model, Packet};
use crate::system::System;

const COL: f64 = 170.0;
const ROW: f64 = 38.0;
const LEFT: f64 = 60.0;
const TOP: f64 = 90.0;

/// A message in flight while the chart is laid out.
struct Pending<S: System> {
    packet: Packet<S>,
    /// Where its arrow starts: x, y.
    from: (f64, f64),
    /// Drawn in the duplicate colour.
    copy: bool,
}

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

/// The chart of `cx` under `model` as an SVG document.
pub fn to_svg<S: System>(model: &Model<S>, cx: &Counterexample<S>) -> String {
    let nodes = model.setup.nodes();
    let n = nodes.len();
    let (init, steps) = match replay(model, &cx.events) {
        Ok(r) => r,
        Err(e) => {
            return format!(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"600\" height=\"40\"><text x=\"10\" y=\"25\">the trace cannot be replayed: {}</text></svg>",
                esc(&e.to_string())
            )
        }
    };
    let x_of = |node: S::Node| -> f64 {
        LEFT + COL * model.setup.index_of(node).unwrap_or(0) as f64 + COL / 2.0
    };
    let y_of = |step: usize| -> f64 { TOP + ROW * (step as f64 + 1.0) };
    let bottom = y_of(steps.len()) + ROW;
    let width = LEFT + COL * n as f64 + 40.0;

    let mut body = String::new();
    let mut arrows = String::new();
    let mut marks = String::new();
    // Lifeline segments: (node index, from y, to y, up).
    let mut up = vec![true; n];
    let mut since = vec![TOP; n];
    let mut segments: Vec<(usize, f64, f64, bool)> = Vec::new();
    let mut pending: Vec<Pending<S>> = Vec::new();

    let sends =
        |pending: &mut Vec<Pending<S>>, src: S::Node, effects: &[(S::Node, S::Msg)], y: f64| {
            for (to, msg) in effects {
                pending.push(Pending {
                    packet: Packet {
                        src,
                        dst: *to,
                        msg: msg.clone(),
                    },
                    from: (x_of(src), y),
                    copy: false,
                });
            }
        };
    // Messages already in flight initially start at the top.
    for p in init.network.packets() {
        pending.push(Pending {
            packet: p.clone(),
            from: (x_of(p.src), TOP),
            copy: false,
        });
    }
    let take = |pending: &mut Vec<Pending<S>>, p: &Packet<S>| -> Option<Pending<S>> {
        let i = pending.iter().position(|q| q.packet == *p)?;
        Some(pending.remove(i))
    };

    for (k, step) in steps.iter().enumerate() {
        let y = y_of(k);
        let _ = writeln!(
            body,
            "<text x=\"8\" y=\"{:.1}\" class=\"num\">{}</text>",
            y + 4.0,
            k + 1
        );
        let _ = writeln!(
            body,
            "<line x1=\"30\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" class=\"row\"/>",
            width - 20.0
        );
        match &step.event {
            Event::Input { node, input } => {
                let x = x_of(*node);
                let _ = writeln!(
                    marks,
                    "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4\" class=\"input\"/><text x=\"{:.1}\" y=\"{:.1}\" class=\"label input-label\">input {}</text>",
                    x + 7.0,
                    y - 5.0,
                    esc(&short(&format!("{input:?}"), 24))
                );
                sends(&mut pending, *node, &step.effects.sends, y);
            }
            Event::Deliver(p) => {
                let x = x_of(p.dst);
                if let Some(m) = take(&mut pending, p) {
                    let class = if m.copy { "msg dup-msg" } else { "msg" };
                    let _ = writeln!(
                        arrows,
                        "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{y:.1}\" class=\"{class}\" marker-end=\"url(#arrow)\"/>",
                        m.from.0, m.from.1
                    );
                    let (lx, ly) = ((m.from.0 + x) / 2.0, (m.from.1 + y) / 2.0);
                    let _ = writeln!(
                        arrows,
                        "<text x=\"{lx:.1}\" y=\"{:.1}\" class=\"label msg-label\" text-anchor=\"middle\">{}</text>",
                        ly - 4.0,
                        esc(&short(&format!("{:?}", p.msg), 28))
                    );
                }
                let _ = writeln!(
                    marks,
                    "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3\" class=\"recv\"/>"
                );
                sends(&mut pending, p.dst, &step.effects.sends, y);
            }
            Event::Timeout { node, timer } => {
                let x = x_of(*node);
                let _ = writeln!(
                    marks,
                    "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"8\" height=\"8\" class=\"timer\"/><text x=\"{:.1}\" y=\"{:.1}\" class=\"label\">timer {:?}</text>",
                    x - 4.0,
                    y - 4.0,
                    x + 7.0,
                    y - 5.0,
                    timer
                );
                sends(&mut pending, *node, &step.effects.sends, y);
            }
            Event::Drop(p) => {
                let x = x_of(p.dst);
                if let Some(m) = take(&mut pending, p) {
                    let (mx, my) = ((m.from.0 + x) / 2.0, y);
                    let _ = writeln!(
                        arrows,
                        "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{mx:.1}\" y2=\"{my:.1}\" class=\"msg dropped\"/>",
                        m.from.0, m.from.1
                    );
                    let _ = writeln!(
                        marks,
                        "<path d=\"M{:.1},{:.1} l10,10 m0,-10 l-10,10\" class=\"cross\"/><text x=\"{:.1}\" y=\"{:.1}\" class=\"label drop-label\">dropped {}</text>",
                        mx - 5.0,
                        my - 5.0,
                        mx + 9.0,
                        my + 4.0,
                        esc(&short(&format!("{:?}", p.msg), 20))
                    );
                }
            }
            Event::Duplicate(p) => {
                let (xs, xd) = (x_of(p.src), x_of(p.dst));
                let mx = (xs + xd) / 2.0;
                let _ = writeln!(
                    marks,
                    "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"12\" height=\"12\" rx=\"2\" class=\"dup\"/><text x=\"{:.1}\" y=\"{:.1}\" class=\"label dup-label\">duplicated {}</text>",
                    mx - 6.0,
                    y - 6.0,
                    mx + 10.0,
                    y + 4.0,
                    esc(&short(&format!("{:?}", p.msg), 20))
                );
                pending.push(Pending {
                    packet: p.clone(),
                    from: (mx, y),
                    copy: true,
                });
            }
            Event::Crash(node) => {
                let i = model.setup.index_of(*node).unwrap_or(0);
                let x = x_of(*node);
                segments.push((i, since[i], y, up[i]));
                up[i] = false;
                since[i] = y;
                let _ = writeln!(
                    marks,
                    "<path d=\"M{:.1},{:.1} l14,14 m0,-14 l-14,14\" class=\"cross big\"/><text x=\"{:.1}\" y=\"{:.1}\" class=\"label crash-label\">crash</text>",
                    x - 7.0,
                    y - 7.0,
                    x + 10.0,
                    y + 4.0
                );
            }
            Event::Restart(node) => {
                let i = model.setup.index_of(*node).unwrap_or(0);
                let x = x_of(*node);
                segments.push((i, since[i], y, up[i]));
                up[i] = true;
                since[i] = y;
                let _ = writeln!(
                    marks,
                    "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"7\" class=\"restart\"/><text x=\"{:.1}\" y=\"{:.1}\" class=\"label restart-label\">restart</text>",
                    x + 10.0,
                    y + 4.0
                );
                sends(&mut pending, *node, &step.effects.sends, y);
            }
            Event::Partition(side) => {
                let names: Vec<String> = side.iter().map(|n| n.to_string()).collect();
                let _ = writeln!(
                    marks,
                    "<rect x=\"{LEFT:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"10\" class=\"partition\"/><text x=\"{:.1}\" y=\"{:.1}\" class=\"label part-label\">partition {{{}}} | rest</text>",
                    y - 5.0,
                    COL * n as f64,
                    LEFT + 4.0,
                    y - 8.0,
                    esc(&names.join(", "))
                );
            }
            Event::Heal => {
                let _ = writeln!(
                    marks,
                    "<rect x=\"{LEFT:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"4\" class=\"partition\"/><text x=\"{:.1}\" y=\"{:.1}\" class=\"label part-label\">heal</text>",
                    y - 2.0,
                    COL * n as f64,
                    LEFT + 4.0,
                    y - 6.0
                );
            }
        }
        if let (Some(i), false) = (step.info.node, step.effects.outputs.is_empty()) {
            let x = x_of(nodes[i]);
            let outs: Vec<String> = step
                .effects
                .outputs
                .iter()
                .map(|o| format!("{o:?}"))
                .collect();
            let _ = writeln!(
                marks,
                "<text x=\"{:.1}\" y=\"{:.1}\" class=\"label output-label\">emits {}</text>",
                x + 7.0,
                y + 13.0,
                esc(&short(&outs.join(", "), 28))
            );
        }
    }
    // Messages still in flight at the end.
    for m in &pending {
        let x = x_of(m.packet.dst);
        let (ex, ey) = ((m.from.0 + x) / 2.0, bottom - ROW / 2.0);
        let _ = writeln!(
            arrows,
            "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{ex:.1}\" y2=\"{ey:.1}\" class=\"msg in-flight\"/><text x=\"{ex:.1}\" y=\"{:.1}\" class=\"label\" text-anchor=\"middle\">in flight: {}</text>",
            m.from.0,
            m.from.1,
            ey + 12.0,
            esc(&short(&format!("{:?}", m.packet.msg), 20))
        );
    }
    for i in 0..n {
        segments.push((i, since[i], bottom, up[i]));
    }

    // The failing state, below the chart.
    let last = steps.last().map_or(&init, |s| &s.world);
    let mut state_lines: Vec<String> = Vec::new();
    for (i, slot) in last.nodes.iter().enumerate() {
        let fields: Vec<String> = S::fields(&slot.state)
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let down = if slot.up { "" } else { " (down)" };
        state_lines.push(format!("{}{down}: {}", nodes[i], fields.join(", ")));
    }
    let foot_top = bottom + 20.0;
    let height = foot_top + 40.0 + 18.0 * state_lines.len() as f64 + 20.0;

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"sans-serif\" font-size=\"12\">"
    );
    svg.push_str(STYLE);
    svg.push_str("<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#1f4e79\"/></marker></defs>\n");
    let _ = writeln!(svg, "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
    let _ = writeln!(
        svg,
        "<text x=\"10\" y=\"22\" class=\"title\">{} — counterexample, {} steps, faults: {}</text>",
        esc(S::meta().name),
        steps.len(),
        esc(&model.faults.to_string())
    );
    for (i, node) in nodes.iter().enumerate() {
        let x = LEFT + COL * i as f64 + COL / 2.0;
        let _ = writeln!(
            svg,
            "<rect x=\"{:.1}\" y=\"40\" width=\"{:.1}\" height=\"26\" rx=\"4\" class=\"head\"/><text x=\"{x:.1}\" y=\"58\" text-anchor=\"middle\" class=\"node\">{}</text>",
            x - COL / 2.0 + 10.0,
            COL - 20.0,
            esc(&node.to_string())
        );
    }
    for (i, y1, y2, alive) in &segments {
        let x = LEFT + COL * *i as f64 + COL / 2.0;
        let class = if *alive { "life" } else { "life down" };
        let _ = writeln!(
            svg,
            "<line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{y2:.1}\" class=\"{class}\"/>",
            y1.max(66.0)
        );
    }
    svg.push_str(&body);
    svg.push_str(&arrows);
    svg.push_str(&marks);
    let _ = writeln!(
        svg,
        "<rect x=\"10\" y=\"{:.1}\" width=\"{:.1}\" height=\"26\" rx=\"4\" class=\"violation\"/><text x=\"18\" y=\"{:.1}\" class=\"violation-text\">{}</text>",
        foot_top,
        width - 20.0,
        foot_top + 17.0,
        esc(&cx.violation.to_string())
    );
    let _ = writeln!(
        svg,
        "<text x=\"18\" y=\"{:.1}\" class=\"state-title\">state at step {}:</text>",
        foot_top + 44.0,
        steps.len()
    );
    for (k, line) in state_lines.iter().enumerate() {
        let _ = writeln!(
            svg,
            "<text x=\"30\" y=\"{:.1}\" class=\"state\">{}</text>",
            foot_top + 62.0 + 18.0 * k as f64,
            esc(line)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

const STYLE: &str = "<style>
.title{font-size:15px;font-weight:bold}
.head{fill:#e8eef6;stroke:#1f4e79}
.node{font-weight:bold;fill:#1f4e79}
.life{stroke:#555;stroke-width:1.5}
.life.down{stroke:#c00;stroke-dasharray:4 4}
.row{stroke:#eee}
.num{fill:#888;font-size:11px}
.msg{stroke:#1f4e79;stroke-width:1.5}
.dup-msg{stroke:#d9822b}
.dropped{stroke:#c00;stroke-dasharray:5 3}
.in-flight{stroke:#888;stroke-dasharray:2 3}
.label{font-size:11px;fill:#333}
.msg-label{fill:#1f4e79}
.input{fill:#2a7}
.input-label{fill:#185}
.output-label{fill:#185;font-style:italic}
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
