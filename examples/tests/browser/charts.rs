//! The pictures Verdict writes, rendered by Chromium and measured there:
//! counterexample charts (`--trace-out`) and linearizability timelines.

use std::process::Command;

use verdict::lin::specs::{Register, RegisterOp, RegisterRet};
use verdict::lin::{check_history, timeline, History};

use crate::cdp::{artifacts, boxes, overlapping, Box2, Browser};

/// Runs the lockserv binary with `args` plus `--trace-out FILE --trace-json
/// FILE.json`, expecting a violation; returns the chart's path and the
/// number of deliveries in the trace.
fn lockserv_chart(dir: &std::path::Path, name: &str, args: &[&str]) -> (String, usize) {
    let html = dir.join(format!("{name}.html"));
    let json = dir.join(format!("{name}.json"));
    let out = Command::new(env!("CARGO_BIN_EXE_lockserv"))
        .args(args)
        .arg("--trace-out")
        .arg(&html)
        .arg("--trace-json")
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let trace: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let deliveries = trace["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e.get("Deliver").is_some())
        .count();
    (format!("file://{}", html.display()), deliveries)
}

/// The distance from the middle of `b` to the segment `p`–`q`.
fn distance_to_segment(b: &Box2, p: (f64, f64), q: (f64, f64)) -> f64 {
    let c = ((b.x0 + b.x1) / 2.0, (b.y0 + b.y1) / 2.0);
    let d = (q.0 - p.0, q.1 - p.1);
    let len2 = d.0 * d.0 + d.1 * d.1;
    let t = if len2 == 0.0 {
        0.0
    } else {
        (((c.0 - p.0) * d.0 + (c.1 - p.1) * d.1) / len2).clamp(0.0, 1.0)
    };
    let (x, y) = (p.0 + t * d.0, p.1 + t * d.1);
    ((c.0 - x).powi(2) + (c.1 - y).powi(2)).sqrt()
}

/// Checks a rendered chart: one head per node, one arrowhead per delivery,
/// no two labels overlapping, each message label beside an arrow.
fn check_chart(b: &mut Browser, nodes: usize, deliveries: usize) {
    let heads = boxes(b, "svg text.node");
    assert_eq!(heads.len(), nodes, "one lifeline head per node");
    let arrowheads = b.eval("document.querySelectorAll('svg line[marker-end]').length");
    assert_eq!(arrowheads, serde_json::json!(deliveries));
    let labels = boxes(b, "svg text.label");
    assert!(!labels.is_empty());
    let clashes = overlapping(&labels);
    assert!(clashes.is_empty(), "labels overlap: {clashes:#?}");
    // Every message label sits within a few pixels of some arrow.
    let lines = b.eval(
        "[...document.querySelectorAll('svg line.msg')].map(l => { const m = l.getScreenCTM(); \
         const p = (x, y) => [m.a * x + m.c * y + m.e, m.b * x + m.d * y + m.f]; \
         return p(l.x1.baseVal.value, l.y1.baseVal.value).concat(p(l.x2.baseVal.value, l.y2.baseVal.value)); })",
    );
    let lines: Vec<((f64, f64), (f64, f64))> = lines
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let v: Vec<f64> = l
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect();
            ((v[0], v[1]), (v[2], v[3]))
        })
        .collect();
    for label in boxes(b, "svg text.msg-label") {
        let near = lines
            .iter()
            .map(|&(p, q)| distance_to_segment(&label, p, q))
            .fold(f64::INFINITY, f64::min);
        assert!(
            near < 14.0,
            "label {:?} is {near:.1}px from every arrow",
            label.text
        );
    }
}

