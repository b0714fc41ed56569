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

use std::fmt::Write as _;
use std::path::Path;

use labels::{along, around_mark, Anchor, Placer, Rect, Spot};

use crate::semantics::{Event, Model, Packet, World};
use crate::system::System;
use crate::violation::{replay, replay_from, Counterexample, ReplayStep, Violation};

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

/// Where an arrow starts.
#[derive(Clone, Copy)]
enum Start {
    /// At a point: the sender's lifeline at the sending step.
    At(f64, f64),
    /// On arrow `of`, at height `y`: a copy made by the network.
    Copy { of: usize, y: f64 },
}

/// How an arrow ends.
#[derive(Clone, Copy)]
enum End {
    /// At the receiver's lifeline.
    Delivered(f64, f64),
    /// Halfway to the receiver (`x`) at height `y`, in a cross.
    Dropped { to_x: f64, y: f64 },
    /// Halfway to the receiver, below the last step.
    InFlight { to_x: f64, y: f64 },
}

/// A message's arrow while the chart is laid out.
struct Arrow {
    start: Start,
    end: Option<End>,
    copy: bool,
    label: String,
}

/// A label to place: its text, class and the spots it may take.
struct Label {
    text: String,
    class: &'static str,
    spots: Vec<Spot>,
}

/// Everything drawn, before the labels are placed.
#[derive(Default)]
struct Canvas {
    rows: String,
    marks: String,
    labels: Vec<Label>,
    placer: Placer,
}

impl Canvas {
    /// A mark's svg, the box it covers and its label.
    fn mark(&mut self, svg: String, covers: Rect, label: Option<Label>) {
        self.marks.push_str(&svg);
        self.marks.push('\n');
        self.placer.block(covers);
        self.labels.extend(label);
    }
}

fn label(text: String, class: &'static str, spots: Vec<Spot>) -> Option<Label> {
    Some(Label { text, class, spots })
}

