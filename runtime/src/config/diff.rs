//! What changed between two configs, in the terms a running runtime acts on:
//! strategies to start, stop or update, and changes that need a restart.

use super::schema::Config;
use std::collections::BTreeSet;

/// The difference between a running config and a newly read one, in three
/// disjoint sets of strategies: stop `removed`, start `added`, update
/// `changed` in place. Only enabled strategies run, so turning `enabled` off
/// puts a strategy in `removed` and turning it on puts it in `added` (loaded
/// afresh from the new entry); a strategy disabled in both is not mentioned.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfigDiff {
    /// Ids that run under the new config and did not under the old one.
    pub added: Vec<String>,
    /// Ids that ran under the old config and do not under the new one.
    pub removed: Vec<String>,
    /// Strategies enabled in both configs whose entry differs, in
    /// new-config order; none of them is in `added` or `removed`.
    pub changed: Vec<StrategyChange>,
    /// `[limits]` differs (applies to instances loaded from now on).
    pub limits_changed: bool,
    /// `[risk]` or `[symbols.NAME]` differs (applied to running strategies
    /// in place, no reload).
    pub risk_changed: bool,
    /// `[hot_reload]` differs (`enabled` and `debounce_ms` also get a
    /// restart note; the other keys are read when used).
    pub hot_reload_changed: bool,
    /// Changes that only take effect when the runtime restarts, one note
    /// each, e.g. "feed.symbols changed from [...] to [...]".
    pub restart_required: Vec<String>,
}

/// How one strategy's entry differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrategyChange {
    /// The strategy's `id` (present in both the old and the new config).
    pub id: String,
    /// `wasm` or `sha256` differs: load the new artifact.
    pub artifact: bool,
    /// `[strategy.params]` differs.
    pub params: bool,
    /// The effective symbols differ.
    pub symbols: bool,
    /// `[strategy.limits]` differs.
    pub limits: bool,
    /// `[strategy.risk]` differs (applied in place, no reload).
    pub risk: bool,
    /// `enabled` flipped. Always false in [`diff`]'s output, where a flip is
    /// reported through `added`/`removed` instead, so that `changed` only
    /// holds strategies that keep running.
    pub enabled: bool,
}

impl ConfigDiff {
    /// Nothing to do.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
            && !self.limits_changed
            && !self.risk_changed
            && !self.hot_reload_changed
            && self.restart_required.is_empty()
    }
}

/// Compares two configs (both as returned by [`Config::parse`]).
pub fn diff(old: &Config, new: &Config) -> ConfigDiff {
    let running = |c: &Config| -> BTreeSet<String> {
        c.strategies
            .iter()
            .filter(|s| s.enabled)
            .map(|s| s.id.clone())
            .collect()
    };
    let (was, is) = (running(old), running(new));
    let in_new_order = |ids: &BTreeSet<String>, config: &Config| -> Vec<String> {
        config
            .strategies
            .iter()
            .filter(|s| ids.contains(&s.id))
            .map(|s| s.id.clone())
            .collect()
    };
    let added = in_new_order(&is.difference(&was).cloned().collect(), new);
    let removed = in_new_order(&was.difference(&is).cloned().collect(), old);

    let mut changed = Vec::new();
    for s in new.strategies.iter().filter(|s| s.enabled) {
        let Some(o) = old.strategy(&s.id).filter(|o| o.enabled) else {
            continue;
        };
        let change = StrategyChange {
            id: s.id.clone(),
            artifact: o.wasm != s.wasm || o.sha256 != s.sha256,
            params: o.params != s.params,
            limits: o.limits != s.limits,
            risk: o.risk != s.risk,
            symbols: old.symbols_of(o) != new.symbols_of(s),
            enabled: false,
        };
        if change.artifact || change.params || change.symbols || change.limits || change.risk {
            changed.push(change);
        }
    }

    ConfigDiff {
        added,
        removed,
        changed,
        limits_changed: old.limits != new.limits,
        risk_changed: old.risk != new.risk || old.symbols != new.symbols,
        hot_reload_changed: old.hot_reload != new.hot_reload,
        restart_required: restart_notes(old, new),
    }
}

