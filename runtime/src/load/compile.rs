//! Stage `compile`: say precisely what a file is when it is not a strategy
//! component, then compile it with Cranelift.

use super::typecheck;
use crate::engine;
use crate::error::{LoadError, Stage};
use wasmtime::component::Component;

const WASM_MAGIC: &[u8; 4] = b"\0asm";
const CORE_MODULE_VERSION: [u8; 4] = [0x01, 0x00, 0x00, 0x00];
/// Component binaries share the magic; the layer field (bytes 6..8) is 1.
const COMPONENT_LAYER: [u8; 2] = [0x01, 0x00];

const REBUILD_HINT: &str =
    "rebuild it with `runtime build <strategy dir>` and copy the printed file";

/// Refuses what is not a component, with a message naming what it is instead.
pub fn classify(bytes: &[u8]) -> Result<(), LoadError> {
    if bytes.is_empty() {
        return Err(
            LoadError::new(Stage::Compile, "the file is empty (0 bytes)")
                .hint(format!("a half-written or truncated copy? {REBUILD_HINT}")),
        );
    }
    let head = &bytes[..bytes.len().min(4)];
    if head != &WASM_MAGIC[..head.len()] {
        return Err(LoadError::new(
            Stage::Compile,
            format!(
                "not a WebAssembly file (starts with bytes {}, expected 00 61 73 6d)",
                hex_bytes(head)
            ),
        )
        .hint(REBUILD_HINT));
    }
    if bytes.len() < 8 {
        // The magic (or its start) is there: a copy that stopped early.
        let version = bytes.get(4..).unwrap_or_default();
        return Err(LoadError::new(
            Stage::Compile,
            format!(
                "truncated: the file is {} bytes, shorter than the 8-byte WebAssembly header (magic {}, version bytes {})",
                bytes.len(),
                hex_bytes(head),
                if version.is_empty() {
                    "missing".to_owned()
                } else {
                    format!("{} of 4", hex_bytes(version))
                }
            ),
        )
        .hint(format!("a half-written or truncated copy? {REBUILD_HINT}")));
    }
    if bytes[4..8] == CORE_MODULE_VERSION {
        return Err(LoadError::new(
            Stage::Compile,
            "a core WebAssembly module, not a component",
        )
        .hint("strategies are components: `runtime build` compiles the crate and wraps the module with wit-component"));
    }
    if bytes[6..8] != COMPONENT_LAYER {
        return Err(LoadError::new(
            Stage::Compile,
            format!(
                "unknown WebAssembly binary layer/version {:02x?}",
                &bytes[4..8]
            ),
        )
        .hint(REBUILD_HINT));
    }
    Ok(())
}

