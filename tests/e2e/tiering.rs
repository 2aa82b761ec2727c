//! Compiler tiers (`hot_reload.tiering`, issue 16): a new build goes live on
//! Winch's baseline code and tiers up to Cranelift's at a bar boundary
//! without losing or repeating a bar; a known build goes back on its
//! optimised code at once; and the sandbox does not depend on the tier —
//! every example emits the same orders under both over 12,000 bars, with the
//! same fuel per call.

use crate::support::{
    Sandbox, SandboxConfig, audit_reports, component, deploy, read_jsonl, rebuilt, sha, symbols,
};
use sandbar_runtime::broker::{FillModel, PaperAccount};
use sandbar_runtime::contract::{self as host, Param, ParamValue};
use sandbar_runtime::feed::{MarketStyle, SyntheticFeed};
use sandbar_runtime::live::{Outcome, Trigger};
use sandbar_runtime::{Limits, Loader, StrategyInstance, Tier};

fn start_auto() -> Sandbox {
    let mut sandbox = Sandbox::new();
    sandbox.write_config(&SandboxConfig {
        tiering: "auto",
        ..SandboxConfig::default()
    });
    sandbox.start().unwrap();
    sandbox
}

/// Feeds bars until the tier-up of `sha256` is published (the compile runs
/// at idle priority: bars keep flowing meanwhile, as they would live).
fn feed_until_tiered_up(sandbox: &mut Sandbox, sha256: &str) -> sandbar_runtime::live::ReloadEvent {
    sandbox.feed_until(2_000, "the tier-up", |e| {
        e.outcome == Outcome::TieredUp && e.sha256.as_deref() == Some(sha256)
    })
}

/// A shadow candidate runs on the code it was loaded with (baseline under
/// `auto`); once promoted and taken by the loop, it tiers up like any live
/// build — with the state it built in the shadow, no bar lost or repeated.
#[test]
fn issue_16_a_promoted_candidate_tiers_up_after_the_loop_takes_it() {
    let mut sandbox = start_auto();
    let original = std::fs::read(sandbox.audit_path()).unwrap();
    feed_until_tiered_up(&mut sandbox, &sha(&original));
    let bytes = crate::shadow::audit_bytes(31);
    let candidate_sha = sha(&bytes);
    let deployed = sandbox
        .runtime()
        .deploy("audit", crate::shadow::candidate_request(bytes, &[]))
        .unwrap();
    assert_eq!(deployed.outcome, Outcome::Candidate, "{deployed:?}");
    sandbox.feed(50);
    let candidate = sandbox.status_of("audit").candidate.expect("a candidate");
    assert_eq!(candidate.sha256, candidate_sha);
    sandbox
        .runtime()
        .candidate(
            "audit",
            sandbar_runtime::live::CandidateAction::Promote,
            "test",
        )
        .unwrap();
    let promoted_version = deployed.version.unwrap();
    let tiered = feed_until_tiered_up(&mut sandbox, &candidate_sha);
    assert_eq!(tiered.version, Some(promoted_version), "{tiered:?}");
    sandbox.feed(20);
    let status = sandbox.status_of("audit");
    assert_eq!(
        (status.tier, status.sha256.as_str()),
        (Tier::Optimized, candidate_sha.as_str())
    );
    let orders = sandbox.stop();
    let (_, anomalies) = audit_reports(&orders);
    assert_eq!(
        anomalies, 0,
        "no bar lost or repeated across promotion and tier-up"
    );
    let handoffs = read_jsonl(&sandbox.path("journal/events.jsonl"));
    let methods: Vec<&str> = handoffs
        .iter()
        .filter(|e| e["event"] == "handoff" && e["version"] == promoted_version)
        .filter_map(|e| e["method"].as_str())
        .collect();
    assert_eq!(
        methods.first(),
        Some(&"shadow"),
        "the promotion kept the candidate's own state: {methods:?}"
    );
}

