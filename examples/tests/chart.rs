//! `--trace-out` draws the lock server's duplicate counterexample as a
//! message sequence chart with lifelines, arrows, the duplicate mark, the
//! violated invariant and the failing state.

use std::process::Command;

use verdict::chart::{to_html, to_svg};
use verdict::prelude::*;
use verdict_examples::lockserv::model;

#[test]
fn the_duplicate_counterexample_becomes_a_chart() {
    let m = model(3, 1, Faults::none().dup()).unwrap();
    let report = check(&m, &CheckOptions::default());
    let cx = report.counterexample().unwrap();
    let svg = to_svg(&m, cx);
    assert!(svg.starts_with("<svg"));
    for node in ["Server", "Client(0)", "Client(1)", "Client(2)"] {
        assert!(svg.contains(&format!(">{node}</text>")), "lifeline {node}");
    }
    assert!(svg.contains("class=\"dup\""), "duplicate mark");
    assert!(svg.contains("duplicated Grant"));
    assert_eq!(
        svg.matches("marker-end=\"url(#arrow)\"").count(),
        cx.events
            .iter()
            .filter(|e| matches!(e, verdict::Event::Deliver(_)))
            .count()
    );
    assert!(svg.contains("mutual_exclusion"), "violated invariant");
    assert!(svg.contains("held=true"), "state at the failing step");
    let html = to_html(&m, cx);
    assert!(html.contains("<!DOCTYPE html>") && html.contains("<svg") && html.contains("<pre>"));
}

#[test]
fn check_trace_out_writes_the_file() {
    let dir = std::env::temp_dir().join(format!("verdict-chart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("dup.html");
    let out = Command::new(env!("CARGO_BIN_EXE_lockserv"))
        .args(["check", "--clients", "3", "--faults", "dup", "--trace-out"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(html.contains("duplicated Grant") && html.contains("mutual_exclusion"));
    std::fs::remove_dir_all(&dir).ok();
}