fn hex_bytes(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Refuses a file that claims to be a Sandbar build but is not whole: a copy
/// that stopped at a section boundary validates (everything after it may be
/// custom sections), so the framing is checked before the validator runs.
/// Messages start with "invalid component" like the validator's own.
pub fn check_seal(bytes: &[u8]) -> Result<(), LoadError> {
    crate::seal::check(bytes).map(|_| ()).map_err(|e| {
        LoadError::new(Stage::Compile, format!("invalid component: {e}")).hint(e.hint())
    })
}

/// Validates and compiles a component: the header, the seal, the top-level
/// import and export names (a foreign component is refused by name before
/// the validator reads its code and long before Cranelift compiles it),
/// validation with [`engine::wasm_features`], then the compile.
pub fn compile(engine: &wasmtime::Engine, bytes: &[u8]) -> Result<Component, LoadError> {
    precheck(bytes)?;
    compile_checked(engine, bytes)
}

/// Everything [`compile`] checks before wasmtime compiles: the same for
/// every tier, so a file refused here is refused once, whatever the tier.
pub fn precheck(bytes: &[u8]) -> Result<(), LoadError> {
    classify(bytes)?;
    check_seal(bytes)?;
    if let Some(names) = top_level_names(bytes) {
        typecheck::check_names(&names.imports, &names.exports)?;
    }
    validate(bytes)
}

/// wasmtime's compile of bytes that passed [`precheck`], for `engine`'s tier.
pub fn compile_checked(engine: &wasmtime::Engine, bytes: &[u8]) -> Result<Component, LoadError> {
    Component::new(engine, bytes).map_err(|e| {
        LoadError::new(Stage::Compile, format!("wasmtime cannot compile it: {e:#}"))
            .hint(REBUILD_HINT)
    })
}

/// Stage `compile`'s validation, with the features the engine enables. A
/// component that is valid with more features is not called corrupt: the
/// message names the features it needs.
pub fn validate(bytes: &[u8]) -> Result<(), LoadError> {
    let enabled = engine::wasm_features();
    let Err(error) = validate_with(bytes, enabled) else {
        return Ok(());
    };
    if let Some(needed) = features_needed(bytes, enabled) {
        let names: Vec<String> = needed.iter_names().map(|(n, _)| feature_name(n)).collect();
        let (feature, them) = if names.len() == 1 {
            ("feature", "it")
        } else {
            ("features", "them")
        };
        return Err(LoadError::new(
            Stage::Compile,
            format!(
                "the component uses the WebAssembly {feature} {}, which Sandbar does not enable ({} at offset {:#x})",
                names.join(", "),
                error.message(),
                error.offset()
            ),
        )
        .hint(format!(
            "strategies run without {them}: build for wasm32-unknown-unknown with the sandbar-guest SDK and `runtime build` (no threads, no async, no GC)"
        )));
    }
    Err(LoadError::new(
        Stage::Compile,
        format!(
            "invalid component: {} (at offset {:#x})",
            error.message(),
            error.offset()
        ),
    )
    .hint(format!(
        "the file may be truncated or corrupt; {REBUILD_HINT}"
    )))
}

fn validate_with(
    bytes: &[u8],
    features: wasmparser::WasmFeatures,
) -> Result<(), wasmparser::BinaryReaderError> {
    wasmparser::Validator::new_with_features(features)
        .validate_all(bytes)
        .map(|_| ())
}

/// The smallest set of features beyond `enabled` (found greedily) with
/// which `bytes` validates; `None` when it is invalid whatever is enabled.
/// Runs only after a failed validation, at most once per feature.
fn features_needed(
    bytes: &[u8],
    enabled: wasmparser::WasmFeatures,
) -> Option<wasmparser::WasmFeatures> {
    let mut extra = wasmparser::WasmFeatures::all().difference(enabled);
    validate_with(bytes, enabled | extra).ok()?;
    for (_, flag) in extra.iter_names().collect::<Vec<_>>() {
        let without = extra.difference(flag);
        if validate_with(bytes, enabled | without).is_ok() {
            extra = without;
        }
    }
    Some(extra)
}

/// A wasmparser flag name as the proposal is usually called.
fn feature_name(flag: &str) -> String {
    match flag {
        "GC_TYPES" | "GC" => "gc".to_owned(),
        "CM_ASYNC" => "component-model async".to_owned(),
        "CM_ASYNC_STACKFUL" => "component-model async (stackful)".to_owned(),
        "CM_THREADING" => "component-model threading".to_owned(),
        other => other.to_ascii_lowercase().replace('_', "-"),
    }
}

/// The names a component imports and exports at its top level.
pub struct TopLevelNames {
    /// Import names, versions included (`sandbar:strategy/host@0.1.0`).
    pub imports: Vec<String>,
    /// Export names.
    pub exports: Vec<String>,
}

/// Reads the top-level import and export sections only, skipping nested
/// modules and components whole (their code is most of the file). `None`
/// when the framing cannot be read: the validator then says what is wrong.
pub fn top_level_names(bytes: &[u8]) -> Option<TopLevelNames> {
    use wasmparser::{Chunk, Parser, Payload};
    let mut names = TopLevelNames {
        imports: Vec::new(),
        exports: Vec::new(),
    };
    let mut parser = Parser::new(0);
    let mut pos = 0usize;
    loop {
        let Chunk::Parsed { consumed, payload } = parser.parse(bytes.get(pos..)?, true).ok()?
        else {
            return None;
        };
        pos += consumed;
        match payload {
            Payload::ModuleSection {
                unchecked_range, ..
            }
            | Payload::ComponentSection {
                unchecked_range, ..
            } => {
                // The parser moved past the nested binary; so do we.
                pos = usize::try_from(unchecked_range.end).ok()?;
                if pos > bytes.len() {
                    return None;
                }
            }
            Payload::ComponentImportSection(reader) => {
                for import in reader {
                    let import = import.ok()?;
                    // Type imports (the records a function signature uses)
                    // are not interfaces: wasmtime does not list them either.
                    if !matches!(import.ty, wasmparser::ComponentTypeRef::Type(_)) {
                        names.imports.push(import.name.full_name().into_owned());
                    }
                }
            }
            Payload::ComponentExportSection(reader) => {
                for export in reader {
                    let export = export.ok()?;
                    if export.kind != wasmparser::ComponentExternalKind::Type {
                        names.exports.push(export.name.full_name().into_owned());
                    }
                }
            }
            Payload::End(_) => return Some(names),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(bytes: &[u8]) -> String {
        classify(bytes).unwrap_err().message
    }

    #[test]
    fn each_kind_of_wrong_file_has_its_own_message() {
        assert_eq!(message(b""), "the file is empty (0 bytes)");
        assert!(
            message(b"\x7fELF\x02\x01\x01\x00")
                .starts_with("not a WebAssembly file (starts with bytes 7f 45 4c 46")
        );
        assert_eq!(
            message(b"\0asm\x01\0\0\0"),
            "a core WebAssembly module, not a component"
        );
        assert!(message(b"\0asm\x0d\0\x07\0").starts_with("unknown WebAssembly binary layer"));
    }

    #[test]
    fn regression_13_11_a_truncated_header_says_truncated_and_shows_the_version_bytes() {
        assert_eq!(
            message(b"\0asm"),
            "truncated: the file is 4 bytes, shorter than the 8-byte WebAssembly header (magic 00 61 73 6d, version bytes missing)"
        );
        assert_eq!(
            message(b"\0asm\x0d\0"),
            "truncated: the file is 6 bytes, shorter than the 8-byte WebAssembly header (magic 00 61 73 6d, version bytes 0d 00 of 4)"
        );
        assert!(message(b"\0as").starts_with("truncated: the file is 3 bytes"));
        assert_eq!(
            message(b"\0asX"),
            "not a WebAssembly file (starts with bytes 00 61 73 58, expected 00 61 73 6d)"
        );
    }

    #[test]
    fn a_component_header_passes_classification() {
        assert!(classify(b"\0asm\x0d\0\x01\0").is_ok());
    }
}
