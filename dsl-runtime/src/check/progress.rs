//! What a running check reports to [`crate::progress`]: unique states, the
//! depth reached, peak memory, what the search holds against its memory
//! budget, and once breadth-first search has three whole levels a size
//! [`Forecast`] extrapolated from their growth.

use std::fmt;

use crate::check::memory::format_bytes;
use crate::check::stats::peak_rss_bytes;
use crate::numbers::thousands;
use crate::progress::Sample;

/// Whole levels a forecast needs: two ratios of growth.
const FORECAST_LEVELS: usize = 3;
/// A level ratio under this counts as shrinking (a finite tail).
const SHRINKING: f64 = 0.95;
/// Levels a growing forecast looks ahead at most.
const LOOK_AHEAD: usize = 1000;

/// One look at a running search.
pub(crate) struct CheckSample {
    /// Unique states so far.
    pub unique: u64,
    /// `--max-states`, when given.
    pub bound: Option<u64>,
    /// The deepest depth reached.
    pub depth: usize,
    /// What the search holds by its own account, and its budget
    /// (`u64::MAX`: none).
    pub held: u64,
    pub budget: u64,
    /// New states at each whole breadth-first level (empty depth first).
    pub levels: Vec<u64>,
}

impl CheckSample {
    /// As the progress display takes it.
    pub fn sample(&self) -> Sample {
        let mut detail = format!(
            "depth {}, peak memory {} MiB",
            self.depth,
            peak_rss_bytes().unwrap_or(0) >> 20
        );
        if self.budget != u64::MAX {
            detail += &format!(
                ", holds {} of {}",
                format_bytes(self.held),
                format_bytes(self.budget)
            );
        }
        let per_state = self.held as f64 / self.unique.max(1) as f64;
        if let Some(f) = forecast(&self.levels, per_state, self.budget) {
            detail += &format!("; {f}");
        }
        Sample {
            done: self.unique,
            total: self.bound,
            unit: "unique states",
            counted: self.unique,
            rate_unit: "",
            detail,
        }
    }
}

/// How big a breadth-first state space may be, extrapolated from the
/// growth of its last whole levels: a guess, said to be one wherever it is
/// shown.
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    /// Whole levels it was drawn from.
    pub levels: usize,
    /// The growth from level to level (geometric mean of the last two
    /// ratios).
    pub ratio: f64,
    /// What the extrapolation says.
    pub shape: Shape,
}

/// The two outcomes of a [`Forecast`].
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// The levels shrink: a geometric tail gives the whole space.
    Finite {
        /// States in all (the levels so far, the initial state and the
        /// tail).
        states: u64,
        /// Those states at the bytes a state cost so far.
        bytes: u64,
        /// Whether that fits the budget (`None`: no budget).
        fits: Option<bool>,
    },
    /// The levels still grow, stay flat or have not passed their peak:
    /// no end in sight yet.
    Growing {
        /// The next level's states at this growth.
        next_level: u64,
        /// More levels until the budget is full at this growth and cost a
        /// state (`None`: no budget, or not within the look-ahead).
        levels_to_budget: Option<usize>,
    },
}

/// The forecast for whole breadth-first `levels` (new states at depth 1,
/// 2, ...), at `per_state` bytes a state against `budget` (`u64::MAX`:
/// none); `None` before three whole levels or when a level is
/// empty.
///
/// The growth a level is taken over the last four levels, two against
/// two (state spaces often alternate between odd and even depths), or
/// over three at first. A total is extrapolated only once the levels
/// shrink and the last is past the largest: before its peak, a space's
/// growth slows in ways a few levels cannot tell, so the forecast then
/// says only what continued growth would cost.
pub fn forecast(levels: &[u64], per_state: f64, budget: u64) -> Option<Forecast> {
    let n = levels.len();
    if n < FORECAST_LEVELS || levels[n - 3] == 0 {
        return None;
    }
    let last = levels[n - 1] as f64;
    let ratio = if n >= 4 {
        let (recent, before) = (levels[n - 1] + levels[n - 2], levels[n - 3] + levels[n - 4]);
        (recent as f64 / before as f64).sqrt()
    } else {
        (last / levels[n - 3] as f64).sqrt()
    };
    let known = 1.0 + levels.iter().sum::<u64>() as f64;
    let past_peak = levels.iter().any(|&l| l > levels[n - 1]);
    let shape = if ratio < SHRINKING && past_peak {
        let states = known + last * ratio / (1.0 - ratio);
        let bytes = states * per_state;
        Shape::Finite {
            states: states as u64,
            bytes: bytes as u64,
            fits: (budget != u64::MAX).then_some(bytes <= budget as f64),
        }
    } else {
        let mut levels_to_budget = None;
        if budget != u64::MAX && per_state > 0.0 {
            let room = budget as f64 / per_state;
            let (mut total, mut level) = (known, last);
            for k in 1..=LOOK_AHEAD {
                level *= ratio;
                total += level;
                if total >= room {
                    levels_to_budget = Some(k);
                    break;
                }
            }
        }
        Shape::Growing {
            next_level: (last * ratio) as u64,
            levels_to_budget,
        }
    };
    Some(Forecast {
        levels: n,
        ratio,
        shape,
    })
}

