//! Deploy patterns the file watcher must see through events alone (each
//! sandbox runs with the 1 s rescan off, so nothing else could reload): an
//! in-place write burst (one reload, after the burst), a copy stalled at a
//! section boundary (the prefix refused by the build's seal, the complete
//! file live), the strategies directory replaced within a second, a
//! Kubernetes ConfigMap flip, and a strategies dir that is a symlink to a
//! release directory, flipped. Each prints the time from the last write to
//! the swap; only behaviour is asserted.

use crate::support::{Sandbox, SandboxConfig, config_text, deploy, rebuilt, sha};
use sandbar_runtime::Stage;
use sandbar_runtime::live::{Event, Outcome, ReloadEvent, Trigger};
use sandbar_runtime::seal::{self, SealError};
use std::io::Write;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::time::{Duration, Instant};

/// A sandbox running the seq-audit guest with file events only.
fn started() -> (Sandbox, Vec<u8>) {
    let mut sandbox = Sandbox::new();
    sandbox.write_config(&SandboxConfig::default());
    sandbox.start_events_only().unwrap();
    sandbox.feed(5);
    let original = std::fs::read(sandbox.audit_path()).unwrap();
    (sandbox, original)
}

/// Every reload event that arrives within `settle` (time for any late,
/// unwanted reload to show up; nothing is asserted about the time).
fn reloads_within(sandbox: &Sandbox, settle: Duration) -> Vec<ReloadEvent> {
    let events = sandbox.events.as_ref().expect("started");
    let deadline = Instant::now() + settle;
    let mut reloads = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match events.recv_timeout(left) {
            Ok(Event::Reload(e)) => reloads.push(e),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    reloads
}

fn swap_report(what: &str, last_write: Instant) {
    eprintln!(
        "{what}: swapped {:.1} ms after the last write",
        last_write.elapsed().as_secs_f64() * 1000.0
    );
}

#[test]
fn an_in_place_burst_goes_live_once_after_its_last_write() {
    let (mut sandbox, original) = started();
    let target = sandbox.audit_path();
    let v2 = rebuilt(&original, 21);
    // An editor saving 20 times, ~10 ms apart (debounce_ms = 50): each save
    // truncates, writes and closes the file in place.
    let mut last_write = Instant::now();
    for _ in 0..20 {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&target)
            .unwrap();
        file.write_all(&v2).unwrap();
        drop(file);
        last_write = Instant::now();
        std::thread::sleep(Duration::from_millis(10));
    }
    let swapped = sandbox.wait_swapped_to(&sha(&v2));
    swap_report("in-place burst", last_write);
    assert_eq!(swapped.trigger, Trigger::File);
    let later = reloads_within(&sandbox, Duration::from_millis(500));
    let rejected_during_burst = later
        .iter()
        .filter(|e| e.outcome == Outcome::Rejected)
        .count();
    eprintln!("in-place burst: {rejected_during_burst} partial read(s) rejected after the swap");
    assert!(
        later.iter().all(|e| e.outcome != Outcome::Swapped),
        "one generation for the whole burst: {later:#?}"
    );
    assert_history_is(
        &mut sandbox,
        &[sha(&original), sha(&v2)],
        "nothing but the complete file went live",
    );
    sandbox.stop();
}

