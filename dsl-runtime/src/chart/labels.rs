//! Where a chart's labels go: each one at the first of its candidate
//! positions that overlaps no label or mark placed before it.
//!
//! Text sizes are estimated from the number of characters (an upper bound
//! for the sans-serif fonts browsers use at these sizes); the browser test
//! measures the real boxes in Chromium and fails if two of them touch.

/// An axis-aligned box in SVG user units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rect {
    pub x0: f64,
    pub y0: f64,
    pub x1: f64,
    pub y1: f64,
}

impl Rect {
    /// The box of radius `r` around a point.
    pub fn around(x: f64, y: f64, r: f64) -> Rect {
        Rect {
            x0: x - r,
            y0: y - r,
            x1: x + r,
            y1: y + r,
        }
    }

    /// The area this box shares with `other` (0 when they are apart).
    fn overlap(&self, other: &Rect) -> f64 {
        let w = self.x1.min(other.x1) - self.x0.max(other.x0);
        let h = self.y1.min(other.y1) - self.y0.max(other.y0);
        if w > 0.0 && h > 0.0 {
            w * h
        } else {
            0.0
        }
    }
}

/// How a label's x relates to its text (SVG `text-anchor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    pub fn attr(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// One possible position: the text's anchor point (x, baseline y).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Spot {
    pub x: f64,
    pub y: f64,
    pub anchor: Anchor,
}

/// The font size of labels, in pixels.
pub(crate) const LABEL_SIZE: f64 = 11.0;
/// Room kept free around each label.
const PAD: f64 = 1.5;

/// The estimated box of `text` at `spot`.
pub(crate) fn text_box(text: &str, spot: Spot) -> Rect {
    // Wide enough for DejaVu Sans and Liberation Sans at 11px, whose widest
    // common glyphs (capitals, `m`, `w`) average below 0.65 em.
    let w = text.chars().count() as f64 * LABEL_SIZE * 0.64;
    let x0 = match spot.anchor {
        Anchor::Start => spot.x,
        Anchor::Middle => spot.x - w / 2.0,
        Anchor::End => spot.x - w,
    };
    Rect {
        x0: x0 - PAD,
        y0: spot.y - LABEL_SIZE * 0.8 - PAD,
        x1: x0 + w + PAD,
        y1: spot.y + LABEL_SIZE * 0.25 + PAD,
    }
}

/// The boxes taken so far.
#[derive(Debug, Default)]
pub(crate) struct Placer {
    taken: Vec<Rect>,
}

impl Placer {
    /// Marks a box as taken (a mark drawn on the chart).
    pub fn block(&mut self, r: Rect) {
        self.taken.push(r);
    }

    /// Puts `text` at the first spot that overlaps nothing taken, or else
    /// the one that overlaps least, and takes its box. `spots` must not be
    /// empty.
    pub fn place(&mut self, text: &str, spots: &[Spot]) -> Spot {
        let mut best = (f64::INFINITY, spots[0]);
        for &spot in spots {
            let b = text_box(text, spot);
            let cost: f64 = self.taken.iter().map(|t| t.overlap(&b)).sum();
            if cost < best.0 {
                best = (cost, spot);
                if cost == 0.0 {
                    break;
                }
            }
        }
        self.taken.push(text_box(text, best.1));
        best.1
    }

    /// The right edge of everything taken, to size the drawing.
    pub fn right_edge(&self) -> f64 {
        self.taken.iter().map(|r| r.x1).fold(0.0, f64::max)
    }
}

/// Spots around a mark at (x, y): right above, right below, left above,
/// left below; `below_first` tries the two below first.
pub(crate) fn around_mark(x: f64, y: f64, gap: f64, below_first: bool) -> Vec<Spot> {
    let above = [
        Spot {
            x: x + gap,
            y: y - 5.0,
            anchor: Anchor::Start,
        },
        Spot {
            x: x - gap,
            y: y - 5.0,
            anchor: Anchor::End,
        },
    ];
    let below = [
        Spot {
            x: x + gap,
            y: y + 13.0,
            anchor: Anchor::Start,
        },
        Spot {
            x: x - gap,
            y: y + 13.0,
            anchor: Anchor::End,
        },
    ];
    let (first, second) = if below_first {
        (below, above)
    } else {
        (above, below)
    };
    vec![first[0], second[0], first[1], second[1]]
}

/// Spots along the segment from `a` to `b`, nearest its middle first, each
/// just above the line and then just below it.
pub(crate) fn along(a: (f64, f64), b: (f64, f64)) -> Vec<Spot> {
    let mut out = Vec::new();
    for t in [0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8, 0.12, 0.88] {
        let (x, y) = (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1));
        for dy in [-4.0, 12.0] {
            out.push(Spot {
                x,
                y: y + dy,
                anchor: Anchor::Middle,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_of_crossing_arrows_do_not_share_the_crossing() {
        // Two arrows crossing at their common midpoint (100, 100).
        let mut p = Placer::default();
        let a = p.place("Grant", &along((0.0, 50.0), (200.0, 150.0)));
        let b = p.place("Grant", &along((0.0, 150.0), (200.0, 50.0)));
        assert_eq!((a.x, a.y), (100.0, 96.0));
        let (ra, rb) = (text_box("Grant", a), text_box("Grant", b));
        assert_eq!(ra.overlap(&rb), 0.0, "{ra:?} {rb:?}");
    }

    #[test]
    fn a_label_steps_aside_for_a_mark() {
        let mut p = Placer::default();
        p.block(Rect::around(110.0, 95.0, 6.0));
        let s = p.place("input Lock", &around_mark(100.0, 100.0, 7.0, false));
        assert_eq!(s.anchor, Anchor::Start);
        assert_eq!(s.y, 113.0, "moved below the mark");
    }
}
