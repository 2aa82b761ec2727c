//! Item 15 of the hardening issue against a real runtime: a reload whose
//! read fails for a transient reason is retried with backoff and goes live
//! once the file reads, without the file changing again; meanwhile status
//! says the file on disk differs from the running version. The transient
//! error (EMFILE) is injected at the open (`load::faults`, compiled for
//! tests only): running a shared test process out of descriptors would break
//! every other test in it.

use crate::config::Config;
use crate::feed::{MarketStyle, SyntheticFeed};
use crate::live::{Event, FeedMode, LiveOptions, Outcome, Runtime};
use crate::load::faults;
use sandbar_test_support::Components;
use std::time::{Duration, Instant};

static COMPONENTS: Components = Components::new("test-components/cli", &[]);

const CONFIG: &str = r#"profile = "dev"
[runtime]
strategies_dir = "dist"
history_bars = 64
[hot_reload]
debounce_ms = 50
skip_hash_verification = true
[feed]
symbols = ["TEST"]
interval_ms = 0
[[strategy]]
id = "sma"
wasm = "sma.wasm"
"#;

/// The same component with a custom section added and sealed again: a new
/// SHA-256, the same behaviour.
/// A temp dir with `dist/sma.wasm` (the sma-cross build) and its config.
struct Sandbox {
    dir: tempfile::TempDir,
    dir_path: std::path::PathBuf,
    wasm: std::path::PathBuf,
    original: Vec<u8>,
    config_path: std::path::PathBuf,
    config: Config,
}

fn sandbox() -> Sandbox {
    let dir = tempfile::tempdir().unwrap();
    let dir_path = std::fs::canonicalize(dir.path()).unwrap();
    std::fs::create_dir(dir_path.join("dist")).unwrap();
    let wasm = dir_path.join("dist/sma.wasm");
    let original = std::fs::read(COMPONENTS.path("sma-cross")).unwrap();
    std::fs::write(&wasm, &original).unwrap();
    let config_path = dir_path.join("sandbar.toml");
    std::fs::write(&config_path, CONFIG).unwrap();
    let config = Config::parse(CONFIG, &config_path).unwrap();
    Sandbox {
        dir,
        dir_path,
        wasm,
        original,
        config_path,
        config,
    }
}

fn rebuilt(bytes: &[u8]) -> Vec<u8> {
    let name = b"sandbar-test-marker";
    let mut out = bytes.to_vec();
    out.extend_from_slice(&[0, (1 + name.len() + 1) as u8, name.len() as u8]);
    out.extend_from_slice(name);
    out.push(7);
    crate::seal::seal(&out).expect("seals again").into_owned()
}

