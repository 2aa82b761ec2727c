//! What the CLI prints: the `/status` table, one line per control answer,
//! one line per event. Works on the JSON the API sends, so the CLI shows
//! exactly what any other client sees.

use serde_json::Value;
use std::fmt::Write;

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}

fn duration(seconds: f64) -> String {
    let total = seconds as u64;
    let (d, h, m, s) = (
        total / 86_400,
        total / 3600 % 24,
        total / 60 % 60,
        total % 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m{s:02}s"),
        (0, _, _) => format!("{h}h{m:02}m"),
        _ => format!("{d}d{h:02}h"),
    }
}

/// The `/status` answer as a header line, a table of strategies, and notes
/// (why a strategy is halted or quarantined, last reload errors).
pub fn render_status(status: &Value) -> String {
    let mut out = String::new();
    let watching: Vec<&str> = status["watching"]
        .as_array()
        .map(|a| a.iter().map(s).collect())
        .unwrap_or_default();
    let hot = if status["hot_reload"].as_bool() == Some(true) {
        format!("on ({})", watching.join(", "))
    } else {
        "off".to_owned()
    };
    let _ = writeln!(
        out,
        "profile {}  up {}  bars {}  hot reload {}  ops {} (auth: {})",
        s(&status["profile"]),
        duration(status["uptime_seconds"].as_f64().unwrap_or(0.0)),
        status["bars"].as_u64().unwrap_or(0),
        hot,
        s(&status["ops"]["listen"]),
        s(&status["ops"]["auth"]),
    );
    let _ = writeln!(
        out,
        "\n{:<18} {:<11} {:>4} {:<12} {:>9} {:>7} {:>6} {:>13} {:>11} {:>9} {:>9} {:>11}  versions",
        "strategy",
        "state",
        "ver",
        "sha256",
        "bars",
        "orders",
        "fills",
        "equity",
        "pnl",
        "p50 us",
        "p99 us",
        "reloads",
    );
    let empty = Vec::new();
    let strategies = status["strategies"].as_array().unwrap_or(&empty);
    let mut notes = Vec::new();
    let mut latencies = Vec::new();
    let mut tiers = Vec::new();
    for st in strategies {
        let id = s(&st["id"]);
        let reload = &st["reload"];
        let versions: Vec<String> = st["versions"]
            .as_array()
            .map(|vs| vs.iter().map(|v| v["version"].to_string()).collect())
            .unwrap_or_default();
        let pnl = st["realised_pnl"].as_f64().unwrap_or(0.0)
            + st["unrealised_pnl"].as_f64().unwrap_or(0.0);
        let _ = writeln!(
            out,
            "{:<18} {:<11} {:>4} {:<12} {:>9} {:>7} {:>6} {:>13.2} {:>11.2} {:>9.1} {:>9.1} {:>11}  {}",
            id,
            s(&st["state"]),
            st["version"].as_u64().unwrap_or(0),
            short(s(&st["sha256"])),
            st["bars"].as_u64().unwrap_or(0),
            st["orders"].as_u64().unwrap_or(0),
            st["fills"].as_u64().unwrap_or(0),
            st["equity"].as_f64().unwrap_or(0.0),
            pnl,
            st["latency_us"]["p50"].as_f64().unwrap_or(0.0),
            st["latency_us"]["p99"].as_f64().unwrap_or(0.0),
            format!(
                "{}/{}/{}",
                reload["swapped"].as_u64().unwrap_or(0),
                reload["rejected"].as_u64().unwrap_or(0),
                reload["rolled_back"].as_u64().unwrap_or(0)
            ),
            versions.join(","),
        );
        let us = |v: &Value, q: &str| v[q].as_f64().unwrap_or(0.0);
        let (call, decide) = (&st["latency_us"], &st["feed_to_decision_us"]);
        latencies.push(format!(
            "  {:<18} {:>11.1} {:>11.1} {:>11.1}  {:>11.1} {:>11.1} {:>11.1}",
            id,
            us(call, "p50"),
            us(call, "p99"),
            us(call, "max"),
            us(decide, "p50"),
            us(decide, "p99"),
            us(decide, "max"),
        ));
        if let Some(tier) = st["tier"].as_str() {
            tiers.push(format!("{id} {tier}"));
        }
        if let Some(reason) = st["state_reason"].as_str() {
            notes.push(format!("{id}: {} — {reason}", s(&st["state"])));
        }
        super::render_shadow::status_notes(st, &mut notes);
        if let Some(error) = reload["last_error"].as_str() {
            notes.push(format!("{id}: last reload error: {error}"));
        }
        if st["disk_differs"].as_bool() == Some(true) {
            let disk = &st["disk"];
            let on_disk = match disk["unreadable"].as_str() {
                Some(reason) => format!("unreadable: {reason}"),
                None => format!("sha256 {}", short(s(&disk["sha256"]))),
            };
            let mut note = format!(
                "{id}: file on disk differs from the running version ({on_disk}; since {}",
                s(&disk["since"])
            );
            if let Some(attempt) = disk["last_attempt"].as_str() {
                let _ = write!(note, ", last attempt: {attempt}");
            }
            note.push(')');
            notes.push(note);
        }
        let refused: u64 = st["refused"]
            .as_object()
            .map(|m| m.values().filter_map(Value::as_u64).sum())
            .unwrap_or(0);
        if refused > 0 {
            notes.push(format!("{id}: {refused} order(s) refused by risk rules"));
        }
    }
    if strategies.is_empty() {
        out.push_str("(no strategy running)\n");
    }
    if !latencies.is_empty() {
        let _ = writeln!(
            out,
            "\n  {:<18} {:>11} {:>11} {:>11}  {:>11} {:>11} {:>11}",
            "latency (us)",
            "call p50",
            "call p99",
            "call max",
            "decide p50",
            "decide p99",
            "decide max"
        );
        for line in latencies {
            let _ = writeln!(out, "{line}");
        }
    }
    super::render_activity::activity_section(strategies, &mut out);
    if !tiers.is_empty() {
        // The compiler of each live generation's code (`hot_reload.tiering`):
        // baseline until its optimised code takes over.
        let _ = writeln!(out, "\ncode tier: {}", tiers.join(", "));
    }
    if let Some(lag) = status["loop_lag"].as_object() {
        let _ = writeln!(
            out,
            "\nbar loop: {} bar(s) queued; bar age when taken p50 {:.1} us, p99 {:.1} us, max {:.1} us",
            lag.get("bars_queued").and_then(Value::as_u64).unwrap_or(0),
            status["loop_lag"]["age_us"]["p50"].as_f64().unwrap_or(0.0),
            status["loop_lag"]["age_us"]["p99"].as_f64().unwrap_or(0.0),
            status["loop_lag"]["age_us"]["max"].as_f64().unwrap_or(0.0),
        );
    }
    out.push_str("\nreloads = swapped/rejected/rolled back; versions = kept for rollback, the last one is live; decision = the feed delivered the bar -> the strategy's orders routed (queueing included)\n");
    for note in notes {
        let _ = writeln!(out, "{note}");
    }
    out
}

