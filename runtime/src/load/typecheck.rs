//! Stage `type_check`: the component must speak this contract, by name and by
//! signature, before anything of it runs.

use super::guest_text;
use crate::contract::{self, ContractVersion, HostState, StrategyBindingsPre};
use crate::error::{LoadError, Stage};
use std::fmt::Write as _;
use wasmtime::component::{Component, Linker};

const SDK_HINT: &str = "build the strategy with the sandbar-guest SDK (`sandbar_guest::export_strategy!`) and `runtime build`";

/// Checks imports and exports by name, then by type, and returns the
/// pre-linked component ready to instantiate any number of times. The
/// contract version is read from the imports (`sandbar:strategy/host@0.2.0`),
/// or, for a component that imports nothing, from its exports (only 0.2.0
/// exports `on-order-updates`); it is then checked against that version's
/// signatures.
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

    let version = version_of(&imports, &exports);
    let pre = linker.instantiate_pre(component).map_err(|e| {
        LoadError::new(
            Stage::TypeCheck,
            format!("imports do not match the contract: {e:#}"),
        )
        .hint(SDK_HINT)
    })?;
    StrategyBindingsPre::new(version, pre).map_err(|e| {
        LoadError::new(
            Stage::TypeCheck,
            format!("exports do not match the contract's signatures ({version}): {e:#}"),
        )
        .hint(format!(
            "rebuild against a contract this runtime speaks ({}); {SDK_HINT}",
            speaks()
        ))
    })
}

/// The version a component of these import and export names implements.
pub(crate) fn version_of(imports: &[String], exports: &[String]) -> ContractVersion {
    ContractVersion::from_imports(imports).unwrap_or_else(|| {
        if exports.iter().any(|e| e == "on-order-updates") {
            ContractVersion::V0_2
        } else {
            ContractVersion::V0_1
        }
    })
}

/// "sandbar:strategy@0.1.0 and 0.2.0": every version this runtime links.
fn speaks() -> String {
    format!("{}@{}", contract::PACKAGE, contract::VERSIONS.join(" and "))
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
                "built against contract {}@{other}, but this runtime speaks {}",
                contract::PACKAGE,
                speaks()
            ),
        )
        .hint(format!(
            "rebuild the strategy against a sandbar-guest for contract {} (or {})",
            contract::VERSION,
            contract::VERSIONS[0]
        )));
    }
    if let Some(name) = unversioned_contract(&unexpected) {
        return Err(LoadError::new(
            Stage::TypeCheck,
            format!(
                "imports the contract without a version (`{}`); this runtime speaks {} and expects `{name}@{}`",
                guest_text::shown(name),
                speaks(),
                contract::VERSION
            ),
        )
        .hint(format!(
            "rebuild the strategy with a sandbar-guest for contract {} (its WIT names the version)",
            contract::VERSION
        )));
    }
    if !unexpected.is_empty() {
        let listed: Vec<String> = unexpected.iter().map(|n| guest_text::shown(n)).collect();
        let mut message = format!("unexpected imports: {}", listed.join(", "));
        if exports.is_empty() {
            message.push_str("; and it exports nothing: it is not a strategy");
        } else if !missing.is_empty() {
            let _ = write!(message, "; {}", missing_exports(&missing, exports));
        }
        return Err(LoadError::new(Stage::TypeCheck, message).hint(imports_hint(&unexpected)));
    }
    if exports.is_empty() {
        return Err(LoadError::new(
            Stage::TypeCheck,
            "the component exports nothing: it is not a strategy",
        )
        .hint(SDK_HINT));
    }
    if !missing.is_empty() {
        return Err(
            LoadError::new(Stage::TypeCheck, missing_exports(&missing, exports)).hint(SDK_HINT),
        );
    }
    Ok(())
}

/// The exports part of a name refusal: which are missing, what there is.
fn missing_exports(missing: &[&str], exports: &[String]) -> String {
    let listed: Vec<String> = exports.iter().map(|n| guest_text::shown(n)).collect();
    format!(
        "missing exports: {} (the component exports: {}); it is not of the `strategy` world",
        missing.join(", "),
        listed.join(", ")
    )
}

/// What to do about imports outside the contract, by what they are.
fn imports_hint(unexpected: &[&str]) -> String {
    let [host, types, ..] = contract::allowed_imports();
    if unexpected.iter().any(|n| n.starts_with("wasi:")) {
        "strategies get no WASI (no files, network, clock or randomness): build for wasm32-unknown-unknown, not wasm32-wasip*, and avoid std::fs/std::net/std::time".to_owned()
    } else if let Some(plain) = unexpected.iter().find(|n| **n == "host" || **n == "types") {
        format!(
            "an import named just `{plain}` is not the contract's interface: the contract's are `{host}` and `{types}`, by their full names; build with the sandbar-guest SDK, which imports them so"
        )
    } else {
        format!(
            "a strategy may import only the contract's interfaces `{host}` and `{types}`; remove the other imports"
        )
    }
}

