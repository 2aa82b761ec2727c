//! The config front door: defaults, the embedded demo config, parameters,
//! path resolution and round trips. Error wording is covered by the golden
//! files (runtime/tests/config_errors.rs) and by parse.rs / validate.rs.

use super::*;
use crate::contract::ParamValue;

fn parse(text: &str) -> Config {
    Config::parse(text, Path::new("sandbar.toml")).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn an_empty_file_is_a_dev_config_with_the_documented_defaults() {
    let config = parse("");
    assert_eq!(config.profile, Profile::Dev);
    assert_eq!(config.runtime.strategies_dir, Path::new("strategies/dist"));
    assert_eq!(config.runtime.history_bars, 512);
    assert_eq!(config.runtime.journal_dir, None);
    assert_eq!(
        config.hot_reload,
        HotReloadSection {
            enabled: true,
            debounce_ms: 200,
            skip_hash_verification: false,
            keep_versions: 5,
            rollback_after_traps: 3,
            trap_window_bars: 1000,
            tiering: None,
        }
    );
    assert_eq!(
        config.limits,
        LimitsSection {
            fuel_per_bar: 5_000_000,
            deadline_us: 50_000,
            memory_mb: 64,
            max_orders_per_bar: 64,
            max_snapshot_kb: 4096,
            max_component_mb: 32,
            ..LimitsSection::default()
        }
    );
    assert_eq!(config.feed.kind, FeedKind::Synthetic);
    assert_eq!(config.feed.symbols, ["BTCUSD", "ETHUSD"]);
    assert_eq!((config.feed.interval_ms, config.feed.seed), (1000, 42));
    assert_eq!(config.broker.kind, BrokerKind::Paper);
    assert_eq!(config.broker.starting_cash, 100_000.0);
    assert_eq!(config.broker.commission, 0.001);
    assert_eq!(config.broker.slippage_bps, 0.0);
    assert!(config.strategies.is_empty());
    assert!(config.verify_hashes());
    assert_eq!(config.origin(), Some(Path::new("sandbar.toml")));
    // The derived defaults and the parsed empty file agree.
    assert_eq!(
        Config {
            origin: None,
            ..config
        },
        Config::default()
    );
}

#[test]
fn default_limits_are_the_runtime_defaults() {
    assert_eq!(
        LimitsSection::default().to_limits(),
        crate::Limits::default()
    );
    let limits = LimitsSection {
        fuel_per_bar: 7,
        deadline_us: 9,
        memory_mb: 2,
        max_orders_per_bar: 3,
        max_snapshot_kb: 5,
        max_component_mb: 1,
        ..LimitsSection::default()
    }
    .to_limits();
    assert_eq!(
        limits,
        crate::Limits {
            fuel_per_call: 7,
            deadline: std::time::Duration::from_micros(9),
            memory_bytes: 2 << 20,
            max_orders_per_bar: 3,
            max_snapshot_bytes: 5 << 10,
            max_component_bytes: 1 << 20,
            ..crate::Limits::default()
        }
    );
}

#[test]
fn the_embedded_default_parses_validates_and_runs_the_three_examples() {
    let config = Config::embedded_default();
    config.validate().unwrap();
    assert_eq!(config.profile, Profile::Dev);
    assert!(!config.verify_hashes());
    assert_eq!(config.origin(), None);
    let ids: Vec<_> = config.enabled_strategies().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["sma-cross", "rsi-reversion", "channel-breakout"]);
    for (s, wasm) in config.strategies.iter().zip([
        "sma_cross.wasm",
        "rsi_reversion.wasm",
        "channel_breakout.wasm",
    ]) {
        assert_eq!(s.wasm, Path::new(wasm));
        assert_eq!(s.symbols, ["BTCUSD", "ETHUSD"]);
        assert!(s.params.is_empty() && s.sha256.is_none() && s.enabled);
    }
    assert_eq!(
        config.wasm_path(&config.strategies[0]),
        Path::new("strategies/dist/sma_cross.wasm")
    );
    // Apart from skipping verification and a faster feed (so the demo
    // trades within seconds), every value is the default.
    let defaults = Config::default();
    assert_eq!(config.runtime, defaults.runtime);
    assert_eq!(
        config.hot_reload,
        HotReloadSection {
            skip_hash_verification: true,
            ..defaults.hot_reload
        }
    );
    assert_eq!(config.limits, defaults.limits);
    assert_eq!(
        config.feed,
        FeedSection {
            interval_ms: 250,
            ..defaults.feed
        }
    );
    assert_eq!(config.broker, defaults.broker);
}