#[test]
fn issue_16_a_new_build_goes_live_on_baseline_code_then_tiers_up_losing_and_repeating_no_bar() {
    let mut sandbox = start_auto();
    let original = std::fs::read(sandbox.audit_path()).unwrap();
    let first = sha(&original);
    assert_eq!(
        sandbox.status_of("audit").tier,
        Tier::Baseline,
        "start-up loads on baseline code"
    );
    let startup_tier_up = feed_until_tiered_up(&mut sandbox, &first);
    assert_eq!(startup_tier_up.trigger, Trigger::TierUp);
    assert_eq!(startup_tier_up.tier, Some(Tier::Optimized));
    assert_eq!(
        startup_tier_up.version,
        Some(1),
        "a tier-up keeps the version"
    );
    for marker in 1..=4u32 {
        let bytes = rebuilt(&original, marker);
        let new = sha(&bytes);
        deploy(&sandbox.audit_path(), &bytes);
        let swapped = sandbox.feed_until(2_000, "the new build", |e| {
            e.outcome == Outcome::Swapped && e.sha256.as_deref() == Some(new.as_str())
        });
        assert_eq!(swapped.tier, Some(Tier::Baseline), "{swapped:?}");
        assert!(!swapped.cache_hit);
        let tiered = feed_until_tiered_up(&mut sandbox, &new);
        assert_eq!(tiered.version, swapped.version, "{tiered:?}");
        sandbox.feed(20);
        let status = sandbox.status_of("audit");
        assert_eq!(
            (status.tier, status.sha256.as_str()),
            (Tier::Optimized, new.as_str())
        );
        assert_eq!(status.reload.tiered_up, u64::from(marker) + 1);
    }
    let total = sandbox.fed;
    let orders = sandbox.stop();

    // Guest side: the seq-audit guest's own state crossed every handoff and
    // saw no gap or repeat.
    let (counts, anomalies) = audit_reports(&orders);
    assert_eq!(anomalies, 0);
    assert_eq!(
        counts,
        (1..=total / 100).map(|k| k * 100).collect::<Vec<_>>()
    );

    // Host side, from the journal alone: the generations tile the bars.
    let events = read_jsonl(&sandbox.path("journal/events.jsonl"));
    let of = |kind: &str| -> Vec<&serde_json::Value> {
        events
            .iter()
            .filter(|e| e["event"] == kind && e["strategy"] == "audit")
            .collect()
    };
    let handoffs = of("handoff");
    assert_eq!(handoffs.len(), 9, "four new builds and five tier-ups");
    let stop = of("stop");
    let range = |v: &serde_json::Value| (v[0].as_u64().unwrap(), v[1].as_u64().unwrap());
    let mut next = 0;
    let mut ranges: Vec<(u64, u64)> = handoffs
        .iter()
        .map(|h| range(&h["previous_seq_range"]))
        .collect();
    ranges.push(range(&stop[0]["seq_range"]));
    for (i, (first, last)) in ranges.iter().enumerate() {
        assert_eq!(
            *first, next,
            "range {i} starts where the previous ended: {ranges:?}"
        );
        if let Some(h) = handoffs.get(i) {
            assert_eq!(h["first_seq"].as_u64(), Some(last + 1), "{h}");
            assert_eq!(h["method"], "snapshot", "state crosses every handoff: {h}");
        }
        next = last + 1;
    }
    assert_eq!(next, total);
    let tier_ups: Vec<_> = of("reload")
        .into_iter()
        .filter(|e| e["outcome"] == "tiered_up")
        .collect();
    assert_eq!(tier_ups.len(), 5);
    assert!(
        tier_ups
            .iter()
            .all(|e| e["tier"] == "optimized" && e["trigger"] == "tier_up")
    );
}

