//! The checker's command line says what it does: flags that change the
//! search say so, deadlocks are reported, traces replay from their file
//! alone, and `replay` exits 1 on a violation.

use crate::command;

use command::run;

const RING: &str = env!("CARGO_BIN_EXE_chang_roberts");
const RA: &str = env!("CARGO_BIN_EXE_ricart_agrawala");
const LOCKSERV: &str = env!("CARGO_BIN_EXE_lockserv");

/// The number of steps in `VIOLATION: ... N steps)`.
fn steps(out: &str) -> usize {
    let line = out.lines().find(|l| l.starts_with("VIOLATION")).unwrap();
    let before = line.rsplit_once(" steps").unwrap().0;
    before.rsplit(' ').next().unwrap().parse().unwrap()
}

#[test]
fn bfs_gives_the_shortest_counterexample_even_where_reductions_would_not() {
    let args = ["check", "--nodes", "5", "--forward-smaller"];
    let (code, fast, _) = run(RING, &args);
    assert_eq!(code, Some(1), "{fast}");
    assert!(fast.contains("not necessarily shortest"), "{fast}");
    let (code, out, _) = run(RING, &[&args[..], &["--bfs"]].concat());
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("shortest counterexample: 6 steps"), "{out}");
    assert!(out.contains("--bfs: partial-order reduction off"), "{out}");
    assert!(out.contains("search: breadth-first"), "{out}");
    assert!(steps(&fast) >= 6);
    // The same with symmetry off and every reduction off: 6 is the minimum.
    let (_, plain, _) = run(RING, &[&args[..], &["--bfs", "--no-reduction"]].concat());
    assert_eq!(steps(&plain), 6, "{plain}");
}

#[test]
fn threads_turn_the_one_thread_reduction_off_and_say_so() {
    let (code, out, _) = run(RING, &["check", "--nodes", "4", "--threads", "2"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("--threads: dynamic partial-order reduction off"),
        "{out}"
    );
    assert!(out.contains("threads: 2"), "{out}");
    assert!(
        !out.contains("dynamic partial-order reduction: on"),
        "{out}"
    );
}

#[test]
fn a_deadlock_fails_plain_check() {
    let (code, out, _) = run(RA, &["check", "--sites", "3", "--defer-ties"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("VIOLATION: deadlock: no step is enabled while"),
        "{out}"
    );
    assert!(out.contains("still wait for a reply"), "{out}");
    let (code, out, _) = run(
        RA,
        &["check", "--sites", "3", "--defer-ties", "--allow-deadlock"],
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("deadlocks: allowed (--allow-deadlock)"),
        "{out}"
    );
    // The correct protocol, and the lock server, end normally.
    let (code, out, _) = run(RA, &["check", "--sites", "3"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("deadlocks: reported"), "{out}");
    let (code, out, _) = run(LOCKSERV, &["check", "--clients", "2", "--rounds", "2"]);
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn a_trace_replays_from_its_file_alone() {
    let dir = tempfile::tempdir().unwrap();
    let ring = dir.path().join("ring.json");
    let ring = ring.to_str().unwrap();
    let (code, out, _) = run(
        RING,
        &[
            "check",
            "--nodes",
            "4",
            "--forward-smaller",
            "--bfs",
            "--trace-json",
            ring,
        ],
    );
    assert_eq!(code, Some(1), "{out}");
    let text = std::fs::read_to_string(ring).unwrap();
    assert!(text.contains("--forward-smaller"), "{text}");
    // No flags: the sizes and the broken variant come from the file.
    let (code, out, err) = run(RING, &["replay", ring]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.contains("with --nodes 4 --forward-smaller"), "{out}");
    assert!(
        out.contains("=> invariant `only_the_largest_leads` is violated"),
        "{out}"
    );
    // Flags given on the command line replace the recorded ones; the
    // correct ring does not take these steps.
    let (code, _, err) = run(RING, &["replay", ring, "--nodes", "4"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("recorded with --nodes 4 --forward-smaller"),
        "{err}"
    );

    // A deadlock replays as one, and the transform is recorded too.
    let ra = dir.path().join("ra.json");
    let ra = ra.to_str().unwrap();
    let (code, _, _) = run(RA, &["check", "--defer-ties", "--trace-json", ra]);
    assert_eq!(code, Some(1));
    let (code, out, _) = run(RA, &["replay", ra]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("=> deadlock"), "{out}");
    let ls = dir.path().join("ls.json");
    let ls = ls.to_str().unwrap();
    let (code, out, _) = run(
        LOCKSERV,
        &[
            "check",
            "--clients",
            "2",
            "--faults",
            "dup",
            "--trace-json",
            ls,
        ],
    );
    assert_eq!(code, Some(1), "{out}");
    let (code, out, _) = run(LOCKSERV, &["replay", ls]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("mutual_exclusion"), "{out}");
}

#[test]
fn invariant_selects_what_is_checked() {
    let base = ["check", "--nodes", "4", "--forward-smaller", "--bfs"];
    let (code, out, _) = run(RING, &[&base[..], &["--invariant", "one_leader"]].concat());
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("checking only: one_leader"), "{out}");
    assert!(out.contains("VIOLATION: invariant `one_leader`"), "{out}");
    let (code, _, err) = run(RING, &[&base[..], &["--invariant", "nope"]].concat());
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("only_the_largest_leads, one_leader"), "{err}");
    let (code, _, err) = run(LOCKSERV, &["check", "--invariant", "every_lock_granted"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("is an `eventually` property"), "{err}");
}

#[test]
fn every_property_is_listed_and_liveness_is_worded_as_such() {
    let (_, out, _) = run(LOCKSERV, &["describe"]);
    assert!(out.contains("eventually every_lock_granted"), "{out}");
    let (code, out, _) = run(LOCKSERV, &["check", "--clients", "2", "--liveness"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("  eventually: every_lock_granted"), "{out}");
    assert!(
        out.contains("Liveness: every weakly fair run satisfies eventually `every_lock_granted`."),
        "{out}"
    );
    let (code, out, _) = run(
        LOCKSERV,
        &["check", "--clients", "2", "--liveness", "--faults", "drop"],
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("=> eventually `every_lock_granted` fails"),
        "{out}"
    );
    assert!(!out.contains("invariant `every_lock_granted`"), "{out}");
    // A graph larger than --max-states gets no verdict, and says why.
    let (code, out, _) = run(
        LOCKSERV,
        &[
            "check",
            "--clients",
            "2",
            "--liveness",
            "--max-states",
            "10",
        ],
    );
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("Liveness: not checked: more than 10 states"),
        "{out}"
    );
    // A depth bound would cut the graph: refused, not ignored.
    let (code, _, err) = run(
        LOCKSERV,
        &["check", "--clients", "2", "--liveness", "--depth", "3"],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("leave --depth out"), "{err}");
}
