//! Simulated time: runs where messages take time to arrive and timers
//! fire at their durations, so a run reports how long each call took.
//!
//! Each message sent gets a delivery time, its send time plus a latency
//! drawn uniformly from its link's range ([`Latencies`]); a timer set for
//! `d` fires `d` after it was set; a workload input is given as soon as
//! its node is free. Each step is the enabled event due first (ties broken
//! by the seed), and the clock jumps to it. Crashes come at random times
//! (the fault model's crash budget, spread over the horizon) and a crashed
//! node restarts after [`TimedOptions::restart_after`] when the model lets
//! it. Drops and duplicates happen at the rates of [`super::rates`];
//! budgeted drops, duplicates and partitions are not drawn in simulated
//! time. The steps are the same handlers and the same [`Model`] as
//! everywhere else: only the choice of the next step and the clock are
//! new.
//!
//! A call's latency runs from the input that starts it to the node's next
//! output. A call still open when the run ends, or whose node crashed, is
//! *unanswered*: it counts as slower than any bound.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::ctx::{Effects, TimerOp};
use crate::semantics::{Action, Model, Packet};
use crate::system::System;
use crate::violation::{check_world, Violation};

use super::{on_threads, FaultRates, SplitMix64, Tally};

/// Microseconds of simulated time.
pub type Micros = u64;

/// A latency range, drawn uniformly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Latency {
    /// The shortest latency.
    pub min: Micros,
    /// The longest latency.
    pub max: Micros,
}

impl Latency {
    /// A latency drawn from this range.
    fn draw(&self, rng: &mut SplitMix64) -> Micros {
        self.min + rng.below(self.max - self.min + 1)
    }
}

/// The latency of every link: one range, with overrides for some links
/// (by node index, sender first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Latencies {
    /// The range of links not overridden.
    pub default: Latency,
    /// Links with their own range.
    pub links: Vec<((usize, usize), Latency)>,
}

impl Latencies {
    fn of(&self, src: usize, dst: usize) -> Latency {
        self.links
            .iter()
            .find(|(l, _)| *l == (src, dst))
            .map_or(self.default, |(_, r)| *r)
    }
}

/// What a simulated-time run does.
#[derive(Debug, Clone)]
pub struct TimedOptions {
    /// Seeds of the runs, one run per seed.
    pub seeds: Range<u64>,
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    /// Link latencies.
    pub latency: Latencies,
    /// Runs end here, or earlier when nothing is left to happen.
    pub horizon: Micros,
    /// Steps per run at most.
    pub max_steps: usize,
    /// Drop and duplicate rates (the crash rate is not used: crashes come
    /// from the fault model's crash budget).
    pub rates: FaultRates,
    /// How long a crashed node stays down when the model restarts nodes.
    pub restart_after: Micros,
    /// The nodes (by index) a crash may hit; `None`: any.
    pub crash_targets: Option<Vec<usize>>,
}

/// One run in simulated time.
#[derive(Debug, Clone, Default)]
pub struct TimedRun {
    /// The latency of every answered call, in the order they completed.
    pub latencies: Vec<Micros>,
    /// Calls never answered.
    pub unanswered: usize,
    /// The invariant it violated, if it did (the run stops there).
    pub violation: Option<Violation>,
    /// The crashes it took: when, and which node (by name).
    pub crashes: Vec<(Micros, String)>,
    /// When it ended.
    pub ended: Micros,
    /// Whether it stopped at its step limit rather than at the horizon or
    /// with nothing left to happen.
    pub capped: bool,
    /// Steps it took.
    pub steps: usize,
}

/// A packet in flight with the time it is due.
struct Due<S: System> {
    packet: Packet<S>,
    at: Micros,
}

