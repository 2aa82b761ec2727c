//! The fleet as a source of desired state: its `[[strategy]]` entries for
//! this node sit beside the config file's own, and every config the control
//! plane applies (a file edit, the API, a fleet change) is the file's
//! config with them merged in, through the one diff of `files.rs`. There is
//! no second pipeline: a fleet deployment is loaded, verified, smoke-tested,
//! handed over and published exactly like a config edit.

// `ConfigError` is large, as everywhere in `config` (see its module): rare,
// on a cold path, and not boxed.
#![allow(clippy::result_large_err)]

use super::super::events::{ReloadEvent, Trigger};
use super::ControlPlane;
use crate::config::{Config, ConfigError, StrategyConfig};
use crate::refusal::Refusal;

/// `local` with the fleet's entries appended. An id both define is an
/// error (the operator must rename one), and so is a merged config that
/// breaks a rule (a symbol the feed does not produce, say).
pub(crate) fn merge(local: Config, fleet: &[StrategyConfig]) -> Result<Config, ConfigError> {
    if fleet.is_empty() {
        return Ok(local);
    }
    let mut merged = local;
    for strategy in fleet {
        if merged.strategy(&strategy.id).is_some() {
            return Err(ConfigError::new(
                merged.message_path(),
                format!(
                    "strategy `{}` is both a [[strategy]] of this config and a fleet deployment",
                    strategy.id
                ),
            )
            .hint(format!(
                "rename or remove one: the local [[strategy]] id = \"{0}\", or the fleet's with `runtime undeploy {0}`",
                strategy.id
            )));
        }
        let mut strategy = strategy.clone();
        if strategy.symbols.is_empty() {
            strategy.symbols = merged.feed.symbols.clone();
        }
        merged.strategies.push(strategy);
    }
    merged.validate()?;
    Ok(merged)
}

/// A merge that failed, as the API's refusal.
pub(crate) fn refusal(error: &ConfigError) -> Refusal {
    Refusal::BadArguments {
        message: error.to_string(),
        hint: "a fleet deployment and a local [[strategy]] must not share an id",
    }
}

impl ControlPlane {
    /// The file's config as it is now: the running config without the
    /// fleet's entries.
    fn local_config(&self) -> Config {
        let mut local = self.config.clone();
        local
            .strategies
            .retain(|s| !self.fleet.iter().any(|f| f.id == s.id));
        local
    }

    /// Replaces the fleet's entries and applies the result as a diff. A
    /// clash or an invalid entry changes nothing and is refused.
    pub(super) fn apply_fleet(
        &mut self,
        strategies: Vec<StrategyConfig>,
    ) -> Result<Vec<ReloadEvent>, Refusal> {
        let merged = merge(self.local_config(), &strategies).map_err(|e| refusal(&e))?;
        self.fleet = strategies;
        if merged == self.config {
            return Ok(Vec::new());
        }
        Ok(self.apply_config(merged, Trigger::Fleet))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn local() -> Config {
        Config::parse(
            "[feed]\nsymbols = [\"A\", \"B\"]\n[[strategy]]\nid = \"mine\"\nwasm = \"mine.wasm\"\n",
            Path::new("node.toml"),
        )
        .unwrap()
    }

    fn fleet_entry(id: &str) -> StrategyConfig {
        let mut s = StrategyConfig::new(id, format!("fleet/{}.wasm", "a".repeat(64)));
        s.sha256 = Some("a".repeat(64));
        s
    }

    #[test]
    fn issue_20_fleet_entries_sit_beside_the_local_ones_with_every_feed_symbol() {
        let merged = merge(local(), &[fleet_entry("theirs")]).unwrap();
        let ids: Vec<&str> = merged.strategies.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["mine", "theirs"]);
        assert_eq!(merged.strategy("theirs").unwrap().symbols, ["A", "B"]);
        assert_eq!(merge(local(), &[]).unwrap(), local());
    }

    #[test]
    fn issue_20_a_fleet_id_clashing_with_a_local_one_is_refused_with_a_hint() {
        let error = merge(local(), &[fleet_entry("mine")]).unwrap_err();
        assert!(
            error.to_string().contains(
                "strategy `mine` is both a [[strategy]] of this config and a fleet deployment"
            ),
            "{error}"
        );
        assert!(
            error
                .hint
                .as_deref()
                .unwrap()
                .contains("runtime undeploy mine")
        );
        // A fleet entry that breaks a rule (a symbol the feed lacks) is refused too.
        let mut bad = fleet_entry("theirs");
        bad.symbols = vec!["ZZZ".into()];
        assert!(merge(local(), &[bad]).is_err());
    }
}
