//! The figures of a backtest's summary, from the equity curve and the
//! closed trades. Conventions: returns are simple per-bar returns of equity;
//! ratios are annualised with the data's own bars per year (bars over the
//! calendar span of the curve, a year being 365.25 days); the risk-free rate
//! is 0. Every formula is stated on its field and proved against hand-computed
//! values in the tests below.

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
/// A figure that does not exist for the run (no trades, flat equity, a
/// ratio over zero) is `None` (`null` in JSON), never infinite or NaN.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    /// Equity before the first bar: `broker.starting_cash`.
    pub start_equity: f64,
    /// Equity after the last bar, open positions marked at their last close.
    pub final_equity: f64,
    /// `final_equity` over `start_equity`, minus one, in percent (negative
    /// for a loss).
    pub return_pct: f64,
    /// Compound annual growth rate in percent: `(final / start)^(1 / years)
    /// - 1`, years from the curve's first to its last bar; -100 when the
    /// account ended with nothing; `None` for a span of zero.
    pub cagr_pct: Option<f64>,
    /// Closed round trips.
    pub trades: u64,
    /// Share of closed trades with a positive net PnL; `None` without trades.
    pub win_rate_pct: Option<f64>,
    /// Largest fall of equity from a running peak, in percent of the peak.
    pub max_drawdown_pct: f64,
    /// Mean per-bar return over its sample standard deviation, times the
    /// square root of bars per year. `None` when equity never moved or
    /// there are fewer than two bars.
    pub sharpe_ratio: Option<f64>,
    /// Mean per-bar return over the downside deviation (the root mean
    /// square of the negative returns, zeros for the rest, over every bar),
    /// times the square root of bars per year. `None` without a losing bar.
    pub sortino_ratio: Option<f64>,
    /// `cagr_pct` over `max_drawdown_pct`; `None` without a drawdown.
    pub calmar_ratio: Option<f64>,
    /// Gross profit of the winning closed trades over the gross loss of the
    /// losing ones (net PnL, fees included); `None` without a losing trade.
    pub profit_factor: Option<f64>,
    /// Mean net PnL of a closed trade, in account currency.
    pub avg_trade_pnl: Option<f64>,
    /// Median net PnL of a closed trade (the mean of the middle two for an
    /// even count).
    pub median_trade_pnl: Option<f64>,
    /// Longest run of consecutive closed trades with a negative net PnL
    /// (a trade at exactly 0 ends a run).
    pub max_consecutive_losses: u64,
    /// Mean time from entry to exit of a closed trade, in hours.
    pub avg_holding_hours: Option<f64>,
    /// Mean number of bars from entry to exit of a closed trade (in the
    /// file's numbering).
    pub avg_holding_bars: Option<f64>,
    /// The benchmark: buying equal amounts of the strategy's symbols at
    /// their first close and holding them to their last close, in percent
    /// (no costs). `None` when a symbol had no bar.
    pub buy_and_hold_return_pct: Option<f64>,
    /// Share of the strategy's bars that ended with a position held.
    pub exposure_pct: f64,
    /// Bars of the strategy's symbols it processed.
    pub bars: u64,
}

/// What a strategy's run leaves for [`Stats::compute`].
#[derive(Debug, Clone, Copy)]
pub struct RunFigures<'a> {
    /// `broker.starting_cash`.
    pub start_equity: f64,
    /// Equity after the last bar.
    pub final_equity: f64,
    /// One point per bar of the strategy's symbols.
    pub curve: &'a [EquityPoint],
    /// Closed round trips, in the order they closed.
    pub closed: &'a [Trade],
    /// Bars that ended with a position held, of `bars`.
    pub held_bars: u64,
    /// Bars of the strategy's symbols.
    pub bars: u64,
    /// The first and last close of each of the strategy's symbols (`None`
    /// for a symbol without bars), for the buy-and-hold benchmark.
    pub closes: &'a [Option<(f64, f64)>],
}

const YEAR_MS: f64 = 365.25 * 24.0 * 3600.0 * 1000.0;
const HOUR_MS: f64 = 3600.0 * 1000.0;

