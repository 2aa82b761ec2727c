//! Re-pinning hashes after a rebuild: sets each `[[strategy]]`'s `sha256` to
//! the digest of its file, keeping the config's comments and layout.

use crate::config::Config;
use anyhow::Context;
use std::path::Path;

/// One strategy whose pin changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repinned {
    /// The `[[strategy]]`'s `id`.
    pub strategy: String,
    /// The `sha256` it had before, `None` when it had no pin.
    pub old: Option<String>,
    /// The new pin: the lowercase hex SHA-256 of its `wasm` file as it is now.
    pub new: String,
}

/// Rewrites `config_path` in place (atomically) with fresh pins for
/// `only` (or every strategy); returns what changed.
pub fn repin(config_path: &Path, only: Option<&str>) -> anyhow::Result<Vec<Repinned>> {
    let text = std::fs::read_to_string(config_path)
        .with_context(|| format!("cannot read {}", config_path.display()))?;
    // Not validated: a prod config whose pins are missing or stale is
    // exactly what this fixes. Syntax and unknown keys are still errors.
    let mut config: Config = toml::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}: {}", config_path.display(), e.message()))?;
    config.origin = Some(config_path.to_owned());
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .with_context(|| format!("cannot parse {}", config_path.display()))?;
    if let Some(id) = only
        && config.strategy(id).is_none()
    {
        anyhow::bail!(
            "no [[strategy]] with id = \"{id}\" in {}",
            config_path.display()
        );
    }
    let mut changed = Vec::new();
    let Some(tables) = doc
        .get_mut("strategy")
        .and_then(|s| s.as_array_of_tables_mut())
    else {
        return Ok(changed);
    };
    for (table, strategy) in tables.iter_mut().zip(&config.strategies) {
        if only.is_some_and(|id| id != strategy.id) {
            continue;
        }
        let path = config.wasm_path(strategy);
        let bytes = std::fs::read(&path).with_context(|| {
            format!(
                "cannot read {} for strategy `{}`; build it first (`runtime build --all`)",
                path.display(),
                strategy.id
            )
        })?;
        let new = crate::hash::sha256_hex(&bytes);
        if strategy.sha256.as_deref() != Some(new.as_str()) {
            table["sha256"] = toml_edit::value(new.clone());
            changed.push(Repinned {
                strategy: strategy.id.clone(),
                old: strategy.sha256.clone(),
                new,
            });
        }
    }
    if !changed.is_empty() {
        let dir = config_path.parent().unwrap_or(Path::new("."));
        let tmp = dir.join(format!(
            ".{}.pin-{}",
            config_path
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default(),
            std::process::id()
        ));
        std::fs::write(&tmp, doc.to_string())
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, config_path)
            .with_context(|| format!("cannot replace {}", config_path.display()))?;
    }
    Ok(changed)
}
