//! Reductions that pay for themselves.
//!
//! Symmetry and partial-order reduction cost time on every state: symmetry
//! builds, renames and rehashes every successor instead of probing it in
//! place, and rules out the dynamic partial-order reduction; the dynamic
//! reduction runs on one thread, copies every world and keeps a summary
//! per state; the static one tracks discovery depths. Where they merge or
//! prune little, a search with them is slower and bigger than one without.
//!
//! So a check asked to judge them ([`Reductions::payoff_sample`] states)
//! first runs as asked on that many states. A space that fits is the whole
//! answer, and the summary says how many states the reductions saved
//! against a plain search of the same space. A larger space is sampled: a
//! breadth-first search without symmetry and partial-order reduction runs
//! to the sample's size, which fixes a depth `d` it completed; then each
//! reduction alone searches to depth `d`. One that keeps more than half of
//! the plain search's states does not pay ([`PAYS_IF_KEPT`]) and the real
//! search runs without it; the summary says which, and what each kept.
//!
//! The decision counts states, not seconds, so it is the same on every
//! machine and every run. Searches to a depth bound slightly favour the
//! partial-order reductions (a state first met deep is not searched again
//! from a shallower path), so a reduction judged not to pay surely does
//! not. Every search here is a complete search with a fixed set of
//! reductions, so switching one off cannot change a verdict.

use std::time::Instant;

use crate::check::note::{Note, Status, Topic};
use crate::check::{thousands, Bound, CheckOptions, Outcome, Reductions, Report, Strategy};
use crate::semantics::Model;
use crate::system::System;

/// A reduction pays when, to the sample's depth, it keeps at most this
/// share of the states a search without it has.
pub const PAYS_IF_KEPT: f64 = 0.5;

/// Whether `options` ask for the reductions to be judged: a sample size
/// and a reduction that can cost more than it saves.
pub(crate) fn applies(options: &CheckOptions) -> bool {
    let r = options.reductions;
    r.payoff_sample > 0
        && (r.symmetry || r.por || r.dynamic_por)
        && options.max_states.is_none_or(|m| m > r.payoff_sample)
}