#[test]
fn issue_16_a_rollback_or_redeploy_of_a_known_build_uses_its_optimised_code_at_once() {
    let mut sandbox = start_auto();
    let original = std::fs::read(sandbox.audit_path()).unwrap();
    let first = sha(&original);
    feed_until_tiered_up(&mut sandbox, &first);
    let bytes = rebuilt(&original, 7);
    let second = sha(&bytes);
    deploy(&sandbox.audit_path(), &bytes);
    sandbox.feed_until(2_000, "the new build", |e| {
        e.outcome == Outcome::Swapped && e.sha256.as_deref() == Some(second.as_str())
    });
    feed_until_tiered_up(&mut sandbox, &second);

    let back = sandbox.runtime().rollback("audit", 1).unwrap();
    assert_eq!(back.outcome, Outcome::RolledBack);
    assert_eq!(back.tier, Some(Tier::Optimized), "{back:?}");
    sandbox.feed(10);
    assert_eq!(sandbox.status_of("audit").tier, Tier::Optimized);

    // Redeploying the second build: known, so it goes live optimised with
    // no compile, and nothing tiers up afterwards.
    deploy(&sandbox.audit_path(), &bytes);
    let again = sandbox.feed_until(2_000, "the redeploy", |e| {
        e.outcome == Outcome::Swapped && e.sha256.as_deref() == Some(second.as_str())
    });
    assert!(again.cache_hit, "{again:?}");
    assert_eq!(again.tier, Some(Tier::Optimized), "{again:?}");
    sandbox.feed(50);
    assert_eq!(sandbox.status_of("audit").reload.tiered_up, 2);
    let (_, anomalies) = audit_reports(&sandbox.stop());
    assert_eq!(anomalies, 0);
}

/// A tier-up waits for the idle-priority compile pool; a build replaced
/// meanwhile (an author saving every few seconds, a storm of deploys) used
/// to be compiled by Cranelift anyway and thrown away, one compile per save.
/// Now the loader asks whether the build is still wanted when the pool
/// takes the job, and compiles nothing if not.
#[test]
fn regression_16_a_tier_up_no_longer_wanted_compiles_nothing() {
    use sandbar_runtime::{LoadSpec, SmokeSetup, TierUpCompile, Tiering};
    let loader = Loader::new().unwrap();
    loader.set_tiering(Tiering::Auto);
    let bytes = rebuilt(&std::fs::read(component("sma-cross")).unwrap(), 41);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.wasm");
    std::fs::write(&path, &bytes).unwrap();
    let symbols = vec!["BTCUSD".to_owned()];
    let limits = Limits::default();
    let candidate = loader
        .load_file(
            &path,
            LoadSpec {
                strategy_id: "s",
                expected_sha256: None,
                symbols: &symbols,
                params: &[],
                limits: &limits,
                recent_bars: &[],
                smoke: SmokeSetup::default(),
            },
        )
        .result
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        candidate.tier,
        Tier::Baseline,
        "a new build goes live on baseline code"
    );
    let built = sha(&bytes);

    let superseded = loader.optimize(&built, &|| false);
    assert!(matches!(superseded, TierUpCompile::Superseded));
    assert!(
        loader.cached_tier(&built, Tier::Optimized).is_none(),
        "nothing was compiled"
    );

    // Still wanted later (it came back): its bytes were kept, so it compiles.
    let compiled = loader.optimize(&built, &|| true);
    assert!(matches!(compiled, TierUpCompile::Compiled(Ok(_))));
    assert!(loader.cached_tier(&built, Tier::Optimized).is_some());
}

#[test]
fn issue_16_tiering_optimized_compiles_once_and_baseline_never_tiers_up() {
    for (tiering, tier) in [("optimized", Tier::Optimized), ("baseline", Tier::Baseline)] {
        let mut sandbox = Sandbox::new();
        sandbox.write_config(&SandboxConfig {
            tiering,
            ..SandboxConfig::default()
        });
        sandbox.start().unwrap();
        sandbox.feed(300);
        std::thread::sleep(std::time::Duration::from_millis(300));
        sandbox.feed(10);
        let status = sandbox.status_of("audit");
        assert_eq!(status.tier, tier, "{tiering}");
        assert_eq!(status.reload.tiered_up, 0, "{tiering}");
        assert_eq!(status.versions[0].tier, tier, "{tiering}");
        sandbox.stop();
    }
}

