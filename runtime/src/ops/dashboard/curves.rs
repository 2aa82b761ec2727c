//! The equity and PnL curves the ops server keeps, so a dashboard opened
//! now draws the last minutes too, not only what happens after it opened:
//! each strategy's equity and realised + unrealised PnL sampled once a
//! second (the status push's rhythm), the last hour kept, the last
//! [`CURVE_SENT`] points sent to a page as its `history` message right
//! after its first status.

use super::ws::STATUS_EVERY;
use crate::live::StrategyStatus;
use crate::ops::server::AppState;
use serde_json::{Value, json};
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// Samples kept: an hour at one a second.
pub const CURVE_POINTS: usize = 3600;

/// Samples sent to a page that opens: 15 minutes, so the opening burst of
/// 20 strategies stays a few hundred kilobytes.
pub const CURVE_SENT: usize = 900;

/// One curve: a value per sample, `None` where the strategy was not running.
type Curve = VecDeque<Option<f64>>;

/// Equity and PnL per strategy at the same instants.
#[derive(Debug, Default)]
pub struct Curves {
    t: VecDeque<f64>,
    /// Per strategy: (equity, PnL).
    series: BTreeMap<String, (Curve, Curve)>,
}

/// The server's curves, shared by the sampler and every `/ws` session.
pub type SharedCurves = Arc<Mutex<Curves>>;

impl Curves {
    /// One sample at `t` (seconds since the epoch): `(id, equity, pnl)` of
    /// every running strategy; the others get a gap.
    pub fn sample<'a>(
        &mut self,
        t: f64,
        strategies: impl IntoIterator<Item = (&'a str, f64, f64)>,
    ) {
        let before = self.t.len();
        self.t.push_back(t);
        for (id, equity_now, pnl_now) in strategies {
            let (equity, pnl) = self.series.entry(id.to_owned()).or_insert_with(|| {
                (
                    VecDeque::from(vec![None; before]),
                    VecDeque::from(vec![None; before]),
                )
            });
            if equity.len() > before {
                continue; // the same id twice in one sample
            }
            equity.push_back(Some(equity_now));
            pnl.push_back(Some(pnl_now));
        }
        let len = self.t.len();
        self.series.retain(|_, (equity, pnl)| {
            if equity.len() < len {
                equity.push_back(None);
                pnl.push_back(None);
            }
            // A strategy gone for the whole window is forgotten.
            equity.iter().any(Option::is_some)
        });
        if len > CURVE_POINTS {
            self.t.pop_front();
            for (equity, pnl) in self.series.values_mut() {
                equity.pop_front();
                pnl.pop_front();
            }
        }
    }

    /// The last `points` samples as the `history` message's data:
    /// `{"t": [...], "equity": {id: [...]}, "pnl": {id: [...]}}`.
    pub fn json(&self, points: usize) -> Value {
        let skip = self.t.len().saturating_sub(points);
        let tail = |v: &Curve| -> Vec<Option<f64>> { v.iter().skip(skip).copied().collect() };
        let equity: serde_json::Map<String, Value> = self
            .series
            .iter()
            .map(|(id, (e, _))| (id.clone(), json!(tail(e))))
            .collect();
        let pnl: serde_json::Map<String, Value> = self
            .series
            .iter()
            .map(|(id, (_, p))| (id.clone(), json!(tail(p))))
            .collect();
        let t: Vec<f64> = self.t.iter().skip(skip).copied().collect();
        json!({ "t": t, "equity": equity, "pnl": pnl })
    }
}

/// A strategy's point on the curves: its id, equity and PnL.
fn point(s: &StrategyStatus) -> (&str, f64, f64) {
    (&s.id, s.equity, s.realised_pnl + s.unrealised_pnl)
}

/// Samples the runtime's status into `state.curves` every second until the
/// server shuts down.
pub async fn keep(state: AppState) {
    let mut tick = tokio::time::interval(STATUS_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut shutdown = state.shutdown.clone();
    loop {
        tokio::select! {
            _ = shutdown.wait_for(|s| *s) => return,
            _ = tick.tick() => {}
        }
        let status = state.handle.status();
        let t = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        if let Ok(mut curves) = state.curves.lock() {
            curves.sample(t, status.strategies.iter().map(point));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_17_curves_align_strategies_with_gaps_and_keep_the_last_hour() {
        let mut curves = Curves::default();
        curves.sample(1.0, [("a", 100.0, 0.0)]);
        curves.sample(2.0, [("a", 101.0, 1.0), ("b", 50.0, -2.0)]);
        curves.sample(3.0, [("b", 49.0, -3.0)]);
        let j = curves.json(CURVE_SENT);
        assert_eq!(j["t"], json!([1.0, 2.0, 3.0]));
        assert_eq!(j["equity"]["a"], json!([100.0, 101.0, null]));
        assert_eq!(j["equity"]["b"], json!([null, 50.0, 49.0]));
        assert_eq!(j["pnl"]["b"], json!([null, -2.0, -3.0]));
        // The last `points` only.
        assert_eq!(curves.json(2)["equity"]["a"], json!([101.0, null]));
        // An hour at most; a strategy gone for all of it is forgotten.
        for i in 0..CURVE_POINTS {
            curves.sample(10.0 + i as f64, [("b", 1.0, 0.0)]);
        }
        let j = curves.json(CURVE_POINTS);
        assert_eq!(j["t"].as_array().unwrap().len(), CURVE_POINTS);
        assert_eq!(j["t"][0], json!(10.0));
        assert!(
            j["equity"].get("a").is_none(),
            "{:?}",
            j["equity"]
                .as_object()
                .map(|m| m.keys().collect::<Vec<_>>())
        );
        assert_eq!(j["equity"]["b"].as_array().unwrap().len(), CURVE_POINTS);
    }
}
