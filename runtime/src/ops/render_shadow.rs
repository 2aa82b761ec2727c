//! Text renderings of shadow deployments for the CLI: `runtime diff` (live
//! against candidate, a table), the candidate and waiting-swap notes of
//! `runtime status`, and the answer line of a deploy.

use serde_json::Value;
use std::fmt::Write;

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

/// `runtime diff ID`: one strategy's status (`/strategies/{id}`) as a
/// live-against-candidate table; a line saying so when it has no candidate.
pub fn render_diff(strategy: &Value) -> String {
    let id = s(&strategy["id"]);
    let Some(candidate) = strategy["candidate"].as_object() else {
        return format!(
            "{id}: no shadow candidate (`runtime deploy {id} FILE --shadow` starts one)\n"
        );
    };
    let c = &candidate["comparison"];
    let mut out = String::new();
    let range = match c["seq_range"].as_array() {
        Some(r) if r.len() == 2 => format!("bars {}..={}", r[0], r[1]),
        _ => "no bar yet".into(),
    };
    let _ = writeln!(
        out,
        "{id}: live version {} ({}) against candidate version {} ({}), {} bar(s) ({range})",
        strategy["version"],
        short(s(&strategy["sha256"])),
        candidate["version"],
        short(s(&candidate["sha256"])),
        c["bars"].as_u64().unwrap_or(0),
    );
    let _ = writeln!(
        out,
        "orders differ on {} bar(s); signal agreement {:.2}%\n",
        c["bars_differing"].as_u64().unwrap_or(0),
        c["agreement_pct"].as_f64().unwrap_or(0.0),
    );
    let _ = writeln!(out, "{:<16} {:>14} {:>14}", "", "live", "candidate");
    let (live, shadow) = (&c["live"], &c["shadow"]);
    let row = |out: &mut String, name: &str, key: &str| {
        let _ = writeln!(
            out,
            "{name:<16} {:>14} {:>14}",
            live[key].as_u64().unwrap_or(0),
            shadow[key].as_u64().unwrap_or(0)
        );
    };
    let money = |out: &mut String, name: &str, key: &str| {
        let _ = writeln!(
            out,
            "{name:<16} {:>14.2} {:>14.2}",
            live[key].as_f64().unwrap_or(0.0),
            shadow[key].as_f64().unwrap_or(0.0)
        );
    };
    money(&mut out, "pnl", "pnl");
    money(&mut out, "max drawdown", "max_drawdown");
    row(&mut out, "orders", "orders");
    row(&mut out, "fills", "fills");
    row(&mut out, "refused", "refused");
    row(&mut out, "traps", "traps");
    money(&mut out, "fuel per bar", "fuel_per_bar");
    for (name, q) in [
        ("call p50 (us)", "p50"),
        ("call p99 (us)", "p99"),
        ("call p99.9 (us)", "p999"),
    ] {
        let _ = writeln!(
            out,
            "{name:<16} {:>14.1} {:>14.1}",
            live["latency_us"][q].as_f64().unwrap_or(0.0),
            shadow["latency_us"][q].as_f64().unwrap_or(0.0)
        );
    }
    if let Some(pending) = strategy["pending_swap"].as_object() {
        let _ = writeln!(out, "\n{}", pending_note(id, pending));
    }
    let _ = writeln!(
        out,
        "\n`runtime promote {id}` makes the candidate live (its state kept, the live account kept); `runtime discard {id}` drops it"
    );
    out
}

fn pending_note(id: &str, pending: &serde_json::Map<String, Value>) -> String {
    let what = if pending.get("promotion").and_then(Value::as_bool) == Some(true) {
        "promotion of the candidate"
    } else {
        "swap"
    };
    format!(
        "{id}: {what} to version {} ({}) waits for {} since {} ({:.1} s; cancelled after {} s{}); `runtime swap {id} --now` forces it, `--cancel` drops it",
        pending.get("version").cloned().unwrap_or_default(),
        short(pending.get("sha256").and_then(Value::as_str).unwrap_or("")),
        pending.get("policy").and_then(Value::as_str).unwrap_or(""),
        pending.get("since").and_then(Value::as_str).unwrap_or(""),
        pending
            .get("waiting_ms")
            .and_then(Value::as_u64)
            .unwrap_or(0) as f64
            / 1000.0,
        pending.get("timeout_s").cloned().unwrap_or_default(),
        if pending.get("forced").and_then(Value::as_bool) == Some(true) {
            ", forced: at the next bar"
        } else {
            ""
        },
    )
}

