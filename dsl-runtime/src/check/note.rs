//! What a check says about how it ran: which reductions it used, which it
//! left out and why, and what the payoff sample decided. Notes are typed so
//! that callers (and tests) ask "was symmetry on?" without parsing the
//! sentence the report prints.

use std::fmt;

/// One thing a check reports about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// What it is about.
    pub topic: Topic,
    /// What became of it.
    pub status: Status,
    /// The particulars, in words (empty when there are none).
    pub detail: String,
}

/// What a [`Note`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// Symmetry reduction.
    Symmetry,
    /// Static partial-order reduction.
    PartialOrder,
    /// Dynamic partial-order reduction.
    DynamicPartialOrder,
    /// Re-evaluating only the invariants a step can affect.
    IncrementalInvariants,
    /// The model's rule for messages that may be dropped unread.
    IgnoreRule,
    /// The sampled decision on which reductions pay.
    Payoff,
}

/// What became of a [`Topic`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Used.
    On,
    /// Not used; the detail says why.
    Off,
    /// Checked at every step instead of used (the ignore rule's audit).
    Audited,
    /// Used, except for what the detail names.
    NotFor,
    /// Started, then abandoned for a reason the detail gives; the search
    /// ran again without it.
    GivenUp,
    /// Used, but something could not be handled (the detail says what), so
    /// it merged fewer states.
    Weakened,
    /// Judged on the sample to pay; kept.
    Pays,
    /// Judged on the sample not to pay; switched off.
    DoesNotPay,
    /// The space fit the sample: what the reductions saved on it.
    Saved,
    /// The sample decided; the detail says how large and how long.
    Judged,
    /// The sample was too shallow to decide; every reduction asked for is on.
    NotJudged,
    /// The sample search without the costly reductions found the violation.
    FoundBySample,
}

impl Note {
    /// A note with particulars.
    pub fn new(topic: Topic, status: Status, detail: impl Into<String>) -> Self {
        Note {
            topic,
            status,
            detail: detail.into(),
        }
    }

    /// Whether this note says `topic` has `status`.
    pub fn is(&self, topic: Topic, status: Status) -> bool {
        self.topic == topic && self.status == status
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Topic::Symmetry => "symmetry",
            Topic::PartialOrder => "partial-order reduction",
            Topic::DynamicPartialOrder => "dynamic partial-order reduction",
            Topic::IncrementalInvariants => "incremental invariants",
            Topic::IgnoreRule => "ignore rule",
            Topic::Payoff => "payoff",
        })
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.detail;
        let in_parens = |word: &str| {
            if d.is_empty() {
                word.to_string()
            } else {
                format!("{word} ({d})")
            }
        };
        let said = match self.status {
            Status::On => in_parens("on"),
            Status::Off => in_parens("off"),
            Status::Audited => in_parens("audited"),
            Status::Weakened => in_parens("weakened"),
            Status::NotFor => format!("not for {d}"),
            Status::GivenUp => format!("given up ({d}); searched again without it"),
            Status::Pays => format!("pays on a sample — {d}"),
            Status::DoesNotPay => format!("off: it does not pay on a sample — {d}"),
            Status::Saved => d.clone(),
            Status::Judged => format!("judged on samples of {d}"),
            Status::NotJudged => {
                format!("not judged ({d}); every reduction asked for is on")
            }
            Status::FoundBySample => format!(
                "found by the sample search without symmetry and partial-order reduction ({d})"
            ),
        };
        write!(f, "{}: {said}", self.topic)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_print_as_the_report_words_them() {
        let cases = [
            (
                Note::new(Topic::Symmetry, Status::On, "Client x3"),
                "symmetry: on (Client x3)",
            ),
            (
                Note::new(Topic::PartialOrder, Status::On, ""),
                "partial-order reduction: on",
            ),
            (
                Note::new(
                    Topic::Symmetry,
                    Status::NotFor,
                    "Server: a field names nodes",
                ),
                "symmetry: not for Server: a field names nodes",
            ),
            (
                Note::new(Topic::Payoff, Status::NotJudged, "too few levels"),
                "payoff: not judged (too few levels); every reduction asked for is on",
            ),
        ];
        for (note, text) in cases {
            assert_eq!(note.to_string(), text);
        }
        let off = Note::new(Topic::IgnoreRule, Status::Off, "x");
        assert!(off.is(Topic::IgnoreRule, Status::Off));
        assert!(!off.is(Topic::IgnoreRule, Status::On));
    }
}