#[test]
fn params_convert_sorted_by_name() {
    let config = parse(
        r#"
[[strategy]]
id = "s"
wasm = "s.wasm"
[strategy.params]
slow = 30
fast = 10
size = 2.5
allow_short = true
mode = "calm"
"#,
    );
    let params = config.strategies[0].params().unwrap();
    let got: Vec<(&str, &ParamValue)> =
        params.iter().map(|p| (p.name.as_str(), &p.value)).collect();
    assert_eq!(
        got,
        [
            ("allow_short", &ParamValue::Boolean(true)),
            ("fast", &ParamValue::Int(10)),
            ("mode", &ParamValue::Text("calm".into())),
            ("size", &ParamValue::Float(2.5)),
            ("slow", &ParamValue::Int(30)),
        ]
    );

    let mut bad = StrategyConfig::new("s", "s.wasm");
    bad.params.insert("xs".into(), toml::Value::Array(vec![]));
    assert!(bad.params().unwrap_err().contains("`xs`"));
    assert!(
        StrategyConfig::new("s", "s.wasm")
            .params()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn relative_dirs_resolve_against_the_config_file() {
    let text = "[runtime]\nstrategies_dir = \"dist\"\njournal_dir = \"journal\"\n[[strategy]]\nid = \"s\"\nwasm = \"sub/s.wasm\"\n";
    let config = Config::parse(text, Path::new("deploy/sandbar.toml")).unwrap();
    assert_eq!(config.strategies_dir(), Path::new("deploy/dist"));
    assert_eq!(config.journal_dir(), Some(PathBuf::from("deploy/journal")));
    assert_eq!(
        config.wasm_path(&config.strategies[0]),
        Path::new("deploy/dist/sub/s.wasm")
    );

    let absolute = if cfg!(windows) {
        "C:\\\\srv\\\\dist"
    } else {
        "/srv/dist"
    };
    let text = format!("[runtime]\nstrategies_dir = \"{absolute}\"\n");
    let config = Config::parse(&text, Path::new("deploy/sandbar.toml")).unwrap();
    assert_eq!(
        config.strategies_dir(),
        Path::new(&absolute.replace("\\\\", "\\"))
    );

    // A bare file name has no directory: paths stay relative to the current one.
    assert_eq!(parse("").strategies_dir(), Path::new("strategies/dist"));
    assert_eq!(parse("").journal_dir(), None);
}

#[test]
fn strategies_without_symbols_trade_every_feed_symbol() {
    let config = parse(
        "[feed]\nsymbols = [\"A\", \"B\", \"C\"]\n[[strategy]]\nid = \"all\"\nwasm = \"a.wasm\"\n[[strategy]]\nid = \"one\"\nwasm = \"o.wasm\"\nsymbols = [\"B\"]\n",
    );
    assert_eq!(config.strategy("all").unwrap().symbols, ["A", "B", "C"]);
    assert_eq!(config.strategy("one").unwrap().symbols, ["B"]);
    assert!(config.strategy("none").is_none());

    let mut in_code = Config::default();
    in_code.strategies.push(StrategyConfig::new("x", "x.wasm"));
    assert_eq!(
        in_code.symbols_of(&in_code.strategies[0]),
        ["BTCUSD", "ETHUSD"]
    );
}

#[test]
fn a_config_round_trips_through_toml() {
    let config = parse(
        r#"
profile = "prod"
[runtime]
journal_dir = "journal"
[feed]
symbols = ["X"]
[[strategy]]
id = "s"
wasm = "s.wasm"
sha256 = "0000000000000000000000000000000000000000000000000000000000000000"
enabled = false
[strategy.params]
fast = 10
"#,
    );
    let text = toml::to_string(&config).unwrap();
    assert_eq!(parse(&text), config, "{text}");
}

#[test]
fn from_file_reads_and_reports_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sandbar.toml");
    std::fs::write(&path, "[feed]\nseed = 7\n").unwrap();
    let config = Config::from_file(&path).unwrap();
    assert_eq!(config.feed.seed, 7);
    assert_eq!(config.strategies_dir(), dir.path().join("strategies/dist"));

    let missing = dir.path().join("missing.toml");
    let error = Config::from_file(&missing).unwrap_err();
    assert_eq!(error.path, missing);
    assert!(error.message.starts_with("cannot read the config file"));
    assert!(error.hint.is_some());

    std::fs::write(&path, "[feed]\nseed = \"7\"\n").unwrap();
    let error = Config::from_file(&path).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with(&format!("{}:2:8: ", path.display()))
    );
}

