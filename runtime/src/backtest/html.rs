//! `runtime backtest --report FILE.html`: one self-contained HTML file that
//! works offline — the data as JSON and the charting library (uPlot,
//! vendored in `runtime/assets/uplot/`, see its README for why) embedded in
//! it, nothing fetched at view time. Per strategy: the statistics, the
//! equity curve, the drawdown curve and each symbol's close with the trades'
//! entries and exits marked. For a sweep: every row in a table sortable by
//! any column, and a heatmap of the ranking metric over two parameters.

use super::engine::BacktestResult;
use super::stats::{EquityPoint, Stats};
use super::sweep::SweepResult;
use crate::contract::Bar;
use serde::Serialize;
use std::fmt::Write as _;

const UPLOT_JS: &str = include_str!("../../assets/uplot/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("../../assets/uplot/uPlot.min.css");

/// Points per curve at most: longer curves keep every n-th point (and every
/// point a trade is marked on), so a report of a million bars stays small.
pub const MAX_POINTS: usize = 5_000;

#[derive(Serialize)]
struct Curve {
    /// Seconds since the Unix epoch (what uPlot's time axis takes).
    t: Vec<f64>,
    v: Vec<f64>,
}

#[derive(Serialize)]
struct PriceChart {
    symbol: String,
    t: Vec<f64>,
    close: Vec<f64>,
    /// Entry and exit prices on the bars they happened on, `null` elsewhere.
    entries: Vec<Option<f64>>,
    exits: Vec<Option<f64>>,
}

#[derive(Serialize)]
struct StrategyPage<'a> {
    id: &'a str,
    sha256: &'a str,
    stats: &'a Stats,
    open_trades: usize,
    error: Option<&'a str>,
    halted: Option<&'a str>,
    equity: Curve,
    drawdown: Curve,
    prices: Vec<PriceChart>,
}

/// Indices of `len` points to keep: every n-th, the last, and `always`.
fn keep(len: usize, always: &[usize]) -> Vec<usize> {
    let stride = len.div_ceil(MAX_POINTS).max(1);
    let mut kept: Vec<usize> = (0..len).step_by(stride).collect();
    if len > 0 {
        kept.push(len - 1);
    }
    kept.extend(always.iter().copied().filter(|i| *i < len));
    kept.sort_unstable();
    kept.dedup();
    kept
}

fn seconds(ts_ms: i64) -> f64 {
    ts_ms as f64 / 1000.0
}

fn equity_curves(curve: &[EquityPoint], start: f64) -> (Curve, Curve) {
    let kept = keep(curve.len(), &[]);
    let mut peak = start;
    let drawdown: Vec<f64> = curve
        .iter()
        .map(|p| {
            peak = peak.max(p.equity);
            if peak > 0.0 {
                -(peak - p.equity) / peak * 100.0
            } else {
                0.0
            }
        })
        .collect();
    let t: Vec<f64> = kept.iter().map(|&i| seconds(curve[i].ts_ms)).collect();
    (
        Curve {
            t: t.clone(),
            v: kept.iter().map(|&i| curve[i].equity).collect(),
        },
        Curve {
            t,
            v: kept.iter().map(|&i| drawdown[i]).collect(),
        },
    )
}

fn price_charts(
    feed_symbols: &[String],
    run: &super::StrategyRun,
    bars: &[Bar],
) -> Vec<PriceChart> {
    run.symbols
        .iter()
        .enumerate()
        .filter_map(|(local, name)| {
            let feed = feed_symbols.iter().position(|s| s == name)? as u32;
            let series: Vec<&Bar> = bars.iter().filter(|b| b.symbol == feed).collect();
            let at = |seq: u64| series.binary_search_by_key(&seq, |b| b.seq).ok();
            let mut entries = vec![None; series.len()];
            let mut exits = vec![None; series.len()];
            let closed = run.trades.len() - run.open_trades;
            for trade in run.trades.iter().filter(|t| t.symbol as usize == local) {
                if let Some(i) = at(trade.entry_bar) {
                    entries[i] = Some(trade.entry_price);
                }
            }
            for trade in run.trades[..closed]
                .iter()
                .filter(|t| t.symbol as usize == local)
            {
                if let Some(i) = at(trade.exit_bar) {
                    exits[i] = Some(trade.exit_price);
                }
            }
            let marked: Vec<usize> = (0..series.len())
                .filter(|&i| entries[i].is_some() || exits[i].is_some())
                .collect();
            let kept = keep(series.len(), &marked);
            Some(PriceChart {
                symbol: name.clone(),
                t: kept.iter().map(|&i| seconds(series[i].ts_ms)).collect(),
                close: kept.iter().map(|&i| series[i].close).collect(),
                entries: kept.iter().map(|&i| entries[i]).collect(),
                exits: kept.iter().map(|&i| exits[i]).collect(),
            })
        })
        .collect()
}

