//! `/metrics`: the runtime's status, reload counters, event-derived counts
//! and per-bar latency histograms in Prometheus text format. Every family
//! is prefixed `sandbar_`; per-strategy series carry a `strategy` label.

use super::event_metrics::EventMetrics;
use super::exposition::Exposition;
use crate::error::Stage;
use crate::live::RuntimeStatus;
use std::collections::BTreeMap;

/// Upper bounds of the per-bar latency buckets, in seconds (1 µs to 50 ms):
/// a guest call is microseconds, the deadline default 50 ms.
const LATENCY_BUCKETS: [f64; 14] = [
    0.000_001, 0.000_002, 0.000_005, 0.000_01, 0.000_02, 0.000_05, 0.000_1, 0.000_2, 0.000_5,
    0.001, 0.002, 0.005, 0.01, 0.05,
];

const STATES: [&str; 4] = ["running", "paused", "halted", "quarantined"];
const OUTCOMES: [&str; 6] = [
    "swapped",
    "rejected",
    "rolled_back",
    "retired",
    "quarantined",
    "tiered_up",
];

/// Everything `/metrics` shows, gathered by the server.
pub struct MetricsInput<'a> {
    pub status: &'a RuntimeStatus,
    /// Per-bar guest-call latency of each strategy, in nanoseconds.
    pub latency: &'a BTreeMap<String, std::sync::Arc<hdrhistogram::Histogram<u64>>>,
    pub events: &'a EventMetrics,
    /// The ops server's own connections and refusals (`None` when rendered
    /// without a server, as in tests of the runtime's families).
    pub ops: Option<OpsCounts<'a>>,
}

/// What the ops server counts about itself.
pub struct OpsCounts<'a> {
    /// Connections open now and refused or timed out since start, and the limits.
    pub connections: &'a super::status::ConnectionsInfo,
    /// Control actions refused by the rate limit (`ops.actions_per_second`).
    pub rate_limited: u64,
    /// Requests with a missing or wrong token refused by their own rate limit.
    pub denied_rate_limited: u64,
}

pub fn render(input: &MetricsInput<'_>) -> String {
    let status = input.status;
    let mut e = Exposition::default();

    e.gauge("sandbar_up", "1 while the runtime serves this endpoint.")
        .sample(&[("profile", &status.profile)], 1.0);
    e.gauge(
        "sandbar_uptime_seconds",
        "Seconds since the runtime started.",
    )
    .sample(&[], status.uptime_ms as f64 / 1000.0);
    e.gauge(
        "sandbar_hot_reload_enabled",
        "1 when hot reload watches files.",
    )
    .sample(&[], f64::from(u8::from(status.hot_reload)));
    e.counter(
        "sandbar_bars_total",
        "Bars the bar loop has processed (all symbols).",
    )
    .sample(&[], status.bars);

    per_strategy_counters(&mut e, status);
    reload_metrics(&mut e, status, input.events);
    traps_and_refusals(&mut e, status, input.events);
    latency(&mut e, input.latency);
    queueing(&mut e, status);
    super::metrics_shadow::shadow(&mut e, status);

    if let Some(ops) = &input.ops {
        ops_server(&mut e, ops);
    }

    let mut events = e.counter("sandbar_events_total", "Runtime events published, by kind, since the ops API started (including the runtime's backlog then).");
    for (kind, n) in &input.events.events {
        events.sample(&[("event", kind)], *n);
    }
    e.finish()
}

fn ops_server(e: &mut Exposition, ops: &OpsCounts<'_>) {
    let c = ops.connections;
    e.gauge(
        "sandbar_ops_connections",
        "Connections to the ops API open now.",
    )
    .sample(&[], c.open as f64);
    e.gauge(
        "sandbar_ops_connections_max",
        "The effective connection cap (`ops.max_connections`, or fewer when the open-file limit leaves less).",
    )
    .sample(&[], c.max as f64);
    let mut closed = e.counter(
        "sandbar_ops_connections_refused_total",
        "Connections refused or closed by the ops API since start: `cap` (max_connections open), `timeout` (ops.header_timeout_ms or ops.idle_timeout_ms).",
    );
    closed.sample(&[("reason", "cap")], c.refused);
    closed.sample(&[("reason", "timeout")], c.timed_out);
    e.gauge(
        "sandbar_ops_event_streams",
        "`/events` streams open now (at most `ops.max_event_streams`).",
    )
    .sample(&[], c.event_streams as f64);
    let mut limited = e.counter(
        "sandbar_ops_rate_limited_total",
        "Requests refused with 429 since start: `action` (control actions over ops.actions_per_second), `denied` (requests with a missing or wrong token).",
    );
    limited.sample(&[("kind", "action")], ops.rate_limited);
    limited.sample(&[("kind", "denied")], ops.denied_rate_limited);
}