/// The check `options` ask for, with the reductions that pay.
pub(crate) fn run<S: System>(model: &Model<S>, options: &CheckOptions) -> Report<S> {
    let started = Instant::now();
    let sample = options.reductions.payoff_sample;
    let mut asked = options.clone();
    asked.reductions.payoff_sample = 0;
    let quiet = |max_states: u64, max_depth: Option<usize>, reductions: Reductions| {
        let mut o = asked.clone();
        o.max_states = Some(max_states);
        o.max_depth = min_depth(options.max_depth, max_depth);
        o.reductions = reductions;
        o.progress = crate::progress::Shown::Off;
        o
    };
    let costly_off = Reductions {
        symmetry: false,
        por: false,
        dynamic_por: false,
        ..asked.reductions
    };

    // The search as asked, on the sample: the whole answer when it fits.
    let first = super::explore::search(model, &quiet(sample, None, asked.reductions));
    if !cut_by(&first, sample) {
        let mut report = first;
        let r = report.stats.reductions;
        if report.passed() && (r.symmetry || r.por || r.dynamic_por) {
            let plain = super::explore::search(model, &quiet(sample, None, costly_off));
            report.stats.notes.push(saved_note(&report, &plain, sample));
        }
        report.stats.elapsed = started.elapsed();
        return report;
    }
    let used = first.stats.reductions;
    drop(first);

    // Breadth first without them, to the sample's size: the depth it
    // completed, and its states to that depth.
    let mut plain_opts = quiet(sample, None, costly_off);
    plain_opts.strategy = Strategy::Bfs;
    let plain = super::explore::search(model, &plain_opts);
    if !plain.passed() {
        // A violation within the sample: the answer, with a shortest
        // counterexample.
        let mut report = plain;
        report.stats.notes.push(Note::new(
            Topic::Payoff,
            Status::FoundBySample,
            format!("{} states", thousands(sample)),
        ));
        report.stats.elapsed = started.elapsed();
        return report;
    }
    let levels = &plain.stats.levels;
    let depth = levels.len().saturating_sub(1);
    let base = 1 + levels[..depth].iter().sum::<u64>();
    if plain.exhausted() {
        // Cannot happen short of a fingerprint clash (the reductions keep
        // fewer states, not more), but a complete search is an answer.
        let mut report = plain;
        report.stats.elapsed = started.elapsed();
        return report;
    }
    if depth < 2 || !cut_by(&plain, sample) {
        let mut report = super::explore::search(model, &asked);
        report.stats.notes.push(Note::new(
            Topic::Payoff,
            Status::NotJudged,
            "the sample reached too few levels",
        ));
        report.stats.elapsed = started.elapsed();
        return report;
    }

    // Each reduction alone to that depth.
    let mut chosen = asked.reductions;
    // A role the self-check refused stays refused.
    chosen.symmetry &= used.symmetry;
    let mut notes = Vec::new();
    let judge = |topic: Topic, alone: Reductions, notes: &mut Vec<Note>| -> bool {
        let kept = super::explore::search(model, &quiet(base * 2, Some(depth), alone))
            .stats
            .unique;
        let share = kept as f64 / base as f64;
        let pays = share <= PAYS_IF_KEPT;
        let status = if pays {
            Status::Pays
        } else {
            Status::DoesNotPay
        };
        let detail = format!(
            "to depth {depth} it kept {} of {} states ({:.1}%; a reduction pays when it keeps at most {:.0}%)",
            thousands(kept),
            thousands(base),
            share * 100.0,
            PAYS_IF_KEPT * 100.0
        );
        notes.push(Note::new(topic, status, detail));
        pays
    };
    if used.symmetry {
        let alone = Reductions {
            symmetry: true,
            ..costly_off
        };
        chosen.symmetry = judge(Topic::Symmetry, alone, &mut notes);
    }
    if used.por || used.dynamic_por || asked.reductions.dynamic_por {
        // The partial-order reduction the final search would use: the
        // dynamic one needs symmetry off.
        let dynamic = asked.reductions.dynamic_por && !chosen.symmetry;
        let alone = Reductions {
            por: asked.reductions.por,
            dynamic_por: dynamic,
            ..costly_off
        };
        if alone.por || alone.dynamic_por {
            let topic = if dynamic {
                Topic::DynamicPartialOrder
            } else {
                Topic::PartialOrder
            };
            if !judge(topic, alone, &mut notes) {
                chosen.por = false;
                chosen.dynamic_por = false;
            }
        }
    }
    drop(plain);
    let spent = started.elapsed();
    let mut final_opts = asked.clone();
    final_opts.reductions = chosen;
    let mut report = super::explore::search(model, &final_opts);
    notes.push(Note::new(
        Topic::Payoff,
        Status::Judged,
        format!("{} states in {spent:.2?}", thousands(sample)),
    ));
    notes.append(&mut report.stats.notes);
    report.stats.notes = notes;
    report.stats.elapsed = started.elapsed();
    report
}

/// The smaller of two optional depth bounds.
fn min_depth(a: Option<usize>, b: Option<usize>) -> Option<usize> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// Whether `report` stopped only because it reached `sample` states.
fn cut_by<S: System>(report: &Report<S>, sample: u64) -> bool {
    matches!(
        report.outcome,
        Outcome::Bounded {
            bound: Bound::States
        }
    ) && report.stats.unique >= sample
}

/// What the reductions saved on a space that fit the sample: the states
/// of a plain search of it against theirs.
fn saved_note<S: System>(reduced: &Report<S>, plain: &Report<S>, sample: u64) -> Note {
    let kept = reduced.stats.unique;
    let same_bounds = std::mem::discriminant(&plain.outcome)
        == std::mem::discriminant(&reduced.outcome)
        && !matches!(plain.outcome, Outcome::MemoryBound { .. });
    let detail = if same_bounds && !cut_by(plain, sample) {
        let all = plain.stats.unique.max(1);
        format!(
            "the reductions kept {} of the {} states a search without symmetry and partial-order reduction explores ({:.1}%)",
            thousands(kept),
            thousands(all),
            kept as f64 * 100.0 / all as f64
        )
    } else if cut_by(plain, sample) {
        format!(
            "the reductions kept {} states; a search without symmetry and partial-order reduction explores more than {}",
            thousands(kept),
            thousands(sample)
        )
    } else {
        format!(
            "the reductions kept {} states (a search without them ended before comparing)",
            thousands(kept)
        )
    };
    Note::new(Topic::Payoff, Status::Saved, detail)
}