use crate::equivalence::{BARS, OrderKey, host_key as key};

/// One example, compiled by each tier, fed the same bars, positions and
/// fills by one paper account per tier: identical orders on every bar, and
/// the fuel each call used.
fn run_both_tiers(
    loader: &Loader,
    package: &str,
    params: &[(&str, ParamValue)],
    seed: u64,
) -> (u64, u64, usize, f64) {
    let syms = symbols(&["BTCUSD", "ETHUSD"]);
    let params: Vec<Param> = params
        .iter()
        .map(|(n, v)| Param {
            name: (*n).to_owned(),
            value: v.clone(),
        })
        .collect();
    // About results, not time: a loaded machine must not trip the deadline.
    let limits = Limits {
        deadline: sandbar_runtime::backtest::BACKTEST_DEADLINE,
        ..Limits::default()
    };
    let bytes = std::fs::read(component(package)).unwrap();
    let mut instances: Vec<StrategyInstance> = Tier::ALL
        .iter()
        .map(|&tier| {
            let compiled = loader
                .compile_tier(tier, &bytes)
                .unwrap_or_else(|e| panic!("{tier}: {e}"));
            let pre = loader.type_check_tier(tier, &compiled).unwrap();
            assert_eq!(loader.tier_of(&pre), tier);
            let mut instance = StrategyInstance::instantiate(&pre, package, &limits).unwrap();
            instance.init(&syms, &params).unwrap().unwrap();
            instance
        })
        .collect();
    let model = FillModel {
        commission: 0.0005,
        slippage_bps: 2.0,
        ..FillModel::default()
    };
    let mut accounts: Vec<PaperAccount> = (0..2)
        .map(|_| PaperAccount::new(syms.len(), 100_000.0, model))
        .collect();
    let (mut fuel, mut max_diff, mut orders) = ([0u64; 2], 0u64, 0usize);
    let mut max_ratio = 0.0f64;
    for bar in SyntheticFeed::new(syms.len(), seed, MarketStyle::Regimes, 3_600_000).take(BARS) {
        let mut out: Vec<Vec<host::Request>> = Vec::new();
        let mut used = [0u64; 2];
        for (i, (instance, account)) in instances.iter_mut().zip(accounts.iter_mut()).enumerate() {
            for fill in account.on_bar(&bar) {
                instance.on_fill(fill).unwrap();
            }
            // Contract 0.2.0: the updates of orders with ids, before on-bar.
            instance.on_order_updates(&account.take_updates()).unwrap();
            let position = account.position(bar.symbol);
            out.push(instance.on_bar(bar, position).unwrap());
            used[i] = instance.fuel_used_last_call();
            fuel[i] += used[i];
        }
        max_diff = max_diff.max(used[0].abs_diff(used[1]));
        // Calls big enough to matter against a fuel budget.
        if used[0].min(used[1]) >= 10_000 {
            let ratio = used[0].max(used[1]) as f64 / used[0].min(used[1]) as f64;
            max_ratio = max_ratio.max(ratio);
        }
        let keys: Vec<Vec<OrderKey>> = out
            .iter()
            .map(|o| {
                o.iter()
                    .filter_map(|r| r.order())
                    .map(|o| key(&o))
                    .collect()
            })
            .collect();
        assert_eq!(
            keys[0], keys[1],
            "{package}: orders differ between tiers at bar {}",
            bar.seq
        );
        let with_ids = |requests: &[host::Request]| -> Vec<sandbar_guest::paper::Request> {
            requests
                .iter()
                .filter_map(|r| match r {
                    host::Request::Broker(b) => Some(*b),
                    host::Request::Order(_) => None,
                })
                .collect()
        };
        assert_eq!(
            with_ids(&out[0]),
            with_ids(&out[1]),
            "{package}: orders with ids differ between tiers at bar {}",
            bar.seq
        );
        orders += out[0].len();
        for (account, requests) in accounts.iter_mut().zip(out) {
            account.request(with_ids(&requests));
            account.submit(requests.iter().filter_map(|r| r.order()));
        }
    }
    let snapshots: Vec<Vec<u8>> = instances
        .iter_mut()
        .map(|i| i.snapshot().unwrap())
        .collect();
    assert_eq!(
        snapshots[0], snapshots[1],
        "{package}: final state differs between tiers"
    );
    assert_eq!(accounts[0].fill_count(), accounts[1].fill_count());
    eprintln!(
        "{package}: fuel over {BARS} bars baseline {} optimized {} (largest per-call difference {max_diff}, largest ratio of one call {max_ratio:.4}), {orders} orders",
        fuel[0], fuel[1]
    );
    (fuel[0], fuel[1], orders, max_ratio)
}

