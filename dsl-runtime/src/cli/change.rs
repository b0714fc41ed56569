//! The `describe --json` and `impact` subcommands and `check --cache`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::change::cache::{self, CheckCache, Entry, Lookup};
use crate::change::{compare, Description, Impact};
use crate::semantics::Model;
use crate::system::System;

use super::check::{run_check_retransmitting_to, run_check_to, CheckArgs};
use super::{EXIT_OK, EXIT_VIOLATION};

/// Flags of the `impact` subcommand.
#[derive(clap::Args, Debug, Clone)]
pub struct ImpactArgs {
    /// The description of the earlier build, written by `describe --json`
    /// (with the same size and model flags as given here).
    #[arg(long, value_name = "OLD.json")]
    pub against: PathBuf,
    /// Print the impact as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Exit code of `impact`: no verdict can change.
pub const IMPACT_NONE: u8 = 0;
/// Exit code of `impact`: some verdict may change (an invariant is
/// affected, or a handler changed, which may change failed steps and
/// deadlocks): re-check.
pub const IMPACT_RECHECK: u8 = 1;

/// Runs `impact`: compares `current` with the description in
/// `args.against`. Exit 0 when no verdict can change, 1 when one may, 2
/// when the file cannot be read as a description.
pub fn run_impact(current: &Description, args: &ImpactArgs) -> ExitCode {
    let old = match read_description(&args.against) {
        Ok(d) => d,
        Err(e) => return super::app::usage(e),
    };
    let impact = compare(&old, current);
    let mut out = std::io::stdout().lock();
    if args.json {
        let json = serde_json::to_string_pretty(&impact).unwrap_or_default();
        let _ = writeln!(out, "{json}");
    } else {
        let _ = writeln!(
            out,
            "Impact on {} of the changes since {}:",
            current.system,
            args.against.display()
        );
        let _ = write!(out, "{impact}");
    }
    ExitCode::from(impact_code(&impact))
}

/// The exit code an impact gives.
pub fn impact_code(impact: &Impact) -> u8 {
    if impact.affected().next().is_some() || !impact.handlers.is_empty() {
        IMPACT_RECHECK
    } else {
        IMPACT_NONE
    }
}

fn read_description(path: &Path) -> Result<Description, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("--against {}: cannot read it: {e}", path.display()))?;
    Description::from_json(&text).map_err(|e| format!("--against {}: {e}", path.display()))
}

/// The flags a cached verdict depends on, besides the description: the
/// model flags and every `check` flag but the cache's own, progress and
/// where counterexample files go.
fn cache_flags(args: &CheckArgs) -> Vec<String> {
    let mut search = args.clone();
    search.cache = None;
    search.progress = false;
    search.trace_json = None;
    search.trace_out = None;
    search.model_flags = Vec::new();
    let mut flags = args.model_flags.clone();
    flags.push(format!("{search:?}"));
    flags
}

/// A writer and a copy of everything written to it.
struct Tee<'a> {
    out: &'a mut dyn Write,
    copy: Vec<u8>,
}

impl Write for Tee<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        self.copy.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Runs `check --cache DIR`: answers from the cache when it holds a
/// verdict for this description, these flags and this tool; otherwise
/// says which invariants the edit since the last cached check with these
/// flags can affect, checks, and stores the verdict.
pub fn run_cached_check<S: System>(
    model: Model<S>,
    args: &CheckArgs,
    retransmitting: bool,
    dir: &Path,
) -> ExitCode {
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    run_cached_check_to(model, args, retransmitting, dir, &mut out, &mut err)
}