#[test]
fn a_copy_stalled_at_a_section_boundary_is_refused_then_goes_live() {
    let (mut sandbox, original) = started();
    let target = sandbox.audit_path();
    let v2 = rebuilt(&original, 22);
    // Stall where a prefix is most convincing: after the last code section,
    // with only custom sections (metadata, the seal) still to come.
    let layout = seal::layout(&v2).unwrap();
    let trailing_custom = layout
        .sections
        .iter()
        .rev()
        .take_while(|s| s.id == 0)
        .count();
    assert!(trailing_custom >= 2, "metadata and the seal come last");
    let stall_at = layout.sections[layout.sections.len() - trailing_custom].start;
    assert!(
        matches!(
            seal::check(&v2[..stall_at]),
            Err(SealError::Partial {
                inside_section: false,
                ..
            })
        ),
        "a prefix at a section boundary"
    );
    eprintln!("stalled copy: pausing at byte {stall_at} of {}", v2.len());

    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&target)
        .unwrap();
    file.write_all(&v2[..stall_at]).unwrap();
    file.flush().unwrap();
    let paused = Instant::now();
    let refused = sandbox.wait_reload("the stalled prefix", |e| {
        e.outcome == Outcome::Rejected
            && e.error
                .as_deref()
                .is_some_and(|m| m.contains("partial copy of a Sandbar build"))
    });
    eprintln!(
        "stalled copy: prefix refused {:.1} ms into the pause: {}",
        paused.elapsed().as_secs_f64() * 1000.0,
        refused.error.as_deref().unwrap_or("")
    );
    assert_eq!(refused.stage, Some(Stage::Compile));
    let error = refused.error.as_deref().unwrap();
    assert!(
        error.contains(&format!("ends at byte {stall_at}, seal missing")),
        "{error}"
    );
    assert!(
        refused
            .hint
            .as_deref()
            .is_some_and(|h| h.contains("wait for the copy to finish")),
        "{refused:?}"
    );
    sandbox.feed(5);
    assert_eq!(
        sandbox.live_sha(),
        sha(&original),
        "the running version keeps running"
    );

    file.write_all(&v2[stall_at..]).unwrap();
    drop(file);
    let last_write = Instant::now();
    sandbox.wait_swapped_to(&sha(&v2));
    swap_report("stalled copy", last_write);
    assert_history_is(
        &mut sandbox,
        &[sha(&original), sha(&v2)],
        "the prefix never entered the rollback history",
    );
    sandbox.stop();
}

#[test]
fn a_replaced_strategies_dir_is_watched_again_at_once() {
    let (mut sandbox, original) = started();
    let dist = sandbox.path("dist");
    let target = sandbox.audit_path();

    // `rm -rf dist && mkdir dist && cp …`
    let v2 = rebuilt(&original, 31);
    std::fs::remove_dir_all(&dist).unwrap();
    std::fs::create_dir(&dist).unwrap();
    std::fs::write(&target, &v2).unwrap();
    let last_write = Instant::now();
    sandbox.wait_swapped_to(&sha(&v2));
    swap_report("dist removed and recreated", last_write);
    sandbox.feed(5);
    // The new directory itself is watched: a plain deploy into it reloads.
    let v3 = rebuilt(&original, 32);
    deploy(&target, &v3);
    let last_write = Instant::now();
    sandbox.wait_swapped_to(&sha(&v3));
    swap_report("deploy into the recreated dist", last_write);
    sandbox.feed(5);

    // `mv dist x && mv x dist`, with a new build inside meanwhile.
    let v4 = rebuilt(&original, 33);
    let aside = sandbox.path("x");
    std::fs::rename(&dist, &aside).unwrap();
    deploy(&aside.join("audit.wasm"), &v4);
    std::fs::rename(&aside, &dist).unwrap();
    let last_write = Instant::now();
    sandbox.wait_swapped_to(&sha(&v4));
    swap_report("dist moved away and back", last_write);
    sandbox.feed(5);
    let v5 = rebuilt(&original, 34);
    deploy(&target, &v5);
    let last_write = Instant::now();
    sandbox.wait_swapped_to(&sha(&v5));
    swap_report("deploy into the moved-back dist", last_write);
    sandbox.feed(5);
    assert_eq!(sandbox.status_of("audit").bars, sandbox.fed);
    sandbox.stop();
}

/// Writes a ConfigMap-style revision directory `..<name>` holding `sandbar.toml`.
fn configmap_revision(root: &Path, name: &str, params: &str) {
    let dir = root.join(format!("..{name}"));
    std::fs::create_dir(&dir).unwrap();
    let text = config_text(&SandboxConfig {
        params,
        ..SandboxConfig::default()
    });
    std::fs::write(dir.join("sandbar.toml"), text).unwrap();
}

