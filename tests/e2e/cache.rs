//! Issue 16 item 2, the artefact cache on disk, against real components and
//! a real runtime: a restart with a warm cache compiles nothing (the `cache`
//! stage replaces `compile` in every start-up event), a tampered entry is
//! never loaded (a `cache` event names it, the strategy still goes live on a
//! fresh compile, and the entry is replaced), and a world-writable cache
//! directory is refused with the `chmod` that fixes it.

use crate::support::component;
use sandbar_runtime::Stage;
use sandbar_runtime::config::Config;
use sandbar_runtime::live::{Event, FeedMode, LiveOptions, Outcome, ReloadEvent, Runtime, Trigger};
use sandbar_runtime::{ArtifactCache, CacheError, Loader};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

const STRATEGIES: [(&str, &str); 3] = [
    ("sma-cross", "sma_cross.wasm"),
    ("rsi-reversion", "rsi_reversion.wasm"),
    ("channel-breakout", "channel_breakout.wasm"),
];

/// A temp dir with `dist/` holding three examples and a config whose
/// `runtime.cache_dir` is `cache/` beside it.
fn sandbox() -> (tempfile::TempDir, Config) {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    std::fs::create_dir(root.join("dist")).unwrap();
    let mut toml = String::from(
        "profile = \"dev\"\n[runtime]\nstrategies_dir = \"dist\"\nhistory_bars = 64\ncache_dir = \"cache\"\ncache_max_mb = 256\n[hot_reload]\nskip_hash_verification = true\n[feed]\nsymbols = [\"BTCUSD\"]\ninterval_ms = 0\n",
    );
    for (package, file) in STRATEGIES {
        std::fs::copy(component(package), root.join("dist").join(file)).unwrap();
        toml.push_str(&format!(
            "[[strategy]]\nid = \"{package}\"\nwasm = \"{file}\"\n"
        ));
    }
    let path = root.join("sandbar.toml");
    std::fs::write(&path, &toml).unwrap();
    let config = Config::from_file(&path).unwrap();
    (dir, config)
}

/// Starts a runtime on `config` with a fresh loader (a new process, as far
/// as compiled code goes) and its artefact cache; returns the start-up
/// events and stops it.
fn start_and_stop(config: &Config) -> Vec<Event> {
    let cache = ArtifactCache::for_config(config).unwrap().expect("a cache");
    let loader = Arc::new(Loader::new().unwrap().with_artifact_cache(cache));
    let runtime = Runtime::start_with_loader(
        config.clone(),
        LiveOptions {
            config_path: None,
            journal_dir: None,
            feed: FeedMode::Manual,
            watch: false,
            rescan: false,
        },
        loader,
    )
    .unwrap();
    let events = runtime.handle().recent_events();
    assert_eq!(
        runtime.status().strategies.len(),
        STRATEGIES.len(),
        "all live"
    );
    runtime.stop();
    events
}

fn start_ups(events: &[Event]) -> Vec<&ReloadEvent> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Reload(r) if r.trigger == Trigger::Startup => Some(r),
            _ => None,
        })
        .collect()
}

fn micros(event: &ReloadEvent) -> u64 {
    event.duration_us.values().sum()
}

