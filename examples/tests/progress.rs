//! Progress of a long check, simulation or induction goes to stderr only: a
//! bar when stderr is a terminal (a real pseudo-terminal, made by
//! util-linux `script`), plain lines with `--progress` when it is not, and
//! never anything on stdout, so a redirected verdict stays plain and
//! parseable; without `--progress`, plain lines only once a run has lasted
//! three periods. `VERDICT_PROGRESS_MS` shortens the plain-line period so the
//! runs here take a second, not the many a two-second line would need.
//! And the size forecast on check's progress, against a space whose size
//! is known.

use std::process::Command;

use verdict::check::progress::{forecast, Shape};
use verdict::prelude::*;
use verdict_examples::lockserv;

const LOCKSERV: &str = env!("CARGO_BIN_EXE_lockserv");
/// A check of a few seconds in a debug build, cut short by its bound.
const LONG_CHECK: &str = "check --clients 6 --max-states 120000";
/// Plain lines every 50 ms in the tests' runs.
const PERIOD: (&str, &str) = ("VERDICT_PROGRESS_MS", "50");

/// Whether `text` looks like progress output: terminal codes, an ETA, or
/// a plain progress line (`  [   0.1s] ...`).
fn has_progress(text: &str) -> bool {
    text.contains('\x1b')
        || text.contains('\r')
        || text.contains("ETA")
        || text.lines().any(is_progress_line)
}

fn is_progress_line(l: &str) -> bool {
    l.starts_with("  [") && l.split_once("s] ").is_some_and(|(t, _)| t.len() <= 12)
}

/// Runs `lockserv ARGS` with stderr on a pseudo-terminal and stdout to a
/// file: `(exit code, stdout, what the terminal got)`, or `None` without
/// `script`.
fn on_a_terminal(args: &str) -> Option<(Option<i32>, String, String)> {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: util-linux `script` (to make a pseudo-terminal) is not installed");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.txt");
    let tty = dir.path().join("tty.log");
    // stdout to a file, stderr to the pseudo-terminal `script` records.
    let inner = format!("{LOCKSERV} {args} > {}", out.display());
    let status = Command::new("script")
        .args(["-q", "-e", "-c", &inner])
        .arg(&tty)
        .output()
        .unwrap();
    let stdout = std::fs::read_to_string(&out).unwrap();
    let terminal = std::fs::read_to_string(&tty).unwrap();
    assert!(!has_progress(&stdout), "progress on stdout: {stdout:?}");
    assert!(terminal.contains("\x1b["), "{terminal:?}");
    Some((status.status.code(), stdout, terminal))
}

#[test]
fn on_a_terminal_the_bar_goes_to_stderr_and_redirected_stdout_stays_plain() {
    let Some((code, stdout, terminal)) = on_a_terminal(LONG_CHECK) else {
        return;
    };
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains("No violation found within the states bound"),
        "{stdout}"
    );
    // The bar: drawn and redrawn in place, against the states bound.
    assert!(
        terminal.contains("/120,000 unique states, ETA"),
        "{terminal:?}"
    );
}

#[test]
fn simulate_and_induct_draw_their_bars_on_a_terminal() {
    let Some((code, stdout, terminal)) = on_a_terminal("simulate --clients 3 --runs 30000") else {
        return;
    };
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains("No violation found in 30,000 runs."),
        "{stdout}"
    );
    assert!(terminal.contains("/30,000 runs, ETA"), "{terminal:?}");
    assert!(terminal.contains(" steps/s, 0 violations"), "{terminal:?}");
    let Some((code, stdout, terminal)) = on_a_terminal("induct --clients 3") else {
        return;
    };
    // Lockserv's declared invariants are not inductive: exit 4, with a CTI.
    assert_eq!(code, Some(4), "{stdout}");
    assert!(
        stdout.contains("counterexample(s) to induction"),
        "{stdout}"
    );
    assert!(terminal.contains(" pre-states, ETA"), "{terminal:?}");
    assert!(
        terminal.contains("searching for counterexamples to induction"),
        "{terminal:?}"
    );
}

#[test]
fn redirected_stderr_gets_plain_lines_and_stdout_none() {
    let args: Vec<&str> = LONG_CHECK.split(' ').collect();
    let out = Command::new(LOCKSERV)
        .args(&args)
        .arg("--progress")
        .env(PERIOD.0, PERIOD.1)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!has_progress(&stdout), "progress on stdout: {stdout:?}");
    assert!(!stdout.contains("unique states ("), "{stdout:?}");
    // No terminal codes, one whole line per report.
    assert!(
        !stderr.contains('\x1b') && !stderr.contains('\r'),
        "{stderr:?}"
    );
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("unique states ("))
        .collect();
    assert!(!lines.is_empty(), "no progress line in {stderr:?}");
    for l in &lines {
        assert!(l.contains("depth ") && l.contains("peak memory "), "{l}");
        // The default budget is a share of the machine: the account shows.
        assert!(l.contains(" holds ") && l.contains(" of "), "{l}");
    }
    // Breadth first, past three levels: the forecast, called one.
    assert!(
        lines
            .iter()
            .any(|l| l.contains("; forecast (extrapolated from x")),
        "{lines:?}"
    );
    // Without --progress and without a terminal, a run shorter than three
    // periods (six seconds at the default two) prints nothing...
    let quiet = Command::new(LOCKSERV)
        .args(&args)
        .env_remove(PERIOD.0)
        .output()
        .unwrap();
    let stderr = String::from_utf8(quiet.stderr).unwrap();
    assert!(!stderr.contains("unique states ("), "{stderr:?}");
    // ...and a longer one prints lines, starting after three periods.
    let long = Command::new(LOCKSERV)
        .args(&args)
        .env(PERIOD.0, PERIOD.1)
        .output()
        .unwrap();
    let stderr = String::from_utf8(long.stderr).unwrap();
    let first = stderr
        .lines()
        .find(|l| l.contains("unique states ("))
        .unwrap_or_else(|| panic!("no line from a run past three periods: {stderr:?}"));
    let at: f64 = first[3..]
        .split('s')
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        at >= 0.1,
        "the first line came at {at} s, before three periods: {first}"
    );
}

