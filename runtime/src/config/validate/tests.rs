//! The rules of `validate`, one case each.

use super::*;
use crate::config::StrategyConfig;

fn check(edit: impl FnOnce(&mut Config)) -> Result<(), ConfigError> {
    let mut config = Config::default();
    config.strategies.push(StrategyConfig::new("a", "a.wasm"));
    edit(&mut config);
    validate(&config, &SourceMap::default())
}

fn message(edit: impl FnOnce(&mut Config)) -> String {
    check(edit).unwrap_err().message
}

#[test]
fn defaults_pass() {
    check(|_| {}).unwrap();
}

#[test]
fn prod_pins_everything() {
    assert_eq!(
        message(|c| {
            c.profile = Profile::Prod;
            c.hot_reload.skip_hash_verification = true;
        }),
        "prod never skips hash verification"
    );
    let e = check(|c| c.profile = Profile::Prod).unwrap_err();
    assert!(e.message.contains("strategy `a` has no sha256"), "{e}");
    assert_eq!(
        e.hint.unwrap(),
        "run `runtime hash strategies/dist/a.wasm` and paste the line it prints into this [[strategy]]"
    );
    // A disabled strategy is not loaded, so needs no pin.
    check(|c| {
        c.profile = Profile::Prod;
        c.strategies[0].enabled = false;
    })
    .unwrap();
    check(|c| {
        c.profile = Profile::Prod;
        c.strategies[0].sha256 = Some("AB".repeat(32));
    })
    .unwrap();
}

#[test]
fn ranges_are_enforced() {
    assert!(message(|c| c.runtime.history_bars = 0).contains("between 1 and 1000000"));
    assert!(message(|c| c.runtime.history_bars = 1_000_001).contains("not 1000001"));
    assert!(
        message(|c| c.runtime.loop_spin_us = 10_001).contains("at most 10000 (10 ms), not 10001")
    );
    assert!(message(|c| c.hot_reload.keep_versions = 0).contains("keep_versions"));
    assert!(message(|c| c.hot_reload.debounce_ms = 60_001).contains("at most 60000"));
    check(|c| c.hot_reload.debounce_ms = 60_000).unwrap();
    assert!(message(|c| c.hot_reload.rollback_after_traps = 0).contains("rollback_after_traps"));
    assert!(message(|c| c.limits.memory_mb = 0).contains("memory_mb"));
    assert!(message(|c| c.limits.memory_mb = 4097).contains("not 4097"));
    assert!(message(|c| c.limits.fuel_per_bar = 0).contains("fuel_per_bar"));
    assert!(message(|c| c.limits.max_component_mb = 0).contains("max_component_mb"));
    assert!(message(|c| c.limits.state_deadline_us = 0).contains("state_deadline_us"));
    assert!(message(|c| c.limits.state_deadline_us = 1_000_001).contains("not 1000001"));
    assert!(message(|c| c.limits.log_bytes_per_call = 2 << 20).contains("log_bytes_per_call"));
    assert!(message(|c| c.broker.commission = -0.1).contains("commission"));
    assert!(message(|c| c.broker.slippage_bps = f64::NAN).contains("slippage_bps"));
    assert!(message(|c| c.broker.commission = f64::INFINITY).contains("not inf"));
    assert!(message(|c| c.broker.starting_cash = 0.0).contains("starting_cash"));
    assert!(message(|c| c.risk.max_position = Some(0.0)).contains("max_position"));
    assert!(message(|c| c.risk.max_orders_per_sec = Some(0)).contains("at least 1"));
    assert!(message(|c| c.risk.max_drawdown_pct = Some(150.0)).contains("at most 100"));
    assert!(
        message(|c| c.risk.max_notional_per_order = Some(f64::NAN))
            .contains("max_notional_per_order")
    );
    assert!(message(|c| c.feed.kind = super::super::FeedKind::Csv).contains("needs `path`"));
    assert!(
        message(|c| {
            c.feed.kind = super::super::FeedKind::Tcp;
            c.feed.listen = "0.0.0.0:9100".into();
        })
        .contains("not a loopback")
    );
    assert!(message(|c| c.feed.speed = -1.0).contains("speed"));
    assert!(message(|c| c.feed.symbols.clear()).contains("is empty"));
    assert!(message(|c| c.feed.symbols.push("BTCUSD".into())).contains("twice"));
}

