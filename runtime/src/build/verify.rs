//! The check `runtime build` runs on what it built before writing it: the
//! contract's exports are there, then the loader's own pipeline (compile,
//! type-check, instantiate, smoke test) as `runtime check` runs it. A build
//! that fails it is not written, so the previous good build stays in place.

use super::Component;
use crate::check::CHECK_SYMBOLS;
use crate::load::{Artifact, LoadSpec, Loader};

/// Functions the `strategy` world exports (guest-sdk/wit/strategy.wit).
pub const REQUIRED_EXPORTS: [&str; 6] = [
    "describe", "init", "on-bar", "on-fill", "snapshot", "restore",
];

/// A built component that is not a working strategy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{package} was built but is not a usable strategy ({stage}): {message}\n  hint: {hint}\n  nothing was written; the previous build at the output path is unchanged"
)]
pub struct VerifyError {
    /// The crate's `[package] name`.
    pub package: String,
    /// `exports`, or the loader stage that refused it.
    pub stage: String,
    /// What is wrong.
    pub message: String,
    /// What to change.
    pub hint: String,
}

/// What the check saw of a component that passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// `describe`'s name and version.
    pub name: String,
    /// `describe`'s version.
    pub version: String,
    /// Warm-up bars with the default parameters.
    pub warmup_bars: u32,
    /// Bars of the smoke burst.
    pub smoke_bars: u64,
    /// Orders the smoke burst returned.
    pub smoke_orders: u64,
}

/// Runs the check on one component, with its default parameters.
pub fn verify(loader: &Loader, component: &Component) -> Result<Verified, VerifyError> {
    let fail = |stage: &str, message: String, hint: String| VerifyError {
        package: component.package.clone(),
        stage: stage.to_owned(),
        message,
        hint,
    };
    let exports = top_level_exports(&component.bytes)
        .map_err(|e| fail("exports", e, "rebuild; this is a bug in the build".into()))?;
    let missing: Vec<&str> = REQUIRED_EXPORTS
        .iter()
        .copied()
        .filter(|name| !exports.iter().any(|e| e == name))
        .collect();
    if !missing.is_empty() {
        let message = if exports.is_empty() {
            "the component exports nothing".to_owned()
        } else {
            format!("the component exports {}", exports.join(", "))
        };
        return Err(fail(
            "exports",
            format!(
                "{message}; a strategy exports {} (missing: {})",
                REQUIRED_EXPORTS.join(", "),
                missing.join(", ")
            ),
            "implement `sandbar_guest::Strategy` for your type and add `sandbar_guest::export_strategy!(YourType);` at the end of src/lib.rs".into(),
        ));
    }
    let symbols: Vec<String> = CHECK_SYMBOLS.iter().map(|s| (*s).to_owned()).collect();
    // A Python or JS component is checked under its language's limits.
    let limits = crate::config::LimitsSection::default()
        .for_language(crate::Language::detect(&component.bytes))
        .to_limits();
    let artifact = Artifact::from_bytes(
        format!("{} (just built)", component.file_name),
        component.bytes.clone(),
    );
    let outcome = loader.load_artifact(
        &artifact,
        LoadSpec {
            strategy_id: &component.package,
            expected_sha256: None,
            symbols: &symbols,
            params: &[],
            limits: &limits,
            recent_bars: &[],
            smoke: crate::SmokeSetup::default(),
        },
    );
    match outcome.result {
        Ok(candidate) => Ok(Verified {
            name: candidate.info.name.clone(),
            version: candidate.info.version.clone(),
            warmup_bars: candidate.info.warmup_bars,
            smoke_bars: candidate.smoke.bars as u64,
            smoke_orders: candidate.smoke.orders as u64,
        }),
        Err(error) => Err(fail(
            &error.stage.to_string(),
            error.message.clone(),
            error.hint.clone().unwrap_or_else(|| {
                format!(
                    "run `runtime check` on the component for the full report (built with default parameters, symbols {})",
                    CHECK_SYMBOLS.join(", ")
                )
            }),
        )),
    }
}

/// The names a component exports at its top level.
fn top_level_exports(bytes: &[u8]) -> Result<Vec<String>, String> {
    use wasmparser::{Parser, Payload};
    let mut depth = 0usize;
    let mut names = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(|e| format!("cannot parse the component: {e}"))? {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentExportSection(reader) if depth == 0 => {
                for export in reader {
                    let export = export.map_err(|e| format!("cannot read an export: {e}"))?;
                    names.push(export.name.name.to_owned());
                }
            }
            _ => {}
        }
    }
    Ok(names)
}