#[test]
fn regression_13_15_a_transient_read_failure_is_retried_until_the_file_loads() {
    let Sandbox {
        dir: _dir,
        dir_path,
        wasm,
        original,
        config_path,
        config,
    } = sandbox();
    let runtime = Runtime::start(
        config,
        LiveOptions {
            config_path: Some(config_path),
            journal_dir: Some(dir_path.join("journal")),
            feed: FeedMode::Manual,
            watch: true,
            rescan: true,
        },
    )
    .unwrap();
    let events = runtime.subscribe();
    let mut feed = SyntheticFeed::new(1, 5, MarketStyle::Regimes, 60_000);
    for _ in 0..50 {
        runtime.push_bar(feed.next_bar()).unwrap();
    }
    let running = crate::sha256_hex(&original);

    // A new build arrives while the process is out of file descriptors:
    // every open fails with EMFILE until the test says otherwise.
    let new = rebuilt(&original);
    let new_sha = crate::sha256_hex(&new);
    faults::inject(&wasm, libc::EMFILE, u32::MAX);
    let deployed = Instant::now();
    let tmp = dir_path.join("dist/.sma.wasm.tmp");
    std::fs::write(&tmp, &new).unwrap();
    std::fs::rename(&tmp, &wasm).unwrap();

    // Status says the file on disk is not the running version, and why.
    let deadline = Instant::now() + Duration::from_secs(20);
    let seen = loop {
        let status = runtime.status();
        let sma = status.strategies[0].clone();
        if sma.disk.unreadable.is_some() && sma.disk.last_attempt.is_some() {
            break sma;
        }
        assert!(
            Instant::now() < deadline,
            "no unreadable file in status: {sma:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    eprintln!(
        "{:?} after the deploy: status {:?}",
        deployed.elapsed(),
        seen.disk
    );
    assert!(seen.disk_differs);
    assert_eq!(seen.sha256, running, "the running version keeps running");
    let unreadable = seen.disk.unreadable.as_deref().unwrap();
    assert!(unreadable.contains("os error 24"), "{unreadable}");
    let attempt = seen.disk.last_attempt.as_deref().unwrap();
    assert!(attempt.contains("retry"), "{attempt}");
    assert!(seen.disk.since.is_some());

    // Descriptors are free again; the file itself does not change.
    faults::inject(&wasm, libc::EMFILE, 0);
    let freed = deployed.elapsed();

    // The retries load it once the file reads, though it did not change.
    let deadline = Instant::now() + Duration::from_secs(30);
    let swapped = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match events.recv_timeout(left) {
            Ok(Event::Reload(e)) if e.strategy == "sma" => {
                assert_ne!(
                    e.outcome,
                    Outcome::Rejected,
                    "no rejection while retrying: {e:?}"
                );
                if e.outcome == Outcome::Swapped && e.sha256.as_deref() == Some(&new_sha) {
                    break e;
                }
            }
            Ok(_) => {}
            Err(_) => panic!("the new build never went live"),
        }
    };
    eprintln!(
        "{:?} after the deploy (descriptors freed at {freed:?}): swapped to the new build (trigger {:?})",
        deployed.elapsed(),
        swapped.trigger
    );
    runtime.push_bar(feed.next_bar()).unwrap();
    let status = runtime.status();
    let sma = &status.strategies[0];
    assert_eq!(sma.sha256, new_sha);
    assert!(!sma.disk_differs, "{:?}", sma.disk);
    assert_eq!(sma.disk.sha256.as_deref(), Some(new_sha.as_str()));
    runtime.stop();
}

/// The same at start-up (dev starts without the strategy): its load is
/// retried, and it joins the loop once its file reads.
#[test]
fn regression_13_15_a_strategy_unreadable_at_start_is_loaded_by_a_retry() {
    let Sandbox {
        dir: _dir,
        dir_path: _,
        wasm,
        original,
        config_path,
        config,
    } = sandbox();
    faults::inject(&wasm, libc::EMFILE, u32::MAX);
    let runtime = Runtime::start(
        config,
        LiveOptions {
            config_path: Some(config_path),
            journal_dir: None,
            feed: FeedMode::Manual,
            watch: true,
            rescan: true,
        },
    )
    .unwrap();
    let events = runtime.subscribe();
    let started = runtime
        .recent_events()
        .into_iter()
        .find_map(|e| match e {
            Event::Reload(r) if r.strategy == "sma" => Some(r),
            _ => None,
        })
        .expect("the start-up load reported");
    assert_eq!(started.outcome, Outcome::Rejected);
    let error = started.error.unwrap_or_default();
    assert!(
        error.contains("os error 24") && error.contains("retried"),
        "{error}"
    );
    assert!(runtime.status().strategies.is_empty(), "not running yet");

    faults::inject(&wasm, libc::EMFILE, 0);
    let swapped = loop {
        match events.recv_timeout(Duration::from_secs(30)) {
            Ok(Event::Reload(e)) if e.strategy == "sma" && e.outcome == Outcome::Swapped => {
                break e;
            }
            Ok(Event::Reload(e)) if e.strategy == "sma" => panic!("{e:?}"),
            Ok(_) => {}
            Err(_) => panic!("the strategy never started"),
        }
    };
    assert_eq!(
        swapped.sha256.as_deref(),
        Some(crate::sha256_hex(&original).as_str())
    );
    let status = runtime.status();
    assert_eq!(status.strategies.len(), 1);
    assert!(!status.strategies[0].disk_differs);
    runtime.stop();
}
