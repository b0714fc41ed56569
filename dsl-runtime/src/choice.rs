//! Nondeterministic choice inside a handler: `ctx.choose(n)`.
//!
//! A handler whose footprint says `chooses` may ask for one of `n`
//! alternatives (vote yes or no, forward left or right). Nothing else in
//! the handler may be nondeterministic, so who answers decides the step:
//!
//! - the checker answers from a [`Branch`] carried by the step, and
//!   enumerates every branch of a choosing handler as its own step, so each
//!   alternative is explored like any other event;
//! - the runtime answers from a per-node random source and logs the answers
//!   with the event, so recovery replays exactly the step that happened.
//!
//! The answers are handed to [`crate::Ctx::choose`] through a per-thread
//! session opened around one dispatch ([`run`]); wrappers that run their
//! base's handlers inside their own need not pass anything along.

use std::cell::RefCell;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::rng::SplitMix64;

/// The most choices one step of the checker can make.
pub const MAX_CHOICES: usize = 8;
/// The most alternatives one choice can offer to the checker.
pub const MAX_ALTERNATIVES: usize = 256;

/// The checker's answers to the choices of one step, in order; a choice
/// past the ones recorded is answered 0. Packed in a word so a step stays
/// cheap to copy and compare.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Debug, Serialize, Deserialize)]
pub struct Branch(u64);

impl Branch {
    /// Every choice answered 0: the only branch of a step that chooses
    /// nothing.
    pub const FIRST: Branch = Branch(0);

    /// The answer to choice number `i` (0-based).
    pub fn get(self, i: usize) -> usize {
        if i >= MAX_CHOICES {
            0
        } else {
            (self.0 >> (8 * i) & 0xff) as usize
        }
    }

    /// This branch with choice `i` answered `value`, or `None` when that
    /// is beyond what a branch holds.
    pub fn with(self, i: usize, value: usize) -> Option<Branch> {
        (i < MAX_CHOICES && value < MAX_ALTERNATIVES).then(|| {
            let shift = 8 * i;
            Branch(self.0 & !(0xff << shift) | (value as u64) << shift)
        })
    }

    /// The branch answering `answers` in order, if it fits in one.
    pub fn of(answers: &[u32]) -> Option<Branch> {
        answers
            .iter()
            .enumerate()
            .try_fold(Branch::FIRST, |b, (i, &v)| b.with(i, v as usize))
    }
}

/// Why a step's choices could not be answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChoiceError {
    /// `choose(0)`: there is nothing to choose from.
    NoAlternatives,
    /// More than [`MAX_ALTERNATIVES`] alternatives in one choice.
    TooManyAlternatives(usize),
    /// More than [`MAX_CHOICES`] choices in one step.
    TooManyChoices,
    /// A choice while the initial world is built (the first input of a
    /// chained workload runs then): there is one initial world.
    WhileStarting,
    /// Replay: the log recorded other choices than the handler now makes.
    Diverged {
        /// The answers recorded.
        recorded: Vec<u32>,
        /// Which choice did not match.
        at: usize,
        /// How many alternatives the handler offered there.
        offered: usize,
    },
}

impl fmt::Display for ChoiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChoiceError::NoAlternatives => {
                write!(
                    f,
                    "`ctx.choose(0)` offers no alternative: offer at least one"
                )
            }
            ChoiceError::TooManyAlternatives(n) => write!(
                f,
                "`ctx.choose({n})` offers more than the {MAX_ALTERNATIVES} alternatives the \
                 checker explores in one choice: choose in steps (a choice of a range, then \
                 within it)"
            ),
            ChoiceError::TooManyChoices => write!(
                f,
                "the handler chose more than {MAX_CHOICES} times in one step, more than the \
                 checker explores: choose fewer times or over several steps"
            ),
            ChoiceError::WhileStarting => write!(
                f,
                "a handler chose while the initial world was built (the first input of a \
                 chained workload runs then), and there is only one initial world: start the \
                 chain with an input whose handler does not choose"
            ),
            ChoiceError::Diverged {
                recorded,
                at,
                offered,
            } => write!(
                f,
                "the log records the choices {recorded:?}, but replaying it the handler offers \
                 {offered} alternatives at choice {at}: the program is not the one that wrote \
                 the log, or a handler is not deterministic"
            ),
        }
    }
}