/// The run of `seed` in simulated time.
pub fn run_timed<S: System>(model: &Model<S>, seed: u64, options: &TimedOptions) -> TimedRun {
    let mut rng = SplitMix64::new(seed ^ 0x7134_e000_0000_0001);
    let mut run = TimedRun::default();
    let mut world = match model.init() {
        Ok(w) => w,
        Err(e) => {
            run.violation = Some(Violation::Step(e));
            return run;
        }
    };
    let mut evals = vec![0; S::meta().invariants.len()];
    if let Err(v) = check_world(&model.setup, &world, &mut evals) {
        run.violation = Some(v);
        return run;
    }
    let n = world.nodes.len();
    let nodes = model.setup.nodes();
    let mut flying: Vec<Due<S>> = world
        .network
        .packets()
        .iter()
        .map(|p| Due {
            packet: p.clone(),
            at: link_delay(model, options, p, &mut rng),
        })
        .collect();
    let mut deadlines: Vec<Vec<(usize, Micros)>> = vec![Vec::new(); n];
    let mut started: Vec<Option<Micros>> = world
        .nodes
        .iter()
        .map(|s| s.awaiting.then_some(0))
        .collect();
    let mut down_since: Vec<Option<Micros>> = vec![None; n];
    // The crash schedule: the budget's crashes at random times.
    let crashes = match model.faults.crash {
        crate::faults::Budget::Limited(k) => k as usize,
        crate::faults::Budget::Unlimited => 1,
        crate::faults::Budget::Off => 0,
    };
    let mut crash_at: Vec<Micros> = (0..crashes)
        .map(|_| rng.below(options.horizon.max(1)))
        .collect();
    crash_at.sort_unstable();
    let mut now: Micros = 0;
    let mut actions = Vec::new();
    let mut effects = Effects::default();
    run.capped = true;
    for _ in 0..options.max_steps {
        actions.clear();
        model.actions(&world, &mut actions);
        // When each enabled step is due; steps simulated time does not
        // draw (budgeted faults) are left out.
        let mut best: Option<(Micros, Action)> = None;
        let mut ties = 0u64;
        for &a in &actions {
            let due = match a {
                Action::Input { .. } => Some(now),
                Action::Deliver(j, _) => {
                    let p = &world.network.packets()[j];
                    due_of(&flying, p).or(Some(now))
                }
                Action::Timeout { node, timer, .. } => deadlines[node]
                    .iter()
                    .find(|(t, _)| *t == timer)
                    .map(|(_, at)| *at)
                    .or(Some(now)),
                Action::Drop(j) => forced(model, &world, j).then_some(now),
                Action::Restart(i) => down_since[i].map(|t| t + options.restart_after),
                _ => None,
            };
            let Some(due) = due else { continue };
            match best {
                Some((b, _)) if due > b => {}
                Some((b, _)) if due == b => {
                    ties += 1;
                    if rng.below(ties + 1) == 0 {
                        best = Some((due, a));
                    }
                }
                _ => {
                    ties = 0;
                    best = Some((due, a));
                }
            }
        }
        // A crash due before the next step comes first.
        let next_crash = crash_at.first().copied();
        let step_at = best.map(|(t, _)| t);
        let (at, action) = match (next_crash, step_at) {
            (Some(c), s) if s.is_none_or(|s| c <= s) && c <= options.horizon => {
                crash_at.remove(0);
                let up: Vec<usize> = (0..n)
                    .filter(|&i| world.nodes[i].up)
                    .filter(|i| options.crash_targets.as_ref().is_none_or(|t| t.contains(i)))
                    .collect();
                if up.is_empty() {
                    continue;
                }
                (c, Action::Crash(up[rng.below(up.len() as u64) as usize]))
            }
            (_, Some(s)) if s <= options.horizon => {
                let (_, a) = best.unwrap_or((s, Action::Heal));
                (s, rates_instead(&options.rates, a, &mut rng))
            }
            _ => {
                run.capped = false;
                break;
            }
        };
        now = now.max(at);
        let packet = match action {
            Action::Deliver(j, _) | Action::Drop(j) | Action::Duplicate(j) => {
                Some(world.network.packets()[j].clone())
            }
            _ => None,
        };
        let info = match model.apply(&mut world, action, &mut effects) {
            Ok(info) => info,
            Err(e) => {
                run.violation = Some(Violation::Step(e));
                run.capped = false;
                break;
            }
        };
        run.steps += 1;
        match (action, packet) {
            (Action::Duplicate(_), Some(p)) => {
                let at = now + link_delay(model, options, &p, &mut rng);
                flying.push(Due { packet: p, at });
            }
            (_, Some(p)) => take_due(&mut flying, &p),
            _ => {}
        }
        if let Action::Timeout { node, timer, .. } = action {
            deadlines[node].retain(|(t, _)| *t != timer);
        }
        if let Action::Crash(i) = action {
            run.crashes.push((now, nodes[i].to_string()));
            deadlines[i].clear();
            down_since[i] = Some(now);
            if started[i].take().is_some() {
                run.unanswered += 1;
            }
        }
        if let Action::Restart(i) = action {
            down_since[i] = None;
        }
        if let Some(i) = info.node {
            for (to, msg) in &effects.sends {
                let packet = Packet {
                    src: nodes[i],
                    dst: *to,
                    msg: msg.clone(),
                };
                let at = now + link_delay(model, options, &packet, &mut rng);
                flying.push(Due { packet, at });
            }
            for op in &effects.timers {
                let (t, set) = match op {
                    TimerOp::Set(t, d) => (S::timer_id(*t), Some(*d)),
                    TimerOp::Cancel(t) => (S::timer_id(*t), None),
                };
                deadlines[i].retain(|(x, _)| *x != t);
                if let Some(d) = set {
                    deadlines[i].push((t, now + d.as_micros() as Micros));
                }
            }
            if matches!(action, Action::Input { .. }) && world.nodes[i].awaiting {
                started[i] = Some(now);
            }
            if !effects.outputs.is_empty() {
                if let Some(s) = started[i].take() {
                    run.latencies.push(now - s);
                }
                if world.nodes[i].awaiting {
                    started[i] = Some(now);
                }
            }
        }
        if flying.len() > 2 * world.network.len() + 64 {
            let net = &world.network;
            flying.retain(|d| net.packets().contains(&d.packet));
        }
        if let Err(v) = check_world(&model.setup, &world, &mut evals) {
            run.violation = Some(v);
            run.capped = false;
            break;
        }
    }
    run.ended = now;
    run.unanswered += started.iter().filter(|s| s.is_some()).count();
    run
}

