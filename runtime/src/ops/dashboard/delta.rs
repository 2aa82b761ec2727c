//! Status deltas for `/ws`: the first push of a connection carries every
//! strategy, later ones only the strategies whose status changed since the
//! last push and the ids that went away. A quiet runtime then costs a
//! client a few hundred bytes a second instead of the whole `/status`.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// What one client was last sent, to diff the next status against.
#[derive(Debug, Default)]
pub struct StatusDiff {
    sent: Option<BTreeMap<String, Value>>,
}

impl StatusDiff {
    /// The `status` message's data for `status` (the JSON of `/status`),
    /// or `None` when nothing changed since the last one. `status` is
    /// `/status` without its strategies, sent whole with each push.
    pub fn next(&mut self, status: Value) -> Option<Value> {
        let Value::Object(mut top) = status else {
            return None;
        };
        let strategies = match top.remove("strategies") {
            Some(Value::Array(list)) => list,
            _ => Vec::new(),
        };
        let now: BTreeMap<String, Value> = strategies
            .into_iter()
            .filter_map(|s| Some((s.get("id")?.as_str()?.to_owned(), s)))
            .collect();
        let mut data = Map::new();
        match &self.sent {
            None => {
                data.insert("full".into(), Value::Bool(true));
                data.insert("strategies".into(), now.values().cloned().collect());
                data.insert("removed".into(), Value::Array(Vec::new()));
            }
            Some(before) => {
                let changed: Vec<Value> = now
                    .iter()
                    .filter(|(id, s)| before.get(*id) != Some(*s))
                    .map(|(_, s)| s.clone())
                    .collect();
                let removed: Vec<Value> = before
                    .keys()
                    .filter(|id| !now.contains_key(*id))
                    .map(|id| Value::String(id.clone()))
                    .collect();
                if changed.is_empty() && removed.is_empty() {
                    return None;
                }
                data.insert("full".into(), Value::Bool(false));
                data.insert("strategies".into(), Value::Array(changed));
                data.insert("removed".into(), Value::Array(removed));
            }
        }
        data.insert("status".into(), Value::Object(top));
        self.sent = Some(now);
        Some(Value::Object(data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn status(strategies: Value) -> Value {
        json!({ "uptime_seconds": 1.0, "bars": 3, "strategies": strategies })
    }

    fn ids(data: &Value, key: &str) -> Vec<String> {
        data[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.get("id").unwrap_or(s).as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn issue_17_status_deltas_send_everything_first_then_only_what_changed() {
        let mut diff = StatusDiff::default();
        let first = diff
            .next(status(
                json!([{ "id": "a", "bars": 1 }, { "id": "b", "bars": 1 }]),
            ))
            .unwrap();
        assert_eq!(first["full"], true);
        assert_eq!(ids(&first, "strategies"), ["a", "b"]);
        assert_eq!(first["status"]["bars"], 3);
        assert!(first["status"].get("strategies").is_none());

        let second = diff
            .next(status(
                json!([{ "id": "a", "bars": 2 }, { "id": "b", "bars": 1 }]),
            ))
            .unwrap();
        assert_eq!(second["full"], false);
        assert_eq!(ids(&second, "strategies"), ["a"]);
        assert!(ids(&second, "removed").is_empty());

        assert!(
            diff.next(status(
                json!([{ "id": "a", "bars": 2 }, { "id": "b", "bars": 1 }])
            ))
            .is_none(),
            "an unchanged status is not sent again"
        );

        let third = diff
            .next(status(json!([{ "id": "a", "bars": 2 }])))
            .unwrap();
        assert!(ids(&third, "strategies").is_empty());
        assert_eq!(ids(&third, "removed"), ["b"]);
    }
}