/// What kubelet does: `..data_tmp -> ..<name>`, renamed over `..data`.
fn flip(root: &Path, link: &str, target: &str) {
    let tmp = root.join(format!("{link}_tmp"));
    symlink(target, &tmp).unwrap();
    std::fs::rename(&tmp, root.join(link)).unwrap();
}

#[test]
fn a_configmap_flip_is_seen_by_events() {
    let mut sandbox = Sandbox::new();
    let root = sandbox.dir.path().to_owned();
    // sandbar.toml -> ..data/sandbar.toml, ..data -> ..2026_01
    configmap_revision(&root, "2026_01", "report_every = 100");
    symlink("..2026_01", root.join("..data")).unwrap();
    symlink("..data/sandbar.toml", sandbox.config_path()).unwrap();
    sandbox
        .start_at(&sandbox.config_path(), true, false)
        .unwrap();
    sandbox.feed(5);

    let mut params_hashes = vec![sandbox.status_of("audit").params_hash];
    for (n, (revision, params)) in [
        ("2026_02", "report_every = 50"),
        ("2026_03", "report_every = 25"),
    ]
    .into_iter()
    .enumerate()
    {
        configmap_revision(&root, revision, params);
        let previous = std::fs::read_link(root.join("..data")).unwrap();
        flip(&root, "..data", &format!("..{revision}"));
        let last_write = Instant::now();
        std::fs::remove_dir_all(root.join(previous)).unwrap();
        let what = format!("ConfigMap flip {}", n + 1);
        let event = sandbox.wait_reload(&what, |e| {
            e.outcome == Outcome::Swapped && e.trigger == Trigger::Config
        });
        swap_report(&what, last_write);
        assert_eq!(event.strategy, "audit");
        sandbox.feed(5);
        params_hashes.push(sandbox.status_of("audit").params_hash);
    }
    params_hashes.dedup();
    assert_eq!(params_hashes.len(), 3, "each flipped config's params run");
    assert_eq!(sandbox.status_of("audit").bars, sandbox.fed);
    sandbox.stop();
}

#[test]
fn a_dist_symlink_flip_moves_the_watch_to_the_new_release() {
    let mut sandbox = Sandbox::new();
    let original = std::fs::read(sandbox.audit_path()).unwrap();
    // dist -> releases/r1
    let releases = sandbox.path("releases");
    std::fs::create_dir_all(releases.join("r1")).unwrap();
    std::fs::rename(sandbox.audit_path(), releases.join("r1/audit.wasm")).unwrap();
    std::fs::remove_dir(sandbox.path("dist")).unwrap();
    symlink("releases/r1", sandbox.path("dist")).unwrap();
    sandbox.write_config(&SandboxConfig::default());
    sandbox.start_events_only().unwrap();
    sandbox.feed(5);

    let v2 = rebuilt(&original, 41);
    std::fs::create_dir(releases.join("r2")).unwrap();
    std::fs::write(releases.join("r2/audit.wasm"), &v2).unwrap();
    flip(sandbox.dir.path(), "dist", "releases/r2");
    let last_write = Instant::now();
    sandbox.wait_swapped_to(&sha(&v2));
    swap_report("dist symlink flip", last_write);
    std::fs::remove_dir_all(releases.join("r1")).unwrap();
    sandbox.feed(5);

    // The watch is on r2 now: a deploy into it (through the link) reloads.
    let v3 = rebuilt(&original, 42);
    deploy(&sandbox.audit_path(), &v3);
    let last_write = Instant::now();
    sandbox.wait_swapped_to(&sha(&v3));
    swap_report("deploy into the new release", last_write);
    sandbox.feed(5);
    assert_eq!(sandbox.status_of("audit").bars, sandbox.fed);
    sandbox.stop();
}

/// After a few more bars: the rollback history holds exactly `shas` (no
/// partial file ever went live) and every bar was processed.
fn assert_history_is(sandbox: &mut Sandbox, shas: &[String], why: &str) {
    sandbox.feed(5);
    let status = sandbox.status_of("audit");
    let versions: Vec<&str> = status.versions.iter().map(|v| v.sha256.as_str()).collect();
    assert_eq!(versions, shas, "{why}");
    assert_eq!(status.bars, sandbox.fed);
}
