//! `/metrics` families of shadow deployments: per strategy with a candidate,
//! live against candidate over the same bars (`side` = `live` or
//! `candidate`), and whether a swap waits for its policy.

use super::exposition::Exposition;
use crate::live::{RuntimeStatus, SideFigures};

pub(super) fn shadow(e: &mut Exposition, status: &RuntimeStatus) {
    let with: Vec<_> = status
        .strategies
        .iter()
        .filter_map(|s| s.candidate.as_ref().map(|c| (s.id.as_str(), c)))
        .collect();
    let mut version = e.gauge(
        "sandbar_candidate_version",
        "The version number of the strategy's shadow candidate (only strategies with one).",
    );
    for (id, c) in &with {
        version.sample(&[("strategy", id)], c.version as f64);
    }
    let mut bars = e.gauge(
        "sandbar_candidate_bars",
        "Bars the shadow candidate processed beside the live version.",
    );
    for (id, c) in &with {
        bars.sample(&[("strategy", id)], c.comparison.bars as f64);
    }
    let mut differing = e.gauge(
        "sandbar_candidate_bars_differing",
        "Bars on which the candidate's orders were not the live version's.",
    );
    for (id, c) in &with {
        differing.sample(&[("strategy", id)], c.comparison.bars_differing as f64);
    }
    let mut agreement = e.gauge(
        "sandbar_candidate_agreement_ratio",
        "Share of bars (0 to 1) on which the candidate's orders equalled the live version's.",
    );
    for (id, c) in &with {
        agreement.sample(&[("strategy", id)], c.comparison.agreement_pct / 100.0);
    }
    type Field = fn(&SideFigures) -> f64;
    let sides: [(&'static str, &str, Field); 7] = [
        (
            "sandbar_candidate_pnl",
            "Equity change since the candidate started, by side, in quote currency.",
            |f| f.pnl,
        ),
        (
            "sandbar_candidate_max_drawdown",
            "Largest fall from the equity peak since the candidate started, by side.",
            |f| f.max_drawdown,
        ),
        (
            "sandbar_candidate_orders",
            "Orders accepted since the candidate started, by side.",
            |f| f.orders as f64,
        ),
        (
            "sandbar_candidate_fills",
            "Fills since the candidate started, by side.",
            |f| f.fills as f64,
        ),
        (
            "sandbar_candidate_refused",
            "Orders refused since the candidate started, by side.",
            |f| f.refused as f64,
        ),
        (
            "sandbar_candidate_traps",
            "Traps since the candidate started, by side.",
            |f| f.traps as f64,
        ),
        (
            "sandbar_candidate_fuel_per_bar",
            "Mean fuel per on-bar call since the candidate started, by side.",
            |f| f.fuel_per_bar,
        ),
    ];
    for (name, help, field) in sides {
        let mut family = e.gauge(name, help);
        for (id, c) in &with {
            family.sample(
                &[("strategy", id), ("side", "live")],
                field(&c.comparison.live),
            );
            family.sample(
                &[("strategy", id), ("side", "candidate")],
                field(&c.comparison.shadow),
            );
        }
    }
    let mut latency = e.gauge(
        "sandbar_candidate_latency_quantile_seconds",
        "Per-bar on-bar call time since the candidate started, by side and quantile (0.5, 0.99, 0.999).",
    );
    for (id, c) in &with {
        for (side, f) in [
            ("live", &c.comparison.live),
            ("candidate", &c.comparison.shadow),
        ] {
            for (q, us) in [
                ("0.5", f.latency_us.p50),
                ("0.99", f.latency_us.p99),
                ("0.999", f.latency_us.p999),
            ] {
                latency.sample(
                    &[("strategy", id), ("side", side), ("quantile", q)],
                    us / 1e6,
                );
            }
        }
    }
    let mut pending = e.gauge(
        "sandbar_swap_pending_seconds",
        "How long a published version has waited for its swap policy (only strategies with a waiting swap).",
    );
    for s in &status.strategies {
        if let Some(p) = &s.pending_swap {
            pending.sample(&[("strategy", &s.id)], p.waiting_ms as f64 / 1000.0);
        }
    }
}
