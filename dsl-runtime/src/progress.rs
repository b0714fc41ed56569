//! What a long run shows while it runs — `check`, `simulate`, `induct`,
//! `lincheck` — on stderr only, so stdout stays the verdict: on a terminal
//! an `indicatif` bar (with an ETA when the count has a known end),
//! elsewhere one plain line every two seconds, for logs.
//!
//! Each job says what it has done as a [`Sample`]; this module alone
//! decides how a sample is drawn. The job runs on its own threads and
//! [`watch`] (or [`show`], inside a thread scope the job already has)
//! samples it from one more.
//!
//! Off a terminal a run prints lines from the start when asked
//! (`--progress`, [`Shown::Asked`]), and otherwise only once it has run
//! for three periods ([`Shown::Long`]): a short run stays quiet, a long
//! one says it is alive.
//!
//! `VERDICT_PROGRESS_MS` sets the plain-line period in milliseconds
//! (default 2000); tests set it low so a short run prints lines.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::numbers::thousands;

/// The environment variable that sets the plain-line period (ms).
pub const PERIOD_VAR: &str = "VERDICT_PROGRESS_MS";
/// How often plain lines are printed when stderr is not a terminal.
const LINE_EVERY: Duration = Duration::from_secs(2);
/// How often the terminal bar is redrawn.
const BAR_EVERY: Duration = Duration::from_millis(100);

/// One look at a running job.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    /// How far along the job is, in `unit`s.
    pub done: u64,
    /// Where `done` ends, when the job knows (a bar with an ETA).
    pub total: Option<u64>,
    /// What `done` counts: `unique states`, `runs`, `pre-states`.
    pub unit: &'static str,
    /// The count whose rate is shown (often `done` itself).
    pub counted: u64,
    /// What `counted` counts; empty when it is `unit`.
    pub rate_unit: &'static str,
    /// The rest of the line: `depth 12, 3 violations`.
    pub detail: String,
}

impl Sample {
    /// `120 runs` or `120/1,000 runs`.
    fn position(&self) -> String {
        match self.total {
            Some(t) => format!("{}/{} {}", thousands(self.done), thousands(t), self.unit),
            None => format!("{} {}", thousands(self.done), self.unit),
        }
    }

    /// `1,234/s` or `1,234 steps/s`.
    fn rate(&self, per_sec: f64) -> String {
        let n = thousands(per_sec.max(0.0) as u64);
        if self.rate_unit.is_empty() {
            format!("{n}/s")
        } else {
            format!("{n} {}/s", self.rate_unit)
        }
    }
}

/// When a run shows its progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shown {
    /// Never (a library call, a job of the explorer).
    #[default]
    Off,
    /// From the start: a bar on a terminal, else plain lines
    /// (`--progress`).
    Asked,
    /// A bar on a terminal; elsewhere plain lines once the run has lasted
    /// three line periods (six seconds by default).
    Long,
}

impl Shown {
    /// What a command line asks for: [`Shown::Asked`] with `--progress`,
    /// else [`Shown::Long`].
    pub fn asked(progress_flag: bool) -> Shown {
        if progress_flag {
            Shown::Asked
        } else {
            Shown::Long
        }
    }
}

/// Runs `work` while showing progress from `sample` as `shown` says, and
/// returns what `work` returns.
pub fn watch<R>(shown: Shown, sample: impl Fn() -> Sample + Sync, work: impl FnOnce() -> R) -> R {
    if shown == Shown::Off {
        return work();
    }
    let done = AtomicBool::new(false);
    let started = Instant::now();
    std::thread::scope(|scope| {
        let display = scope.spawn(|| show(&sample, &done, started, shown));
        let result = work();
        done.store(true, Ordering::Relaxed);
        let _ = display.join();
        result
    })
}

/// Shows progress from `sample` until `done`, as `shown` says: a bar when
/// stderr is a terminal, else plain lines.
pub fn show(sample: impl Fn() -> Sample, done: &AtomicBool, started: Instant, shown: Shown) {
    let every = line_period();
    match shown {
        Shown::Off => {}
        _ if std::io::stderr().is_terminal() => bar(&sample, done),
        Shown::Asked => lines(&sample, done, started, every, every),
        Shown::Long => lines(&sample, done, started, every, every * 3),
    }
}

/// The plain-line period: [`PERIOD_VAR`] when it is a whole number of
/// milliseconds (at least 1), else two seconds (with a warning).
fn line_period() -> Duration {
    let Ok(text) = std::env::var(PERIOD_VAR) else {
        return LINE_EVERY;
    };
    match text.trim().parse::<u64>() {
        Ok(ms) if ms > 0 => Duration::from_millis(ms),
        _ => {
            eprintln!(
                "warning: {PERIOD_VAR}={text:?} is not a whole number of milliseconds; \
                 progress lines come every 2 s"
            );
            LINE_EVERY
        }
    }
}

