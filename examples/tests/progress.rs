//! Progress of a long check goes to stderr only: a bar when stderr is a
//! terminal (a real pseudo-terminal, made by util-linux `script`), plain
//! lines with `--progress` when it is not, and never anything on stdout,
//! so a redirected verdict stays plain and parseable.

use std::process::Command;

const LOCKSERV: &str = env!("CARGO_BIN_EXE_lockserv");
/// A check of a few seconds in a debug build, cut short by its bound.
const LONG_CHECK: &str = "check --clients 6 --max-states 120000";
/// Long enough, with a wide margin, for plain lines every two seconds:
/// about 15 s on a quiet machine (120,000 states took under 2 s there).
const LONGER_CHECK: &str = "check --clients 6 --max-states 1000000";

/// Whether `text` looks like progress output.
fn has_progress(text: &str) -> bool {
    text.contains('\x1b') || text.contains('\r') || text.contains("ETA") || text.contains("/s,")
}

#[test]
fn on_a_terminal_the_bar_goes_to_stderr_and_redirected_stdout_stays_plain() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: util-linux `script` (to make a pseudo-terminal) is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.txt");
    let tty = dir.path().join("tty.log");
    // stdout to a file, stderr to the pseudo-terminal `script` records.
    let inner = format!("{LOCKSERV} {LONG_CHECK} > {}", out.display());
    let status = Command::new("script")
        .args(["-q", "-e", "-c", &inner])
        .arg(&tty)
        .output()
        .unwrap();
    assert!(status.status.success(), "{status:?}");
    let stdout = std::fs::read_to_string(&out).unwrap();
    let terminal = std::fs::read_to_string(&tty).unwrap();
    assert!(
        stdout.contains("No violation found within the states bound"),
        "{stdout}"
    );
    assert!(!has_progress(&stdout), "progress on stdout: {stdout:?}");
    // The bar: drawn and redrawn in place, against the states bound.
    assert!(
        terminal.contains("/120,000 unique states, ETA"),
        "{terminal:?}"
    );
    assert!(terminal.contains("\x1b["), "{terminal:?}");
}

#[test]
fn redirected_stderr_gets_plain_lines_and_stdout_none() {
    let args: Vec<&str> = LONGER_CHECK.split(' ').collect();
    let out = Command::new(LOCKSERV)
        .args(&args)
        .arg("--progress")
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
    // Without --progress and without a terminal, nothing at all.
    let quiet = Command::new(LOCKSERV).args(&args).output().unwrap();
    let stderr = String::from_utf8(quiet.stderr).unwrap();
    assert!(!stderr.contains("unique states ("), "{stderr:?}");
}