/// The notes `runtime status` adds for a strategy's candidate and waiting swap.
pub(crate) fn status_notes(strategy: &Value, notes: &mut Vec<String>) {
    let id = s(&strategy["id"]);
    if let Some(candidate) = strategy["candidate"].as_object() {
        let c = &candidate["comparison"];
        notes.push(format!(
            "{id}: candidate version {} ({}) in the shadow: {} bar(s), agreement {:.2}%, pnl {:.2} against live {:.2} (`runtime diff {id}`)",
            candidate["version"],
            short(candidate["sha256"].as_str().unwrap_or("")),
            c["bars"].as_u64().unwrap_or(0),
            c["agreement_pct"].as_f64().unwrap_or(0.0),
            c["shadow"]["pnl"].as_f64().unwrap_or(0.0),
            c["live"]["pnl"].as_f64().unwrap_or(0.0),
        ));
    }
    if let Some(pending) = strategy["pending_swap"].as_object() {
        notes.push(pending_note(id, pending));
    }
}

/// The answer line of a deploy, promote, discard or swap action.
pub(crate) fn render_deploy_answer(answer: &Value) -> Option<String> {
    let id = s(&answer["strategy"]);
    let actor = s(&answer["actor"]);
    if let Some(event) = answer["deploy"].as_object() {
        return Some(format!(
            "{id}: {} version {} ({}): {}; by {actor}",
            event
                .get("what")
                .and_then(Value::as_str)
                .unwrap_or("")
                .replace('_', " "),
            event.get("version").cloned().unwrap_or_default(),
            short(event.get("sha256").and_then(Value::as_str).unwrap_or("")),
            event.get("reason").and_then(Value::as_str).unwrap_or(""),
        ));
    }
    if s(&answer["action"]) != "deploy" {
        return None;
    }
    let event = &answer["reload"];
    let version = event["version"].as_u64().unwrap_or(0);
    let sha = short(s(&event["sha256"]));
    let text = match s(&event["outcome"]) {
        "candidate" => format!(
            "{id}: version {version} ({sha}) runs as the shadow candidate from the next bar; `runtime diff {id}` compares"
        ),
        "pending" => format!(
            "{id}: version {version} ({sha}) waits for its swap policy; `runtime status {id}` shows it"
        ),
        outcome => format!("{id}: {outcome} -> version {version} ({sha})"),
    };
    Some(format!("{text}; by {actor}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_19_diff_renders_both_sides() {
        let strategy = serde_json::json!({
            "id": "sma", "version": 3, "sha256": "a".repeat(64),
            "candidate": {"version": 4, "sha256": "b".repeat(64), "comparison": {
                "bars": 10, "seq_range": [5, 14], "bars_differing": 1, "agreement_pct": 90.0,
                "live": {"orders": 2, "fills": 2, "refused": 0, "traps": 0, "pnl": 1.5, "max_drawdown": 0.5, "fuel_per_bar": 100.0, "latency_us": {"p50": 1.0, "p99": 2.0, "p999": 3.0}},
                "shadow": {"orders": 3, "fills": 1, "refused": 1, "traps": 0, "pnl": -2.0, "max_drawdown": 2.0, "fuel_per_bar": 120.0, "latency_us": {"p50": 1.5, "p99": 2.5, "p999": 3.5}}
            }}
        });
        let text = render_diff(&strategy);
        assert!(
            text.contains("orders differ on 1 bar(s); signal agreement 90.00%"),
            "{text}"
        );
        assert!(text.contains("bars 5..=14"), "{text}");
        assert!(
            text.lines()
                .any(|l| l.starts_with("pnl") && l.contains("1.50") && l.contains("-2.00")),
            "{text}"
        );
        let none = render_diff(&serde_json::json!({"id": "sma"}));
        assert!(none.contains("no shadow candidate"));
    }
}
