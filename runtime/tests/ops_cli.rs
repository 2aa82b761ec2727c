//! The ops surface as a user meets it: `runtime live` in a child process,
//! then `runtime status`, `runtime events`, `runtime rollback` and
//! `runtime pause` against it, as separate processes.

use sandbar_test_support::{Components, workspace};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(60);

/// Every example strategy, built once for this test binary.
static COMPONENTS: Components = Components::new("test-components/ops-cli", &[]);

fn runtime(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_runtime"))
        .args(args)
        .env("NO_COLOR", "1")
        // The artefact cache of `live` stays out of $HOME.
        .env("XDG_CACHE_HOME", env!("CARGO_TARGET_TMPDIR"))
        .env_remove("SANDBAR_OPS_ADDR")
        .env_remove("SANDBAR_OPS_TOKEN")
        .output()
        .expect("running the runtime binary")
}

fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_runtime"))
        .args(args)
        .env("NO_COLOR", "1")
        // The artefact cache of `live` stays out of $HOME.
        .env("XDG_CACHE_HOME", env!("CARGO_TARGET_TMPDIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting the runtime binary")
}

/// Lines of a child's output, read on a thread.
fn lines(stream: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// Waits for a line containing `needle`; returns it.
fn wait_line(rx: &Receiver<String>, needle: &str, seen: &mut Vec<String>) -> String {
    let deadline = Instant::now() + WAIT;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return line,
            Ok(line) => seen.push(line),
            Err(_) => break,
        }
    }
    panic!("no line with {needle:?}; saw:\n{}", seen.join("\n"));
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `runtime live` in a child process on a copy of config/dev.toml (ops on a
/// free port, bars every `interval_ms`) in a temp dir with every example
/// built; returns the dir, the child and the ops address.
fn start_live(interval_ms: u64) -> (tempfile::TempDir, Child, String) {
    let built = COMPONENTS.all();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("config")).unwrap();
    std::fs::create_dir_all(dir.path().join("strategies/dist")).unwrap();
    for b in built {
        let to = dir
            .path()
            .join("strategies/dist")
            .join(b.path.file_name().unwrap());
        std::fs::copy(&b.path, to).unwrap();
    }
    let config = std::fs::read_to_string(workspace().join("config/dev.toml"))
        .unwrap()
        .replace("127.0.0.1:9190", "127.0.0.1:0")
        .replace("interval_ms = 250", &format!("interval_ms = {interval_ms}"));
    let config_path = dir.path().join("config/dev.toml");
    std::fs::write(&config_path, config).unwrap();

    let mut live = spawn(&["live", "--config", config_path.to_str().unwrap()]);
    let live_log = lines(live.stderr.take().unwrap());
    let mut seen = Vec::new();
    let listening = wait_line(&live_log, "ops API listening", &mut seen);
    let addr = listening
        .split_whitespace()
        .find_map(|w| w.strip_prefix("addr="))
        .expect("the log names the address")
        .to_owned();
    // Keep draining the log so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in live_log {});
    (dir, live, addr)
}

