//! `[strategy.deploy]`: how a new build of one strategy goes live — at once
//! (`mode = "live"`) or first as a shadow candidate beside the live version
//! (`mode = "shadow"`), promoted by hand or by the auto-promotion rule; and
//! when any swap happens (`swap`, `swap_window`, `swap_timeout_s`).
//! config/README.md, section `[strategy.deploy]`, documents every key.

use serde::{Deserialize, Serialize};

/// `[strategy.deploy] mode`: where a new build from the strategy's file goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeployMode {
    /// A new file goes live at the swap policy's next chance (as before).
    #[default]
    Live,
    /// A new file becomes the candidate: it trades on live bars with a
    /// shadow account until promoted or discarded. The first load is live.
    Shadow,
}

/// `[strategy.deploy] swap`: when a published generation takes over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SwapWhen {
    /// At the next bar of the strategy.
    #[default]
    NextBar,
    /// At the first bar boundary where the strategy holds no position in
    /// any symbol and has no order waiting.
    WhenFlat,
}

/// A daily window of feed time, `HH:MM-HH:MM` (it may wrap midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SwapWindow {
    /// Start, minutes after midnight (inclusive).
    pub start_min: u32,
    /// End, minutes after midnight (exclusive).
    pub end_min: u32,
}

impl SwapWindow {
    /// Parses `"21:00-22:00"`; the error says what is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (start, end) = text
            .split_once('-')
            .ok_or_else(|| format!("`{text}` is not a window like \"21:00-22:00\""))?;
        let start_min = minutes(start.trim())?;
        let end_min = minutes(end.trim())?;
        if start_min == end_min {
            return Err(format!("`{text}` is an empty window (start equals end)"));
        }
        Ok(Self { start_min, end_min })
    }

    /// True when `ts_ms` (ms since the epoch, UTC) shifted by `offset_min`
    /// falls inside the window.
    pub fn contains(&self, ts_ms: i64, offset_min: i32) -> bool {
        let local_min = (ts_ms.div_euclid(60_000) + i64::from(offset_min)).rem_euclid(24 * 60);
        let m = local_min as u32;
        if self.start_min < self.end_min {
            (self.start_min..self.end_min).contains(&m)
        } else {
            m >= self.start_min || m < self.end_min
        }
    }
}

fn minutes(hh_mm: &str) -> Result<u32, String> {
    let bad = || format!("`{hh_mm}` is not a time like \"21:00\" (HH:MM, 00:00 to 23:59)");
    let (h, m) = hh_mm.split_once(':').ok_or_else(bad)?;
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 23 || m > 59 || hh_mm.len() != 5 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// `[strategy.deploy]`: shadow deployments, auto-promotion and swap policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeploySection {
    /// `live` (default) or `shadow`.
    pub mode: DeployMode,
    /// `next_bar` (default) or `when_flat`.
    pub swap: SwapWhen,
    /// Only swap inside this daily window of feed time (`"21:00-22:00"`);
    /// unset: any time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub swap_window: Option<String>,
    /// The window's offset from UTC in minutes (feed time is UTC by default).
    pub swap_window_offset_min: i32,
    /// A swap still waiting after this many seconds is cancelled: the
    /// running version keeps running and an event says so.
    pub swap_timeout_s: u64,
    /// Promote or discard a candidate by itself (off by default).
    pub auto_promote: bool,
    /// Auto-promotion looks at a candidate after this many shadow bars.
    pub promote_after_bars: u64,
    /// ...and promotes it when its orders agreed with the live version's on
    /// at least this share of bars (percent)...
    pub min_agreement_pct: f64,
    /// ...or when its shadow PnL is within this percent of
    /// `broker.starting_cash` of the live PnL over the same bars.
    pub pnl_tolerance_pct: f64,
    /// A candidate that has not qualified after this many shadow bars is discarded.
    pub discard_after_bars: u64,
}

impl Default for DeploySection {
    fn default() -> Self {
        use super::defaults as d;
        Self {
            mode: DeployMode::default(),
            swap: SwapWhen::default(),
            swap_window: None,
            swap_window_offset_min: 0,
            swap_timeout_s: d::SWAP_TIMEOUT_S,
            auto_promote: false,
            promote_after_bars: d::PROMOTE_AFTER_BARS,
            min_agreement_pct: d::MIN_AGREEMENT_PCT,
            pnl_tolerance_pct: d::PNL_TOLERANCE_PCT,
            discard_after_bars: d::DISCARD_AFTER_BARS,
        }
    }
}

impl DeploySection {
    /// Nothing set: left out when the config is written back.
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// The window, when one is set and valid (validation refuses a bad one).
    pub fn window(&self) -> Option<SwapWindow> {
        self.swap_window
            .as_deref()
            .and_then(|w| SwapWindow::parse(w).ok())
    }

