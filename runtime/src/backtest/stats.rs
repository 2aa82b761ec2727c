//! The figures of a backtest's summary, from the equity curve and the
//! closed trades. Conventions: returns are simple per-bar returns of equity;
//! the Sharpe ratio is annualised with the data's own bars per year (bars
//! over the calendar span), risk-free rate 0.

use crate::broker::Trade;
use serde::Serialize;

/// Equity after one bar of the strategy's symbols.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EquityPoint {
    /// The bar's open time, ms since the Unix epoch (UTC).
    pub ts_ms: i64,
    /// The bar's sequence number in the whole file (not the strategy's own
    /// bar count, so curves of different strategies line up).
    pub bar: u64,
    /// Cash plus every holding marked at its last close, after that bar, in
    /// account currency.
    pub equity: f64,
}

/// A strategy's backtest figures, as written to `summary.json` and the
/// summary table. Percentages are percent (12.5 = 12.5 %), not fractions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    /// Equity before the first bar: `broker.starting_cash`.
    pub start_equity: f64,
    /// Equity after the last bar, open positions marked at their last close.
    pub final_equity: f64,
    /// `final_equity` over `start_equity`, minus one, in percent (negative
    /// for a loss).
    pub return_pct: f64,
    /// Closed round trips.
    pub trades: u64,
    /// Share of closed trades with a positive net PnL; `None` without trades.
    pub win_rate_pct: Option<f64>,
    /// Largest fall of equity from a running peak, in percent of the peak.
    pub max_drawdown_pct: f64,
    /// `None` when equity never moved or there are fewer than two bars.
    pub sharpe_ratio: Option<f64>,
    /// Share of the strategy's bars that ended with a position held.
    pub exposure_pct: f64,
    /// Bars of the strategy's symbols it processed.
    pub bars: u64,
}

const YEAR_MS: f64 = 365.25 * 24.0 * 3600.0 * 1000.0;

impl Stats {
    /// The figures from the equity `curve` (one point per bar of the
    /// strategy's symbols), the `closed` round trips, and `held_bars` of
    /// `bars` that ended with a position. With no bars, exposure is 0 and
    /// the Sharpe ratio `None`; drawdowns are measured from `start_equity`
    /// as the first peak.
    pub fn compute(
        final_equity: f64,
        curve: &[EquityPoint],
        closed: &[Trade],
        held_bars: u64,
        bars: u64,
        start_equity: f64,
    ) -> Self {
        let wins = closed.iter().filter(|t| t.pnl > 0.0).count();
        Self {
            start_equity,
            final_equity,
            return_pct: (final_equity / start_equity - 1.0) * 100.0,
            trades: closed.len() as u64,
            win_rate_pct: (!closed.is_empty()).then(|| wins as f64 / closed.len() as f64 * 100.0),
            max_drawdown_pct: max_drawdown_pct(start_equity, curve),
            sharpe_ratio: sharpe(start_equity, curve),
            exposure_pct: if bars == 0 {
                0.0
            } else {
                held_bars as f64 / bars as f64 * 100.0
            },
            bars,
        }
    }
}

fn max_drawdown_pct(start: f64, curve: &[EquityPoint]) -> f64 {
    let mut peak = start;
    let mut worst = 0.0f64;
    for point in curve {
        peak = peak.max(point.equity);
        if peak > 0.0 {
            worst = worst.max((peak - point.equity) / peak * 100.0);
        }
    }
    worst
}

fn sharpe(start: f64, curve: &[EquityPoint]) -> Option<f64> {
    let (first, last) = (curve.first()?, curve.last()?);
    let span_ms = (last.ts_ms - first.ts_ms) as f64;
    if curve.len() < 2 || span_ms <= 0.0 {
        return None;
    }
    let mut previous = start;
    let returns: Vec<f64> = curve
        .iter()
        .map(|p| {
            let r = if previous != 0.0 {
                p.equity / previous - 1.0
            } else {
                0.0
            };
            previous = p.equity;
            r
        })
        .collect();
    let n = returns.len() as f64;
    let mean = returns.iter().sum::<f64>() / n;
    let variance = returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let std = variance.sqrt();
    if std == 0.0 || !std.is_finite() {
        return None;
    }
    let bars_per_year = (curve.len() - 1) as f64 / (span_ms / YEAR_MS);
    Some(mean / std * bars_per_year.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(values: &[f64]) -> Vec<EquityPoint> {
        values
            .iter()
            .enumerate()
            .map(|(i, &equity)| EquityPoint {
                ts_ms: i as i64 * 86_400_000,
                bar: i as u64,
                equity,
            })
            .collect()
    }

    fn trade(pnl: f64) -> Trade {
        Trade {
            symbol: 0,
            side: "long",
            size: 1.0,
            entry_ts_ms: 0,
            entry_bar: 0,
            entry_price: 1.0,
            exit_ts_ms: 0,
            exit_bar: 1,
            exit_price: 1.0,
            fees: 0.0,
            pnl,
        }
    }

    #[test]
    fn hand_computed_figures() {
        let points = curve(&[100.0, 120.0, 90.0, 110.0]);
        let stats = Stats::compute(
            110.0,
            &points,
            &[trade(5.0), trade(-1.0), trade(0.0)],
            3,
            4,
            100.0,
        );
        assert!((stats.return_pct - 10.0).abs() < 1e-12);
        assert_eq!(stats.trades, 3);
        assert!((stats.win_rate_pct.unwrap() - 100.0 / 3.0).abs() < 1e-12);
        assert!((stats.max_drawdown_pct - 25.0).abs() < 1e-12, "120 -> 90");
        assert_eq!(stats.exposure_pct, 75.0);
        // Returns 0, 0.2, -0.25, 0.2222: mean 0.04306, sample std 0.2159,
        // 3 bars over 3 days = 365.25 bars a year.
        let sharpe = stats.sharpe_ratio.unwrap();
        let returns = [0.0, 0.2, -0.25, 110.0 / 90.0 - 1.0];
        let mean = returns.iter().sum::<f64>() / 4.0;
        let std = (returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / 3.0).sqrt();
        assert!(
            (sharpe - mean / std * 365.25f64.sqrt()).abs() < 1e-9,
            "{sharpe}"
        );
    }

    #[test]
    fn flat_equity_has_no_sharpe_and_no_trades_no_win_rate() {
        let stats = Stats::compute(100.0, &curve(&[100.0, 100.0, 100.0]), &[], 0, 3, 100.0);
        assert_eq!((stats.sharpe_ratio, stats.win_rate_pct), (None, None));
        assert_eq!(
            (stats.max_drawdown_pct, stats.return_pct, stats.exposure_pct),
            (0.0, 0.0, 0.0)
        );
    }
}