/// The first import that names an interface of this contract's package
/// without any version (`sandbar:strategy/host`).
fn unversioned_contract<'a>(unexpected: &[&'a str]) -> Option<&'a str> {
    let prefix = format!("{}/", contract::PACKAGE);
    unexpected
        .iter()
        .copied()
        .find(|name| name.starts_with(&prefix) && !name.contains('@'))
}

/// `Some(version)` when an import names this contract's package at another version.
fn other_contract_version(unexpected: &[&str]) -> Option<String> {
    let prefix = format!("{}/", contract::PACKAGE);
    unexpected.iter().find_map(|name| {
        let rest = name.strip_prefix(&prefix)?;
        let (_, version) = rest.split_once('@')?;
        Some(guest_text::shown(version))
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

    /// Issue 15 item 3: both versions' imports pass by name, and the
    /// version is read from them (or, importing nothing, from the exports).
    #[test]
    fn issue_15_3_both_contract_versions_pass_and_are_told_apart() {
        let v1 = names(&[
            "sandbar:strategy/host@0.1.0",
            "sandbar:strategy/types@0.1.0",
        ]);
        let v2 = names(&[
            "sandbar:strategy/host@0.2.0",
            "sandbar:strategy/types@0.2.0",
        ]);
        assert!(check_names(&v1, &all_exports()).is_ok());
        assert!(check_names(&v2, &all_exports()).is_ok());
        assert_eq!(version_of(&v1, &all_exports()), ContractVersion::V0_1);
        assert_eq!(version_of(&v2, &all_exports()), ContractVersion::V0_2);
        assert_eq!(version_of(&[], &all_exports()), ContractVersion::V0_1);
        let mut v2_exports = all_exports();
        v2_exports.push("on-order-updates".into());
        assert_eq!(version_of(&[], &v2_exports), ContractVersion::V0_2);
        assert_eq!(ContractVersion::V0_2.to_string(), "sandbar:strategy@0.2.0");
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
            check_names(&names(&["sandbar:strategy/host@0.9.0"]), &all_exports()).unwrap_err();
        assert_eq!(
            err.message,
            "built against contract sandbar:strategy@0.9.0, but this runtime speaks sandbar:strategy@0.1.0 and 0.2.0"
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
    fn regression_13_11_another_world_that_imports_lists_the_missing_exports_too() {
        let err = check_names(&names(&["acme:logger/log@1.0.0"]), &names(&["run"])).unwrap_err();
        assert_eq!(
            err.message,
            "unexpected imports: acme:logger/log@1.0.0; missing exports: describe, init, on-bar, on-fill, snapshot, restore (the component exports: run); it is not of the `strategy` world"
        );
        let err = check_names(&names(&["acme:logger/log@1.0.0"]), &[]).unwrap_err();
        assert_eq!(
            err.message,
            "unexpected imports: acme:logger/log@1.0.0; and it exports nothing: it is not a strategy"
        );
    }

    #[test]
    fn regression_13_11_an_unversioned_contract_import_is_the_contract_without_a_version() {
        let err = check_names(&names(&["sandbar:strategy/host"]), &all_exports()).unwrap_err();
        assert_eq!(
            err.message,
            "imports the contract without a version (`sandbar:strategy/host`); this runtime speaks sandbar:strategy@0.1.0 and 0.2.0 and expects `sandbar:strategy/host@0.2.0`"
        );
    }

    #[test]
    fn regression_13_11_an_import_named_host_is_not_taken_for_the_contracts() {
        let err = check_names(&names(&["host"]), &all_exports()).unwrap_err();
        assert_eq!(err.message, "unexpected imports: host");
        let hint = err.hint.unwrap();
        assert_eq!(
            hint,
            "an import named just `host` is not the contract's interface: the contract's are `sandbar:strategy/host@0.2.0` and `sandbar:strategy/types@0.2.0`, by their full names; build with the sandbar-guest SDK, which imports them so"
        );
        let other = check_names(&names(&["acme:x/y@1.0.0"]), &all_exports()).unwrap_err();
        assert!(other.hint.unwrap().starts_with(
            "a strategy may import only the contract's interfaces `sandbar:strategy/host@0.2.0`"
        ));
    }

    #[test]
    fn regression_13_8_foreign_names_are_escaped_in_refusals() {
        let err = check_names(&names(&["\u{1b}[2J"]), &all_exports()).unwrap_err();
        assert_eq!(err.message, "unexpected imports: \\u{1b}[2J");
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
