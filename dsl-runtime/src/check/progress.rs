//! What a long check shows while it runs, on stderr only so stdout stays
//! the verdict: on a terminal an `indicatif` bar (unique states, rate,
//! depth, peak memory, what the search holds against its memory budget,
//! and against `--max-states` a bar with an ETA); elsewhere one plain line
//! every two seconds, for logs.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::check::memory::format_bytes;
use crate::check::stats::peak_rss_bytes;
use crate::check::thousands;

/// How often plain lines are printed when stderr is not a terminal.
const LINE_EVERY: Duration = Duration::from_secs(2);
/// How often the terminal bar is redrawn.
const BAR_EVERY: Duration = Duration::from_millis(100);

/// One look at a running search.
pub(crate) struct Sample {
    /// Unique states so far.
    pub unique: u64,
    /// The deepest depth reached.
    pub depth: usize,
    /// What the search holds by its own account, and its budget
    /// (`u64::MAX`: none).
    pub held: u64,
    pub budget: u64,
}

impl Sample {
    /// `depth 12, peak memory 340 MiB, holds 210.4 MiB of 16.74 GiB`.
    fn describe(&self) -> String {
        let mut text = format!(
            "depth {}, peak memory {} MiB",
            self.depth,
            peak_rss_bytes().unwrap_or(0) >> 20
        );
        if self.budget != u64::MAX {
            text += &format!(
                ", holds {} of {}",
                format_bytes(self.held),
                format_bytes(self.budget)
            );
        }
        text
    }
}

/// Shows progress until `done`, from the `sample`s it takes; `bound` is
/// the `--max-states` bound.
pub(crate) fn show(
    sample: impl Fn() -> Sample,
    bound: Option<u64>,
    done: &AtomicBool,
    started: Instant,
) {
    if std::io::stderr().is_terminal() {
        bar(&sample, bound, done)
    } else {
        lines(&sample, done, started)
    }
}

fn bar(sample: &impl Fn() -> Sample, bound: Option<u64>, done: &AtomicBool) {
    let pb = match bound {
        Some(max) => {
            let pb = ProgressBar::with_draw_target(Some(max), ProgressDrawTarget::stderr());
            pb.set_style(
                ProgressStyle::with_template(
                    "  {elapsed} {wide_bar} {human_pos}/{human_len} states, ETA {eta}; {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            pb
        }
        None => {
            let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            pb.set_style(
                ProgressStyle::with_template(
                    "  {spinner} {elapsed} {human_pos} unique states; {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            pb
        }
    };
    let started = Instant::now();
    while !done.load(Ordering::Relaxed) {
        let now = sample();
        let rate = now.unique as f64 / started.elapsed().as_secs_f64().max(1e-3);
        pb.set_position(now.unique);
        pb.set_message(format!("{}/s, {}", thousands(rate as u64), now.describe()));
        std::thread::sleep(BAR_EVERY);
    }
    pb.finish_and_clear();
}

fn lines(sample: &impl Fn() -> Sample, done: &AtomicBool, started: Instant) {
    let mut last = (Instant::now(), 0u64);
    let mut next_print = Instant::now() + LINE_EVERY;
    while !done.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(50));
        if Instant::now() < next_print {
            continue;
        }
        next_print += LINE_EVERY;
        let now = sample();
        let rate = now.unique.saturating_sub(last.1) as f64 / last.0.elapsed().as_secs_f64();
        last = (Instant::now(), now.unique);
        eprintln!(
            "  [{:>6.1}s] {} unique states ({}/s), {}",
            started.elapsed().as_secs_f64(),
            thousands(now.unique),
            thousands(rate as u64),
            now.describe()
        );
    }
}
