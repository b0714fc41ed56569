//! A picture of a history: one lane per client, one bar per operation from
//! its invocation to its completion, with the evidence of a violation
//! highlighted. Output is a standalone SVG, or an HTML page (the SVG plus
//! the text explanation) that needs nothing but a browser.
//!
//! The horizontal axis is event order, not wall-clock time: two bars
//! overlap exactly when the operations were concurrent.

use super::explain::{describe, Explanation, Reason};
use super::history::{History, OpId, Operation};
use std::collections::{BTreeMap, HashMap};
use std::fmt::{Debug, Write};

const LANE: f64 = 26.0;
const BAR: f64 = 18.0;
const STEP: f64 = 26.0;
const LEFT: f64 = 90.0;
const TOP: f64 = 30.0;
const CHAR: f64 = 6.6;

/// How an operation is drawn.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Plain,
    InPrefix(usize),
    NotAllowed,
    DeadEnd,
}

impl Role {
    fn class(self) -> &'static str {
        match self {
            Role::Plain => "op",
            Role::InPrefix(_) => "op prefix",
            Role::NotAllowed => "op bad",
            Role::DeadEnd => "op stuck",
        }
    }
}

/// Escapes text for XML content and attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Line breaks stay: the explanation below the picture is a `<pre>`.
            '\n' => out.push('\n'),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Shortens `text` to about `chars` characters.
fn fit(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        return text.to_string();
    }
    if chars < 2 {
        return String::new();
    }
    let mut short: String = text.chars().take(chars - 1).collect();
    short.push('…');
    short
}

/// The label inside a bar: the operation and its result, without the client.
fn label<Op: Debug, Ret: Debug>(op: &Operation<Op, Ret>) -> String {
    let full = describe(op);
    match full.split_once(": ") {
        Some((_, rest)) => rest.to_string(),
        None => full,
    }
}

