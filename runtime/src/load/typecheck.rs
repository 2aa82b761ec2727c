//! Stage `type_check`: the component must speak this contract, by name and by
//! signature, before anything of it runs.

use crate::contract::{self, HostState, StrategyBindingsPre};
use crate::error::{LoadError, Stage};
use wasmtime::component::{Component, Linker};

const SDK_HINT: &str = "build the strategy with the sandbar-guest SDK (`sandbar_guest::export_strategy!`) and `runtime build`";

/// Checks imports and exports by name, then by type, and returns the
/// pre-linked component ready to instantiate any number of times.
pub fn type_check(
    engine: &wasmtime::Engine,
    linker: &Linker<HostState>,
    component: &Component,
) -> Result<StrategyBindingsPre<HostState>, LoadError> {
    let ty = component.component_type();
    let imports: Vec<String> = ty
        .imports(engine)
        .map(|(name, _)| name.to_owned())
        .collect();
    let exports: Vec<String> = ty
        .exports(engine)
        .map(|(name, _)| name.to_owned())
        .collect();
    check_names(&imports, &exports)?;

    let pre = linker.instantiate_pre(component).map_err(|e| {
        LoadError::new(
            Stage::TypeCheck,
            format!("imports do not match the contract: {e:#}"),
        )
        .hint(SDK_HINT)
    })?;
    StrategyBindingsPre::new(pre).map_err(|e| {
        LoadError::new(
            Stage::TypeCheck,
            format!("exports do not match the contract's signatures: {e:#}"),
        )
        .hint(format!(
            "rebuild against the contract {}@{} this runtime speaks; {SDK_HINT}",
            contract::PACKAGE,
            contract::VERSION
        ))
    })
}

/// The name-level check, separated so its messages are unit-tested.
pub(crate) fn check_names(imports: &[String], exports: &[String]) -> Result<(), LoadError> {
    let allowed = contract::allowed_imports();
    let unexpected: Vec<&str> = imports
        .iter()
        .filter(|name| !allowed.iter().any(|a| a == *name))
        .map(String::as_str)
        .collect();
    let missing: Vec<&str> = contract::REQUIRED_EXPORTS
        .iter()
        .copied()
        .filter(|name| !exports.iter().any(|e| e == name))
        .collect();

    if let Some(other) = other_contract_version(&unexpected) {
        return Err(LoadError::new(
            Stage::TypeCheck,
            format!(
                "built against contract {}@{other}, but this runtime speaks {}@{}",
                contract::PACKAGE,
                contract::PACKAGE,
                contract::VERSION
            ),
        )
        .hint(format!(
            "rebuild the strategy against a sandbar-guest for contract {}",
            contract::VERSION
        )));
    }
    if !unexpected.is_empty() {
        let wasi = unexpected.iter().any(|n| n.starts_with("wasi:"));
        let hint = if wasi {
            "strategies get no WASI (no files, network, clock or randomness): build for wasm32-unknown-unknown, not wasm32-wasip*, and avoid std::fs/std::net/std::time"
        } else {
            "a strategy may import only the contract's `host` interface; remove the other imports"
        };
        return Err(LoadError::new(
            Stage::TypeCheck,
            format!("unexpected imports: {}", unexpected.join(", ")),
        )
        .hint(hint));
    }
    if exports.is_empty() {
        return Err(LoadError::new(
            Stage::TypeCheck,
            "the component exports nothing: it is not a strategy",
        )
        .hint(SDK_HINT));
    }
    if !missing.is_empty() {
        return Err(LoadError::new(
            Stage::TypeCheck,
            format!(
                "missing exports: {} (the component exports: {}); it is not of the `strategy` world",
                missing.join(", "),
                exports.join(", ")
            ),
        )
        .hint(SDK_HINT));
    }
    Ok(())
}

/// `Some(version)` when an import names this contract's package at another version.
fn other_contract_version(unexpected: &[&str]) -> Option<String> {
    let prefix = format!("{}/", contract::PACKAGE);
    unexpected.iter().find_map(|name| {
        let rest = name.strip_prefix(&prefix)?;
        let (_, version) = rest.split_once('@')?;
        Some(version.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn all_exports() -> Vec<String> {
        names(&contract::REQUIRED_EXPORTS)
    }

    #[test]
    fn contract_imports_and_all_exports_pass() {
        let imports = contract::allowed_imports().to_vec();
        assert!(check_names(&imports, &all_exports()).is_ok());
    }

    #[test]
    fn wasi_imports_are_listed_with_a_wasi_hint() {
        let err = check_names(
            &names(&["wasi:cli/environment@0.2.0", "wasi:io/streams@0.2.0"]),
            &all_exports(),
        )
        .unwrap_err();
        assert_eq!(
            err.message,
            "unexpected imports: wasi:cli/environment@0.2.0, wasi:io/streams@0.2.0"
        );
        assert!(err.hint.unwrap().contains("no WASI"));
    }

    #[test]
    fn another_contract_version_is_named() {
        let err =
            check_names(&names(&["sandbar:strategy/host@0.2.0"]), &all_exports()).unwrap_err();
        assert_eq!(
            err.message,
            "built against contract sandbar:strategy@0.2.0, but this runtime speaks sandbar:strategy@0.1.0"
        );
    }

    #[test]
    fn missing_exports_are_listed_by_name() {
        let err = check_names(&[], &names(&["describe", "init", "run"])).unwrap_err();
        assert_eq!(
            err.message,
            "missing exports: on-bar, on-fill, snapshot, restore (the component exports: describe, init, run); it is not of the `strategy` world"
        );
    }

    #[test]
    fn an_empty_component_is_called_that() {
        let err = check_names(&[], &[]).unwrap_err();
        assert_eq!(
            err.message,
            "the component exports nothing: it is not a strategy"
        );
    }
}