#[test]
fn validate_works_on_configs_built_in_code() {
    let mut config = Config::embedded_default();
    config.profile = Profile::Prod;
    let error = config.validate().unwrap_err();
    assert_eq!(error.line, None);
    assert_eq!(
        error.key.as_deref(),
        Some("hot_reload.skip_hash_verification")
    );
    assert!(error.to_string().starts_with("<config>: prod never skips"));
}

const README: &str = include_str!("../../../config/README.md");

#[test]
fn the_reference_example_is_a_valid_config() {
    let start = README.find("```toml\n").expect("README has a toml example") + 8;
    let example = &README[start..];
    let example = &example[..example.find("```").unwrap()];
    let pinned = example.replace("\"…\"", &format!("\"{}\"", "0".repeat(64)));
    let config = parse(&pinned);
    assert_eq!(config.profile, Profile::Prod);
    assert_eq!(
        config.strategy("sma-fast").unwrap().params().unwrap().len(),
        2
    );
}

#[test]
fn the_reference_documents_every_key() {
    use introspect::fields_of;
    let keys = [
        fields_of::<Config>(),
        fields_of::<RuntimeSection>(),
        fields_of::<HotReloadSection>(),
        fields_of::<LimitsSection>(),
        fields_of::<FeedSection>(),
        fields_of::<BrokerSection>(),
        fields_of::<RiskSection>(),
        fields_of::<super::schema::SymbolSection>(),
        fields_of::<super::schema::OpsSection>(),
        fields_of::<super::schema::OpsToken>(),
        fields_of::<super::schema::FleetSection>(),
        fields_of::<StrategyConfig>(),
        fields_of::<super::deploy::DeploySection>(),
    ];
    for key in keys.iter().flat_map(|k| k.iter()) {
        let documented = README.contains(&format!("| `{key}` |"))
            || README.contains(&format!("## `[{key}]`"))
            || README.contains(&format!("## `[[{key}]]`"));
        assert!(documented, "config/README.md does not document `{key}`");
    }
}

#[test]
fn odd_inputs_get_located_errors_with_hints() {
    let cases = [
        "[strategy.params]\nfast = 1\n",
        "strategy = 5\n",
        "[[strategy]]\nid = 5\nwasm = \"a.wasm\"\n",
        "profile = 3\n",
        "[feed]\nsymbols = \"BTCUSD\"\n",
        "[limits]\nmemory_mb = 1e3\n",
        "[runtime.extra]\nx = 1\n",
        "[[strategy]]\nid = \"a\"\nwasm = \"a.wasm\"\n[strategy.params.deep]\nx = 1\n",
        "[[strategy.params]]\nx = 1\n",
        "[[strategy]]\nid = \"a\"\nwasm = \"a.wasm\"\n[[strategy.params]]\nx = 1\n",
        "strategy = [{ id = \"a\" }]\n",
        "strategy = [\"a\"]\n",
        "[hot_reload]\nrollback_after_traps = 5_000_000_000\n",
        "[hot_reload]\ndebounce_ms = 1_000_000_000_000_000_000_000\n",
        "[broker]\nstarting_cash = nan\n",
        "[broker]\ncommission = inf\n",
        "hot_reload = { enabled = true, debounce_msec = 1 }\n",
        "[runtime]\nstrategies_dir = 1979-05-27\n",
        "é = 1\n",
        "= 1\n",
        "[[strategy]]\nid = \"a\"\nwasm = \"a.wasm\"\nsymbols = [1]\n",
    ];
    for text in cases {
        let error = Config::parse(text, Path::new("odd.toml"))
            .err()
            .unwrap_or_else(|| panic!("{text:?} parsed"));
        assert!(error.line.is_some(), "{text:?}: no line in {error}");
        assert!(error.hint.is_some(), "{text:?}: no hint in {error}");
        assert!(!error.message.is_empty());
    }
}

#[test]
fn strategy_limits_override_the_global_ones_for_that_strategy_only() {
    let config = parse(
        "[limits]\nfuel_per_bar = 1000\nmemory_mb = 8\n\
         [[strategy]]\nid = \"a\"\nwasm = \"a.wasm\"\n[strategy.limits]\ndeadline_us = 7\nmemory_mb = 2\n\
         [[strategy]]\nid = \"b\"\nwasm = \"b.wasm\"\n",
    );
    let a = config.limits_of(config.strategy("a").unwrap());
    let b = config.limits_of(config.strategy("b").unwrap());
    assert_eq!(
        (a.fuel_per_call, a.deadline.as_micros(), a.memory_bytes),
        (1000, 7, 2 << 20)
    );
    assert_eq!((b.fuel_per_call, b.memory_bytes), (1000, 8 << 20));
    assert_eq!(b.deadline.as_micros(), 50_000);
}