/// The bar's look for a sample: a bar with ETA against a known total, a
/// spinner without.
fn style(now: &Sample) -> ProgressStyle {
    match now.total {
        Some(_) => ProgressStyle::with_template(&format!(
            "  {{elapsed}} {{wide_bar}} {{human_pos}}/{{human_len}} {}, ETA {{eta}}; {{msg}}",
            now.unit
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
        None => ProgressStyle::with_template(&format!(
            "  {{spinner}} {{elapsed}} {{human_pos}} {}; {{msg}}",
            now.unit
        ))
        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    }
}

fn bar(sample: &impl Fn() -> Sample, done: &AtomicBool) {
    let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    // What the bar is drawn as now; a job that moves on to another phase
    // (another unit or total) gets a fresh bar and ETA.
    let mut look: Option<(&'static str, Option<u64>)> = None;
    let mut phase = (Instant::now(), 0u64);
    let mut last_counted = 0;
    while !done.load(Ordering::Relaxed) {
        let now = sample();
        if now.counted < last_counted {
            // The count went back: a new phase of the job.
            phase = (Instant::now(), now.counted);
        }
        last_counted = now.counted;
        if look != Some((now.unit, now.total)) {
            if look.is_some_and(|(unit, _)| unit != now.unit) {
                phase = (Instant::now(), now.counted);
            }
            look = Some((now.unit, now.total));
            pb.set_style(style(&now));
            match now.total {
                Some(t) => pb.set_length(t),
                None => pb.unset_length(),
            }
            pb.reset_eta();
        }
        let secs = phase.0.elapsed().as_secs_f64().max(1e-3);
        let rate = now.counted.saturating_sub(phase.1) as f64 / secs;
        pb.set_position(now.done);
        pb.set_message(join(now.rate(rate), &now.detail));
        std::thread::sleep(BAR_EVERY);
    }
    pb.finish_and_clear();
}

/// A line every `every`, the first after `first`.
fn lines(
    sample: &impl Fn() -> Sample,
    done: &AtomicBool,
    started: Instant,
    every: Duration,
    first: Duration,
) {
    let mut last = (Instant::now(), sample().counted);
    let mut next_print = Instant::now() + first;
    let nap = (every / 4).clamp(Duration::from_millis(1), Duration::from_millis(50));
    while !done.load(Ordering::Relaxed) {
        std::thread::sleep(nap);
        if Instant::now() < next_print {
            continue;
        }
        next_print += every;
        let now = sample();
        let secs = last.0.elapsed().as_secs_f64().max(1e-6);
        // A count that went back started again from nothing since.
        let since = if now.counted < last.1 {
            now.counted
        } else {
            now.counted - last.1
        };
        let rate = since as f64 / secs;
        last = (Instant::now(), now.counted);
        eprintln!("{}", line(&now, started.elapsed(), rate));
    }
}

/// `  [   2.0s] 120/1,000 runs (3,400 steps/s), 0 violations`.
fn line(now: &Sample, elapsed: Duration, rate: f64) -> String {
    format!(
        "  [{:>6.1}s] {} ({}){}",
        elapsed.as_secs_f64(),
        now.position(),
        now.rate(rate),
        if now.detail.is_empty() {
            String::new()
        } else {
            format!(", {}", now.detail)
        }
    )
}

fn join(rate: String, detail: &str) -> String {
    if detail.is_empty() {
        rate
    } else {
        format!("{rate}, {detail}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_line_says_position_rate_and_detail() {
        let s = Sample {
            done: 120,
            total: Some(1000),
            unit: "runs",
            counted: 0,
            rate_unit: "steps",
            detail: "0 violations".into(),
        };
        assert_eq!(
            line(&s, Duration::from_millis(2000), 3400.0),
            "  [   2.0s] 120/1,000 runs (3,400 steps/s), 0 violations"
        );
        let s = Sample {
            done: 5000,
            unit: "unique states",
            ..Sample::default()
        };
        assert_eq!(
            line(&s, Duration::from_millis(500), 10.0),
            "  [   0.5s] 5,000 unique states (10/s)"
        );
    }

    #[test]
    fn watch_returns_what_the_work_returns_and_stops_the_display() {
        let seen = std::sync::atomic::AtomicU64::new(0);
        let got = watch(
            Shown::Asked,
            || {
                seen.fetch_add(1, Ordering::Relaxed);
                Sample::default()
            },
            || 42,
        );
        assert_eq!(got, 42);
        assert_eq!(watch(Shown::Off, Sample::default, || "off"), "off");
        assert_eq!(Shown::asked(true), Shown::Asked);
        assert_eq!(Shown::asked(false), Shown::Long);
    }
}
