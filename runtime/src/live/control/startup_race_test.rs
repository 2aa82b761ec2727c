//! Issue 16 item 4 against a real runtime: a build that lands between a
//! strategy's start-up read and the watcher's start is loaded. The
//! replacement is made deterministic by a hook that runs right after the
//! start-up read of the file (`load::faults::on_next_read`, tests only):
//! before the fix, the stamps were taken after that load and the watcher
//! started after it, so the new file was never loaded (the running
//! generation stayed on the old bytes for good, with no event).

use crate::config::Config;
use crate::live::{Event, FeedMode, LiveOptions, Outcome, Runtime, Trigger};
use crate::load::faults;
use sandbar_test_support::Components;
use std::time::{Duration, Instant};

static COMPONENTS: Components = Components::new("test-components/cli", &[]);

const CONFIG: &str = r#"profile = "dev"
[runtime]
strategies_dir = "dist"
history_bars = 64
cache_max_mb = 0
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
fn rebuilt(bytes: &[u8]) -> Vec<u8> {
    let name = b"sandbar-race-marker";
    let mut out = bytes.to_vec();
    out.extend_from_slice(&[0, (1 + name.len() + 1) as u8, name.len() as u8]);
    out.extend_from_slice(name);
    out.push(9);
    crate::seal::seal(&out).expect("seals again").into_owned()
}

fn start_with_a_build_landing_after_the_first_read(rescan: bool) {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    std::fs::create_dir(root.join("dist")).unwrap();
    let wasm = root.join("dist/sma.wasm");
    let original = std::fs::read(COMPONENTS.path("sma-cross")).unwrap();
    std::fs::write(&wasm, &original).unwrap();
    let config_path = root.join("sandbar.toml");
    std::fs::write(&config_path, CONFIG).unwrap();
    let config = Config::parse(CONFIG, &config_path).unwrap();

    let new = rebuilt(&original);
    let new_sha = crate::sha256_hex(&new);
    let (tmp, target) = (root.join("dist/.sma.wasm.tmp"), wasm.clone());
    faults::on_next_read(&wasm, move || {
        std::fs::write(&tmp, &new).unwrap();
        std::fs::rename(&tmp, &target).unwrap();
    });
    let runtime = Runtime::start(
        config,
        LiveOptions {
            config_path: Some(config_path),
            journal_dir: Some(root.join("journal")),
            feed: FeedMode::Manual,
            watch: true,
            rescan,
        },
    )
    .unwrap();
    let events = runtime.subscribe();
    let first = runtime.status().strategies[0].sha256.clone();
    assert_eq!(
        first,
        crate::sha256_hex(&original),
        "start-up loaded what it read"
    );
    assert_eq!(
        crate::sha256_hex(&std::fs::read(&wasm).unwrap()),
        new_sha,
        "the hook ran"
    );

    let deadline = Instant::now() + Duration::from_secs(30);
    let swapped = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "the build that landed during start-up never went live (rescan {rescan})"
        );
        match events.recv_timeout(left) {
            Ok(Event::Reload(e))
                if e.outcome == Outcome::Swapped
                    && e.sha256.as_deref() == Some(new_sha.as_str()) =>
            {
                break e;
            }
            Ok(_) => {}
            Err(e) => panic!("no swap to the new build (rescan {rescan}): {e}"),
        }
    };
    assert_eq!(swapped.trigger, Trigger::File);
    assert_eq!(swapped.version, Some(2));
    assert_eq!(runtime.status().strategies[0].sha256, new_sha);
    runtime.stop();
}

#[test]
fn issue_16_a_build_landing_during_start_up_is_loaded_by_events_alone() {
    start_with_a_build_landing_after_the_first_read(false);
}

#[test]
fn issue_16_a_build_landing_during_start_up_is_loaded_with_the_rescan_on() {
    start_with_a_build_landing_after_the_first_read(true);
}