#[test]
fn status_events_rollback_and_pause_against_a_running_instance() {
    let (dir, live, addr) = start_live(20);

    let status = runtime(&["status", "--addr", &addr]);
    assert!(status.status.success(), "{}", text(&status.stderr));
    let table = text(&status.stdout);
    for id in ["sma-fast", "rsi", "breakout"] {
        let row = table
            .lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("{table}"));
        assert!(row.contains("running"), "{row}");
    }

    let mut events = spawn(&["events", "--addr", &addr]);
    let event_lines = lines(events.stdout.take().unwrap());
    let event_log = lines(events.stderr.take().unwrap());
    let mut seen_events = Vec::new();
    wait_line(&event_log, "following", &mut Vec::new());

    // A new build of sma_cross.wasm: same code plus a custom section, sealed
    // again (sections after a build's seal are refused) before the rename.
    let wasm = dir.path().join("strategies/dist/sma_cross.wasm");
    let mut bytes = std::fs::read(&wasm).unwrap();
    bytes.extend_from_slice(&[0, 6, 5, b'o', b'p', b's', b'v', b'2']);
    let tmp = dir.path().join("strategies/dist/.sma_cross.tmp");
    std::fs::write(&tmp, &bytes).unwrap();
    let sealed = runtime(&["seal", tmp.to_str().unwrap()]);
    assert!(sealed.status.success(), "{}", text(&sealed.stderr));
    std::fs::rename(&tmp, &wasm).unwrap();
    let swapped = wait_line(&event_lines, "reload   sma-fast swapped", &mut seen_events);
    assert!(swapped.contains("trigger file"), "{swapped}");

    let rollback = runtime(&["rollback", "sma-fast", "--addr", &addr]);
    assert!(rollback.status.success(), "{}", text(&rollback.stderr));
    assert!(
        text(&rollback.stdout).starts_with("sma-fast: rolled back -> version"),
        "{}",
        text(&rollback.stdout)
    );
    let rolled = wait_line(
        &event_lines,
        "reload   sma-fast rolled_back",
        &mut seen_events,
    );
    assert!(rolled.contains("trigger api"), "{rolled}");

    let pause = runtime(&["pause", "sma-fast", "--addr", &addr, "--json"]);
    assert!(pause.status.success(), "{}", text(&pause.stderr));
    let answer: serde_json::Value = serde_json::from_slice(&pause.stdout).unwrap();
    assert_eq!(answer["state"], "paused");
    wait_line(
        &event_lines,
        "state    sma-fast running -> paused by api:anonymous",
        &mut seen_events,
    );

    let missing = runtime(&["halt", "nope", "--addr", &addr]);
    assert!(!missing.status.success());
    let stderr = text(&missing.stderr);
    assert!(
        stderr.contains("no running strategy `nope`") && stderr.contains("hint: running:"),
        "{stderr}"
    );

    let one = runtime(&["status", "sma-fast", "--json", "--addr", &addr]);
    let one: serde_json::Value = serde_json::from_slice(&one.stdout).unwrap();
    assert_eq!(one["state"], "paused");
    assert_eq!(one["reload"]["rolled_back"], 1);

    // Ctrl-C: the runtime stops cleanly and the event stream ends with it.
    let stopped = Command::new("kill")
        .args(["-INT", &live.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let live_out = live.wait_with_output().unwrap();
    assert!(live_out.status.success());
    wait_line(&event_log, "closed the event stream", &mut Vec::new());
    assert!(events.wait().unwrap().success());

    let trail = std::fs::read_to_string(dir.path().join("journal/dev/audit.jsonl")).unwrap();
    let actions: Vec<serde_json::Value> = trail
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary: Vec<(&str, &str)> = actions
        .iter()
        .map(|a| (a["action"].as_str().unwrap(), a["result"].as_str().unwrap()))
        .collect();
    assert_eq!(
        summary,
        [("rollback", "ok"), ("pause", "ok"), ("halt", "rejected")]
    );
}

/// Regression (hardening issue, item 12): with a steady stream of records a
/// pause/resume `state` event stayed in the journal's buffer for 30 s and was
/// lost to `kill -9`. Every record now reaches the OS as soon as the journal
/// thread catches up, and every record names its run.
#[test]
fn regression_state_events_survive_kill_9_and_every_record_names_its_run() {
    let (dir, mut live, addr) = start_live(5);
    for action in ["pause", "resume"] {
        let answer = runtime(&[action, "sma-fast", "--addr", &addr]);
        assert!(answer.status.success(), "{}", text(&answer.stderr));
    }
    // Bars keep flowing (every 5 ms) and the journal keeps writing; the
    // records above must be on disk without any pause in the stream.
    std::thread::sleep(Duration::from_millis(300));
    let killed = Command::new("kill")
        .args(["-9", &live.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let _ = live.wait();

    let journal = dir.path().join("journal/dev");
    let events: Vec<serde_json::Value> = std::fs::read_to_string(journal.join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("only whole lines: a record is written at once"))
        .collect();
    let states: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "state" && e["strategy"] == "sma-fast")
        .map(|e| e["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        ["paused", "running"],
        "both state events survived kill -9"
    );
    let run = events[0]["run"].as_str().expect("a run id").to_owned();
    assert!(!run.is_empty());
    assert!(events.iter().all(|e| e["run"] == run.as_str()), "one run");
    let audit = std::fs::read_to_string(journal.join("audit.jsonl")).unwrap();
    assert!(
        audit
            .lines()
            .all(|l| l.starts_with(&format!("{{\"run\":\"{run}\""))),
        "the run id comes first in every record: {audit}"
    );
}

/// Regression (hardening issue, item 12): "events on disk before the HTTP
/// answer that reports them". A control action's answer now waits until the
/// journal has handed its `state` event and audit record to the OS, so a
/// `kill -9` the moment `runtime pause` returns loses neither, however busy
/// the journal is (a bar every millisecond here).
#[test]
fn regression_13_12_the_state_event_is_on_disk_when_the_pause_answer_arrives() {
    let (dir, mut live, addr) = start_live(1);
    let answer = runtime(&["pause", "rsi", "--addr", &addr]);
    // No pause at all between the answer and the kill.
    let killed = Command::new("kill")
        .args(["-9", &live.id().to_string()])
        .status()
        .unwrap();
    assert!(answer.status.success(), "{}", text(&answer.stderr));
    assert!(killed.success());
    let _ = live.wait();

    let journal = dir.path().join("journal/dev");
    let events = std::fs::read_to_string(journal.join("events.jsonl")).unwrap();
    let paused = events
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["event"] == "state" && e["strategy"] == "rsi" && e["state"] == "paused")
        .count();
    assert_eq!(paused, 1, "the state event the answer reported is on disk");
    let audit = std::fs::read_to_string(journal.join("audit.jsonl")).unwrap();
    assert!(
        audit
            .lines()
            .any(|l| l.contains("\"action\":\"pause\"") && l.contains("\"result\":\"ok\"")),
        "{audit}"
    );
}

/// Issue 19 through the CLI: a build sent with `runtime deploy --shadow`
/// runs beside the live version, `runtime diff` compares the two, `runtime
/// status` notes the candidate, and `runtime promote` makes it live.
#[test]
fn issue_19_deploy_shadow_diff_and_promote_through_the_cli() {
    let (dir, mut live, addr) = start_live(5);
    let wasm = dir.path().join("strategies/dist/sma_cross.wasm");
    let mut bytes = std::fs::read(&wasm).unwrap();
    bytes.extend_from_slice(&[0, 6, 5, b's', b'h', b'a', b'd', b'w']);
    // Outside the strategies dir on purpose: the CLI sends the bytes.
    let candidate = dir.path().join("candidate.wasm");
    std::fs::write(&candidate, &bytes).unwrap();
    let sealed = runtime(&["seal", candidate.to_str().unwrap()]);
    assert!(sealed.status.success(), "{}", text(&sealed.stderr));

    let deployed = runtime(&[
        "deploy",
        "sma-fast",
        candidate.to_str().unwrap(),
        "--shadow",
        "--addr",
        &addr,
    ]);
    assert!(deployed.status.success(), "{}", text(&deployed.stderr));
    assert!(
        text(&deployed.stdout).contains("runs as the shadow candidate"),
        "{}",
        text(&deployed.stdout)
    );
    let deadline = Instant::now() + WAIT;
    let table = loop {
        let diff = runtime(&["diff", "sma-fast", "--addr", &addr]);
        assert!(diff.status.success(), "{}", text(&diff.stderr));
        let table = text(&diff.stdout);
        if !table.contains(", 0 bar(s)") || Instant::now() > deadline {
            break table;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(table.contains("signal agreement"), "{table}");
    assert!(
        table.lines().any(|l| l.starts_with("fuel per bar")),
        "{table}"
    );
    let status = runtime(&["status", "sma-fast", "--addr", &addr]);
    assert!(
        text(&status.stdout).contains("in the shadow"),
        "{}",
        text(&status.stdout)
    );
    let promoted = runtime(&["promote", "sma-fast", "--addr", &addr]);
    assert!(promoted.status.success(), "{}", text(&promoted.stderr));
    assert!(
        text(&promoted.stdout).contains("promoted version"),
        "{}",
        text(&promoted.stdout)
    );
    let again = runtime(&["discard", "sma-fast", "--addr", &addr]);
    assert!(!again.status.success(), "no candidate left to discard");
    assert!(
        text(&again.stderr).contains("no shadow candidate"),
        "{}",
        text(&again.stderr)
    );
    let _ = live.kill();
    let _ = live.wait();
}
