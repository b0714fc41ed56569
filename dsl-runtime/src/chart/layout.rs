//! A chart's layout: one pass over the replayed steps that puts each
//! step's row, marks and labels on the canvas and follows every message
//! from the step that sent it to the one that delivered, dropped or copied
//! it. Drawing the arrows and placing the labels come after (`draw`).

use std::fmt::Write as _;

use super::labels::{around_mark, Anchor, Placer, Rect, Spot};
use super::{short, COL, LEFT, ROW, TOP};
use crate::semantics::{Event, Model, Packet, World};
use crate::system::System;
use crate::violation::ReplayStep;

/// Where an arrow starts.
#[derive(Clone, Copy)]
pub(super) enum Start {
    /// At a point: the sender's lifeline at the sending step.
    At(f64, f64),
    /// On arrow `of`, at height `y`: a copy made by the network.
    Copy { of: usize, y: f64 },
}

/// How an arrow ends.
#[derive(Clone, Copy)]
pub(super) enum End {
    /// At the receiver's lifeline.
    Delivered(f64, f64),
    /// Halfway to the receiver (`x`) at height `y`, in a cross.
    Dropped { to_x: f64, y: f64 },
    /// Halfway to the receiver, below the last step.
    InFlight { to_x: f64, y: f64 },
}

/// A message's arrow while the chart is laid out.
pub(super) struct Arrow {
    pub start: Start,
    pub end: Option<End>,
    pub copy: bool,
    pub label: String,
}

/// A label to place: its text, class and the spots it may take.
pub(super) struct Label {
    pub text: String,
    pub class: &'static str,
    pub spots: Vec<Spot>,
}

/// Everything drawn, before the labels are placed.
#[derive(Default)]
pub(super) struct Canvas {
    pub rows: String,
    pub marks: String,
    pub labels: Vec<Label>,
    pub placer: Placer,
}

impl Canvas {
    /// A mark's svg, the box it covers and its label.
    pub fn mark(&mut self, svg: String, covers: Rect, label: Option<Label>) {
        self.marks.push_str(&svg);
        self.marks.push('\n');
        self.placer.block(covers);
        self.labels.extend(label);
    }
}

pub(super) fn label(text: String, class: &'static str, spots: Vec<Spot>) -> Option<Label> {
    Some(Label { text, class, spots })
}

/// A lifeline segment: node index, from y, to y, and whether the node
/// was up.
pub(super) type Segment = (usize, f64, f64, bool);

/// The layout, step by step.
pub(super) struct Layout<'m, S: System> {
    model: &'m Model<S>,
    canvas: Canvas,
    arrows: Vec<Arrow>,
    /// Duplication marks: the copy's arrow and its label.
    dup_marks: Vec<(usize, String)>,
    /// Messages in flight: the packet and its arrow.
    pending: Vec<(Packet<S>, usize)>,
    /// Whether each node is up, and since which height.
    up: Vec<bool>,
    since: Vec<f64>,
    segments: Vec<Segment>,
}

/// What the layout found, ready to draw.
pub(super) struct Laid {
    pub canvas: Canvas,
    pub arrows: Vec<Arrow>,
    pub dup_marks: Vec<(usize, String)>,
    pub segments: Vec<Segment>,
    /// The height below the last step.
    pub bottom: f64,
}

/// The height of step `k`'s row.
pub(super) fn y_of(step: usize) -> f64 {
    TOP + ROW * (step as f64 + 1.0)
}

impl<'m, S: System> Layout<'m, S> {
    /// An empty chart whose messages already in flight in `init` come
    /// from the top.
    pub fn new(model: &'m Model<S>, init: &World<S>) -> Self {
        let n = model.setup.len();
        let mut layout = Layout {
            model,
            canvas: Canvas::default(),
            arrows: Vec::new(),
            dup_marks: Vec::new(),
            pending: Vec::new(),
            up: vec![true; n],
            since: vec![TOP; n],
            segments: Vec::new(),
        };
        for p in init.network.packets() {
            let start = Start::At(layout.x_of(p.src), TOP);
            layout.send(p.clone(), start, false);
        }
        layout
    }