#[test]
fn issue_16_every_example_trades_identically_and_uses_the_same_fuel_under_both_tiers() {
    let loader = Loader::new().unwrap();
    let examples: [(&str, Vec<(&str, ParamValue)>); 6] = [
        (
            "sma-cross",
            vec![("allow_short", ParamValue::Boolean(true))],
        ),
        ("rsi-reversion", vec![]),
        ("channel-breakout", vec![]),
        ("bollinger-reversion", vec![]),
        ("macd-atr", vec![]),
        ("atr-trailing", vec![]),
    ];
    for (seed, (package, params)) in examples.iter().enumerate() {
        let (baseline, optimized, orders, ratio) =
            run_both_tiers(&loader, package, params, seed as u64 + 1);
        assert!(orders > 0, "{package} must trade");
        // The two compilers meter fuel at different points, so one call's
        // fuel differs a little between tiers; the bound is the headroom
        // the smoke test keeps on baseline code
        // (`sandbar_runtime::BASELINE_FUEL_HEADROOM`): a build whose smoke
        // test comes closer to `limits.fuel_per_bar` goes live on
        // Cranelift's code instead, so no strategy passes its smoke test
        // under one tier and runs out of fuel under the other.
        let bound = 1.0 + sandbar_runtime::BASELINE_FUEL_HEADROOM;
        assert!(
            ratio <= bound,
            "{package}: one call's fuel differs {ratio:.4}x between tiers, over {bound}"
        );
        let total = baseline.max(optimized) as f64 / baseline.min(optimized) as f64;
        assert!(
            total <= bound,
            "{package}: {baseline} vs {optimized} over {BARS} bars"
        );
    }
}