/// Who answers the choices of one dispatch.
#[derive(Clone, Debug)]
pub enum Source {
    /// The checker: answers from a branch.
    Branch(Branch),
    /// The runtime: answers drawn from this random source.
    Random(SplitMix64),
    /// Recovery: the answers logged when the step first ran.
    Replay(Vec<u32>),
}

/// What a dispatch chose.
#[derive(Clone, Debug, Default)]
pub struct Chosen {
    /// The answers given, in order.
    pub answers: Vec<u32>,
    /// How many alternatives each choice offered.
    pub offered: Vec<u32>,
    /// The first choice that could not be answered as asked.
    pub error: Option<ChoiceError>,
    /// The random source afterwards ([`Source::Random`]), to draw on next.
    pub random: Option<SplitMix64>,
}

struct Session {
    source: Source,
    chosen: Chosen,
}

thread_local! {
    static SESSION: RefCell<Option<Session>> = const { RefCell::new(None) };
}

/// Runs `f` (one dispatch) with its choices answered by `source`; returns
/// its result and what it chose. Sessions nest: an inner one is separate.
pub fn run<R>(source: Source, f: impl FnOnce() -> R) -> (R, Chosen) {
    let random = match &source {
        Source::Random(r) => Some(r.clone()),
        _ => None,
    };
    let session = Session {
        source,
        chosen: Chosen {
            random,
            ..Chosen::default()
        },
    };
    let outer = SESSION.with(|s| s.replace(Some(session)));
    // Restores the outer session even if `f` unwinds.
    struct Restore(Option<Option<Session>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(outer) = self.0.take() {
                SESSION.with(|s| *s.borrow_mut() = outer);
            }
        }
    }
    let mut restore = Restore(Some(outer));
    let result = f();
    let outer = restore.0.take().unwrap_or_default();
    let ours = SESSION.with(|s| s.replace(outer));
    (result, ours.map(|s| s.chosen).unwrap_or_default())
}

/// Answers one `choose(n)`: a value in `0..n` (0 when `n` is 0 or when no
/// session is open, as when a test calls a handler directly).
pub(crate) fn answer(n: usize) -> usize {
    SESSION.with(|s| {
        let mut s = s.borrow_mut();
        let Some(session) = s.as_mut() else {
            return 0;
        };
        let chosen = &mut session.chosen;
        let at = chosen.answers.len();
        let fail = |chosen: &mut Chosen, e: ChoiceError| {
            chosen.error.get_or_insert(e);
        };
        if n == 0 {
            fail(chosen, ChoiceError::NoAlternatives);
        }
        let value = match &session.source {
            Source::Branch(branch) => {
                if n > MAX_ALTERNATIVES {
                    fail(chosen, ChoiceError::TooManyAlternatives(n));
                }
                if at >= MAX_CHOICES {
                    fail(chosen, ChoiceError::TooManyChoices);
                }
                branch.get(at)
            }
            Source::Random(_) => match &mut chosen.random {
                Some(r) => r.below(n.max(1) as u64) as usize,
                None => 0,
            },
            Source::Replay(recorded) => match recorded.get(at) {
                Some(&v) if (v as usize) < n => v as usize,
                _ => {
                    let recorded = recorded.clone();
                    fail(
                        chosen,
                        ChoiceError::Diverged {
                            recorded,
                            at,
                            offered: n,
                        },
                    );
                    0
                }
            },
        };
        let value = if value < n { value } else { 0 };
        chosen.answers.push(value as u32);
        chosen.offered.push(n as u32);
        value
    })
}