    /// The x of `node`'s lifeline.
    fn x_of(&self, node: S::Node) -> f64 {
        LEFT + COL * self.model.setup.index_of(node).unwrap_or(0) as f64 + COL / 2.0
    }

    /// A new arrow for `packet`, in flight until a later step ends it.
    fn send(&mut self, packet: Packet<S>, start: Start, copy: bool) {
        self.arrows.push(Arrow {
            start,
            end: None,
            copy,
            label: short(&format!("{:?}", packet.msg), 28),
        });
        self.pending.push((packet, self.arrows.len() - 1));
    }

    /// The arrow of `p`, no longer in flight.
    fn take(&mut self, p: &Packet<S>) -> Option<usize> {
        let i = self.pending.iter().position(|(q, _)| q == p)?;
        Some(self.pending.remove(i).1)
    }

    /// Arrows for what `src` sent in `step`, at height `y`.
    fn sends(&mut self, src: S::Node, step: &ReplayStep<S>, y: f64) {
        for (to, msg) in &step.effects.sends {
            let packet = Packet {
                src,
                dst: *to,
                msg: msg.clone(),
            };
            let start = Start::At(self.x_of(src), y);
            self.send(packet, start, false);
        }
    }

    /// Lays out step `k`: its row, its event's mark, and what it chose,
    /// sent and emitted.
    pub fn step(&mut self, k: usize, step: &ReplayStep<S>) {
        let y = y_of(k);
        let _ = writeln!(
            self.canvas.rows,
            "<g class=\"step\" data-step=\"{}\"><rect x=\"0\" y=\"{:.1}\" width=\"100%\" height=\"{ROW:.1}\" class=\"band\"/><text x=\"8\" y=\"{:.1}\" class=\"num\">{}</text><line x1=\"30\" y1=\"{y:.1}\" x2=\"100%\" y2=\"{y:.1}\" class=\"row\"/></g>",
            k + 1,
            y - ROW / 2.0,
            y + 4.0,
            k + 1
        );
        self.canvas.placer.block(Rect {
            x0: 0.0,
            y0: y - 8.0,
            x1: 28.0,
            y1: y + 8.0,
        });
        self.event(step, y);
        self.choices_and_outputs(step, y);
    }