/// The delay of `p` on its link.
fn link_delay<S: System>(
    model: &Model<S>,
    options: &TimedOptions,
    p: &Packet<S>,
    rng: &mut SplitMix64,
) -> Micros {
    let src = model.setup.index_of(p.src).unwrap_or(0);
    let dst = model.setup.index_of(p.dst).unwrap_or(0);
    options.latency.of(src, dst).draw(rng)
}

/// When the earliest copy of `p` in flight is due.
fn due_of<S: System>(flying: &[Due<S>], p: &Packet<S>) -> Option<Micros> {
    flying.iter().filter(|d| d.packet == *p).map(|d| d.at).min()
}

/// Forgets the earliest copy of `p` in flight.
fn take_due<S: System>(flying: &mut Vec<Due<S>>, p: &Packet<S>) {
    let first = flying
        .iter()
        .enumerate()
        .filter(|(_, d)| d.packet == *p)
        .min_by_key(|(_, d)| d.at)
        .map(|(i, _)| i);
    if let Some(i) = first {
        flying.swap_remove(i);
    }
}

/// Whether the network forces the drop of packet `j` (its receiver is down
/// or across the partition).
fn forced<S: System>(model: &Model<S>, world: &crate::semantics::World<S>, j: usize) -> bool {
    let p = &world.network.packets()[j];
    match (model.setup.index_of(p.src), model.setup.index_of(p.dst)) {
        (Some(s), Some(d)) => world.across_partition(s, d) || !world.nodes[d].up,
        _ => true,
    }
}

/// A delivery, or the drop or duplicate the rates turn it into.
fn rates_instead(rates: &FaultRates, a: Action, rng: &mut SplitMix64) -> Action {
    rates.instead_of(a, rng)
}

/// Latencies over many runs, with their percentiles.
#[derive(Debug, Clone, Default)]
pub struct LatencyReport {
    /// Runs completed.
    pub runs: u64,
    /// Every answered call's latency, sorted.
    pub latencies: Vec<Micros>,
    /// Calls never answered (slower than any bound).
    pub unanswered: u64,
    /// The run with the slowest call (an unanswered one counts as
    /// slowest), with that run: the one to replay.
    pub worst: Option<(u64, TimedRun)>,
    /// The first run that violated an invariant, if any.
    pub violation: Option<(u64, TimedRun)>,
    /// Runs that stopped at their step limit before the horizon.
    pub capped: u64,
}

impl LatencyReport {
    /// Calls, answered or not.
    pub fn calls(&self) -> u64 {
        self.latencies.len() as u64 + self.unanswered
    }

    /// The `q`-quantile (0 < q <= 1) of call latency, by the nearest-rank
    /// method; `None` when it falls among the unanswered calls (or there
    /// are no calls).
    pub fn quantile(&self, q: f64) -> Option<Micros> {
        let calls = self.calls();
        if calls == 0 {
            return None;
        }
        let rank = ((q * calls as f64).ceil() as u64).clamp(1, calls);
        self.latencies.get(rank as usize - 1).copied()
    }
}

/// Runs every seed in simulated time on all threads and pools the calls'
/// latencies. The result does not depend on the number of threads.
pub fn simulate_timed<S: System>(model: &Model<S>, options: &TimedOptions) -> LatencyReport {
    simulate_timed_counted(model, options, &Tally::default())
}