/// Not a test: the figures of issue 16's targets from a test build
/// (dependencies at opt-level 2, so both compilers run at full speed), for
/// when `cargo bench --bench reload` (group `tiers`) is too long to wait
/// for. `cargo test -p sandbar --test e2e tiering::measure -- --ignored --nocapture`.
#[test]
#[ignore = "measurement, not a test: prints figures"]
fn measure_issue_16_reload_figures_by_tier() {
    use std::time::{Duration, Instant};
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let reload = |sandbox: &mut Sandbox, bytes: &[u8], marker: u32| -> Duration {
        let variant = rebuilt(bytes, marker);
        deploy(&sandbox.path("dist/sma.wasm"), &variant);
        let start = Instant::now();
        let event = sandbox.runtime().reload("sma").unwrap();
        assert_eq!(event.outcome, Outcome::Swapped, "{event:?}");
        let generation = sandbox.runtime().generation("sma").unwrap();
        while generation.stats.bars() == 0 {
            sandbox.feed(1);
        }
        start.elapsed()
    };
    let start = |tiering: &str| {
        let mut sandbox = Sandbox::new();
        std::fs::copy(component("sma-cross"), sandbox.path("dist/sma.wasm")).unwrap();
        sandbox.write_config(&SandboxConfig {
            tiering,
            extra_strategies: "[[strategy]]\nid = \"sma\"\nwasm = \"sma.wasm\"\n",
            ..SandboxConfig::default()
        });
        // No watcher, no rescan: only the API reloads, so each is timed whole.
        let config = sandbox.config_path();
        sandbox.start_at(&config, false, false).unwrap();
        sandbox.feed(200);
        std::thread::sleep(Duration::from_millis(500));
        sandbox
    };
    let bytes = std::fs::read(component("sma-cross")).unwrap();
    let mut marker = 100;
    let mut busy: Vec<std::process::Child> = Vec::new();
    for machine in ["quiet", "busy"] {
        if machine == "busy" {
            busy = (0..2)
                .map(|_| {
                    std::process::Command::new("sh")
                        .args(["-c", "while :; do :; done"])
                        .spawn()
                        .unwrap()
                })
                .collect();
        }
        for tiering in ["auto", "optimized"] {
            let mut sandbox = start(tiering);
            let rounds = if machine == "busy" && tiering == "optimized" {
                3
            } else {
                15
            };
            let mut first_bar = Vec::new();
            let mut tier_up = Vec::new();
            for _ in 0..rounds {
                marker += 1;
                first_bar.push(reload(&mut sandbox, &bytes, marker));
                if tiering == "auto" {
                    let began = Instant::now();
                    let sha = sha(&rebuilt(&bytes, marker));
                    sandbox.feed_until(100_000, "tier-up", |e| {
                        e.outcome == Outcome::TieredUp && e.sha256.as_deref() == Some(sha.as_str())
                    });
                    tier_up.push(began.elapsed());
                }
            }
            eprintln!(
                "{machine:5} {tiering:9}: file landed -> first bar median {:.1} ms (min {:.1}, max {:.1}, {rounds} reloads){}",
                ms(median(first_bar.clone())),
                ms(*first_bar.iter().min().unwrap()),
                ms(*first_bar.iter().max().unwrap()),
                if tier_up.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; tier-up done {:.1} ms later (median, bars fed meanwhile)",
                        ms(median(tier_up))
                    )
                }
            );
            sandbox.stop();
        }
    }
    for mut child in busy {
        let _ = child.kill();
        let _ = child.wait();
    }
    // Per-bar cost of each tier's code, one `on-bar` call.
    let loader = Loader::new().unwrap();
    let syms = symbols(&["BTCUSD"]);
    let limits = Limits::default();
    let flat = host::Position {
        quantity: 0.0,
        avg_price: 0.0,
        cash: 100_000.0,
        equity: 100_000.0,
    };
    let mut per_bar = Vec::new();
    for tier in Tier::ALL {
        let pre = loader
            .type_check_tier(tier, &loader.compile_tier(tier, &bytes).unwrap())
            .unwrap();
        let mut instance = StrategyInstance::instantiate(&pre, "sma", &limits).unwrap();
        instance.init(&syms, &[]).unwrap().unwrap();
        let bars: Vec<host::Bar> = SyntheticFeed::new(1, 3, MarketStyle::Regimes, 60_000)
            .take(50_000)
            .collect();
        let start = Instant::now();
        for bar in &bars {
            std::hint::black_box(instance.on_bar(*bar, flat).unwrap());
        }
        per_bar.push(start.elapsed().as_nanos() as f64 / bars.len() as f64);
    }
    eprintln!(
        "per-bar on-bar call, SMA crossover: baseline {:.0} ns, optimized {:.0} ns: {:.2}x",
        per_bar[0],
        per_bar[1],
        per_bar[0] / per_bar[1]
    );
}
