//! `lincheck`: check recorded histories for linearizability.
//!
//! Prints one line per file, `FILE: linearizable`, `FILE: not linearizable`
//! or `FILE: unknown`, in the order given. Exit status: 0 when every file is
//! linearizable, 1 when some file is not, 3 when none is refuted but some
//! check ran out of time, 2 when an input could not be read or the command
//! line is wrong (this one wins over the others).

use clap::{Parser, ValueEnum};
use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use verdict::check::thousands;
use verdict::lin::formats::{self, Model, ParsedHistory};
use verdict::lin::specs::{KvMap, KvStore, Register};
use verdict::lin::{timeline, Checker, History, HistoryOptions, HistoryProgress, Spec, Verdict};
use verdict::progress::{Sample, Shown};

/// The specification to check against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ModelArg {
    /// A register with read / write / cas.
    Register,
    /// A map with get / put / append, keys starting as "".
    Kv,
    /// A store with get / put / del / cas / cad, keys starting absent.
    Kvstore,
}

impl From<ModelArg> for Model {
    fn from(m: ModelArg) -> Model {
        match m {
            ModelArg::Register => Model::Register,
            ModelArg::Kv => Model::Kv,
            ModelArg::Kvstore => Model::KvStore,
        }
    }
}

/// Check histories for linearizability.
///
/// Reads Jepsen etcd logs (register), EDN key-value logs (kv) and Verdict's
/// native line format (see the book's linearizability chapter); the format
/// and model are detected from each file unless --model is given. Exit
/// status: 0 all linearizable, 1 some not linearizable, 3 some unknown (time
/// limit) and none refuted, 2 unreadable input or bad usage.
#[derive(Parser, Debug)]
#[command(name = "lincheck", version)]
struct Args {
    /// The specification (detected from the file when not given).
    #[arg(long, value_enum)]
    model: Option<ModelArg>,
    /// Check each history whole instead of per key.
    #[arg(long)]
    no_partition: bool,
    /// Give up on a file after this many seconds and report it unknown.
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<f64>,
    /// After a "not linearizable" line, print why.
    #[arg(long)]
    explain: bool,
    /// Write a timeline of each non-linearizable history: to this file (.svg
    /// or .html) when one file is checked, else into this directory as
    /// NAME.html.
    #[arg(long, value_name = "PATH")]
    timeline_out: Option<PathBuf>,
    /// Files checked at once (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<usize>,
    /// Print search counters and times to stderr.
    #[arg(long)]
    stats: bool,
    /// Report progress on stderr from the start (histories or
    /// sub-histories done of all, configurations explored and their rate).
    /// A terminal gets a bar anyway; elsewhere, without this flag, plain
    /// lines every two seconds begin only once the run has lasted six.
    #[arg(long)]
    progress: bool,
    /// History files.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

/// What happened to one file.
enum FileResult {
    Verdict {
        verdict_line: String,
        refuted: bool,
        unknown: bool,
        extra: String,
    },
    Unreadable(String),
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            // Help and version are successes; every usage error is status 2.
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    if let Some(t) = args.timeout {
        if !(t.is_finite() && t > 0.0) {
            eprintln!("lincheck: --timeout must be a positive number of seconds");
            return ExitCode::from(2);
        }
    }
    let files = &args.files;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let jobs = args.jobs.unwrap_or(cores).clamp(1, files.len().max(1));
    let results: Vec<Mutex<Option<FileResult>>> = files.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let options = HistoryOptions {
        timeout: args.timeout.map(Duration::from_secs_f64),
        partition: !args.no_partition,
        // Several files in flight already use the cores.
        threads: if jobs > 1 { 1 } else { 0 },
    };
    let progress = Arc::new(HistoryProgress::default());
    let checked = AtomicUsize::new(0);
    let worker = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(path) = files.get(i) else { break };
        let result = check_file(path, &args, &options, &progress);
        if let Ok(mut slot) = results[i].lock() {
            *slot = Some(result);
        }
        checked.fetch_add(1, Ordering::Relaxed);
    };
    let sample = || progress_sample(&progress, checked.load(Ordering::Relaxed), files.len());
    verdict::progress::watch(Shown::asked(args.progress), sample, || {
        std::thread::scope(|scope| {
            for _ in 1..jobs {
                scope.spawn(worker);
            }
            worker();
        })
    });

    let (mut unreadable, mut refuted, mut unknown) = (false, false, false);
    for (path, slot) in files.iter().zip(results) {
        let result = slot.into_inner().ok().flatten();
        match result {
            Some(FileResult::Verdict {
                verdict_line,
                refuted: r,
                unknown: u,
                extra,
            }) => {
                println!("{}: {verdict_line}", path.display());
                print!("{extra}");
                refuted |= r;
                unknown |= u;
            }
            Some(FileResult::Unreadable(message)) => {
                eprintln!("lincheck: {}: {message}", path.display());
                unreadable = true;
            }
            None => {
                eprintln!("lincheck: {}: the check did not finish", path.display());
                unreadable = true;
            }
        }
    }
    ExitCode::from(match (unreadable, refuted, unknown) {
        (true, _, _) => 2,
        (false, true, _) => 1,
        (false, false, true) => 3,
        (false, false, false) => 0,
    })
}

