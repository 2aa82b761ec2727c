use serde::{Deserialize, Serialize};

/// Which way one series crossed another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cross {
    /// `a` went from at-or-below `b` to above it.
    Above,
    /// `a` went from at-or-above `b` to below it.
    Below,
}

/// Detects crossovers of two series fed together, bar by bar.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CrossDetector {
    prev_diff: Option<f64>,
}

impl CrossDetector {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the current values of both series.
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
}