fn per_strategy_counters(e: &mut Exposition, status: &RuntimeStatus) {
    type Count = fn(&crate::live::StrategyStatus) -> u64;
    let counters: [(&'static str, &str, Count); 5] = [
        (
            "sandbar_strategy_bars_total",
            "Bars this strategy processed.",
            |s| s.bars,
        ),
        (
            "sandbar_strategy_orders_total",
            "Orders this strategy sent to the broker.",
            |s| s.orders,
        ),
        (
            "sandbar_strategy_fills_total",
            "Fills this strategy received.",
            |s| s.fills,
        ),
        (
            "sandbar_strategy_trades_total",
            "Round-trip trades this strategy closed.",
            |s| s.trades,
        ),
        (
            "sandbar_strategy_traps_total",
            "Traps of this strategy, all kinds.",
            |s| s.traps,
        ),
    ];
    for (name, help, field) in counters {
        let mut family = e.counter(name, help);
        for s in &status.strategies {
            family.sample(&[("strategy", &s.id)], field(s));
        }
    }
    type Level = fn(&crate::live::StrategyStatus) -> f64;
    let gauges: [(&'static str, &str, Level); 4] = [
        (
            "sandbar_equity",
            "Equity of the strategy's paper account, in quote currency.",
            |s| s.equity,
        ),
        (
            "sandbar_realised_pnl",
            "Realised profit and loss, in quote currency.",
            |s| s.realised_pnl,
        ),
        (
            "sandbar_unrealised_pnl",
            "Unrealised profit and loss at the last close, in quote currency.",
            |s| s.unrealised_pnl,
        ),
        (
            "sandbar_strategy_version",
            "The live version number of the strategy.",
            |s| s.version as f64,
        ),
    ];
    for (name, help, field) in gauges {
        let mut family = e.gauge(name, help);
        for s in &status.strategies {
            family.sample(&[("strategy", &s.id)], field(s));
        }
    }
    let mut states = e.gauge(
        "sandbar_strategy_state",
        "1 for the strategy's current run state, 0 for the others.",
    );
    for s in &status.strategies {
        for state in STATES {
            let on = f64::from(u8::from(s.state == state));
            states.sample(&[("strategy", &s.id), ("state", state)], on);
        }
    }
    let mut tiers = e.gauge(
        "sandbar_strategy_tier",
        "1 for the compiler tier of the live generation's code (baseline: Winch, optimized: Cranelift), 0 for the other.",
    );
    for s in &status.strategies {
        for tier in crate::load::Tier::ALL {
            let on = f64::from(u8::from(s.tier == tier));
            tiers.sample(&[("strategy", &s.id), ("tier", tier.as_str())], on);
        }
    }
    let mut tier_ups = e.counter(
        "sandbar_tier_ups_total",
        "Builds that went live again on their optimised code (hot_reload.tiering = \"auto\").",
    );
    for s in &status.strategies {
        tier_ups.sample(&[("strategy", &s.id)], s.reload.tiered_up);
    }
}

fn reload_metrics(e: &mut Exposition, status: &RuntimeStatus, events: &EventMetrics) {
    let mut reloads = e.counter(
        "sandbar_reloads_total",
        "Reload attempts by strategy and outcome (startup loads included).",
    );
    for s in &status.strategies {
        let r = &s.reload;
        let counts = [
            r.swapped,
            r.rejected,
            r.rolled_back,
            r.retired,
            r.quarantined,
            r.tiered_up,
        ];
        for (outcome, n) in OUTCOMES.iter().zip(counts) {
            reloads.sample(&[("strategy", &s.id), ("outcome", outcome)], n);
        }
    }
    let mut rejections = e.counter(
        "sandbar_reload_rejections_total",
        "Rejected reloads by strategy and the stage that failed.",
    );
    for s in &status.strategies {
        for (stage, n) in &s.reload.rejected_by_stage {
            rejections.sample(&[("strategy", &s.id), ("stage", stage.as_str())], *n);
        }
    }
    let mut stages = e.histogram(
        "sandbar_reload_stage_duration_seconds",
        "Duration of each reload pipeline stage.",
    );
    for stage in Stage::ALL {
        let Some(h) = events.stage_seconds.get(&stage) else {
            continue;
        };
        stages.series(
            &[("stage", stage.as_str())],
            &h.cumulative(),
            h.count,
            h.sum,
        );
    }
}

fn traps_and_refusals(e: &mut Exposition, status: &RuntimeStatus, events: &EventMetrics) {
    let mut traps = e.counter(
        "sandbar_traps_total",
        "Guest traps by strategy and kind (out_of_fuel, deadline, trap, other).",
    );
    for ((strategy, kind), n) in &events.traps {
        traps.sample(&[("strategy", strategy), ("kind", kind)], *n);
    }
    let mut refusals = e.counter(
        "sandbar_risk_refusals_total",
        "Orders refused before the broker, by strategy and rule.",
    );
    for s in &status.strategies {
        for (rule, n) in &s.refused {
            refusals.sample(&[("strategy", &s.id), ("rule", rule)], *n);
        }
    }
}

fn latency(
    e: &mut Exposition,
    latency: &BTreeMap<String, std::sync::Arc<hdrhistogram::Histogram<u64>>>,
) {
    let mut bars = e.histogram(
        "sandbar_bar_latency_seconds",
        "Per-bar guest call latency (on-bar, fills, risk and routing) of each strategy.",
    );
    for (id, h) in latency {
        // One pass over the recorded values (not a range count per bucket,
        // which walks the whole histogram each time).
        let mut per_bucket = [0u64; LATENCY_BUCKETS.len()];
        for v in h.iter_recorded() {
            let seconds = h.lowest_equivalent(v.value_iterated_to()) as f64 / 1e9;
            if let Some(i) = LATENCY_BUCKETS.iter().position(|le| seconds <= *le) {
                per_bucket[i] += v.count_at_value();
            }
        }
        let mut total = 0;
        let buckets: Vec<(f64, u64)> = LATENCY_BUCKETS
            .iter()
            .zip(per_bucket)
            .map(|(le, n)| {
                total += n;
                (*le, total)
            })
            .collect();
        let sum = h.mean() * h.len() as f64 / 1e9;
        bars.series(&[("strategy", id)], &buckets, h.len(), sum);
    }
    let mut quantiles = e.gauge(
        "sandbar_bar_latency_quantile_seconds",
        "Per-bar latency quantiles (0.5, 0.99, 0.999) since the strategy started.",
    );
    for (id, h) in latency {
        for q in [0.5, 0.99, 0.999] {
            let label = q.to_string();
            let v = h.value_at_quantile(q) as f64 / 1e9;
            quantiles.sample(&[("strategy", id), ("quantile", &label)], v);
        }
    }
}

/// What call times hide: the loop's lag behind its feed, and each
/// strategy's feed-to-decision latency (bar delivered → orders routed).
fn queueing(e: &mut Exposition, status: &RuntimeStatus) {
    e.gauge(
        "sandbar_loop_bars_queued",
        "Bars the feed delivered that the bar loop has not processed yet.",
    )
    .sample(&[], status.loop_lag.bars_queued as f64);
    let lag = &status.loop_lag.age_us;
    let mut ages = e.gauge(
        "sandbar_loop_lag_seconds",
        "Age of the bars when the bar loop took them (feed delivery to processing), by quantile (0.5, 0.99, max) since the start; `last` is the last bar's.",
    );
    for (q, us) in [
        ("0.5", lag.p50),
        ("0.99", lag.p99),
        ("max", lag.max),
        ("last", status.loop_lag.last_age_us),
    ] {
        ages.sample(&[("quantile", q)], us / 1e6);
    }
    let mut decisions = e.gauge(
        "sandbar_feed_to_decision_seconds",
        "Per-bar feed-to-decision latency of each strategy (the feed delivered the bar -> its orders routed; queueing included), by quantile (0.5, 0.99, max) since it started.",
    );
    for s in &status.strategies {
        let d = &s.feed_to_decision_us;
        for (q, us) in [("0.5", d.p50), ("0.99", d.p99), ("max", d.max)] {
            decisions.sample(&[("strategy", &s.id), ("quantile", q)], us / 1e6);
        }
    }
    let mut disk = e.gauge(
        "sandbar_strategy_file_differs",
        "1 when the strategy's file on disk is not its running version (rejected, unreadable, not loaded yet, or rolled back).",
    );
    for s in &status.strategies {
        disk.sample(&[("strategy", &s.id)], f64::from(u8::from(s.disk_differs)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::{Event, ReloadEvent, ReloadMetrics, Trigger};
    use prometheus_parse::{Scrape, Value};
    use std::sync::Arc;

    #[test]
    fn renders_text_a_prometheus_parser_reads_back() {
        let status = RuntimeStatus {
            run_id: "test-run".into(),
            profile: "dev".into(),
            uptime_ms: 1500,
            hot_reload: true,
            bars: 42,
            last_seq: 41,
            loop_lag: crate::live::LoopLag {
                bars_queued: 7,
                last_age_us: 2_000_000.0,
                age_us: crate::live::LatencySummary {
                    samples: 42,
                    p50: 10.0,
                    p99: 1_500_000.0,
                    p999: 1_900_000.0,
                    max: 2_000_000.0,
                },
            },
            strategies: Vec::new(),
            reload_total: ReloadMetrics::default(),
        };
        let mut events = EventMetrics::default();
        let mut reload = ReloadEvent::base("a", crate::live::Outcome::Swapped, Trigger::File);
        reload.duration_us.insert(Stage::Compile, 70_000);
        events.observe(&Event::Reload(reload));
        let mut h = hdrhistogram::Histogram::<u64>::new(3).unwrap();
        for ns in [900, 1_500, 40_000, 3_000_000] {
            h.record(ns).unwrap();
        }
        let latency = BTreeMap::from([("a".to_owned(), Arc::new(h))]);
        let text = render(&MetricsInput {
            status: &status,
            latency: &latency,
            events: &events,
            ops: Some(OpsCounts {
                connections: &crate::ops::status::ConnectionsInfo {
                    open: 3,
                    max: 256,
                    refused: 7,
                    timed_out: 2,
                    event_streams: 1,
                    max_event_streams: 32,
                },
                rate_limited: 5,
                denied_rate_limited: 0,
            }),
        });
        let scrape = Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap();
        let find = |name: &str| scrape.samples.iter().find(|s| s.metric == name).unwrap();
        assert_eq!(find("sandbar_bars_total").value, Value::Counter(42.0));
        assert_eq!(find("sandbar_uptime_seconds").value, Value::Gauge(1.5));
        assert_eq!(find("sandbar_ops_connections").value, Value::Gauge(3.0));
        let refused = |reason: &str| {
            scrape
                .samples
                .iter()
                .find(|s| {
                    s.metric == "sandbar_ops_connections_refused_total"
                        && s.labels.get("reason") == Some(reason)
                })
                .map(|s| s.value.clone())
        };
        assert_eq!(refused("cap"), Some(Value::Counter(7.0)));
        assert_eq!(refused("timeout"), Some(Value::Counter(2.0)));
        assert!(
            scrape
                .samples
                .iter()
                .any(|s| s.metric == "sandbar_ops_rate_limited_total"
                    && s.labels.get("kind") == Some("action")
                    && s.value == Value::Counter(5.0))
        );
        let Value::Histogram(stage) = &find("sandbar_reload_stage_duration_seconds").value else {
            panic!("stage durations are a histogram")
        };
        let le = |b: &[prometheus_parse::HistogramCount], at: f64| {
            b.iter().find(|c| c.less_than == at).map(|c| c.count)
        };
        assert_eq!(le(stage, 0.05), Some(0.0));
        assert_eq!(le(stage, 0.1), Some(1.0));
        let Value::Histogram(bars) = &find("sandbar_bar_latency_seconds").value else {
            panic!("bar latency is a histogram")
        };
        assert_eq!(le(bars, 0.000_001), Some(1.0));
        assert_eq!(le(bars, 0.000_05), Some(3.0));
        assert_eq!(le(bars, f64::INFINITY), Some(4.0));
        assert!(
            text.contains("sandbar_events_total{event=\"reload\"} 1\n"),
            "{text}"
        );
        assert_eq!(find("sandbar_loop_bars_queued").value, Value::Gauge(7.0));
        let lag_p99 = scrape
            .samples
            .iter()
            .find(|s| {
                s.metric == "sandbar_loop_lag_seconds" && s.labels.get("quantile") == Some("0.99")
            })
            .unwrap();
        assert_eq!(lag_p99.value, Value::Gauge(1.5));
    }
}
