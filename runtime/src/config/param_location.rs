//! Where each `[strategy.params]` value sits in the config file, so that a
//! parameter the strategy refuses at `init` (a wrong type, `period = "20"`)
//! is reported at its file:line:column like every other config error. The
//! config cannot know a parameter's kind by itself: the strategy declares
//! it, and says so when it refuses one.

use super::source::{KeyPath, SourceMap};
use super::{Config, ConfigError};
use std::collections::BTreeMap;

/// `(strategy id, parameter) → (line, column)` of the parameter's key.
#[derive(Debug, Clone, Default)]
pub(crate) struct ParamLocations(BTreeMap<(String, String), (usize, usize)>);

/// Where a value is written is not part of what the config says: two
/// configs that differ only in layout are equal (a reload changes nothing).
impl PartialEq for ParamLocations {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl ParamLocations {
    pub(crate) fn new(config: &Config, map: &SourceMap) -> Self {
        let mut out = BTreeMap::new();
        for (i, strategy) in config.strategies.iter().enumerate() {
            for name in strategy.params.keys() {
                let path = KeyPath::of(&["strategy"]).index(i).key("params").key(name);
                if let Some(position) = map.get(&path).and_then(|_| map.locate(&path)) {
                    out.insert((strategy.id.clone(), name.clone()), position);
                }
            }
        }
        Self(out)
    }
}

impl Config {
    /// A strategy's refusal of its parameters (`reason`, as `init` returned
    /// it: "parameter `period` must be an integer, got the string \"20\"")
    /// as a config error at that parameter's line and column. `None` when
    /// the reason names no parameter written in this config.
    pub fn param_error(&self, strategy_id: &str, reason: &str) -> Option<ConfigError> {
        let strategy = self.strategy(strategy_id)?;
        // From "parameter `" on: the loader may put its own words in front.
        let reason = &reason[reason.find("parameter `")?..];
        let name = reason["parameter `".len()..].split('`').next()?;
        let value = strategy.params.get(name)?;
        let index = self.strategies.iter().position(|s| s.id == strategy_id)?;
        let position = self
            .param_locations
            .0
            .get(&(strategy_id.to_owned(), name.to_owned()))
            .copied();
        let origin = self.origin().map(|p| p.to_path_buf()).unwrap_or_default();
        let hint = match value.as_str() {
            Some(text) if looks_unquotable(text) => {
                format!("remove the quotes: {name} = {text}")
            }
            _ => "`runtime check <file>` lists the strategy's parameters with their kinds and defaults".to_owned(),
        };
        Some(
            ConfigError::new(origin, format!("strategy `{strategy_id}`: {reason}"))
                .at(position)
                .key(format!("strategy[{index}].params.{name}"))
                .hint(hint),
        )
    }
}

/// `"20"`, `"2.5"`, `"true"`: a number or boolean written as a string.
fn looks_unquotable(text: &str) -> bool {
    format!("v = {text}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|t| t.get("v").cloned())
        .is_some_and(|v| {
            matches!(
                v,
                toml::Value::Integer(_) | toml::Value::Float(_) | toml::Value::Boolean(_)
            )
        })
}