/// The timeline as a standalone SVG document. With an explanation, only the
/// operations it concerns (its partition) are drawn, and the longest
/// linearizable prefix (green, numbered in linearization order), the
/// operations the specification refuses next (red) and those that lead
/// nowhere (orange) are marked.
pub fn to_svg<Op: Debug, Ret: Debug>(
    history: &History<Op, Ret>,
    explanation: Option<&Explanation>,
) -> String {
    let ops = history.operations();
    let shown: Vec<OpId> = match explanation {
        Some(e) => e.checked_ops.clone(),
        None => (0..ops.len() as u32).map(OpId).collect(),
    };
    let mut role: HashMap<OpId, Role> = HashMap::new();
    if let Some(e) = explanation {
        for (i, &id) in e.longest_prefix.iter().enumerate() {
            role.insert(id, Role::InPrefix(i + 1));
        }
        for u in &e.unplaceable {
            let r = match u.reason {
                Reason::NotAllowed => Role::NotAllowed,
                Reason::DeadEnd => Role::DeadEnd,
            };
            role.insert(u.op, r);
        }
    }

    // Event positions of the drawn operations, renumbered without gaps.
    let mut positions: Vec<u64> = Vec::new();
    for &id in &shown {
        if let Some(op) = history.get(id) {
            positions.push(op.invoked_at);
            positions.extend(op.finished_at);
        }
    }
    positions.sort_unstable();
    positions.dedup();
    let rank = |at: u64| positions.partition_point(|&p| p < at) as f64;
    let end = positions.len() as f64 + 1.0;

    let mut lanes: BTreeMap<u64, usize> = BTreeMap::new();
    for &id in &shown {
        if let Some(op) = history.get(id) {
            lanes.insert(op.client, 0);
        }
    }
    for (i, lane) in lanes.values_mut().enumerate() {
        *lane = i;
    }

    let width = LEFT + end * STEP + 20.0;
    let height = TOP + lanes.len() as f64 * LANE + 20.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="monospace" font-size="11">"#
    );
    svg.push_str(
        "<style>.op{fill:#dbe7f3;stroke:#4a6f99}.prefix{fill:#cdebd3;stroke:#2e7d32}\
         .bad{fill:#f8c9c9;stroke:#c62828;stroke-width:2}.stuck{fill:#fde3c0;stroke:#e08a00;stroke-width:2}\
         .open{stroke-dasharray:4 3;fill-opacity:0.5}.lane{stroke:#e4e4e4}text{fill:#222}</style>",
    );
    let _ = write!(svg, r#"<text x="4" y="16">event order →</text>"#);
    for (client, &lane) in &lanes {
        let y = TOP + lane as f64 * LANE;
        let _ = write!(
            svg,
            r#"<line class="lane" x1="{LEFT}" y1="{:.1}" x2="{width:.0}" y2="{:.1}"/><text x="4" y="{:.1}">client {client}</text>"#,
            y + LANE / 2.0,
            y + LANE / 2.0,
            y + LANE / 2.0 + 4.0
        );
    }
    for &id in &shown {
        let Some(op) = history.get(id) else { continue };
        let lane = lanes.get(&op.client).copied().unwrap_or(0);
        let x0 = LEFT + rank(op.invoked_at) * STEP + 2.0;
        let x1 = LEFT + op.finished_at.map_or(end, rank) * STEP + STEP - 2.0;
        let y = TOP + lane as f64 * LANE + (LANE - BAR) / 2.0;
        let r = role.get(&id).copied().unwrap_or(Role::Plain);
        let open = if op.finished_at.is_none() {
            " open"
        } else {
            ""
        };
        let number = match r {
            Role::InPrefix(i) => format!("{i}. "),
            _ => String::new(),
        };
        let text = format!("{number}{}", label(op));
        let chars = ((x1 - x0 - 6.0) / CHAR).max(0.0) as usize;
        let _ = write!(
            svg,
            r#"<g data-op="{}"><title>{} {}</title><rect class="{}{open}" x="{x0:.1}" y="{y:.1}" width="{:.1}" height="{BAR}" rx="3"/><text x="{:.1}" y="{:.1}">{}</text></g>"#,
            id.0,
            id,
            escape(&describe(op)),
            r.class(),
            (x1 - x0).max(1.0),
            x0 + 3.0,
            y + BAR / 2.0 + 4.0,
            escape(&fit(&text, chars)),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A self-contained HTML page: a title, a legend, the timeline and, when
/// given, the text explanation.
pub fn to_html<Op: Debug, Ret: Debug>(
    history: &History<Op, Ret>,
    explanation: Option<&Explanation>,
    title: &str,
) -> String {
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>body{{font-family:sans-serif;margin:1em}}.scroll{{overflow-x:auto;border:1px solid #ccc}}\
         .key span{{display:inline-block;padding:1px 6px;margin-right:8px;border:1px solid}}</style></head><body>\n<h1>{}</h1>\n",
        escape(title),
        escape(title)
    );
    let verdict = if explanation.is_some() {
        "not linearizable"
    } else {
        "timeline"
    };
    let _ = writeln!(html, "<p>{verdict}: {} operations</p>", history.len());
    html.push_str(
        "<p class=\"key\"><span style=\"background:#cdebd3;border-color:#2e7d32\">longest linearizable prefix (numbered)</span>\
         <span style=\"background:#f8c9c9;border-color:#c62828\">not allowed next</span>\
         <span style=\"background:#fde3c0;border-color:#e08a00\">allowed next, leads nowhere</span>\
         <span style=\"background:#dbe7f3;border-color:#4a6f99\">other</span> dashed: never returned</p>\n",
    );
    html.push_str("<div class=\"scroll\">");
    html.push_str(&to_svg(history, explanation));
    html.push_str("</div>\n");
    if let Some(e) = explanation {
        let _ = writeln!(html, "<pre>{}</pre>", escape(&e.to_text(history)));
    }
    html.push_str("</body></html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_shortened() {
        assert_eq!(escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
        assert_eq!(escape("one\ntwo\tthree"), "one\ntwo three");
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abc", 4), "abc");
        assert_eq!(fit("abc", 1), "");
    }
}