    /// The mark of the step's event, and the arrows it starts or ends.
    fn event(&mut self, step: &ReplayStep<S>, y: f64) {
        let n = self.model.setup.len();
        match step.event.unchosen() {
            Event::Input { node, input } => {
                let x = self.x_of(*node);
                self.canvas.mark(
                    format!("<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4\" class=\"input\"/>"),
                    Rect::around(x, y, 5.0),
                    label(
                        format!("input {}", short(&format!("{input:?}"), 24)),
                        "input-label",
                        around_mark(x, y, 7.0, false),
                    ),
                );
                self.sends(*node, step, y);
            }
            Event::Deliver(p) => {
                let x = self.x_of(p.dst);
                if let Some(a) = self.take(p) {
                    self.arrows[a].end = Some(End::Delivered(x, y));
                }
                self.canvas.mark(
                    format!("<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3\" class=\"recv\"/>"),
                    Rect::around(x, y, 4.0),
                    None,
                );
                self.sends(p.dst, step, y);
            }
            Event::Timeout { node, timer } => {
                let x = self.x_of(*node);
                self.canvas.mark(
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
                self.sends(*node, step, y);
            }
            Event::Drop(p) => {
                if let Some(a) = self.take(p) {
                    let to_x = self.x_of(p.dst);
                    self.arrows[a].end = Some(End::Dropped { to_x, y });
                }
            }
            Event::Duplicate(p) => {
                if let Some(&(_, of)) = self.pending.iter().find(|(q, _)| q == p) {
                    self.send(p.clone(), Start::Copy { of, y }, true);
                    self.dup_marks.push((
                        self.arrows.len() - 1,
                        format!("duplicated {}", short(&format!("{:?}", p.msg), 20)),
                    ));
                }
            }
            Event::Crash(node) => {
                let x = self.x_of(*node);
                self.lifeline(*node, y, false);
                self.canvas.mark(
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
                let x = self.x_of(*node);
                self.lifeline(*node, y, true);
                self.canvas.mark(
                    format!("<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"7\" class=\"restart\"/>"),
                    Rect::around(x, y, 8.0),
                    label(
                        "restart".to_string(),
                        "restart-label",
                        around_mark(x, y, 10.0, false),
                    ),
                );
                self.sends(*node, step, y);
            }
            Event::Partition(side) => {
                let names: Vec<String> = side.iter().map(|n| n.to_string()).collect();
                let text = format!("partition {{{}}} | rest", names.join(", "));
                network_band(&mut self.canvas, y, n, text);
            }
            Event::Cut(a, b) => {
                network_band(&mut self.canvas, y, n, format!("cut {a} | {b}"));
            }
            Event::Heal => {
                self.canvas.mark(
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
    }

    /// Ends `node`'s lifeline segment at `y`; the next is up or down.
    fn lifeline(&mut self, node: S::Node, y: f64, up: bool) {
        let i = self.model.setup.index_of(node).unwrap_or(0);
        self.segments.push((i, self.since[i], y, self.up[i]));
        self.up[i] = up;
        self.since[i] = y;
    }

    /// What the handler chose and emitted, beside its event's mark.
    fn choices_and_outputs(&mut self, step: &ReplayStep<S>, y: f64) {
        let nodes = self.model.setup.nodes();
        if let (Event::Chose { choices, .. }, Some(i)) = (&step.event, step.info.node) {
            let text = match choices.as_slice() {
                [one] => format!("chose {one}"),
                many => format!("chose {many:?}"),
            };
            self.canvas.labels.push(Label {
                text: short(&text, 24),
                class: "choice-label",
                spots: around_mark(self.x_of(nodes[i]), y, 7.0, true),
            });
        }
        if let (Some(i), false) = (step.info.node, step.effects.outputs.is_empty()) {
            let x = self.x_of(nodes[i]);
            let outs: Vec<String> = step
                .effects
                .outputs
                .iter()
                .map(|o| format!("{o:?}"))
                .collect();
            self.canvas.labels.push(Label {
                text: format!("emits {}", short(&outs.join(", "), 28)),
                class: "output-label",
                spots: around_mark(x, y, 7.0, true),
            });
        }
    }

    /// A liveness lasso: a bracket down the left edge over the steps from
    /// `start` to the last (`steps` of them in all) that repeat for ever.
    pub fn lasso(&mut self, start: usize, steps: usize) {
        let (top, rows) = (y_of(start) - ROW / 2.0, steps.saturating_sub(start));
        self.canvas.mark(
            format!(
                "<rect x=\"1\" y=\"{top:.1}\" width=\"5\" height=\"{:.1}\" class=\"cycle\"/>",
                ROW * rows as f64
            ),
            Rect::around(0.0, 0.0, 0.0),
            label(
                format!("cycle: steps {}..{steps} repeat forever", start + 1),
                "cycle-label",
                band_spots(y_of(start)),
            ),
        );
    }

    /// The layout after `steps` steps: messages still in flight end below
    /// the last step, and every lifeline runs to the bottom.
    pub fn finish(mut self, steps: usize) -> Laid {
        let bottom = y_of(steps) + ROW;
        for (p, a) in std::mem::take(&mut self.pending) {
            self.arrows[a].end = Some(End::InFlight {
                to_x: self.x_of(p.dst),
                y: bottom - ROW / 2.0,
            });
        }
        for i in 0..self.up.len() {
            self.segments.push((i, self.since[i], bottom, self.up[i]));
        }
        Laid {
            canvas: self.canvas,
            arrows: self.arrows,
            dup_marks: self.dup_marks,
            segments: self.segments,
            bottom,
        }
    }
}

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

/// Spots for the label of a band across the chart at `y`.
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