#[test]
fn counterexample_charts_render_with_every_label_clear() {
    let Some(mut b) = Browser::launch() else {
        return;
    };
    let dir = artifacts("charts");
    // The duplicated grant: where the arrows of steps 3-7 cross, their
    // labels once sat on top of each other.
    let (url, deliveries) = lockserv_chart(
        &dir,
        "lockserv-dup",
        &["check", "--clients", "3", "--faults", "dup"],
    );
    b.goto(&url);
    b.screenshot(&dir.join("lockserv-dup.png"));
    check_chart(&mut b, 4, deliveries);
    assert_eq!(
        b.eval("document.querySelectorAll('svg rect.dup').length"),
        serde_json::json!(1),
        "one duplication mark"
    );
    let violation = b.eval("document.querySelector('svg text.violation-text').textContent");
    assert!(violation.as_str().unwrap().contains("mutual_exclusion"));
    assert!(b
        .eval("document.querySelector('pre').textContent")
        .as_str()
        .unwrap()
        .contains("network duplicates Grant"));

    // A crash and the dashed lifeline of a node that is down.
    let (url, deliveries) = lockserv_chart(
        &dir,
        "lockserv-crash",
        &[
            "simulate",
            "--clients",
            "3",
            "--faults",
            "crash=1",
            "--seed",
            "0",
            "--runs",
            "1000",
        ],
    );
    b.goto(&url);
    b.screenshot(&dir.join("lockserv-crash.png"));
    check_chart(&mut b, 4, deliveries);
    assert!(
        b.eval("document.querySelectorAll('svg .cross.big').length")
            .as_u64()
            .unwrap()
            >= 1,
        "a crash mark"
    );
}

#[test]
fn linearizability_timelines_render_with_labels_inside_their_bars() {
    let Some(mut b) = Browser::launch() else {
        return;
    };
    let dir = artifacts("timeline");
    // Three clients; a read sees a value overwritten before it began.
    let mut h: History<RegisterOp, RegisterRet> = History::new();
    let w1 = h.invoke(0, RegisterOp::Write(1));
    let r0 = h.invoke(2, RegisterOp::Read);
    h.complete(w1, RegisterRet::Ok).unwrap();
    let w2 = h.invoke(1, RegisterOp::Write(22222));
    h.complete(r0, RegisterRet::Value(Some(1))).unwrap();
    h.complete(w2, RegisterRet::Ok).unwrap();
    let stale = h.invoke(0, RegisterOp::Read);
    h.complete(stale, RegisterRet::Value(Some(1))).unwrap();
    let open = h.invoke(2, RegisterOp::Write(3));
    let _ = open;
    let verdict = check_history(&Register, &h);
    assert!(verdict.explanation().is_some(), "not linearizable");
    let path = dir.join("stale-read.html");
    std::fs::write(
        &path,
        timeline::to_html(&h, verdict.explanation(), "stale read"),
    )
    .unwrap();
    b.goto(&format!("file://{}", path.display()));
    b.screenshot(&dir.join("stale-read.png"));

    let bars = boxes(&mut b, "svg g[data-op] rect");
    let texts = boxes(&mut b, "svg g[data-op] text");
    assert_eq!(bars.len(), texts.len());
    assert!(bars.len() >= 4, "a bar per operation: {bars:?}");
    for (bar, text) in bars.iter().zip(&texts) {
        assert!(
            text.inside(bar),
            "label {:?} spills out of its bar ({text:?} / {bar:?})",
            text.text
        );
    }
    let lanes = boxes(&mut b, "svg > text");
    let clashes = overlapping(&[lanes, bars.clone()].concat());
    assert!(clashes.is_empty(), "lane names overlap bars: {clashes:#?}");
    let red = b.eval(
        "[...document.querySelectorAll('svg rect.bad')].map(r => getComputedStyle(r).stroke)",
    );
    assert_eq!(
        red,
        serde_json::json!(["rgb(198, 40, 40)"]),
        "one culprit, in red"
    );
    let explanation = b.eval("document.querySelector('pre').innerText");
    let explanation = explanation.as_str().unwrap();
    assert!(explanation.contains("not allowed in this state"));
    assert!(
        explanation.lines().count() >= 5,
        "the explanation keeps its lines: {explanation}"
    );
    let page_width = b
        .eval("document.documentElement.scrollWidth")
        .as_f64()
        .unwrap();
    assert!(
        page_width <= 1400.0,
        "the page fits the window: {page_width}px wide"
    );
}