/// One note per changed key the runtime reads only at start-up: `profile`,
/// `[runtime]`, the watcher's `hot_reload.enabled` and `debounce_ms`,
/// `[feed]` and `[broker]`.
fn restart_notes(old: &Config, new: &Config) -> Vec<String> {
    let mut notes = Vec::new();
    if old.profile != new.profile {
        notes.push(format!(
            "profile changed from \"{}\" to \"{}\"; restart so every running strategy was loaded under the new profile",
            old.profile, new.profile
        ));
    }
    if old.strategies_dir() != new.strategies_dir() {
        notes.push(format!(
            "runtime.strategies_dir changed from {} to {}; restart to watch and load from the new directory",
            old.strategies_dir().display(),
            new.strategies_dir().display()
        ));
    }
    if old.journal_dir() != new.journal_dir() {
        let show = |d: Option<std::path::PathBuf>| {
            d.map_or("none".to_owned(), |d| d.display().to_string())
        };
        notes.push(format!(
            "runtime.journal_dir changed from {} to {}; restart to apply",
            show(old.journal_dir()),
            show(new.journal_dir())
        ));
    }
    if old.runtime.history_bars != new.runtime.history_bars {
        notes.push(format!(
            "runtime.history_bars changed from {} to {}; restart to apply",
            old.runtime.history_bars, new.runtime.history_bars
        ));
    }
    if old.runtime.loop_spin_us != new.runtime.loop_spin_us {
        notes.push(format!(
            "runtime.loop_spin_us changed from {} to {}; restart to apply",
            old.runtime.loop_spin_us, new.runtime.loop_spin_us
        ));
    }
    let (was, is) = (&old.hot_reload, &new.hot_reload);
    if was.enabled != is.enabled {
        notes.push(format!(
            "hot_reload.enabled changed from {} to {}; restart to start or stop watching",
            was.enabled, is.enabled
        ));
    }
    if was.debounce_ms != is.debounce_ms {
        notes.push(format!(
            "hot_reload.debounce_ms changed from {} to {}; restart to apply",
            was.debounce_ms, is.debounce_ms
        ));
    }
    section_notes("feed", &old.feed, &new.feed, &mut notes);
    section_notes("broker", &old.broker, &new.broker, &mut notes);
    // Tokens are redacted when serialized, so a changed secret shows as a
    // change of its entry without printing it.
    section_notes("ops", &old.ops, &new.ops, &mut notes);
    if old.fleet != new.fleet {
        notes.push("[fleet] changed; restart to join with the new settings".into());
    }
    notes
}