impl Stats {
    /// The figures of one run. With no bars, exposure is 0 and the ratios
    /// `None`; drawdowns are measured from `start_equity` as the first peak.
    pub fn compute(run: RunFigures<'_>) -> Self {
        let RunFigures {
            start_equity,
            final_equity,
            curve,
            closed,
            held_bars,
            bars,
            closes,
        } = run;
        let wins = closed.iter().filter(|t| t.pnl > 0.0).count();
        let returns = per_bar_returns(start_equity, curve);
        let bars_per_year = bars_per_year(curve);
        let cagr_pct = cagr_pct(start_equity, final_equity, curve);
        let max_drawdown_pct = max_drawdown_pct(start_equity, curve);
        let pnls: Vec<f64> = closed.iter().map(|t| t.pnl).collect();
        Self {
            start_equity,
            final_equity,
            return_pct: (final_equity / start_equity - 1.0) * 100.0,
            cagr_pct,
            trades: closed.len() as u64,
            win_rate_pct: (!closed.is_empty()).then(|| wins as f64 / closed.len() as f64 * 100.0),
            max_drawdown_pct,
            sharpe_ratio: bars_per_year.and_then(|per_year| sharpe(&returns, per_year)),
            sortino_ratio: bars_per_year.and_then(|per_year| sortino(&returns, per_year)),
            calmar_ratio: cagr_pct
                .filter(|_| max_drawdown_pct > 0.0)
                .map(|cagr| cagr / max_drawdown_pct),
            profit_factor: profit_factor(&pnls),
            avg_trade_pnl: mean(&pnls),
            median_trade_pnl: median(&pnls),
            max_consecutive_losses: max_consecutive_losses(&pnls),
            avg_holding_hours: mean(
                &closed
                    .iter()
                    .map(|t| (t.exit_ts_ms - t.entry_ts_ms) as f64 / HOUR_MS)
                    .collect::<Vec<_>>(),
            ),
            avg_holding_bars: mean(
                &closed
                    .iter()
                    .map(|t| t.exit_bar.saturating_sub(t.entry_bar) as f64)
                    .collect::<Vec<_>>(),
            ),
            buy_and_hold_return_pct: buy_and_hold_pct(closes),
            exposure_pct: if bars == 0 {
                0.0
            } else {
                held_bars as f64 / bars as f64 * 100.0
            },
            bars,
        }
    }
}

fn per_bar_returns(start: f64, curve: &[EquityPoint]) -> Vec<f64> {
    let mut previous = start;
    curve
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
        .collect()
}

/// Bars a year in the curve's own spacing; `None` under two bars or a span of 0.
fn bars_per_year(curve: &[EquityPoint]) -> Option<f64> {
    let (first, last) = (curve.first()?, curve.last()?);
    let span_ms = (last.ts_ms - first.ts_ms) as f64;
    (curve.len() >= 2 && span_ms > 0.0).then(|| (curve.len() - 1) as f64 / (span_ms / YEAR_MS))
}

