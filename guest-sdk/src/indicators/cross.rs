use serde::{Deserialize, Serialize};

/// Which way one series crossed another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cross {
    /// `a` went from at-or-below `b` to above it.
    Above,
    /// `a` went from at-or-above `b` to below it.
    Below,
}

/// Detects crossovers of two series fed together, bar by bar, such as a
/// fast and a slow average.
///
/// Equality counts as either side: `a` moving from equal to `b` to above it
/// reports [`Cross::Above`], whether it came from below or only touched `b`
/// from above (and likewise for [`Cross::Below`]). A NaN in either series
/// reports nothing on that bar and the next one, so a cross that happens
/// across a NaN is not reported.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CrossDetector {
    prev_diff: Option<f64>,
}

impl CrossDetector {
    /// A detector that has seen nothing yet; the first [`update`] never
    /// reports a cross.
    ///
    /// [`update`]: CrossDetector::update
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the current values of both series; returns the cross this bar
    /// completed, if any. Start once both series have values (both averages
    /// warmed up): the first call only records which side `a` is on.
    pub fn update(&mut self, a: f64, b: f64) -> Option<Cross> {
        let diff = a - b;
        let cross = match self.prev_diff {
            Some(prev) if prev <= 0.0 && diff > 0.0 => Some(Cross::Above),
            Some(prev) if prev >= 0.0 && diff < 0.0 => Some(Cross::Below),
            _ => None,
        };
        self.prev_diff = Some(diff);
        cross
    }
}

/// The first update only records which side `a` is on: a cross can come
/// from the second on.
impl super::WarmUp for CrossDetector {
    fn warmup_bars(&self) -> u32 {
        2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_each_cross_once() {
        let mut c = CrossDetector::new();
        assert_eq!(c.update(1.0, 2.0), None);
        assert_eq!(c.update(3.0, 2.0), Some(Cross::Above));
        assert_eq!(c.update(4.0, 2.0), None);
        assert_eq!(c.update(2.0, 2.0), None);
        assert_eq!(c.update(1.0, 2.0), Some(Cross::Below));
    }

    // Both as the type's docs describe them.
    #[test]
    fn a_touch_from_above_counts_and_a_nan_hides_the_cross_after_it() {
        let mut c = CrossDetector::new();
        assert_eq!(c.update(3.0, 2.0), None);
        assert_eq!(c.update(2.0, 2.0), None);
        assert_eq!(c.update(3.0, 2.0), Some(Cross::Above));
        assert_eq!(c.update(f64::NAN, 2.0), None);
        assert_eq!(c.update(1.0, 2.0), None);
        assert_eq!(c.update(3.0, 2.0), Some(Cross::Above));
    }
}
