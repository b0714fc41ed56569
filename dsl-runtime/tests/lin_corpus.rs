//! Every history of the shared corpus gets its known verdict.
//!
//! The corpus is read from `../shared/lin-data` next to the workspace (or
//! from `$VERDICT_LIN_DATA`); it is never copied into the repository. When
//! it is absent the tests say so and pass without checking anything.

use std::path::{Path, PathBuf};
use verdict::lin::formats::{self, ParsedHistory};
use verdict::lin::specs::{KvMap, Register};
use verdict::lin::{check_history_with, HistoryOptions, Verdict};

fn data_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("VERDICT_LIN_DATA") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/lin-data"),
    };
    if dir.join("expected.tsv").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: no linearizability corpus at {} (set VERDICT_LIN_DATA to its folder)",
            dir.display()
        );
        None
    }
}

/// (file, linearizable?) for every line of expected.tsv.
fn expected(dir: &Path) -> Vec<(String, bool)> {
    let text = std::fs::read_to_string(dir.join("expected.tsv")).expect("expected.tsv is readable");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (file, verdict) = l.split_once('\t').expect("expected.tsv has two columns");
            match verdict.trim() {
                "linearizable" => (file.to_string(), true),
                "not-linearizable" => (file.to_string(), false),
                other => panic!("unknown verdict {other:?} in expected.tsv"),
            }
        })
        .collect()
}

fn verdict_of(path: &Path, partition: bool) -> Verdict {
    let text = std::fs::read_to_string(path).expect("corpus file is readable");
    let parsed = formats::parse(&text, None).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let options = HistoryOptions {
        partition,
        ..HistoryOptions::default()
    };
    match parsed {
        ParsedHistory::Register(h) => check_history_with(&Register, &h, &options),
        ParsedHistory::Kv(h) => check_history_with(&KvMap, &h, &options),
        ParsedHistory::KvStore(_) => panic!("{}: the corpus has no kvstore files", path.display()),
    }
}

#[test]
fn every_corpus_file_gets_its_expected_verdict() {
    let Some(dir) = data_dir() else { return };
    let cases = expected(&dir);
    assert!(
        cases.len() >= 108,
        "expected.tsv lists {} files",
        cases.len()
    );
    let mut wrong = Vec::new();
    for (file, linearizable) in &cases {
        let verdict = verdict_of(&dir.join(file), true);
        if verdict.is_linearizable() != *linearizable || verdict == Verdict::Unknown {
            wrong.push(format!(
                "{file}: expected linearizable={linearizable}, got {verdict:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "wrong verdicts:\n{}", wrong.join("\n"));
}

#[test]
fn small_kv_files_get_the_same_verdict_without_partitioning() {
    let Some(dir) = data_dir() else { return };
    for (file, linearizable) in expected(&dir) {
        if !(file.starts_with("kv/c01") || file.starts_with("kv/c10")) {
            continue;
        }
        let verdict = verdict_of(&dir.join(&file), false);
        assert_eq!(
            verdict.is_linearizable(),
            linearizable,
            "{file}: {verdict:?}"
        );
        assert_ne!(verdict, Verdict::Unknown, "{file}");
    }
}

#[test]
fn violations_in_the_corpus_come_with_an_explanation() {
    let Some(dir) = data_dir() else { return };
    let path = dir.join("jepsen/etcd_000.log");
    let text = std::fs::read_to_string(&path).expect("readable");
    let Ok(ParsedHistory::Register(h)) = formats::parse(&text, None) else {
        panic!("etcd_000 is a register log")
    };
    let Verdict::NotLinearizable(e) = verdict_of(&path, true) else {
        panic!("etcd_000 is not linearizable")
    };
    assert!(!e.longest_prefix.is_empty());
    assert!(e.owed.is_some());
    assert!(!e.unplaceable.is_empty());
    let text = e.to_text(&h);
    assert!(text.contains("longest linearizable prefix"), "{text}");
}

#[test]
fn a_time_limit_stops_a_partitioned_check_with_unknown() {
    let Some(dir) = data_dir() else { return };
    let text = std::fs::read_to_string(dir.join("kv/c50-ok.txt")).expect("readable");
    let Ok(ParsedHistory::Kv(h)) = formats::parse(&text, None) else {
        panic!("c50-ok is a kv log")
    };
    let options = HistoryOptions {
        timeout: Some(std::time::Duration::from_micros(1)),
        ..HistoryOptions::default()
    };
    assert_eq!(check_history_with(&KvMap, &h, &options), Verdict::Unknown);
}