#[test]
fn issue_16_a_restart_with_a_warm_cache_compiles_nothing() {
    let (_dir, config) = sandbox();
    let cold = start_and_stop(&config);
    let cold = start_ups(&cold);
    assert_eq!(cold.len(), STRATEGIES.len());
    for event in &cold {
        assert_eq!(event.outcome, Outcome::Swapped, "{event:?}");
        assert!(
            event.duration_us.contains_key(&Stage::Compile),
            "cold: compiled: {event:?}"
        );
        assert!(
            event.duration_us.contains_key(&Stage::Cache),
            "cold: stored: {event:?}"
        );
        assert!(!event.cache_hit);
    }
    let cache = ArtifactCache::for_config(&config).unwrap().unwrap();
    let engine = Loader::new().unwrap();
    assert_eq!(
        cache.entries(engine.engine()).unwrap().len(),
        STRATEGIES.len()
    );

    let warm_events = start_and_stop(&config);
    let warm = start_ups(&warm_events);
    assert_eq!(warm.len(), STRATEGIES.len());
    for event in &warm {
        assert_eq!(event.outcome, Outcome::Swapped, "{event:?}");
        assert!(
            !event.duration_us.contains_key(&Stage::Compile),
            "warm: nothing compiled: {event:?}"
        );
        assert!(
            event.duration_us.contains_key(&Stage::Cache),
            "warm: loaded from disk: {event:?}"
        );
        assert!(event.cache_hit, "{event:?}");
    }
    assert!(
        !warm_events.iter().any(|e| matches!(e, Event::Cache(_))),
        "no cache warning on a healthy cache"
    );
    eprintln!(
        "start-up pipelines, {} strategies: cold {} us, warm {} us (compile vs cache)",
        STRATEGIES.len(),
        cold.iter().map(|e| micros(e)).sum::<u64>(),
        warm.iter().map(|e| micros(e)).sum::<u64>()
    );
}

#[test]
fn issue_16_a_tampered_entry_gives_a_cache_event_and_still_goes_live() {
    let (_dir, config) = sandbox();
    start_and_stop(&config);
    let cache = ArtifactCache::for_config(&config).unwrap().unwrap();
    let loader = Loader::new().unwrap();
    let entries = cache
        .entries_by_tier(|tier| loader.tier_engine(tier))
        .unwrap();
    let sma_sha = sandbar_runtime::sha256_hex(&std::fs::read(component("sma-cross")).unwrap());
    let entry = entries
        .iter()
        .find(|e| e.sha256 == sma_sha)
        .expect("sma-cross's entry");
    let path = cache.dir().join(&entry.file_name);
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.len() / 3;
    bytes[at] ^= 0xff;
    // Written as a deploy would, so no process maps a file changed in place.
    let tmp = path.with_extension("tampering");
    std::fs::write(&tmp, &bytes).unwrap();
    std::fs::rename(&tmp, &path).unwrap();

    let events = start_and_stop(&config);
    let warnings: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Cache(c) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].strategy, "sma-cross");
    assert_eq!(warnings[0].problem, "tampered");
    assert_eq!(warnings[0].entry, entry.file_name);
    assert_eq!(warnings[0].sha256, sma_sha);
    let start_ups = start_ups(&events);
    let sma = start_ups
        .iter()
        .find(|e| e.strategy == "sma-cross")
        .unwrap();
    assert_eq!(sma.outcome, Outcome::Swapped, "still goes live: {sma:?}");
    assert!(
        sma.duration_us.contains_key(&Stage::Compile),
        "compiled instead: {sma:?}"
    );
    for other in start_ups.iter().filter(|e| e.strategy != "sma-cross") {
        assert!(
            !other.duration_us.contains_key(&Stage::Compile),
            "{other:?}"
        );
    }
    // Replaced: every entry verifies again.
    let verdicts = cache
        .verify_by_tier(|tier| loader.tier_engine(tier))
        .unwrap();
    assert_eq!(verdicts.len(), STRATEGIES.len());
    assert!(verdicts.iter().all(|(_, v)| v.is_none()), "{verdicts:?}");
}

#[test]
fn issue_16_a_world_writable_cache_dir_is_refused_with_the_chmod_that_fixes_it() {
    let (_dir, config) = sandbox();
    let dir = config.cache_dir().unwrap();
    ArtifactCache::for_config(&config).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let error = ArtifactCache::for_config(&config).unwrap_err();
    assert!(matches!(error, CacheError::Untrusted { .. }), "{error:?}");
    assert!(error.to_string().contains("mode is 777"), "{error}");
    assert_eq!(
        error.hint(),
        Some(format!("`chmod go-w {}`", dir.display()).as_str())
    );
    // Fixed as the hint says, it is used again.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    ArtifactCache::for_config(&config).unwrap();
    assert!(Path::new(&dir).join("key").exists());
}
