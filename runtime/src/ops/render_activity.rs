//! What each strategy holds, for `runtime status`: its open positions, its
//! working orders and its fuel per `on-bar` call (the status's `activity`
//! and `fuel_per_bar`).

use serde_json::Value;
use std::fmt::Write;

/// Lines for `out`: one per open position, one per strategy with working
/// orders, one per strategy's fuel; nothing for a strategy with none.
pub fn activity_section(strategies: &[Value], out: &mut String) {
    let mut positions = Vec::new();
    let mut orders = Vec::new();
    let mut fuel = Vec::new();
    for st in strategies {
        let id = st["id"].as_str().unwrap_or("");
        let activity = &st["activity"];
        for p in activity["positions"].as_array().into_iter().flatten() {
            let number = |key: &str| p[key].as_f64().unwrap_or(0.0);
            positions.push(format!(
                "  {:<18} {:<10} {:>+12} @ {:>12.2}  last {:>12.2}  unrealised {:>+12.2}",
                id,
                p["symbol"].as_str().unwrap_or("?"),
                number("quantity"),
                number("avg_price"),
                number("last_price"),
                number("unrealised_pnl"),
            ));
        }
        let working = activity["working_orders"].as_array().map_or(&[][..], |v| v);
        if !working.is_empty() {
            let kinds: Vec<String> = working
                .iter()
                .map(|o| {
                    let kind = o["kind"].as_str().unwrap_or("?");
                    match o["id"].as_u64() {
                        Some(n) => format!("#{n} {} {kind}", o["side"].as_str().unwrap_or("")),
                        None => format!("{} {kind}", o["side"].as_str().unwrap_or("")),
                    }
                })
                .collect();
            orders.push(format!(
                "  {id:<18} {}: {}",
                working.len(),
                kinds.join(", ")
            ));
        }
        let f = &st["fuel_per_bar"];
        if f["samples"].as_u64().unwrap_or(0) > 0 {
            let n = |key: &str| f[key].as_u64().unwrap_or(0);
            fuel.push(format!(
                "  {id:<18} {:>13} {:>13} {:>13} {:>15}",
                n("p50"),
                n("p99"),
                n("max"),
                n("limit")
            ));
        }
    }
    if !positions.is_empty() {
        let _ = writeln!(out, "\npositions:");
        for line in positions {
            let _ = writeln!(out, "{line}");
        }
    }
    if !orders.is_empty() {
        let _ = writeln!(out, "\nworking orders:");
        for line in orders {
            let _ = writeln!(out, "{line}");
        }
    }
    if !fuel.is_empty() {
        let _ = writeln!(
            out,
            "\n  {:<18} {:>13} {:>13} {:>13} {:>15}",
            "fuel per bar", "p50", "p99", "max", "limit"
        );
        for line in fuel {
            let _ = writeln!(out, "{line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn issue_17_status_lists_positions_working_orders_and_fuel() {
        let strategies = [
            json!({"id": "sma", "activity": {
                "positions": [{"symbol": "BTCUSD", "quantity": 2.0, "avg_price": 100.0,
                    "last_price": 110.0, "unrealised_pnl": 20.0}],
                "working_orders": [{"symbol": "BTCUSD", "side": "sell", "quantity": 2.0,
                    "kind": "stop", "id": 7, "stop_price": 95.0, "tif": "gtc"}],
                "recent_fills": []},
                "fuel_per_bar": {"samples": 10, "p50": 6666, "p99": 7000, "max": 7100, "limit": 10000000}}),
            json!({"id": "idle", "activity": {"positions": [], "working_orders": [], "recent_fills": []},
                "fuel_per_bar": {"samples": 0, "p50": 0, "p99": 0, "max": 0, "limit": 1}}),
        ];
        let mut out = String::new();
        activity_section(&strategies, &mut out);
        assert!(out.contains("\npositions:\n  sma "), "{out}");
        assert!(out.contains("BTCUSD"), "{out}");
        assert!(out.contains("+2 @       100.00"), "{out}");
        assert!(out.contains("unrealised       +20.00"), "{out}");
        assert!(
            out.contains("\nworking orders:\n  sma                1: #7 sell stop\n"),
            "{out}"
        );
        assert!(out.contains("6666"), "{out}");
        assert!(
            !out.contains("idle"),
            "nothing for a strategy with nothing: {out}"
        );
        let mut none = String::new();
        activity_section(&strategies[1..], &mut none);
        assert_eq!(none, "");
    }
}
