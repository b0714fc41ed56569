//! The `lincheck` command: output lines, exit statuses, errors with line
//! numbers, explanations and timelines.

use std::path::PathBuf;
use std::process::{Command, Output};

fn lincheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lincheck"))
        .args(args)
        .output()
        .expect("lincheck runs")
}

/// A fresh scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lincheck-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write test file");
    path.to_string_lossy().into_owned()
}

const GOOD: &str = "model register\n0 invoke write 1\n1 invoke read\n1 ok 1\n0 ok\n";
const STALE: &str = "model register\n0 invoke write 1\n0 ok\n1 invoke read\n1 ok nil\n";

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn prints_one_line_per_file_in_order_and_exits_by_the_worst_verdict() {
    let dir = scratch("verdicts");
    let good = write(&dir, "good.txt", GOOD);
    let stale = write(&dir, "stale.txt", STALE);
    let out = lincheck(&[&good, &good]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!("{good}: linearizable\n{good}: linearizable\n")
    );
    let out = lincheck(&[&stale, &good]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        format!("{stale}: not linearizable\n{good}: linearizable\n")
    );
}

#[test]
fn unreadable_input_exits_2_and_names_the_line() {
    let dir = scratch("unreadable");
    let good = write(&dir, "good.txt", GOOD);
    let bad = write(
        &dir,
        "bad.txt",
        "model register\n0 invoke write 1\n0 ok\n0 invoke frobnicate\n",
    );
    let out = lincheck(&[&good, &bad]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout(&out), format!("{good}: linearizable\n"));
    assert!(
        stderr(&out).contains(&format!("{bad}: line 4: expected a register operation")),
        "{}",
        stderr(&out)
    );

    let missing = dir.join("missing.txt").to_string_lossy().into_owned();
    let out = lincheck(&[&missing]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read"));

    let binary = dir.join("binary.txt");
    std::fs::write(&binary, b"model register\n\xff\xfe\n").unwrap();
    let out = lincheck(&[&binary.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("line 2: the file is not UTF-8"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    assert_eq!(lincheck(&[]).status.code(), Some(2));
    assert_eq!(lincheck(&["--model", "queue", "x"]).status.code(), Some(2));
    assert_eq!(lincheck(&["--bogus", "x"]).status.code(), Some(2));
    assert_eq!(lincheck(&["--timeout", "-1", "x"]).status.code(), Some(2));
    let help = lincheck(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(stdout(&help).contains("--model"));
}

#[test]
fn the_model_can_be_given_or_must_match_the_file() {
    let dir = scratch("model");
    let headless = write(
        &dir,
        "h.txt",
        "0 invoke put k v\n0 ok\n1 invoke get k\n1 ok v\n",
    );
    assert_eq!(lincheck(&[&headless]).status.code(), Some(2));
    assert_eq!(
        lincheck(&["--model", "kvstore", &headless]).status.code(),
        Some(0)
    );
    assert_eq!(
        lincheck(&["--model", "kv", &headless]).status.code(),
        Some(0)
    );
    let reg = write(&dir, "r.txt", GOOD);
    let out = lincheck(&["--model", "kv", &reg]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("line 1"), "{}", stderr(&out));
}

#[test]
fn explain_and_timeline_show_the_culprit() {
    let dir = scratch("explain");
    let stale = write(&dir, "stale.txt", STALE);
    let page = dir.join("t.html");
    let out = lincheck(&[
        "--explain",
        "--timeline-out",
        &page.to_string_lossy(),
        &stale,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.starts_with(&format!("{stale}: not linearizable\n")));
    assert!(
        text.contains("#1 client 1: Read -> Value(None): not allowed in this state"),
        "{text}"
    );
    let html = std::fs::read_to_string(&page).expect("timeline written");
    assert!(html.contains("<svg") && html.contains("class=\"op bad\""));

    let svg = dir.join("t.svg");
    lincheck(&["--timeline-out", &svg.to_string_lossy(), &stale]);
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));

    // Several files: one page per refuted file in a folder.
    let good = write(&dir, "good.txt", GOOD);
    let folder = dir.join("pages");
    lincheck(&["--timeline-out", &folder.to_string_lossy(), &stale, &good]);
    assert!(folder.join("stale.txt.html").is_file());
    assert!(!folder.join("good.txt.html").exists());
}

#[test]
fn a_time_limit_gives_unknown_and_status_3() {
    // Many concurrent writes that a late read contradicts: refuting it means
    // trying every order, far more than a microsecond allows.
    let mut text = String::from("model register\n");
    for c in 0..14 {
        text.push_str(&format!("{c} invoke write {c}\n"));
    }
    for c in 0..14 {
        text.push_str(&format!("{c} ok\n"));
    }
    for c in 0..14 {
        text.push_str(&format!("{} invoke cas {c} {}\n", 100 + c, c + 1));
    }
    for c in 0..14 {
        text.push_str(&format!("{} ok\n", 100 + c));
    }
    text.push_str("200 invoke read\n200 ok 99\n");
    let dir = scratch("timeout");
    let hard = write(&dir, "hard.txt", &text);
    let out = lincheck(&["--timeout", "0.000001", &hard]);
    assert_eq!(stdout(&out), format!("{hard}: unknown\n"));
    assert_eq!(out.status.code(), Some(3));
}

/// A register history whose refutation takes far longer than a second:
/// many concurrent writes, then compare-and-sets, then a read of a value
/// never written.
fn hard_history(writers: usize) -> String {
    let mut text = String::from("model register\n");
    for c in 0..writers {
        text.push_str(&format!("{c} invoke write {c}\n"));
    }
    for c in 0..writers {
        text.push_str(&format!("{c} ok\n"));
    }
    for c in 0..writers {
        text.push_str(&format!("{} invoke cas {c} {}\n", 100 + c, c + 1));
    }
    for c in 0..writers {
        text.push_str(&format!("{} ok\n", 100 + c));
    }
    text.push_str("200 invoke read\n200 ok 99\n");
    text
}

#[test]
fn progress_goes_to_stderr_as_plain_lines_and_on_a_terminal_as_a_bar() {
    let dir = scratch("progress");
    let hard = write(&dir, "hard.txt", &hard_history(20));
    let good = write(&dir, "good.txt", GOOD);
    let out = Command::new(env!("CARGO_BIN_EXE_lincheck"))
        .args(["--progress", "--timeout", "1", &hard])
        .env("VERDICT_PROGRESS_MS", "50")
        .output()
        .expect("lincheck runs");
    assert_eq!(stdout(&out), format!("{hard}: unknown\n"));
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(!err.contains('\x1b') && !err.contains('\r'), "{err:?}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("  [")).collect();
    assert!(!lines.is_empty(), "{err:?}");
    for l in &lines {
        assert!(
            l.contains("/1 sub-histories (")
                && l.contains(" configurations/s), ")
                && l.contains(" configurations explored"),
            "{l}"
        );
    }
    // Several files: counted by file, the sub-histories in the detail.
    let out = Command::new(env!("CARGO_BIN_EXE_lincheck"))
        .args(["--progress", "--timeout", "1", "-j", "1", &hard, &good])
        .env("VERDICT_PROGRESS_MS", "50")
        .output()
        .expect("lincheck runs");
    assert_eq!(
        stdout(&out),
        format!("{hard}: unknown\n{good}: linearizable\n")
    );
    let err = stderr(&out);
    assert!(
        err.lines()
            .any(|l| l.contains("/2 histories (") && l.contains(" sub-histories decided")),
        "{err:?}"
    );
    // On a terminal (util-linux `script` makes one), a bar; stdout stays
    // the verdicts.
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped the terminal half: util-linux `script` is not installed");
        return;
    }
    let verdicts = dir.join("verdicts.txt");
    let tty = dir.join("tty.log");
    let inner = format!(
        "{} --timeout 1 {hard} > {}",
        env!("CARGO_BIN_EXE_lincheck"),
        verdicts.display()
    );
    let status = Command::new("script")
        .args(["-q", "-e", "-c", &inner])
        .arg(&tty)
        .output()
        .expect("script runs");
    assert_eq!(status.status.code(), Some(3), "{status:?}");
    let verdicts = std::fs::read_to_string(verdicts).unwrap();
    assert_eq!(verdicts, format!("{hard}: unknown\n"));
    let terminal = std::fs::read_to_string(tty).unwrap();
    assert!(terminal.contains("\x1b["), "{terminal:?}");
    assert!(terminal.contains("/1 sub-histories, ETA"), "{terminal:?}");
}