/// [`run_cached_check`], printing the report on `out` and warnings on `err`.
pub fn run_cached_check_to<S: System>(
    model: Model<S>,
    args: &CheckArgs,
    retransmitting: bool,
    dir: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> ExitCode {
    let cache = match CheckCache::open(dir) {
        Ok(c) => c,
        Err(e) => return super::app::usage(e),
    };
    let description = Description::of::<S>(Some(&model));
    let mut flags = cache_flags(args);
    // What the program sets on the model besides the workload.
    flags.push(format!(
        "ignore rule: {}, deadlocks allowed: {:?}, memory budget: {:?}",
        model.ignores.is_some(),
        model.deadlock_allowed,
        model.memory_budget
    ));
    let key = cache::key(&description, &flags);
    let flags_key = cache::flags_key(&description.system, &flags);
    let path = cache.entry_path(key);
    let files_asked = args.trace_json.is_some() || args.trace_out.is_some();
    match cache.lookup(key) {
        Lookup::Hit(entry) if !(files_asked && entry.exit_code == EXIT_VIOLATION) => {
            let _ = out.write_all(entry.output.as_bytes());
            let bounded = if entry.bounded {
                " (a bounded verdict, cached under its bounds)"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "  from cache: {} (same system, flags and tool){bounded}",
                path.display()
            );
            return ExitCode::from(entry.exit_code);
        }
        Lookup::Hit(_) => {
            let _ = writeln!(
                out,
                "cache: the cached verdict is a violation and counterexample files were asked for: re-checking"
            );
        }
        Lookup::Damaged(why) => {
            let _ = writeln!(
                err,
                "warning: cache entry {} is damaged ({why}); re-checking",
                path.display()
            );
        }
        Lookup::Miss => {}
    }
    match cache.last(flags_key) {
        None => {
            let _ = writeln!(
                out,
                "cache miss: no earlier check of {} with these flags in {}",
                description.system,
                dir.display()
            );
        }
        Some(Err(why)) => {
            let _ = writeln!(
                err,
                "warning: the last description cached for these flags is damaged ({why}); re-checking without an impact summary"
            );
        }
        Some(Ok(old)) => {
            let _ = write!(out, "{}", miss_summary(&compare(&old, &description)));
        }
    }
    let mut tee = Tee {
        out,
        copy: Vec::new(),
    };
    let code = if retransmitting {
        run_check_retransmitting_to(model, args, &mut tee)
    } else {
        run_check_to(&model, args, &mut tee)
    };
    let Tee { out, copy } = tee;
    // The exit code the check returned, which `ExitCode` does not show.
    let exit_code = [EXIT_OK, EXIT_VIOLATION]
        .into_iter()
        .find(|c| ExitCode::from(*c) == code);
    let several_threads = args.threads != 1;
    let why_not = match exit_code {
        None => Some("its verdict is not a pass or a violation"),
        Some(_) if args.max_states.is_some() && several_threads => Some(
            "--max-states with more than one thread may stop at other states on another run (give --threads 1)",
        ),
        Some(_) => None,
    };
    if let (None, Some(exit_code)) = (why_not, exit_code) {
        let entry = Entry {
            format: cache::FORMAT,
            key: crate::change::describe::hex(key),
            system: description.system.clone(),
            flags,
            exit_code,
            bounded: args.depth.is_some() || args.max_states.is_some(),
            output: String::from_utf8_lossy(&copy).into_owned(),
        };
        let stored = cache
            .store(key, &entry)
            .and_then(|()| cache.store_last(flags_key, &description));
        match stored {
            Ok(()) => {
                let _ = writeln!(out, "  cached: {}", path.display());
            }
            Err(e) => {
                let _ = writeln!(
                    err,
                    "warning: cannot write to the cache {}: {e}",
                    dir.display()
                );
            }
        }
    } else if let Some(why) = why_not {
        let _ = writeln!(out, "  not cached: {why}");
    }
    code
}

/// What a miss after an edit prints before checking.
fn miss_summary(impact: &Impact) -> String {
    let mut s = String::new();
    if impact.unchanged() {
        s.push_str("cache miss: the system is unchanged since the last cached check with these flags (another tool version or a damaged entry); re-checking\n");
        return s;
    }
    let names = |affected: bool| -> Vec<&str> {
        impact
            .invariants
            .iter()
            .filter(|i| i.affected == affected)
            .map(|i| i.name.as_str())
            .collect()
    };
    let list = |v: Vec<&str>| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    s.push_str(&format!(
        "cache miss: {} change(s) since the last cached check with these flags; re-checking\n",
        impact.changes.len()
    ));
    for c in &impact.changes {
        s.push_str(&format!("  changed: {} {}: {}\n", c.what, c.name, c.how));
    }
    s.push_str(&format!(
        "  impact flags: {}\n  impact clears: {}\n",
        list(names(true)),
        list(names(false))
    ));
    s
}

/// Prints `describe --json`.
pub fn print_description(description: &Description) -> ExitCode {
    let _ = writeln!(std::io::stdout().lock(), "{}", description.to_json());
    ExitCode::from(EXIT_OK)
}