/// [`simulate_timed`], counting into `tally` as it goes (for progress).
pub(crate) fn simulate_timed_counted<S: System>(
    model: &Model<S>,
    options: &TimedOptions,
    tally: &Tally,
) -> LatencyReport {
    let threads = match options.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let next = AtomicU64::new(options.seeds.start);
    let runs: Mutex<Vec<(u64, TimedRun)>> = Mutex::new(Vec::new());
    on_threads(threads, || loop {
        let seed = next.fetch_add(1, Ordering::Relaxed);
        if seed >= options.seeds.end || seed < options.seeds.start {
            break;
        }
        let run = run_timed(model, seed, options);
        tally.calls(&run.latencies, run.unanswered);
        tally.run(run.steps, run.violation.is_some());
        runs.lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((seed, run));
    });
    let mut runs = runs.into_inner().unwrap_or_else(|e| e.into_inner());
    runs.sort_by_key(|(s, _)| *s);
    let mut report = LatencyReport {
        runs: runs.len() as u64,
        ..LatencyReport::default()
    };
    let slowest = |r: &TimedRun| {
        if r.unanswered > 0 {
            Micros::MAX
        } else {
            r.latencies.iter().copied().max().unwrap_or(0)
        }
    };
    for (seed, run) in runs {
        report.latencies.extend(&run.latencies);
        report.unanswered += run.unanswered as u64;
        report.capped += run.capped as u64;
        if run.violation.is_some() && report.violation.is_none() {
            report.violation = Some((seed, run.clone()));
        }
        if report
            .worst
            .as_ref()
            .is_none_or(|(_, w)| slowest(&run) > slowest(w))
        {
            report.worst = Some((seed, run));
        }
    }
    report.latencies.sort_unstable();
    report
}

/// A service level: the `quantile` of call latency is below `bound`
/// (`p99<50ms`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sla {
    /// The quantile, e.g. 0.99.
    pub quantile: f64,
    /// The bound it must stay below.
    pub bound: Micros,
}

impl Sla {
    /// Whether `report` meets it.
    pub fn holds(&self, report: &LatencyReport) -> bool {
        report
            .quantile(self.quantile)
            .is_some_and(|l| l < self.bound)
    }
}

impl std::str::FromStr for Sla {
    type Err = String;

    /// `pQ<D`: `p99<50ms`, `p99.9<2s`, `p50<800us`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad =
            || format!("`{s}`: write a service level as pQ<DURATION, e.g. p99<50ms or p99.9<1s");
        let (q, d) = s.trim().split_once('<').ok_or_else(bad)?;
        let q: f64 = q
            .trim()
            .strip_prefix('p')
            .ok_or_else(bad)?
            .parse()
            .map_err(|_| bad())?;
        if !(q > 0.0 && q <= 100.0) {
            return Err(bad());
        }
        let bound = parse_micros(d).ok_or_else(bad)?;
        Ok(Sla {
            quantile: q / 100.0,
            bound,
        })
    }
}

impl std::fmt::Display for Sla {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "p{}<{}", self.quantile * 100.0, show_micros(self.bound))
    }
}

/// A duration written `250us`, `5ms` or `2s`, in microseconds.
pub fn parse_micros(text: &str) -> Option<Micros> {
    let t = text.trim();
    let (number, scale) = if let Some(n) = t.strip_suffix("us") {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix("ms") {
        (n, 1e3)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1e6)
    } else {
        return None;
    };
    let v: f64 = number.trim().parse().ok()?;
    (v.is_finite() && v >= 0.0 && v * scale < 1e15).then(|| (v * scale).round() as Micros)
}

/// A duration in microseconds as text, in the largest unit that keeps it
/// readable.
pub fn show_micros(us: Micros) -> String {
    if us >= 1_000_000 {
        format!("{}s", us as f64 / 1e6)
    } else if us >= 1_000 {
        format!("{}ms", us as f64 / 1e3)
    } else {
        format!("{us}us")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_levels_and_durations_parse() {
        let sla: Sla = "p99<50ms".parse().unwrap();
        assert_eq!(sla.bound, 50_000);
        assert!((sla.quantile - 0.99).abs() < 1e-12);
        assert_eq!(sla.to_string(), "p99<50ms");
        assert_eq!("p99.9<2s".parse::<Sla>().unwrap().bound, 2_000_000);
        for bad in ["99<5ms", "p0<5ms", "p101<5ms", "p99<5", "p99<-1ms", "p99"] {
            assert!(bad.parse::<Sla>().is_err(), "{bad}");
        }
        assert_eq!(parse_micros("250us"), Some(250));
        assert_eq!(show_micros(1_500), "1.5ms");
    }

    #[test]
    fn quantiles_count_unanswered_calls_as_slowest() {
        let report = LatencyReport {
            runs: 1,
            latencies: (1..=99).collect(),
            unanswered: 1,
            ..LatencyReport::default()
        };
        assert_eq!(report.quantile(0.5), Some(50));
        assert_eq!(report.quantile(0.99), Some(99));
        assert_eq!(report.quantile(1.0), None);
        let sla = Sla {
            quantile: 0.99,
            bound: 100,
        };
        assert!(sla.holds(&report));
        assert!(!Sla {
            quantile: 1.0,
            ..sla
        }
        .holds(&report));
    }
}