/// `lockserv ARGS --progress` with stderr redirected: `(exit code, stdout,
/// the progress lines)`, after checking stderr has no terminal codes and
/// stdout no progress.
fn plain(args: &str) -> (Option<i32>, String, Vec<String>) {
    let out = Command::new(LOCKSERV)
        .args(args.split(' '))
        .arg("--progress")
        .env(PERIOD.0, PERIOD.1)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!has_progress(&stdout), "progress on stdout: {stdout:?}");
    assert!(
        !stderr.contains('\x1b') && !stderr.contains('\r'),
        "{stderr:?}"
    );
    let lines = stderr
        .lines()
        .filter(|l| is_progress_line(l))
        .map(str::to_string)
        .collect();
    (out.status.code(), stdout, lines)
}

#[test]
fn simulate_prints_runs_rate_and_what_each_mode_counts_as_plain_lines() {
    let (code, stdout, lines) = plain("simulate --clients 3 --runs 30000");
    assert_eq!(code, Some(0), "{stdout}");
    assert!(!lines.is_empty(), "no progress line");
    for l in &lines {
        assert!(
            l.contains("/30,000 runs (") && l.contains(" steps/s), 0 violations"),
            "{l}"
        );
    }
    let (code, stdout, lines) = plain("simulate --clients 3 --runs 30000 --estimate");
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("Clopper-Pearson interval"), "{stdout}");
    assert!(!lines.is_empty(), "no progress line");
    assert!(
        lines
            .iter()
            .all(|l| l
                .contains(" failing `invariants` (0 violations), 95% interval so far [0.000000, ")),
        "{lines:?}"
    );
    let (code, stdout, lines) = plain("simulate --clients 3 --runs 10000 --time");
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("latency: p50"), "{stdout}");
    assert!(!lines.is_empty(), "no progress line");
    assert!(
        lines
            .iter()
            .all(|l| l.contains(" answered (slowest ") && l.contains(" unanswered")),
        "{lines:?}"
    );
}

#[test]
fn induct_and_infer_print_their_phases_as_plain_lines() {
    let (code, stdout, lines) = plain("induct --clients 3 --infer");
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("a strengthening of"), "{stdout}");
    let has = |what: &str| lines.iter().any(|l| l.contains(what));
    assert!(has("pre-states ("), "{lines:?}");
    assert!(
        has("searching for counterexamples to induction"),
        "{lines:?}"
    );
    assert!(has("infer: "), "{lines:?}");
    assert!(has(" states examined"), "{lines:?}");
    assert!(has(" kept / "), "{lines:?}");
}

/// Lockserv with 4 clients and one round: 126,705 states, breadth first.
const KNOWN: u64 = 126_705;

#[test]
fn the_forecast_of_a_space_of_known_size_is_a_total_only_past_its_peak_and_close_to_it() {
    let model = lockserv::model(4, 1, Faults::none()).unwrap();
    let options = verdict::CheckOptions {
        threads: 1,
        strategy: verdict::Strategy::Bfs,
        ..Default::default()
    };
    let report = verdict::check::check(&model, &options);
    assert!(matches!(report.outcome, Outcome::Exhausted));
    let levels = &report.stats.levels;
    assert_eq!(report.stats.unique, KNOWN);
    assert_eq!(1 + levels.iter().sum::<u64>(), KNOWN);
    let peak = (0..levels.len()).max_by_key(|&i| levels[i]).unwrap();
    let mut totals = Vec::new();
    for n in 0..=levels.len() {
        let Some(f) = forecast(&levels[..n], 100.0, 1 << 30) else {
            assert!(n < 3, "a forecast from {n} levels");
            continue;
        };
        assert!(f.to_string().starts_with("forecast (extrapolated"), "{f}");
        match f.shape {
            Shape::Finite { states, fits, .. } => {
                assert!(
                    n > peak + 1,
                    "a total before the peak, from {n} levels: {f}"
                );
                assert_eq!(fits, Some(true));
                totals.push(states);
            }
            Shape::Growing { .. } => {}
        }
    }
    // The last levels shrink: the totals come, each within a third of the
    // truth (the extrapolation is a guess; this space it guesses well).
    assert!(!totals.is_empty(), "levels {levels:?}");
    for t in totals {
        assert!(
            t as f64 > KNOWN as f64 * 0.75 && (t as f64) < KNOWN as f64 * 1.33,
            "forecast {t} of {KNOWN}"
        );
    }
}
