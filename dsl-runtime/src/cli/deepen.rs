//! `check --deepen NAME=A..B`: iterative deepening on a bound flag.
//!
//! A bounded counter (terms, ballots, rounds) makes a state space finite,
//! and each bound up costs many times the last. Deepening checks at bound
//! `A`, then `A + 1`, ... up to `B`, each an exhaustive check of its own,
//! and stops at the first that fails: the smallest bound that shows a bug,
//! found without paying for the larger ones. Each bound is the same
//! command line with `--NAME` set to it, so everything else (faults,
//! threads, memory budget, trace files) applies to every bound.

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use super::{EXIT_OK, EXIT_USAGE, EXIT_VIOLATION};

/// The most bounds one `--deepen` runs.
const MAX_BOUNDS: u64 = 64;

/// `NAME=A..B`: the flag to deepen and its bounds, both ends included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deepen {
    /// The flag's name, without dashes (e.g. `max-term`).
    pub name: String,
    /// The first bound.
    pub first: u64,
    /// The last bound (included).
    pub last: u64,
}

impl std::str::FromStr for Deepen {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{s}`: write NAME=A..B, e.g. max-term=1..5 (both bounds included)");
        let (name, range) = s.split_once('=').ok_or_else(bad)?;
        let (a, b) = range.split_once("..").ok_or_else(bad)?;
        let first: u64 = a.trim().parse().map_err(|_| bad())?;
        let last: u64 = b.trim().parse().map_err(|_| bad())?;
        let name = name.trim().trim_start_matches("--").to_string();
        if name.is_empty() {
            return Err(bad());
        }
        if last < first {
            return Err(format!("`{s}`: the range ends before it starts"));
        }
        if last - first >= MAX_BOUNDS {
            return Err(format!("`{s}`: at most {MAX_BOUNDS} bounds at a time"));
        }
        Ok(Deepen { name, first, last })
    }
}

/// Checks at each bound in turn; `check(argv)` runs one check on the
/// command line `argv`. `flags` are the flags the program takes as bounds.
/// Exit 1 at the first bound that fails, 0 when none does, 2 on bad usage
/// or when a check cannot run.
pub fn run_deepening<'a>(
    deepen: &Deepen,
    flags: impl Iterator<Item = &'a str>,
    mut check: impl FnMut(Vec<String>) -> ExitCode,
) -> ExitCode {
    let flags: Vec<&str> = flags.collect();
    if !flags.contains(&deepen.name.as_str()) {
        eprintln!(
            "error: --deepen {}: this program has no such size or config flag; it has: {}",
            deepen.name,
            flags.join(", ")
        );
        return ExitCode::from(EXIT_USAGE);
    }
    let argv = without(std::env::args().collect(), &["deepen", &deepen.name]);
    let mut spent: Vec<(u64, Duration, bool)> = Vec::new();
    let mut failed = None;
    for bound in deepen.first..=deepen.last {
        println!("== --deepen: checking with --{} {bound}", deepen.name);
        let mut args = argv.clone();
        args.extend([format!("--{}", deepen.name), bound.to_string()]);
        let started = Instant::now();
        let code = check(args);
        let fails = code == ExitCode::from(EXIT_VIOLATION);
        spent.push((bound, started.elapsed(), fails));
        if fails {
            failed = Some(bound);
            break;
        }
        if code != ExitCode::from(EXIT_OK) {
            eprintln!(
                "error: --deepen: the check with --{} {bound} did not complete; stopped",
                deepen.name
            );
            return code;
        }
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "Deepening --{}:", deepen.name);
    for (bound, time, fails) in &spent {
        let verdict = if *fails { "VIOLATION" } else { "no violation" };
        let _ = writeln!(out, "  --{} {bound}: {verdict} ({time:.2?})", deepen.name);
    }
    match failed {
        Some(bound) => {
            let _ = writeln!(out, "First failing bound: --{} {bound}", deepen.name);
            ExitCode::from(EXIT_VIOLATION)
        }
        None => {
            let _ = writeln!(
                out,
                "No violation at any bound {}..={} (each checked exhaustively within its bound)",
                deepen.first, deepen.last
            );
            ExitCode::from(EXIT_OK)
        }
    }
}

/// `argv` without the flags named `names` and their values (`--x v` and
/// `--x=v`).
fn without(argv: Vec<String>, names: &[&str]) -> Vec<String> {
    let mut out = Vec::with_capacity(argv.len());
    let mut skip_value = false;
    for arg in argv {
        if std::mem::take(&mut skip_value) {
            continue;
        }
        let named = names.iter().find(|n| {
            arg.strip_prefix("--")
                .is_some_and(|a| a == **n || a.starts_with(&format!("{n}=")))
        });
        match named {
            Some(n) => skip_value = arg == format!("--{n}"),
            None => out.push(arg),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_and_bad_ones_say_how_to_write_them() {
        let d: Deepen = "max-term=1..5".parse().unwrap();
        assert_eq!((d.name.as_str(), d.first, d.last), ("max-term", 1, 5));
        assert!("max-term"
            .parse::<Deepen>()
            .unwrap_err()
            .contains("NAME=A..B"));
        assert!("t=5..1"
            .parse::<Deepen>()
            .unwrap_err()
            .contains("ends before"));
        assert!("t=0..1000".parse::<Deepen>().is_err());
    }

    #[test]
    fn the_deepened_flag_and_deepen_itself_leave_the_command_line() {
        let argv = [
            "kv",
            "check",
            "--deepen",
            "max-term=1..3",
            "--max-term=2",
            "--max-log",
            "2",
        ];
        let argv = argv.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            without(argv, &["deepen", "max-term"]),
            vec!["kv", "check", "--max-log", "2"]
        );
    }
}