/// "feed.symbols changed from [...] to [...]" for each differing key.
fn section_notes<T: serde::Serialize>(name: &str, old: &T, new: &T, notes: &mut Vec<String>) {
    let (Ok(old), Ok(new)) = (toml::Table::try_from(old), toml::Table::try_from(new)) else {
        return;
    };
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for key in keys {
        let (a, b) = (old.get(key), new.get(key));
        if a != b {
            let show = |v: Option<&toml::Value>| v.map_or("nothing".to_owned(), |v| v.to_string());
            notes.push(format!(
                "{name}.{key} changed from {} to {}; restart to apply",
                show(a),
                show(b)
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const BASE: &str = r#"
[[strategy]]
id = "a"
wasm = "a.wasm"
[strategy.params]
fast = 10

[[strategy]]
id = "b"
wasm = "b.wasm"
symbols = ["BTCUSD"]

[[strategy]]
id = "off"
wasm = "off.wasm"
enabled = false
"#;

    fn config(text: &str) -> Config {
        Config::parse(text, Path::new("sandbar.toml")).unwrap()
    }

    fn diff_to(new: &str) -> ConfigDiff {
        diff(&config(BASE), &config(new))
    }

    #[test]
    fn identical_configs_have_no_diff() {
        assert!(diff_to(BASE).is_empty());
    }

    #[test]
    fn added_and_removed() {
        let d = diff_to(&format!(
            "{BASE}\n[[strategy]]\nid = \"c\"\nwasm = \"c.wasm\"\n"
        ));
        assert_eq!(d.added, ["c"]);
        assert!(d.removed.is_empty() && d.changed.is_empty());

        let d = diff_to(&BASE.replace("id = \"b\"", "id = \"b2\""));
        assert_eq!(d.added, ["b2"]);
        assert_eq!(d.removed, ["b"]);
    }

    #[test]
    fn disabling_removes_and_enabling_adds() {
        let d = diff_to(&BASE.replace("wasm = \"b.wasm\"", "wasm = \"b.wasm\"\nenabled = false"));
        assert_eq!(d.removed, ["b"]);
        assert!(d.added.is_empty() && d.changed.is_empty());

        // Re-enabled with other params: added, so loaded afresh; not "changed".
        let d = diff_to(&BASE.replace(
            "enabled = false",
            "enabled = true\n[strategy.params]\nx = 1",
        ));
        assert_eq!(d.added, ["off"]);
        assert!(d.removed.is_empty() && d.changed.is_empty());
    }

    #[test]
    fn a_strategy_limits_change_is_its_own_change() {
        let d = diff_to(&BASE.replace(
            "fast = 10\n",
            "fast = 10\n[strategy.limits]\nfuel_per_bar = 9\n",
        ));
        assert_eq!(d.changed.len(), 1);
        assert!(d.changed[0].limits && !d.changed[0].params && !d.changed[0].artifact);
        assert!(!d.limits_changed, "the global [limits] did not change");
    }

    #[test]
    fn risk_changes_are_reported_globally_and_per_strategy() {
        let d = diff_to(&format!("[risk]\nmax_position = 5.0\n{BASE}"));
        assert!(d.risk_changed && d.changed.is_empty() && d.restart_required.is_empty());
        let d = diff_to(&BASE.replace(
            "fast = 10\n",
            "fast = 10\n[strategy.risk]\nmax_drawdown_pct = 20.0\n",
        ));
        assert_eq!(d.changed.len(), 1);
        assert!(d.changed[0].risk && !d.changed[0].limits && !d.changed[0].params);
    }

    #[test]
    fn params_only_change() {
        let d = diff_to(&BASE.replace("fast = 10", "fast = 12"));
        assert_eq!(
            d.changed,
            [StrategyChange {
                id: "a".into(),
                artifact: false,
                params: true,
                symbols: false,
                limits: false,
                risk: false,
                enabled: false
            }]
        );
        assert!(d.added.is_empty() && d.removed.is_empty() && d.restart_required.is_empty());
        assert!(!d.limits_changed && !d.hot_reload_changed);
    }

    #[test]
    fn artifact_and_symbol_changes() {
        let sha = "0".repeat(64);
        let d = diff_to(&BASE.replace(
            "wasm = \"a.wasm\"",
            &format!("wasm = \"a.wasm\"\nsha256 = \"{sha}\""),
        ));
        assert!(d.changed[0].artifact && !d.changed[0].params);
        let d = diff_to(&BASE.replace("wasm = \"a.wasm\"", "wasm = \"a2.wasm\""));
        assert!(d.changed[0].artifact);

        let d = diff_to(&BASE.replace("symbols = [\"BTCUSD\"]", "symbols = [\"ETHUSD\"]"));
        assert_eq!(d.changed.len(), 1);
        assert!(d.changed[0].symbols && d.changed[0].id == "b");

        // Writing out the default symbols changes nothing.
        let d = diff_to(&BASE.replace(
            "wasm = \"a.wasm\"",
            "wasm = \"a.wasm\"\nsymbols = [\"BTCUSD\", \"ETHUSD\"]",
        ));
        assert!(d.changed.is_empty(), "{d:?}");
    }

    #[test]
    fn disabled_strategies_changing_is_nothing_to_do() {
        let d = diff_to(&BASE.replace("off.wasm", "off2.wasm"));
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn limits_and_hot_reload() {
        let d = diff_to(&format!("[limits]\nmemory_mb = 128\n{BASE}"));
        assert!(d.limits_changed && !d.hot_reload_changed);
        assert!(d.restart_required.is_empty() && d.changed.is_empty());
        let d = diff_to(&format!("[hot_reload]\nkeep_versions = 2\n{BASE}"));
        assert!(d.hot_reload_changed && !d.limits_changed);
        assert!(d.restart_required.is_empty());
        // The watcher's settings are read when it starts.
        let d = diff_to(&format!("[hot_reload]\ndebounce_ms = 50\n{BASE}"));
        assert!(d.hot_reload_changed);
        assert_eq!(
            d.restart_required,
            ["hot_reload.debounce_ms changed from 200 to 50; restart to apply"]
        );
    }

    #[test]
    fn restart_notes_name_the_key_and_values() {
        let d = diff_to(&format!(
            "profile = \"dev\"\n[runtime]\nhistory_bars = 100\nloop_spin_us = 0\nstrategies_dir = \"elsewhere\"\n[feed]\nsymbols = [\"BTCUSD\"]\nseed = 7\n[broker]\ncommission = 0.0\n{BASE}"
        ));
        assert_eq!(
            d.restart_required,
            [
                "runtime.strategies_dir changed from strategies/dist to elsewhere; restart to watch and load from the new directory",
                "runtime.history_bars changed from 512 to 100; restart to apply",
                "runtime.loop_spin_us changed from 50 to 0; restart to apply",
                "feed.seed changed from 42 to 7; restart to apply",
                "feed.symbols changed from [\"BTCUSD\", \"ETHUSD\"] to [\"BTCUSD\"]; restart to apply",
                "broker.commission changed from 0.001 to 0.0; restart to apply",
            ]
        );
        // Strategy a traded both feed symbols by default; now only one.
        assert!(d.changed.iter().any(|c| c.id == "a" && c.symbols));
    }
}