/// JSON for a `<script type="application/json">`: `</` cannot end it.
fn script_json<T: Serialize>(value: &T) -> anyhow::Result<String> {
    Ok(serde_json::to_string(value)?.replace("</", "<\\/"))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(title: &str, body: &str, data_json: &str, script: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{UPLOT_CSS}
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }}
h1 {{ font-size: 1.4em; }} h2 {{ font-size: 1.15em; margin-top: 2em; }}
table {{ border-collapse: collapse; margin: .5em 0; }}
td, th {{ padding: 2px 8px; border-bottom: 1px solid #ddd; text-align: right; }}
th {{ background: #f4f4f4; cursor: default; }} th.sortable {{ cursor: pointer; }}
td.k {{ text-align: left; color: #555; }} .chart {{ margin: .5em 0 1.5em; }}
.note {{ color: #666; }}
</style></head><body>
{body}
<script type="application/json" id="report-data">{data_json}</script>
<script>{UPLOT_JS}</script>
<script>{script}</script>
</body></html>
"#,
        title = escape(title)
    )
}

const BACKTEST_SCRIPT: &str = r#"
const DATA = JSON.parse(document.getElementById('report-data').textContent);
const width = () => Math.min(1100, document.body.clientWidth - 20);
// Room for six-digit equity labels (uPlot's default of 50 px clips 100,000 to "0,000").
const valueAxes = () => [{}, { size: 70 }];
DATA.strategies.forEach((s, n) => {
  const host = document.getElementById('charts-' + n);
  const add = (cls) => { const d = document.createElement('div'); d.className = 'chart ' + cls; host.appendChild(d); return d; };
  new uPlot({ title: 'Equity', width: width(), height: 260, scales: { x: { time: true } }, axes: valueAxes(),
    series: [{}, { label: 'equity', stroke: '#2a6fdb', width: 1.5 }] }, [s.equity.t, s.equity.v], add('equity'));
  new uPlot({ title: 'Drawdown %', width: width(), height: 180, scales: { x: { time: true } }, axes: valueAxes(),
    series: [{}, { label: 'drawdown %', stroke: '#c0392b', fill: 'rgba(192,57,43,.15)' }] }, [s.drawdown.t, s.drawdown.v], add('drawdown'));
  s.prices.forEach((p) => {
    const marker = (label, color) => ({ label, stroke: color, paths: () => null, points: { show: true, size: 9, fill: color } });
    new uPlot({ title: p.symbol + ': close, entries and exits', width: width(), height: 300, scales: { x: { time: true } }, axes: valueAxes(),
      series: [{}, { label: 'close', stroke: '#555' }, marker('entry', '#27ae60'), marker('exit', '#e67e22')] },
      [p.t, p.close, p.entries, p.exits], add('price'));
  });
});
document.body.dataset.rendered = document.querySelectorAll('.uplot').length;
"#;

fn stats_table(stats: &Stats) -> anyhow::Result<String> {
    let value = serde_json::to_value(stats)?;
    let mut out = String::from("<table class=\"stats\">");
    if let Some(map) = value.as_object() {
        for (key, v) in map {
            let shown = match v {
                serde_json::Value::Null => "–".to_owned(),
                serde_json::Value::Number(n) => match n.as_f64() {
                    Some(f) if n.is_f64() => format!("{f:.4}"),
                    _ => n.to_string(),
                },
                other => other.to_string(),
            };
            let _ = write!(
                out,
                "<tr><td class=\"k\">{}</td><td>{shown}</td></tr>",
                escape(key)
            );
        }
    }
    out.push_str("</table>");
    Ok(out)
}

/// The report of a backtest over `bars` (the file's bars as the run read
/// them; their `symbol` indexes `feed_symbols`, the config's `[feed] symbols`).
pub fn backtest_report(
    result: &BacktestResult,
    bars: &[Bar],
    feed_symbols: &[String],
) -> anyhow::Result<String> {
    let mut body = format!(
        "<h1>Backtest of {}</h1><p class=\"note\">{} bars; every figure as in summary.json. Charts are drawn with uPlot, embedded: the file works offline.</p>",
        escape(&result.data.display().to_string()),
        result.bars
    );
    let mut pages = Vec::new();
    for (n, run) in result.strategies.iter().enumerate() {
        let (equity, drawdown) = equity_curves(&run.equity, run.stats.start_equity);
        let _ = write!(
            body,
            "<section class=\"strategy\" id=\"strategy-{n}\"><h2>{}</h2><p class=\"note\">sha256 {}{}{}</p>{}<div id=\"charts-{n}\"></div></section>",
            escape(&run.id),
            escape(&run.sha256),
            run.halted
                .as_deref()
                .map(|h| format!("; halted: {}", escape(h)))
                .unwrap_or_default(),
            run.error
                .as_deref()
                .map(|e| format!("; error: {}", escape(e)))
                .unwrap_or_default(),
            stats_table(&run.stats)?
        );
        pages.push(StrategyPage {
            id: &run.id,
            sha256: &run.sha256,
            stats: &run.stats,
            open_trades: run.open_trades,
            error: run.error.as_deref(),
            halted: run.halted.as_deref(),
            equity,
            drawdown,
            prices: price_charts(feed_symbols, run, bars),
        });
    }
    #[derive(Serialize)]
    struct Data<'a> {
        strategies: Vec<StrategyPage<'a>>,
    }
    let json = script_json(&Data { strategies: pages })?;
    Ok(page(
        "Sandbar backtest report",
        &body,
        &json,
        BACKTEST_SCRIPT,
    ))
}

const SWEEP_SCRIPT: &str = r#"
const table = document.getElementById('sweep-table');
table.querySelectorAll('th').forEach((th, col) => {
  th.classList.add('sortable');
  th.addEventListener('click', () => {
    const rows = Array.from(table.tBodies[0].rows);
    const asc = th.dataset.order !== 'asc';
    th.dataset.order = asc ? 'asc' : 'desc';
    const key = (r) => { const t = r.cells[col].textContent; const f = parseFloat(t); return isNaN(f) ? t : f; };
    rows.sort((a, b) => { const x = key(a), y = key(b); return (x > y ? 1 : x < y ? -1 : 0) * (asc ? 1 : -1); });
    rows.forEach((r) => table.tBodies[0].appendChild(r));
  });
});
document.body.dataset.rendered = table.tBodies[0].rows.length;
"#;

/// The report of a sweep: the sortable table of every row, and a heatmap
/// of the ranking metric over the parameters `x` and `y` (indices into
/// the sweep's keys; the best value over any other axes).
pub fn sweep_report(
    result: &SweepResult,
    heatmap: Option<(usize, usize)>,
) -> anyhow::Result<String> {
    let metric = result.rank_by;
    let mut body = format!(
        "<h1>Sweep of {} ({})</h1><p class=\"note\">{} of {} combinations over {} bars, ranked by {}. Click a column to sort.</p>",
        escape(&result.strategy),
        escape(&result.keys.join(" × ")),
        result.rows.len(),
        result.combinations,
        result.bars,
        metric.as_str()
    );
    let text = super::sweep::value_text;
    if let Some((x, y)) =
        heatmap.filter(|(x, y)| x != y && *x < result.keys.len() && *y < result.keys.len())
    {
        let mut xs: Vec<String> = Vec::new();
        let mut ys: Vec<String> = Vec::new();
        let mut cells: std::collections::HashMap<(String, String), f64> =
            std::collections::HashMap::new();
        for row in &result.rows {
            let (vx, vy) = (text(&row.values[x]), text(&row.values[y]));
            if !xs.contains(&vx) {
                xs.push(vx.clone());
            }
            if !ys.contains(&vy) {
                ys.push(vy.clone());
            }
            if let Some(value) = row.run.as_ref().ok().and_then(|f| metric.value(&f.stats)) {
                let cell = cells.entry((vx, vy)).or_insert(f64::NEG_INFINITY);
                *cell = cell.max(value);
            }
        }
        let sort = |v: &mut Vec<String>| {
            v.sort_by(|a, b| match (a.parse::<f64>(), b.parse::<f64>()) {
                (Ok(p), Ok(q)) => p.total_cmp(&q),
                _ => a.cmp(b),
            })
        };
        sort(&mut xs);
        sort(&mut ys);
        let (lo, hi) = cells
            .values()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
                (l.min(*v), h.max(*v))
            });
        let _ = write!(
            body,
            "<h2>Heatmap: {} by {} × {}</h2><table class=\"heatmap\"><tr><th>{} \\ {}</th>",
            metric.as_str(),
            escape(&result.keys[y]),
            escape(&result.keys[x]),
            escape(&result.keys[y]),
            escape(&result.keys[x])
        );
        for vx in &xs {
            let _ = write!(body, "<th>{}</th>", escape(vx));
        }
        body.push_str("</tr>");
        for vy in &ys {
            let _ = write!(body, "<tr><th>{}</th>", escape(vy));
            for vx in &xs {
                match cells.get(&(vx.clone(), vy.clone())) {
                    Some(v) => {
                        let share = if hi > lo { (v - lo) / (hi - lo) } else { 1.0 };
                        let shown = if metric == super::RankBy::Drawdown {
                            -v
                        } else {
                            *v
                        };
                        let _ = write!(
                            body,
                            "<td style=\"background:hsl({:.0},70%,{:.0}%)\">{shown:.2}</td>",
                            share * 120.0,
                            85.0 - share * 30.0
                        );
                    }
                    None => body.push_str("<td>–</td>"),
                }
            }
            body.push_str("</tr>");
        }
        body.push_str("</table>");
    }
    body.push_str("<h2>Every combination</h2><table id=\"sweep-table\"><thead><tr><th>rank</th>");
    for key in &result.keys {
        let _ = write!(body, "<th>{}</th>", escape(key));
    }
    body.push_str("<th>return %</th><th>sharpe</th><th>sortino</th><th>calmar</th><th>max DD %</th><th>profit factor</th><th>trades</th><th>error</th></tr></thead><tbody>");
    let num = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.4}"));
    for (rank, row) in result.rows.iter().enumerate() {
        let _ = write!(body, "<tr><td>{}</td>", rank + 1);
        for v in &row.values {
            let _ = write!(body, "<td>{}</td>", escape(&text(v)));
        }
        match &row.run {
            Ok(f) => {
                let s = &f.stats;
                let _ = write!(
                    body,
                    "<td>{:.4}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.4}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    s.return_pct,
                    num(s.sharpe_ratio),
                    num(s.sortino_ratio),
                    num(s.calmar_ratio),
                    s.max_drawdown_pct,
                    num(s.profit_factor),
                    s.trades,
                    escape(f.trapped.as_deref().unwrap_or(""))
                );
            }
            Err(e) => {
                let _ = write!(
                    body,
                    "<td></td><td></td><td></td><td></td><td></td><td></td><td></td><td>{}</td></tr>",
                    escape(e)
                );
            }
        }
    }
    body.push_str("</tbody></table>");
    Ok(page("Sandbar sweep report", &body, "{}", SWEEP_SCRIPT))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_curves_are_thinned_but_keep_marked_points_and_the_last() {
        let kept = keep(20_001, &[7, 19_999]);
        assert!(kept.len() <= MAX_POINTS + 3, "{}", kept.len());
        assert!(kept.contains(&7) && kept.contains(&19_999) && kept.contains(&20_000));
        assert_eq!(keep(10, &[]), (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn embedded_json_cannot_close_its_script() {
        let json = script_json(&vec!["</script><script>alert(1)"]).unwrap();
        assert!(!json.contains("</"), "{json}");
    }
}