fn cagr_pct(start: f64, end: f64, curve: &[EquityPoint]) -> Option<f64> {
    let (first, last) = (curve.first()?, curve.last()?);
    let years = (last.ts_ms - first.ts_ms) as f64 / YEAR_MS;
    if years <= 0.0 || start <= 0.0 || !end.is_finite() {
        return None;
    }
    if end <= 0.0 {
        return Some(-100.0);
    }
    Some(((end / start).powf(1.0 / years) - 1.0) * 100.0)
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

fn profit_factor(pnls: &[f64]) -> Option<f64> {
    let gains: f64 = pnls.iter().filter(|p| **p > 0.0).sum();
    let losses: f64 = pnls.iter().filter(|p| **p < 0.0).map(|p| -p).sum();
    (losses > 0.0).then(|| gains / losses)
}

fn max_consecutive_losses(pnls: &[f64]) -> u64 {
    let (mut run, mut longest) = (0u64, 0u64);
    for pnl in pnls {
        run = if *pnl < 0.0 { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

/// Equal amounts bought at each symbol's first close, held to its last.
fn buy_and_hold_pct(closes: &[Option<(f64, f64)>]) -> Option<f64> {
    if closes.is_empty() {
        return None;
    }
    let growth: Option<Vec<f64>> = closes
        .iter()
        .map(|c| {
            c.filter(|(first, _)| *first > 0.0)
                .map(|(first, last)| last / first)
        })
        .collect();
    let growth = growth?;
    Some((growth.iter().sum::<f64>() / growth.len() as f64 - 1.0) * 100.0)
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

fn sharpe(returns: &[f64], bars_per_year: f64) -> Option<f64> {
    let n = returns.len() as f64;
    let mean = mean(returns)?;
    let variance = returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let std = variance.sqrt();
    if std == 0.0 || !std.is_finite() {
        return None;
    }
    Some(mean / std * bars_per_year.sqrt())
}

fn sortino(returns: &[f64], bars_per_year: f64) -> Option<f64> {
    let mean = mean(returns)?;
    let downside =
        (returns.iter().map(|r| r.min(0.0).powi(2)).sum::<f64>() / returns.len() as f64).sqrt();
    if downside == 0.0 || !downside.is_finite() {
        return None;
    }
    Some(mean / downside * bars_per_year.sqrt())
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
        let stats = Stats::compute(RunFigures {
            start_equity: 100.0,
            final_equity: 110.0,
            curve: &points,
            closed: &[trade(5.0), trade(-1.0), trade(0.0)],
            held_bars: 3,
            bars: 4,
            closes: &[Some((50.0, 60.0))],
        });
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
        // Downside deviation: sqrt(0.25^2 / 4) = 0.125.
        let sortino = stats.sortino_ratio.unwrap();
        assert!(
            (sortino - mean / 0.125 * 365.25f64.sqrt()).abs() < 1e-9,
            "{sortino}"
        );
        // 3 days = 3/365.25 years: 1.1^(365.25/3) - 1.
        let cagr = stats.cagr_pct.unwrap();
        let expected = (1.1f64.powf(365.25 / 3.0) - 1.0) * 100.0;
        assert!((cagr - expected).abs() < 1e-6 * expected, "{cagr}");
        assert!((stats.calmar_ratio.unwrap() - cagr / 25.0).abs() < 1e-9);
        // Wins 5, losses 1: profit factor 5; PnLs 5, -1, 0: mean 4/3, median 0.
        assert_eq!(stats.profit_factor, Some(5.0));
        assert!((stats.avg_trade_pnl.unwrap() - 4.0 / 3.0).abs() < 1e-12);
        assert_eq!(stats.median_trade_pnl, Some(0.0));
        assert_eq!(stats.max_consecutive_losses, 1);
        assert!((stats.buy_and_hold_return_pct.unwrap() - 20.0).abs() < 1e-12);
    }

    fn timed(pnl: f64, entry: (u64, i64), exit: (u64, i64)) -> Trade {
        Trade {
            entry_bar: entry.0,
            entry_ts_ms: entry.1,
            exit_bar: exit.0,
            exit_ts_ms: exit.1,
            ..trade(pnl)
        }
    }

    #[test]
    fn streaks_medians_holding_times_and_an_equal_weight_benchmark() {
        let hour = 3_600_000;
        let closed = [
            timed(-1.0, (0, 0), (2, 2 * hour)),
            timed(-2.0, (3, 3 * hour), (5, 5 * hour)),
            timed(4.0, (6, 6 * hour), (10, 10 * hour)),
            timed(-1.0, (11, 11 * hour), (12, 12 * hour)),
            timed(-1.0, (13, 13 * hour), (14, 14 * hour)),
            timed(-3.0, (15, 15 * hour), (19, 19 * hour)),
        ];
        let stats = Stats::compute(RunFigures {
            start_equity: 100.0,
            final_equity: 96.0,
            curve: &curve(&[100.0, 99.0, 96.0]),
            closed: &closed,
            held_bars: 2,
            bars: 3,
            closes: &[Some((10.0, 15.0)), Some((20.0, 10.0))],
        });
        assert_eq!(stats.max_consecutive_losses, 3);
        // Sorted -3 -2 -1 -1 -1 4: the middle two are -1 and -1.
        assert_eq!(stats.median_trade_pnl, Some(-1.0));
        assert_eq!(stats.profit_factor, Some(4.0 / 8.0));
        // Holding 2, 2, 4, 1, 1, 4 hours and bars: mean 14/6.
        assert!((stats.avg_holding_hours.unwrap() - 14.0 / 6.0).abs() < 1e-12);
        assert!((stats.avg_holding_bars.unwrap() - 14.0 / 6.0).abs() < 1e-12);
        // +50 % and -50 %, equal weights: 0 %.
        assert_eq!(stats.buy_and_hold_return_pct, Some(0.0));
        // Every bar lost: no upside, Sortino negative, Calmar from the 4 % drawdown.
        assert!(stats.sortino_ratio.unwrap() < 0.0);
        assert!(stats.calmar_ratio.unwrap() < 0.0);
    }

    #[test]
    fn an_account_that_ends_with_nothing_has_a_cagr_of_minus_100() {
        let stats = Stats::compute(RunFigures {
            start_equity: 100.0,
            final_equity: -5.0,
            curve: &curve(&[100.0, -5.0]),
            closed: &[],
            held_bars: 1,
            bars: 2,
            closes: &[],
        });
        assert_eq!(stats.cagr_pct, Some(-100.0));
        assert_eq!(stats.buy_and_hold_return_pct, None);
    }

    #[test]
    fn flat_equity_has_no_sharpe_and_no_trades_no_win_rate() {
        let stats = Stats::compute(RunFigures {
            start_equity: 100.0,
            final_equity: 100.0,
            curve: &curve(&[100.0, 100.0, 100.0]),
            closed: &[],
            held_bars: 0,
            bars: 3,
            closes: &[Some((10.0, 10.0)), None],
        });
        assert_eq!((stats.sharpe_ratio, stats.win_rate_pct), (None, None));
        assert_eq!(
            (stats.sortino_ratio, stats.calmar_ratio, stats.profit_factor),
            (None, None, None)
        );
        assert_eq!(
            (
                stats.avg_trade_pnl,
                stats.median_trade_pnl,
                stats.avg_holding_hours
            ),
            (None, None, None)
        );
        assert_eq!(stats.cagr_pct, Some(0.0));
        assert_eq!(stats.buy_and_hold_return_pct, None, "a symbol without bars");
        assert_eq!(stats.max_consecutive_losses, 0);
        assert_eq!(
            (stats.max_drawdown_pct, stats.return_pct, stats.exposure_pct),
            (0.0, 0.0, 0.0)
        );
    }
}