/// Every branch of a step, found by running it (`step(branch)` returns what
/// that branch chose): the branch answering 0 everywhere first, then each
/// other answer of each choice met, depth first. A branch whose run fails
/// to choose is kept as it is, so taking it reports the failure.
pub fn branches(mut step: impl FnMut(Branch) -> Chosen, out: &mut Vec<Branch>) {
    let mut todo = vec![(Branch::FIRST, 0usize)];
    while let Some((branch, fixed)) = todo.pop() {
        let chosen = step(branch);
        out.push(branch);
        if chosen.error.is_some() {
            continue;
        }
        for (i, &offered) in chosen.offered.iter().enumerate().skip(fixed).rev() {
            for v in (1..offered as usize).rev() {
                if let Some(b) = branch.with(i, v) {
                    todo.push((b, i + 1));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A step choosing among 3, then (after answer 2) among 2 more.
    fn step(branch: Branch) -> Chosen {
        run(Source::Branch(branch), || {
            let a = answer(3);
            let b = if a == 2 { answer(2) } else { 0 };
            (a, b)
        })
        .1
    }

    #[test]
    fn every_branch_of_a_dependent_choice_is_enumerated_once() {
        let mut out = Vec::new();
        branches(step, &mut out);
        let mut seen: Vec<(usize, usize)> = out.iter().map(|b| (b.get(0), b.get(1))).collect();
        seen.sort();
        assert_eq!(seen, vec![(0, 0), (1, 0), (2, 0), (2, 1)]);
    }

    #[test]
    fn a_step_without_choices_has_one_branch() {
        let mut out = Vec::new();
        branches(|b| run(Source::Branch(b), || ()).1, &mut out);
        assert_eq!(out, vec![Branch::FIRST]);
    }

    #[test]
    fn limits_are_reported_not_truncated() {
        let ((), c) = run(Source::Branch(Branch::FIRST), || {
            answer(MAX_ALTERNATIVES + 1);
        });
        assert_eq!(c.error, Some(ChoiceError::TooManyAlternatives(257)));
        let ((), c) = run(Source::Branch(Branch::FIRST), || {
            answer(0);
        });
        assert_eq!(c.error, Some(ChoiceError::NoAlternatives));
        let ((), c) = run(Source::Branch(Branch::FIRST), || {
            for _ in 0..=MAX_CHOICES {
                answer(2);
            }
        });
        assert_eq!(c.error, Some(ChoiceError::TooManyChoices));
    }

    #[test]
    fn replay_gives_the_logged_answers_and_notices_divergence() {
        let (v, c) = run(Source::Replay(vec![1, 4]), || (answer(2), answer(5)));
        assert_eq!(v, (1, 4));
        assert!(c.error.is_none());
        let (_, c) = run(Source::Replay(vec![3]), || answer(2));
        assert!(matches!(c.error, Some(ChoiceError::Diverged { at: 0, .. })));
    }

    #[test]
    fn random_answers_stay_in_range_and_advance_the_source() {
        let start = SplitMix64::new(7);
        let (vs, c) = run(Source::Random(start.clone()), || {
            (0..100).map(|_| answer(3)).collect::<Vec<_>>()
        });
        assert!(vs.iter().all(|&v| v < 3));
        assert!(vs.contains(&0) && vs.contains(&1) && vs.contains(&2));
        assert_eq!(c.answers.len(), 100);
        // The source moved on: the next draws differ from the first ones.
        let (again, _) = run(Source::Random(c.random.unwrap()), || {
            (0..100).map(|_| answer(3)).collect::<Vec<_>>()
        });
        assert_ne!(vs, again);
        let (same, _) = run(Source::Random(start), || {
            (0..100).map(|_| answer(3)).collect::<Vec<_>>()
        });
        assert_eq!(vs, same, "a source replays from its state");
    }

    #[test]
    fn sessions_nest_and_close() {
        let ((inner, outer_answer), outer) = run(Source::Branch(Branch::of(&[1]).unwrap()), || {
            let inner = run(Source::Branch(Branch::FIRST), || answer(2)).1;
            (inner, answer(2))
        });
        assert_eq!(inner.answers, vec![0]);
        assert_eq!(outer_answer, 1);
        assert_eq!(outer.answers, vec![1]);
        assert_eq!(answer(2), 0, "no session once closed");
    }
}