impl fmt::Display for Forecast {
    /// `forecast (extrapolated from x0.62 a level over 9 levels): ~12,345
    /// states, ~3.1 MiB, fits the budget`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "forecast (extrapolated from x{:.2} a level over {} levels): ",
            self.ratio, self.levels
        )?;
        match &self.shape {
            Shape::Finite {
                states,
                bytes,
                fits,
            } => {
                write!(
                    f,
                    "~{} states in all, ~{}",
                    thousands(*states),
                    format_bytes(*bytes)
                )?;
                match fits {
                    Some(true) => write!(f, ", fits the budget"),
                    Some(false) => write!(f, ", over the budget"),
                    None => Ok(()),
                }
            }
            Shape::Growing {
                next_level,
                levels_to_budget,
            } => {
                write!(
                    f,
                    "no end in sight yet, next level ~{}",
                    thousands(*next_level)
                )?;
                match levels_to_budget {
                    Some(k) => write!(f, ", budget full in ~{k} more levels at this growth"),
                    None => Ok(()),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_forecast_before_three_levels() {
        assert_eq!(forecast(&[], 100.0, u64::MAX), None);
        assert_eq!(forecast(&[4, 10], 100.0, u64::MAX), None);
        assert!(forecast(&[4, 10, 20], 100.0, u64::MAX).is_some());
    }

    #[test]
    fn a_halving_tail_adds_as_much_again_as_the_last_level() {
        // 1 + 1000 + 500 + 250 whole levels, then 125 + 62.5 + ... = 250.
        let f = forecast(&[1000, 500, 250], 10.0, 30_000).unwrap();
        assert!((f.ratio - 0.5).abs() < 1e-9);
        assert_eq!(
            f.shape,
            Shape::Finite {
                states: 2001,
                bytes: 20_010,
                fits: Some(true)
            }
        );
        let over = forecast(&[1000, 500, 250], 10.0, 10_000).unwrap();
        assert!(matches!(
            over.shape,
            Shape::Finite {
                fits: Some(false),
                ..
            }
        ));
        assert!(over
            .to_string()
            .starts_with("forecast (extrapolated from x0.50"));
        // Four levels: the growth is two levels against the two before.
        let f = forecast(&[1600, 800, 400, 200], 1.0, u64::MAX).unwrap();
        assert!((f.ratio - 0.5).abs() < 1e-9, "{}", f.ratio);
    }

    #[test]
    fn alternating_levels_and_a_last_level_at_the_peak_give_no_total() {
        // Odd and even depths alternate: two against two sees no shrinking.
        let f = forecast(&[100, 400, 100, 400, 100], 1.0, u64::MAX).unwrap();
        assert!(matches!(f.shape, Shape::Growing { .. }), "{f}");
        // Shrinking two against two, but the last level is the largest yet.
        let f = forecast(&[5000, 5000, 10, 5001], 1.0, u64::MAX).unwrap();
        assert!(f.ratio < SHRINKING);
        assert!(matches!(f.shape, Shape::Growing { .. }), "{f}");
    }

    #[test]
    fn doubling_levels_fill_the_budget_at_the_level_that_passes_it() {
        // Known 1 + 1 + 2 + 4 = 8; then 8 (16), 16 (32), 32 (64), 64 (128).
        let f = forecast(&[1, 2, 4], 1.0, 100).unwrap();
        assert_eq!(
            f.shape,
            Shape::Growing {
                next_level: 8,
                levels_to_budget: Some(4)
            }
        );
        let unbounded = forecast(&[1, 2, 4], 1.0, u64::MAX).unwrap();
        assert!(matches!(
            unbounded.shape,
            Shape::Growing {
                levels_to_budget: None,
                ..
            }
        ));
        assert!(unbounded.to_string().contains("no end in sight yet"));
    }
}
