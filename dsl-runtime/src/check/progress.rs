//! What a long check shows while it runs, on stderr only so stdout stays
//! the verdict: on a terminal an `indicatif` bar (unique states, rate,
//! depth, peak memory, and against `--max-states` a bar with an ETA);
//! elsewhere one plain line every two seconds, for logs.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::check::stats::peak_rss_bytes;
use crate::check::thousands;

/// How often plain lines are printed when stderr is not a terminal.
const LINE_EVERY: Duration = Duration::from_secs(2);
/// How often the terminal bar is redrawn.
const BAR_EVERY: Duration = Duration::from_millis(100);

/// Shows progress until `done`: `sample` gives the unique states so far
/// and the deepest depth reached; `bound` is the `--max-states` bound.
pub(crate) fn show(
    sample: impl Fn() -> (u64, usize),
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

fn memory() -> String {
    format!("{} MiB", peak_rss_bytes().unwrap_or(0) >> 20)
}

fn bar(sample: &impl Fn() -> (u64, usize), bound: Option<u64>, done: &AtomicBool) {
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
        let (unique, depth) = sample();
        let rate = unique as f64 / started.elapsed().as_secs_f64().max(1e-3);
        pb.set_position(unique);
        pb.set_message(format!(
            "{}/s, depth {depth}, {}",
            thousands(rate as u64),
            memory()
        ));
        std::thread::sleep(BAR_EVERY);
    }
    pb.finish_and_clear();
}

fn lines(sample: &impl Fn() -> (u64, usize), done: &AtomicBool, started: Instant) {
    let mut last = (Instant::now(), 0u64);
    let mut next_print = Instant::now() + LINE_EVERY;
    while !done.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(50));
        if Instant::now() < next_print {
            continue;
        }
        next_print += LINE_EVERY;
        let (unique, depth) = sample();
        let rate = unique.saturating_sub(last.1) as f64 / last.0.elapsed().as_secs_f64();
        last = (Instant::now(), unique);
        eprintln!(
            "  [{:>6.1}s] {} unique states ({}/s), depth {depth}, peak memory {}",
            started.elapsed().as_secs_f64(),
            thousands(unique),
            thousands(rate as u64),
            memory()
        );
    }
}