#[test]
fn strategy_limits_are_checked_like_global_ones() {
    let text = "[[strategy]]\nid = \"a\"\nwasm = \"a.wasm\"\n[strategy.limits]\nmemory_mb = 0\n";
    let error = Config::parse(text, Path::new("s.toml")).unwrap_err();
    assert_eq!(
        error.to_string(),
        "s.toml:5:1: `memory_mb` in [strategy.limits] of strategy `a` must be between 1 and 4096 (the most a wasm32 memory can hold), not 0\n  hint: the default is 64"
    );
    let typo =
        "[[strategy]]\nid = \"a\"\nwasm = \"a.wasm\"\n[strategy.limits]\nfuel_per_barr = 5\n";
    let error = Config::parse(typo, Path::new("s.toml")).unwrap_err();
    assert!(
        error.to_string().contains("did you mean `fuel_per_bar`?"),
        "{error}"
    );
    let global_only =
        "[[strategy]]\nid = \"a\"\nwasm = \"a.wasm\"\n[strategy.limits]\nmax_component_mb = 5\n";
    assert!(Config::parse(global_only, Path::new("s.toml")).is_err());
}

/// Issue 15 item 5: `[risk]` leverage, gross exposure and shorting keys,
/// overridden per strategy, and `[symbols.NAME]` mapped onto each
/// strategy's own symbol indices.
#[test]
fn regression_15_5_new_risk_keys_and_symbol_tables_reach_each_strategys_rules() {
    let config = parse(
        r#"
[feed]
symbols = ["BTCUSD", "ETHUSD"]
[risk]
max_leverage = 2.0
max_gross_exposure = 150_000.0
[symbols.ETHUSD]
tick = 0.01
lot = 0.001
[[strategy]]
id = "a"
wasm = "a.wasm"
symbols = ["ETHUSD", "BTCUSD"]
[strategy.risk]
allow_short = false
max_leverage = 1.0
[[strategy]]
id = "b"
wasm = "b.wasm"
symbols = ["BTCUSD"]
"#,
    );
    let a = config.risk_of(config.strategy("a").unwrap());
    assert_eq!(a.max_leverage, Some(1.0), "the strategy's own value wins");
    assert_eq!(a.max_gross_exposure, Some(150_000.0));
    assert!(!a.allow_short);
    assert_eq!(a.symbol(0).tick, Some(0.01), "ETHUSD is a's symbol 0");
    assert_eq!(a.symbol(0).lot, Some(0.001));
    assert_eq!(a.symbol(1), crate::risk::SymbolRules::default());
    let b = config.risk_of(config.strategy("b").unwrap());
    assert_eq!(b.max_leverage, Some(2.0));
    assert!(b.allow_short, "shorting stays allowed by default");
    assert_eq!(b.symbol(0), crate::risk::SymbolRules::default());
    // Without the new keys, the rules are today's: nothing new enforced.
    let plain = parse("[[strategy]]\nid = \"c\"\nwasm = \"c.wasm\"\n");
    let c = plain.risk_of(plain.strategy("c").unwrap());
    assert_eq!(c, crate::risk::RiskRules::default());
    // A [symbols.NAME] edit is a risk change applied in place.
    let mut edited = config.clone();
    edited.symbols.get_mut("ETHUSD").unwrap().lot = Some(1.0);
    let d = diff(&config, &edited);
    assert!(d.risk_changed && d.changed.is_empty() && d.restart_required.is_empty());
}

#[test]
fn regression_15_5_new_risk_keys_are_validated() {
    let bad = |text: &str| {
        Config::parse(text, Path::new("x.toml"))
            .err()
            .unwrap_or_else(|| panic!("{text:?} parsed"))
            .to_string()
    };
    assert!(bad("[risk]\nmax_gross_exposure = -1.0\n").contains("max_gross_exposure"));
    assert!(bad("[risk]\nmax_leverage = nan\n").contains("max_leverage"));
    assert!(bad("[symbols.BTCUSD]\nlot = 0.0\n").contains("`lot` in [symbols.BTCUSD]"));
    assert!(bad("[symbols.BTCUSD]\ntick = inf\n").contains("above 0"));
    assert!(bad("[symbols.SOLUSD]\ntick = 0.01\n").contains("not in feed.symbols"));
    assert!(
        bad("[[strategy]]\nid = \"a\"\nwasm = \"a.wasm\"\n[strategy.risk]\nmax_leverage = 0.0\n")
            .contains("[strategy.risk] of strategy `a`")
    );
}