    /// True when a swap waits for anything (flat, a window).
    pub fn swap_waits(&self) -> bool {
        self.swap != SwapWhen::NextBar || self.swap_window.is_some()
    }
}

/// The rules of config/README.md for one `[strategy.deploy]`: the first
/// broken one as (key, message, hint).
pub(crate) fn check(
    deploy: &DeploySection,
    where_: &str,
) -> Option<(&'static str, String, String)> {
    use super::defaults as d;
    if let Some(window) = &deploy.swap_window
        && let Err(message) = SwapWindow::parse(window)
    {
        return Some((
            "swap_window",
            format!("`swap_window` in {where_}: {message}"),
            "write the daily window of feed time as \"HH:MM-HH:MM\", for example swap_window = \"21:00-22:00\" (it may wrap midnight)".into(),
        ));
    }
    if deploy.swap_window_offset_min.abs() > 14 * 60 {
        return Some((
            "swap_window_offset_min",
            format!(
                "`swap_window_offset_min` in {where_} must be between -840 and 840 (±14 h), not {}",
                deploy.swap_window_offset_min
            ),
            "it is the feed time's offset from UTC in minutes; the default is 0 (UTC)".into(),
        ));
    }
    if deploy.swap_timeout_s == 0 {
        return Some((
            "swap_timeout_s",
            format!("`swap_timeout_s` in {where_} must be at least 1, not 0"),
            format!(
                "a waiting swap is cancelled after this many seconds; the default is {}",
                d::SWAP_TIMEOUT_S
            ),
        ));
    }
    if deploy.promote_after_bars == 0 {
        return Some((
            "promote_after_bars",
            format!("`promote_after_bars` in {where_} must be at least 1, not 0"),
            format!(
                "a candidate is judged after this many shadow bars; the default is {}",
                d::PROMOTE_AFTER_BARS
            ),
        ));
    }
    if !(0.0..=100.0).contains(&deploy.min_agreement_pct) {
        return Some((
            "min_agreement_pct",
            format!(
                "`min_agreement_pct` in {where_} must be between 0 and 100, not {}",
                deploy.min_agreement_pct
            ),
            format!(
                "it is the percent of bars on which the candidate's orders equal the live version's; the default is {}",
                d::MIN_AGREEMENT_PCT
            ),
        ));
    }
    if !(deploy.pnl_tolerance_pct.is_finite() && deploy.pnl_tolerance_pct >= 0.0) {
        return Some((
            "pnl_tolerance_pct",
            format!(
                "`pnl_tolerance_pct` in {where_} must be a number of at least 0, not {}",
                deploy.pnl_tolerance_pct
            ),
            format!(
                "it is a percent of `broker.starting_cash`; the default is {}",
                d::PNL_TOLERANCE_PCT
            ),
        ));
    }
    if deploy.discard_after_bars < deploy.promote_after_bars {
        return Some((
            "discard_after_bars",
            format!(
                "`discard_after_bars` in {where_} ({}) must be at least `promote_after_bars` ({})",
                deploy.discard_after_bars, deploy.promote_after_bars
            ),
            format!(
                "a candidate is judged from `promote_after_bars` on and discarded at `discard_after_bars`; the defaults are {} and {}",
                d::PROMOTE_AFTER_BARS,
                d::DISCARD_AFTER_BARS
            ),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_19_swap_windows_parse_and_wrap_midnight() {
        let w = SwapWindow::parse("21:00-22:00").unwrap();
        let at = |h: i64, m: i64| (h * 60 + m) * 60_000;
        assert!(!w.contains(at(20, 59), 0));
        assert!(w.contains(at(21, 0), 0));
        assert!(w.contains(at(21, 59), 0));
        assert!(!w.contains(at(22, 0), 0));
        // Feed time two hours ahead of UTC: 19:30 UTC is 21:30 there.
        assert!(w.contains(at(19, 30), 120));
        let night = SwapWindow::parse("23:30-00:30").unwrap();
        assert!(night.contains(at(23, 45), 0));
        assert!(night.contains(at(24, 10), 0));
        assert!(!night.contains(at(1, 0), 0));
        for bad in [
            "21:00",
            "25:00-26:00",
            "9:00-10:00",
            "21:00-21:00",
            "aa:bb-cc:dd",
        ] {
            assert!(SwapWindow::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn issue_19_deploy_defaults_pass_their_own_checks() {
        assert_eq!(check(&DeploySection::default(), "x"), None);
        let bad = DeploySection {
            discard_after_bars: 10,
            promote_after_bars: 20,
            ..DeploySection::default()
        };
        assert_eq!(check(&bad, "x").unwrap().0, "discard_after_bars");
    }
}
