//! The `--transform` flags of the `lockserv` and `kv` binaries: exit codes
//! and what they say about bounds. (The release-mode commands of the issue
//! use three lock clients and the default kv workload; these use smaller
//! sizes so that debug builds stay quick.)

use std::process::{Command, Output};

fn run(bin: &str, args: &[&str]) -> (i32, String) {
    let Output { status, stdout, .. } = Command::new(bin).args(args).output().unwrap();
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
    )
}

fn lockserv(args: &[&str]) -> (i32, String) {
    run(env!("CARGO_BIN_EXE_lockserv"), args)
}

fn kv(args: &[&str]) -> (i32, String) {
    run(env!("CARGO_BIN_EXE_kv"), args)
}

#[test]
fn lockserv_fails_on_a_harsh_network_and_passes_once_made_reliable() {
    let harsh = ["check", "--clients", "2", "--faults", "drop,dup,reorder"];
    let (code, out) = lockserv(&harsh);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("VIOLATION"), "{out}");

    let (code, out) = lockserv(&[&harsh[..], &["--transform", "reliable"]].concat());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Checking Reliable<LockServ>"), "{out}");
    assert!(out.contains("the check is exhaustive"), "{out}");
    assert!(out.contains("every reachable state was explored"), "{out}");
    assert!(!out.contains("infinite"), "{out}");
}

#[test]
fn lockserv_says_when_a_transformed_check_is_only_bounded() {
    let (code, out) = lockserv(&[
        "check",
        "--clients",
        "1",
        "--faults",
        "drop",
        "--transform",
        "reliable",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("exploring to depth 12 by default"), "{out}");
    assert!(out.contains("within the depth bound"), "{out}");
}

#[test]
fn lockserv_crash_recovery_flag() {
    let (code, out) = lockserv(&["check", "--clients", "2", "--faults", "crash=1"]);
    assert_eq!(code, 1, "{out}");
    let (code, out) = lockserv(&[
        "check",
        "--clients",
        "2",
        "--faults",
        "crash=1",
        "--transform",
        "crash-recovery",
    ]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn kv_checks_linearizability_of_primary_backup_through_a_crash() {
    let (code, out) = kv(&["check", "--ops", "2", "--faults", "crash=1"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("invariant `linearizable` is violated"),
        "{out}"
    );

    let pb = [
        "check",
        "--ops",
        "2",
        "--faults",
        "crash=1",
        "--transform",
        "primary-backup",
    ];
    let (code, out) = kv(&pb);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("PrimaryBackup<Store>"), "{out}");

    for bug in ["reply-before-ack", "no-state-transfer"] {
        let (code, out) = kv(&[&pb[..], &["--broken", bug]].concat());
        assert_eq!(code, 1, "{bug}: {out}");
        assert!(out.contains("not linearizable"), "{bug}: {out}");
    }
}

#[test]
fn kv_rejects_a_bug_without_primary_backup() {
    let (code, _) = kv(&["check", "--broken", "reply-before-ack"]);
    assert_eq!(code, 2);
}

#[test]
fn a_transformed_counterexample_replays() {
    let dir = std::env::temp_dir().join(format!("verdict-transform-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trace = dir.join("trace.json");
    let trace = trace.to_str().unwrap();
    let args = [
        "--clients",
        "2",
        "--transform",
        "primary-backup",
        "--broken",
        "reply-before-ack",
    ];
    let (code, out) = kv(&[&["check"][..], &args, &["--trace-json", trace]].concat());
    assert_eq!(code, 1, "{out}");
    let (code, out) = kv(&[&["replay"][..], &args, &[trace]].concat());
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not linearizable"), "{out}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Exit code and standard error of `kv` with `args`, killed (and failed)
/// if it is still running after 30 s: a refused command must not start.
fn kv_refused(args: &[&str]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kv"))
        .args(args)
        .current_dir(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().ok();
            panic!(
                "`kv {}` was not refused: it is still running",
                args.join(" ")
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn raft_membership_flags_the_setup_cannot_honour_are_refused() {
    let (code, err) = kv_refused(&[
        "check",
        "--transform",
        "raft",
        "--servers",
        "3",
        "--voters",
        "4",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--voters 4 is more than the 3 servers: give at most --voters 3"),
        "{err}"
    );
    // A checked bound, never a deployed behaviour.
    let (code, err) = kv_refused(&["cluster", "--transform", "raft", "--max-changes", "1"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("deploy with --max-changes 0"), "{err}");
    // Within the servers, and checked, both are accepted.
    let (code, out) = kv(&[
        "check",
        "--transform",
        "raft",
        "--servers",
        "3",
        "--voters",
        "2",
        "--clients",
        "0",
        "--max-term",
        "1",
        "--max-log",
        "1",
        "--max-changes",
        "1",
        "--max-retries",
        "0",
    ]);
    assert_eq!(code, 0, "{out}");
}