#[test]
fn ops_connection_and_rate_limits_are_enforced() {
    check(|c| {
        c.ops.max_connections = 2;
        c.ops.max_event_streams = 1;
    })
    .unwrap();
    assert!(message(|c| c.ops.max_connections = 0).contains("max_connections"));
    assert!(message(|c| c.ops.header_timeout_ms = 0).contains("at least 1"));
    assert!(message(|c| c.ops.actions_per_second = 0).contains("actions_per_second"));
    assert!(message(|c| c.ops.action_burst = 0).contains("action_burst"));
    assert!(
        message(|c| c.ops.max_event_streams = c.ops.max_connections)
            .contains("must be below `max_connections`")
    );
    assert!(message(|c| c.ops.idle_timeout_ms = 15_000).contains("keep-alive interval"));
}

#[test]
fn ops_rules() {
    use crate::config::OpsToken;
    let token = |name: &str| OpsToken {
        name: name.into(),
        token_env: Some("SANDBAR_OPS_TOKEN".into()),
        ..OpsToken::default()
    };
    check(|c| c.ops.tokens.push(token("alice"))).unwrap();
    assert!(message(|c| c.ops.listen = "nowhere".into()).contains("not an address"));
    assert!(message(|c| c.ops.listen = "0.0.0.0:9190".into()).contains("has no token"));
    check(|c| {
        c.ops.listen = "0.0.0.0:9190".into();
        c.ops.tokens.push(token("alice"));
    })
    .unwrap();
    let prod = |c: &mut Config| {
        c.profile = Profile::Prod;
        c.strategies[0].sha256 = Some("0".repeat(64));
    };
    check(prod).unwrap();
    assert!(
        message(|c| {
            prod(c);
            c.ops.enabled = Some(true);
        })
        .contains("needs a token")
    );
    assert!(
        message(|c| c.ops.tokens.extend([token("alice"), token("alice")])).contains("both named")
    );
    assert!(message(|c| c.ops.tokens.push(token("Alice!"))).contains("needs a `name`"));
    assert!(
        message(|c| c.ops.tokens.push(OpsToken {
            name: "bob".into(),
            token: Some("short".into()),
            ..OpsToken::default()
        }))
        .contains("shorter than 16")
    );
    assert!(
        message(|c| c.ops.tokens.push(OpsToken {
            name: "bob".into(),
            ..OpsToken::default()
        }))
        .contains("exactly one of")
    );
}

#[test]
fn strategies_are_checked() {
    assert!(message(|c| c.strategies[0].id.clear()).contains("#1 has an empty id"));
    let e = check(|c| c.strategies[0].id = "SMA Fast".into()).unwrap_err();
    assert_eq!(e.hint.as_deref(), Some("for example id = \"sma-fast\""));
    assert!(
        message(|c| c.strategies.push(StrategyConfig::new("a", "b.wasm"))).contains("used by two")
    );
    for bad in ["../x.wasm", "/abs/x.wasm", "sub/../../x.wasm"] {
        assert!(
            message(|c| c.strategies[0].wasm = bad.into())
                .contains("only files inside runtime.strategies_dir are loadable"),
            "{bad}"
        );
    }
    check(|c| c.strategies[0].wasm = "sub/x.wasm".into()).unwrap();
    assert!(message(|c| c.strategies[0].wasm = "x.wat".into()).contains("does not end in .wasm"));
    assert!(message(|c| c.strategies[0].sha256 = Some("ab".into())).contains("has 2 characters"));
    assert!(message(|c| c.strategies[0].sha256 = Some("g".repeat(64))).contains("contains `g`"));
    let e = check(|c| c.strategies[0].symbols = vec!["BTCUSDT".into()]).unwrap_err();
    assert!(
        e.message
            .contains("trades `BTCUSDT`, which is not in feed.symbols")
    );
    assert_eq!(
        e.hint.as_deref(),
        Some("did you mean `BTCUSD`? the feed produces BTCUSD, ETHUSD")
    );
    assert!(
        message(|c| c.strategies[0].symbols = vec!["ETHUSD".into(), "ETHUSD".into()])
            .contains("twice")
    );
    let e = check(|c| {
        c.strategies[0]
            .params
            .insert("fast".into(), toml::Value::Array(vec![]));
    })
    .unwrap_err();
    assert!(e.message.contains("parameter `fast` is an array"), "{e}");
    assert_eq!(e.key.as_deref(), Some("strategy[0].params.fast"));
}