/// One line for a control answer: what happened and the state now.
pub fn render_control(answer: &Value) -> String {
    if let Some(line) = super::render_shadow::render_deploy_answer(answer) {
        return line;
    }
    let id = s(&answer["strategy"]);
    let actor = s(&answer["actor"]);
    let version = answer["version"].as_u64().unwrap_or(0);
    let sha = short(s(&answer["sha256"]));
    let state = s(&answer["state"]);
    match s(&answer["action"]) {
        "reload" | "rollback" => {
            let event = &answer["reload"];
            let total_us: u64 = event["duration_us"]
                .as_object()
                .map(|m| m.values().filter_map(Value::as_u64).sum())
                .unwrap_or(0);
            let cache = if event["cache_hit"].as_bool() == Some(true) {
                ", compile cache hit"
            } else {
                ""
            };
            format!(
                "{id}: {} -> version {version} (sha256 {sha}) in {:.1} ms{cache}; state {state}; by {actor}",
                s(&event["outcome"]).replace('_', " "),
                total_us as f64 / 1000.0
            )
        }
        action => {
            format!("{id}: {action} -> {state} (version {version}, sha256 {sha}); by {actor}")
        }
    }
}

/// One line for an event from `/events`.
pub fn render_event_line(kind: &str, event: &Value) -> String {
    let ts = s(&event["ts"]);
    let id = s(&event["strategy"]);
    match kind {
        "reload" => {
            let outcome = s(&event["outcome"]);
            let total_us: u64 = event["duration_us"]
                .as_object()
                .map(|m| m.values().filter_map(Value::as_u64).sum())
                .unwrap_or(0);
            let mut line = format!(
                "{ts} reload   {id} {outcome} version {} sha256 {} trigger {} {:.1} ms",
                event["version"]
                    .as_u64()
                    .map_or("-".into(), |v| v.to_string()),
                short(event["sha256"].as_str().unwrap_or("-")),
                s(&event["trigger"]),
                total_us as f64 / 1000.0
            );
            if let Some(tier) = event["tier"].as_str() {
                let _ = write!(line, " tier {tier}");
            }
            if let Some(error) = event["error"].as_str() {
                let _ = write!(line, " at {}: {error}", s(&event["stage"]));
            }
            if let Some(hint) = event["hint"].as_str() {
                let _ = write!(line, " (hint: {hint})");
            }
            line
        }
        "trap" => format!(
            "{ts} trap     {id} version {} {} in {} at seq {} ({} in a row): {}",
            event["version"],
            s(&event["kind"]),
            s(&event["export"]),
            event["seq"],
            event["consecutive"],
            s(&event["message"])
        ),
        "handoff" => format!(
            "{ts} handoff  {id} version {} -> {} by {} at seq {}",
            event["previous_version"],
            event["version"],
            s(&event["method"]),
            event["first_seq"]
        ),
        "refusal" => format!(
            "{ts} refusal  {id} version {} {}: {}",
            event["version"],
            s(&event["rule"]),
            s(&event["reason"])
        ),
        "state" => {
            let mut line = format!(
                "{ts} state    {id} {} -> {} by {}",
                s(&event["previous"]),
                s(&event["state"]),
                s(&event["actor"])
            );
            if let Some(reason) = event["reason"].as_str() {
                let _ = write!(line, " ({reason})");
            }
            line
        }
        "stop" => {
            let range = event["seq_range"]
                .as_array()
                .map_or("no bars".to_owned(), |r| {
                    format!("bars {}..={}", r[0], r[1])
                });
            format!(
                "{ts} stop     {id} version {} {} ({})",
                event["version"],
                range,
                s(&event["reason"])
            )
        }
        other => format!("{other} {event}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn status() -> Value {
        json!({
            "profile": "dev", "uptime_seconds": 3725.0, "bars": 120, "hot_reload": true,
            "watching": ["strategies/dist"], "ops": {"listen": "127.0.0.1:9190", "auth": "none"},
            "strategies": [{
                "id": "sma-cross", "state": "halted", "state_reason": "halted by api:alice",
                "version": 2, "sha256": "0123456789abcdef", "bars": 60, "orders": 4, "fills": 4,
                "equity": 100012.5, "realised_pnl": 10.0, "unrealised_pnl": 2.5,
                "latency_us": {"p50": 3.2, "p99": 11.0},
                "reload": {"swapped": 2, "rejected": 1, "rolled_back": 0, "last_error": "not a WebAssembly file"},
                "refused": {"max_position": 3},
                "versions": [{"version": 1}, {"version": 2}]
            }]
        })
    }

    #[test]
    fn issue_16_status_names_the_code_tier_of_each_strategy() {
        let mut status = status();
        status["strategies"][0]["tier"] = json!("baseline");
        let text = render_status(&status);
        assert!(text.contains("\ncode tier: sma-cross baseline\n"), "{text}");
        let line = render_event_line(
            "reload",
            &json!({"ts": "t", "strategy": "sma-cross", "outcome": "tiered_up", "trigger": "tier_up",
                "version": 2, "sha256": "0123456789abcdef", "duration_us": {}, "tier": "optimized"}),
        );
        assert!(
            line.contains("tiered_up version 2") && line.ends_with("tier optimized"),
            "{line}"
        );
    }

    #[test]
    fn status_table_has_a_row_per_strategy_and_notes() {
        let text = render_status(&status());
        assert!(
            text.starts_with("profile dev  up 1h02m  bars 120  hot reload on (strategies/dist)"),
            "{text}"
        );
        let row = text.lines().find(|l| l.starts_with("sma-cross")).unwrap();
        let fields: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(
            fields,
            [
                "sma-cross",
                "halted",
                "2",
                "0123456789ab",
                "60",
                "4",
                "4",
                "100012.50",
                "12.50",
                "3.2",
                "11.0",
                "2/1/0",
                "1,2"
            ]
        );
        assert!(text.contains("sma-cross: halted — halted by api:alice"));
        assert!(text.contains("last reload error: not a WebAssembly file"));
        assert!(text.contains("3 order(s) refused"));
    }

    /// Regression (hardening issue, items 6 and 15): the status render shows
    /// feed-to-decision latency beside call time, the loop's lag, and when
    /// the file on disk is not the running version.
    #[test]
    fn regression_13_15_status_says_the_file_on_disk_differs_and_shows_queueing() {
        let mut status = status();
        status["loop_lag"] = json!({"bars_queued": 12, "last_age_us": 5.0,
            "age_us": {"p50": 4.0, "p99": 7_000_000.0, "max": 7_100_000.0}});
        let st = &mut status["strategies"][0];
        st["latency_us"]["max"] = json!(106.0);
        st["feed_to_decision_us"] = json!({"p50": 20.0, "p99": 7_000_100.0, "max": 7_100_100.0});
        st["disk_differs"] = json!(true);
        st["disk"] = json!({"unreadable": "cannot open: Too many open files (os error 24)",
            "since": "2026-12-01T13:56:38Z",
            "last_attempt": "cannot open: Too many open files (os error 24); retry 2 of 5 in 1.0 s"});
        let text = render_status(&status);
        assert!(
            text.contains("sma-cross: file on disk differs from the running version (unreadable: cannot open: Too many open files (os error 24); since 2026-12-01T13:56:38Z, last attempt: cannot open: Too many open files (os error 24); retry 2 of 5 in 1.0 s)"),
            "{text}"
        );
        let latency = text
            .lines()
            .find(|l| l.trim_start().starts_with("sma-cross") && l.starts_with("  "))
            .unwrap();
        let fields: Vec<&str> = latency.split_whitespace().collect();
        assert_eq!(
            fields,
            [
                "sma-cross",
                "3.2",
                "11.0",
                "106.0",
                "20.0",
                "7000100.0",
                "7100100.0"
            ]
        );
        assert!(text.contains("bar loop: 12 bar(s) queued"), "{text}");
    }

    #[test]
    fn control_and_event_lines() {
        let answer = json!({
            "strategy": "a", "action": "rollback", "actor": "api:alice", "version": 1,
            "sha256": "abcdefabcdefabcdef", "state": "running",
            "reload": {"outcome": "rolled_back", "duration_us": {"instantiate": 1500}, "cache_hit": true}
        });
        assert_eq!(
            render_control(&answer),
            "a: rolled back -> version 1 (sha256 abcdefabcdef) in 1.5 ms, compile cache hit; state running; by api:alice"
        );
        let paused = json!({"strategy": "a", "action": "pause", "actor": "api:anonymous", "version": 3, "sha256": "ff", "state": "paused"});
        assert_eq!(
            render_control(&paused),
            "a: pause -> paused (version 3, sha256 ff); by api:anonymous"
        );
        let rejected = json!({
            "ts": "T", "strategy": "a", "outcome": "rejected", "trigger": "file", "stage": "compile",
            "error": "not a WebAssembly file", "hint": "rebuild it", "duration_us": {"read": 100}
        });
        assert_eq!(
            render_event_line("reload", &rejected),
            "T reload   a rejected version - sha256 - trigger file 0.1 ms at compile: not a WebAssembly file (hint: rebuild it)"
        );
        let state = json!({"ts": "T", "strategy": "a", "previous": "running", "state": "halted", "actor": "risk", "reason": "drawdown 30 %"});
        assert_eq!(
            render_event_line("state", &state),
            "T state    a running -> halted by risk (drawdown 30 %)"
        );
    }
}