/// How far along the check of `total` files is: by files when there are
/// several, else by the sub-histories of the one.
fn progress_sample(progress: &HistoryProgress, checked: usize, total: usize) -> Sample {
    let configurations = progress.configurations();
    let parts = format!(
        "{} of {} sub-histories decided",
        thousands(progress.decided()),
        thousands(progress.partitions())
    );
    let (done, total, unit, detail) = if total > 1 {
        (checked as u64, Some(total as u64), "histories", parts)
    } else {
        let partitions = progress.partitions();
        let total = (partitions > 0).then_some(partitions);
        (progress.decided(), total, "sub-histories", String::new())
    };
    let explored = format!("{} configurations explored", thousands(configurations));
    Sample {
        done,
        total,
        unit,
        counted: configurations,
        rate_unit: "configurations",
        detail: if detail.is_empty() {
            explored
        } else {
            format!("{detail}, {explored}")
        },
    }
}

fn check_file(
    path: &Path,
    args: &Args,
    options: &HistoryOptions,
    progress: &Arc<HistoryProgress>,
) -> FileResult {
    let started = Instant::now();
    let text = match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                // Report the line of the first byte that is not UTF-8.
                let good = e.utf8_error().valid_up_to();
                let line = e.as_bytes()[..good].iter().filter(|&&b| b == b'\n').count() + 1;
                return FileResult::Unreadable(format!("line {line}: the file is not UTF-8 text"));
            }
        },
        Err(e) => return FileResult::Unreadable(format!("cannot read: {e}")),
    };
    let parsed = match formats::parse(&text, args.model.map(Model::from)) {
        Ok(parsed) => parsed,
        Err(e) => return FileResult::Unreadable(e.to_string()),
    };
    let read = started.elapsed();
    let how = (path, args, options, progress);
    match parsed {
        ParsedHistory::Register(h) => run(Register, &h, how, read),
        ParsedHistory::Kv(h) => run(KvMap, &h, how, read),
        ParsedHistory::KvStore(h) => run(KvStore::<String, String>::new(), &h, how, read),
    }
}

/// The file, the flags, the checker's options and where it counts its
/// progress.
type How<'a> = (
    &'a Path,
    &'a Args,
    &'a HistoryOptions,
    &'a Arc<HistoryProgress>,
);

fn run<S: Spec>(
    spec: S,
    history: &History<S::Op, S::Ret>,
    (path, args, options, progress): How<'_>,
    read: Duration,
) -> FileResult
where
    S::Op: Debug,
    S::Ret: Debug,
{
    let started = Instant::now();
    let mut checker = Checker::with_options(spec, options.clone());
    checker.report_progress(progress.clone());
    let verdict = checker.check(history);
    let mut extra = String::new();
    if args.stats {
        let s = checker.stats();
        eprintln!(
            "lincheck: {}: {} ops, {} partitions ({} searched), {} configurations, {} states max, read {:.3} ms, check {:.3} ms",
            path.display(),
            history.len(),
            s.partitions,
            s.searched,
            s.configurations,
            s.max_states,
            read.as_secs_f64() * 1e3,
            started.elapsed().as_secs_f64() * 1e3
        );
    }
    let (line, refuted, unknown) = match &verdict {
        Verdict::Linearizable => ("linearizable", false, false),
        Verdict::NotLinearizable(_) => ("not linearizable", true, false),
        Verdict::Unknown => ("unknown", false, true),
    };
    if let Verdict::NotLinearizable(explanation) = &verdict {
        if args.explain {
            for l in explanation.to_text(history).lines() {
                extra.push_str("    ");
                extra.push_str(l);
                extra.push('\n');
            }
        }
        if let Some(out) = &args.timeline_out {
            if let Err(message) =
                write_timeline(out, path, args.files.len() > 1, history, explanation)
            {
                return FileResult::Unreadable(message);
            }
        }
    }
    FileResult::Verdict {
        verdict_line: line.to_string(),
        refuted,
        unknown,
        extra,
    }
}

fn write_timeline<Op: Debug, Ret: Debug>(
    out: &Path,
    input: &Path,
    many: bool,
    history: &History<Op, Ret>,
    explanation: &verdict::lin::Explanation,
) -> Result<(), String> {
    let title = format!("{}: not linearizable", input.display());
    let target = if many {
        std::fs::create_dir_all(out)
            .map_err(|e| format!("cannot create {}: {e}", out.display()))?;
        let name = input
            .file_name()
            .map_or_else(|| "history".into(), |n| n.to_string_lossy().into_owned());
        out.join(format!("{name}.html"))
    } else {
        out.to_path_buf()
    };
    let is_svg = target
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("svg"));
    let body = if is_svg {
        timeline::to_svg(history, Some(explanation))
    } else {
        timeline::to_html(history, Some(explanation), &title)
    };
    std::fs::write(&target, body).map_err(|e| format!("cannot write {}: {e}", target.display()))
}