/// The chart of `events` from `start` (the initial world when `None`).
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
    let nodes = model.setup.nodes();
    let n = nodes.len();
    let x_of =
        |node: S::Node| LEFT + COL * model.setup.index_of(node).unwrap_or(0) as f64 + COL / 2.0;
    let y_of = |step: usize| TOP + ROW * (step as f64 + 1.0);
    let bottom = y_of(steps.len()) + ROW;
    let mut canvas = Canvas::default();
    let mut arrows: Vec<Arrow> = Vec::new();
    let mut dup_marks: Vec<(usize, String)> = Vec::new();
    // Messages in flight: the packet and its arrow.
    let mut pending: Vec<(Packet<S>, usize)> = Vec::new();
    // Lifeline segments: (node index, from y, to y, up).
    let mut up = vec![true; n];
    let mut since = vec![TOP; n];
    let mut segments: Vec<(usize, f64, f64, bool)> = Vec::new();

    let send = |pending: &mut Vec<(Packet<S>, usize)>,
                arrows: &mut Vec<Arrow>,
                packet: Packet<S>,
                start: Start,
                copy: bool| {
        arrows.push(Arrow {
            start,
            end: None,
            copy,
            label: short(&format!("{:?}", packet.msg), 28),
        });
        pending.push((packet, arrows.len() - 1));
    };
    for p in init.network.packets() {
        send(
            &mut pending,
            &mut arrows,
            p.clone(),
            Start::At(x_of(p.src), TOP),
            false,
        );
    }
    let take = |pending: &mut Vec<(Packet<S>, usize)>, p: &Packet<S>| -> Option<usize> {
        let i = pending.iter().position(|(q, _)| q == p)?;
        Some(pending.remove(i).1)
    };

    for (k, step) in steps.iter().enumerate() {
        let y = y_of(k);
        let _ = writeln!(
            canvas.rows,
            "<g class=\"step\" data-step=\"{}\"><rect x=\"0\" y=\"{:.1}\" width=\"100%\" height=\"{ROW:.1}\" class=\"band\"/><text x=\"8\" y=\"{:.1}\" class=\"num\">{}</text><line x1=\"30\" y1=\"{y:.1}\" x2=\"100%\" y2=\"{y:.1}\" class=\"row\"/></g>",
            k + 1,
            y - ROW / 2.0,
            y + 4.0,
            k + 1
        );
        canvas.placer.block(Rect {
            x0: 0.0,
            y0: y - 8.0,
            x1: 28.0,
            y1: y + 8.0,
        });
        let sends = |pending: &mut Vec<_>, arrows: &mut Vec<_>, src: S::Node, s: &ReplayStep<S>| {
            for (to, msg) in &s.effects.sends {
                let packet = Packet {
                    src,
                    dst: *to,
                    msg: msg.clone(),
                };
                send(pending, arrows, packet, Start::At(x_of(src), y), false);
            }
        };
        match step.event.unchosen() {
            Event::Input { node, input } => {
                let x = x_of(*node);
                canvas.mark(
                    format!("<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4\" class=\"input\"/>"),
                    Rect::around(x, y, 5.0),
                    label(
                        format!("input {}", short(&format!("{input:?}"), 24)),
                        "input-label",
                        around_mark(x, y, 7.0, false),
                    ),
                );
                sends(&mut pending, &mut arrows, *node, step);
            }
            Event::Deliver(p) => {
                let x = x_of(p.dst);
                if let Some(a) = take(&mut pending, p) {
                    arrows[a].end = Some(End::Delivered(x, y));
                }
                canvas.mark(
                    format!("<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3\" class=\"recv\"/>"),
                    Rect::around(x, y, 4.0),
                    None,
                );
                sends(&mut pending, &mut arrows, p.dst, step);
            }
            Event::Timeout { node, timer } => {
                let x = x_of(*node);
                canvas.mark(
                    format!(
                        "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"8\" height=\"8\" class=\"timer\"/>",
                        x - 4.0,
                        y - 4.0
                    ),
                    Rect::around(x, y, 5.0),
                    label(
                        format!("timer {timer:?}"),
                        "timer-label",
                        around_mark(x, y, 7.0, false),
                    ),
                );
                sends(&mut pending, &mut arrows, *node, step);
            }
            Event::Drop(p) => {
                if let Some(a) = take(&mut pending, p) {
                    arrows[a].end = Some(End::Dropped {
                        to_x: x_of(p.dst),
                        y,
                    });
                }
            }
            Event::Duplicate(p) => {
                if let Some(&(_, of)) = pending.iter().find(|(q, _)| q == p) {
                    send(
                        &mut pending,
                        &mut arrows,
                        p.clone(),
                        Start::Copy { of, y },
                        true,
                    );
                    dup_marks.push((
                        arrows.len() - 1,
                        format!("duplicated {}", short(&format!("{:?}", p.msg), 20)),
                    ));
                }
            }
            Event::Crash(node) => {
                let i = model.setup.index_of(*node).unwrap_or(0);
                let x = x_of(*node);
                segments.push((i, since[i], y, up[i]));
                up[i] = false;
                since[i] = y;
                canvas.mark(
                    format!(
                        "<path d=\"M{:.1},{:.1} l14,14 m0,-14 l-14,14\" class=\"cross big\"/>",
                        x - 7.0,
                        y - 7.0
                    ),
                    Rect::around(x, y, 8.0),
                    label(
                        "crash".to_string(),
                        "crash-label",
                        around_mark(x, y, 10.0, false),
                    ),
                );
            }
            Event::Restart(node) => {
                let i = model.setup.index_of(*node).unwrap_or(0);
                let x = x_of(*node);
                segments.push((i, since[i], y, up[i]));
                up[i] = true;
                since[i] = y;
                canvas.mark(
                    format!("<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"7\" class=\"restart\"/>"),
                    Rect::around(x, y, 8.0),
                    label(
                        "restart".to_string(),
                        "restart-label",
                        around_mark(x, y, 10.0, false),
                    ),
                );
                sends(&mut pending, &mut arrows, *node, step);
            }
            Event::Partition(side) => {
                let names: Vec<String> = side.iter().map(|n| n.to_string()).collect();
                let text = format!("partition {{{}}} | rest", names.join(", "));
                network_band(&mut canvas, y, n, text);
            }
            Event::Cut(a, b) => {
                network_band(&mut canvas, y, n, format!("cut {a} | {b}"));
            }
            Event::Heal => {
                canvas.mark(
                    format!(
                        "<rect x=\"{LEFT:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"4\" class=\"partition\"/>",
                        y - 2.0,
                        COL * n as f64
                    ),
                    Rect::around(0.0, 0.0, 0.0),
                    label("heal".to_string(), "part-label", band_spots(y)),
                );
            }
            // `unchosen` unwraps every choice.
            Event::Chose { .. } => {}
        }
        // What the handler chose, beside its event's mark.
        if let (Event::Chose { choices, .. }, Some(i)) = (&step.event, step.info.node) {
            let text = match choices.as_slice() {
                [one] => format!("chose {one}"),
                many => format!("chose {many:?}"),
            };
            canvas.labels.push(Label {
                text: short(&text, 24),
                class: "choice-label",
                spots: around_mark(x_of(nodes[i]), y, 7.0, true),
            });
        }
        if let (Some(i), false) = (step.info.node, step.effects.outputs.is_empty()) {
            let x = x_of(nodes[i]);
            let outs: Vec<String> = step
                .effects
                .outputs
                .iter()
                .map(|o| format!("{o:?}"))
                .collect();
            canvas.labels.push(Label {
                text: format!("emits {}", short(&outs.join(", "), 28)),
                class: "output-label",
                spots: around_mark(x, y, 7.0, true),
            });
        }
    }
    // A liveness lasso: a bracket down the left edge over the steps that
    // repeat for ever.
    if let Some(Violation::Liveness {
        cycle_start: Some(c),
        ..
    }) = footer
    {
        let (top, rows) = (y_of(*c) - ROW / 2.0, steps.len().saturating_sub(*c));
        canvas.mark(
            format!(
                "<rect x=\"1\" y=\"{top:.1}\" width=\"5\" height=\"{:.1}\" class=\"cycle\"/>",
                ROW * rows as f64
            ),
            Rect::around(0.0, 0.0, 0.0),
            label(
                format!("cycle: steps {}..{} repeat forever", c + 1, steps.len()),
                "cycle-label",
                band_spots(y_of(*c)),
            ),
        );
    }
    // Messages still in flight at the end.
    for (p, a) in &pending {
        arrows[*a].end = Some(End::InFlight {
            to_x: x_of(p.dst),
            y: bottom - ROW / 2.0,
        });
    }
    for i in 0..n {
        segments.push((i, since[i], bottom, up[i]));
    }

    // Arrows, now that every end is known: copies start on their original.
    let mut lines: Vec<((f64, f64), (f64, f64))> = Vec::with_capacity(arrows.len());
    for a in &arrows {
        let from = match a.start {
            Start::At(x, y) => (x, y),
            Start::Copy { of, y } => {
                let (p, q) = lines[of];
                let t = if q.1 > p.1 {
                    (y - p.1) / (q.1 - p.1)
                } else {
                    0.0
                };
                (p.0 + t * (q.0 - p.0), y)
            }
        };
        let to = match a.end {
            Some(End::Delivered(x, y)) => (x, y),
            Some(End::Dropped { to_x, y } | End::InFlight { to_x, y }) => {
                ((from.0 + to_x) / 2.0, y)
            }
            None => from,
        };
        lines.push((from, to));
    }
    for (a, text) in &dup_marks {
        let (x, y) = lines[*a].0;
        canvas.mark(
            format!(
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"12\" height=\"12\" rx=\"2\" class=\"dup\"/>",
                x - 6.0,
                y - 6.0
            ),
            Rect::around(x, y, 7.0),
            label(text.clone(), "dup-label", around_mark(x, y, 10.0, false)),
        );
    }
    let mut arrow_svg = String::new();
    let mut arrow_labels = Vec::new();
    for (a, &(from, to)) in arrows.iter().zip(&lines) {
        let class = if a.copy { "msg dup-msg" } else { "msg" };
        match a.end {
            Some(End::Delivered(..)) => {
                let _ = writeln!(
                    arrow_svg,
                    "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" class=\"{class}\" marker-end=\"url(#arrow)\"/>",
                    from.0, from.1, to.0, to.1
                );
                arrow_labels.push(Label {
                    text: a.label.clone(),
                    class: "msg-label",
                    spots: along(from, to),
                });
            }
            Some(End::Dropped { .. }) => {
                let _ = writeln!(
                    arrow_svg,
                    "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" class=\"{class} dropped\"/>",
                    from.0, from.1, to.0, to.1
                );
                canvas.mark(
                    format!(
                        "<path d=\"M{:.1},{:.1} l10,10 m0,-10 l-10,10\" class=\"cross\"/>",
                        to.0 - 5.0,
                        to.1 - 5.0
                    ),
                    Rect::around(to.0, to.1, 6.0),
                    label(
                        format!("dropped {}", short(&a.label, 20)),
                        "drop-label",
                        around_mark(to.0, to.1, 9.0, true),
                    ),
                );
            }
            Some(End::InFlight { .. }) | None => {
                let _ = writeln!(
                    arrow_svg,
                    "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" class=\"{class} in-flight\"/>",
                    from.0, from.1, to.0, to.1
                );
                arrow_labels.push(Label {
                    text: format!("in flight: {}", short(&a.label, 20)),
                    class: "flight-label",
                    spots: vec![
                        Spot {
                            x: to.0,
                            y: to.1 + 12.0,
                            anchor: Anchor::Middle,
                        },
                        Spot {
                            x: to.0,
                            y: to.1 + 24.0,
                            anchor: Anchor::Middle,
                        },
                        Spot {
                            x: to.0,
                            y: to.1 + 36.0,
                            anchor: Anchor::Middle,
                        },
                    ],
                });
            }
        }
    }

    // Labels last: marks' labels first, then arrows', each where it fits.
    canvas.labels.extend(arrow_labels);
    let mut label_svg = String::new();
    let Canvas {
        rows,
        marks,
        labels,
        mut placer,
    } = canvas;
    for l in &labels {
        let s = placer.place(&l.text, &l.spots);
        let _ = writeln!(
            label_svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"{}\" class=\"label {}\">{}</text>",
            s.x,
            s.y,
            s.anchor.attr(),
            l.class,
            esc(&l.text)
        );
    }
    let width = (LEFT + COL * n as f64 + 40.0).max(placer.right_edge() + 10.0);

    let last = steps.last().map_or(&init, |s| &s.world);
    let state_lines = footer.map(|_| state_lines(model, last));
    let foot_top = bottom + 20.0;
    let height = match &state_lines {
        Some(lines) => foot_top + 40.0 + 18.0 * lines.len() as f64 + 20.0,
        None => bottom + 40.0,
    };

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"sans-serif\" font-size=\"12\" class=\"verdict-chart\">"
    );
    svg.push_str(STYLE);
    svg.push_str("<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#1f4e79\"/></marker></defs>\n");
    let _ = writeln!(svg, "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
    let what = match (start, footer) {
        (Some(_), _) => {
            "counterexample to induction (from a pre-state that satisfies every invariant)"
        }
        (None, Some(_)) => "counterexample",
        (None, None) => "path",
    };
    let _ = writeln!(
        svg,
        "<text x=\"10\" y=\"22\" class=\"title\">{} — {what}, {} steps, faults: {}</text>",
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
    svg.push_str(&rows);
    for (i, y1, y2, alive) in &segments {
        let x = LEFT + COL * *i as f64 + COL / 2.0;
        let class = if *alive { "life" } else { "life down" };
        let _ = writeln!(
            svg,
            "<line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{y2:.1}\" class=\"{class}\"/>",
            y1.max(66.0)
        );
    }
    svg.push_str(&arrow_svg);
    svg.push_str(&marks);
    svg.push_str(&label_svg);
    if let (Some(violation), Some(lines)) = (footer, &state_lines) {
        let _ = writeln!(
            svg,
            "<rect x=\"10\" y=\"{:.1}\" width=\"{:.1}\" height=\"26\" rx=\"4\" class=\"violation\"/><text x=\"18\" y=\"{:.1}\" class=\"violation-text\">{}</text>",
            foot_top,
            width - 20.0,
            foot_top + 17.0,
            esc(&violation.to_string())
        );
        let _ = writeln!(
            svg,
            "<text x=\"18\" y=\"{:.1}\" class=\"state-title\">state at step {}:</text>",
            foot_top + 44.0,
            steps.len()
        );
        for (k, line) in lines.iter().enumerate() {
            let _ = writeln!(
                svg,
                "<text x=\"30\" y=\"{:.1}\" class=\"state\">{}</text>",
                foot_top + 62.0 + 18.0 * k as f64,
                esc(line)
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}

/// Spots for the label of a band across the chart at `y`.
/// A band across every column at `y`, labelled `text`: a change to the
/// network (a partition or a cut link) that every node lives under.
fn network_band(canvas: &mut Canvas, y: f64, n: usize, text: String) {
    canvas.mark(
        format!(
            "<rect x=\"{LEFT:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"10\" class=\"partition\"/>",
            y - 5.0,
            COL * n as f64
        ),
        Rect::around(0.0, 0.0, 0.0),
        label(text, "part-label", band_spots(y)),
    );
}

fn band_spots(y: f64) -> Vec<Spot> {
    [y - 8.0, y + 16.0, y - 20.0]
        .into_iter()
        .map(|y| Spot {
            x: LEFT + 4.0,
            y,
            anchor: Anchor::Start,
        })
        .collect()
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
