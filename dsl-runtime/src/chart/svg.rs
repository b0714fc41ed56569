//! Drawing a laid-out chart: the arrows (now that every end is known),
//! the labels (last, each where it fits), and the document around them:
//! title, lifelines and the footer with the violation and the final state.

use std::fmt::Write as _;

use super::labels::{along, around_mark, Anchor, Rect, Spot};
use super::layout::{label, Arrow, End, Label, Laid, Start};
use super::{esc, short, COL, LEFT, STYLE};
use crate::semantics::Model;
use crate::system::System;
use crate::violation::Violation;

/// A straight line from one point to another.
type Line = ((f64, f64), (f64, f64));

/// Where each arrow runs; a copy starts on its original, where the network
/// made it.
fn arrow_lines(arrows: &[Arrow]) -> Vec<Line> {
    let mut lines: Vec<Line> = Vec::with_capacity(arrows.len());
    for a in arrows {
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
    lines
}

/// Draws the duplication marks and the arrows onto the canvas; the
/// arrows' svg and their labels come back (labels are placed after the
/// marks' own).
fn draw_arrows(laid: &mut Laid) -> (String, Vec<Label>) {
    let lines = arrow_lines(&laid.arrows);
    let canvas = &mut laid.canvas;
    for (a, text) in &laid.dup_marks {
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
    for (a, &(from, to)) in laid.arrows.iter().zip(&lines) {
        let class = if a.copy { "msg dup-msg" } else { "msg" };
        let line = |extra: &str, marker: &str| {
            format!(
                "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" class=\"{class}{extra}\"{marker}/>",
                from.0, from.1, to.0, to.1
            )
        };
        match a.end {
            Some(End::Delivered(..)) => {
                let _ = writeln!(arrow_svg, "{}", line("", " marker-end=\"url(#arrow)\""));
                arrow_labels.push(Label {
                    text: a.label.clone(),
                    class: "msg-label",
                    spots: along(from, to),
                });
            }
            Some(End::Dropped { .. }) => {
                let _ = writeln!(arrow_svg, "{}", line(" dropped", ""));
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
                let _ = writeln!(arrow_svg, "{}", line(" in-flight", ""));
                arrow_labels.push(Label {
                    text: format!("in flight: {}", short(&a.label, 20)),
                    class: "flight-label",
                    spots: [12.0, 24.0, 36.0]
                        .into_iter()
                        .map(|dy| Spot {
                            x: to.0,
                            y: to.1 + dy,
                            anchor: Anchor::Middle,
                        })
                        .collect(),
                });
            }
        }
    }
    (arrow_svg, arrow_labels)
}

/// The whole SVG document of a laid-out chart of `steps` steps, titled
/// `what` (counterexample, path, ...), with the violation and the final
/// state's lines below it when there is a `footer`.
pub(super) fn document<S: System>(
    model: &Model<S>,
    mut laid: Laid,
    what: &str,
    steps: usize,
    footer: Option<(&Violation, Vec<String>)>,
) -> String {
    let nodes = model.setup.nodes();
    let n = nodes.len();
    let (arrow_svg, arrow_labels) = draw_arrows(&mut laid);

    // Labels last: marks' labels first, then arrows', each where it fits.
    let Laid {
        mut canvas,
        segments,
        bottom,
        ..
    } = laid;
    canvas.labels.extend(arrow_labels);
    let mut label_svg = String::new();
    for l in &canvas.labels {
        let s = canvas.placer.place(&l.text, &l.spots);
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
    let width = (LEFT + COL * n as f64 + 40.0).max(canvas.placer.right_edge() + 10.0);
    let foot_top = bottom + 20.0;
    let height = match &footer {
        Some((_, lines)) => foot_top + 40.0 + 18.0 * lines.len() as f64 + 20.0,
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
    let _ = writeln!(
        svg,
        "<text x=\"10\" y=\"22\" class=\"title\">{} — {what}, {steps} steps, faults: {}</text>",
        esc(S::meta().name),
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
    svg.push_str(&canvas.rows);
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
    svg.push_str(&canvas.marks);
    svg.push_str(&label_svg);
    if let Some((violation, lines)) = &footer {
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
            "<text x=\"18\" y=\"{:.1}\" class=\"state-title\">state at step {steps}:</text>",
            foot_top + 44.0,
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
