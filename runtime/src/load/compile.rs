//! Stage `compile`: say precisely what a file is when it is not a strategy
//! component, then compile it with Cranelift.

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
    if bytes.len() < 8 || &bytes[..4] != WASM_MAGIC {
        let head: Vec<String> = bytes.iter().take(4).map(|b| format!("{b:02x}")).collect();
        return Err(LoadError::new(
            Stage::Compile,
            format!(
                "not a WebAssembly file (starts with bytes {}, expected 00 61 73 6d)",
                head.join(" ")
            ),
        )
        .hint(REBUILD_HINT));
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

/// Refuses a file that claims to be a Sandbar build but is not whole: a copy
/// that stopped at a section boundary validates (everything after it may be
/// custom sections), so the framing is checked before the validator runs.
/// Messages start with "invalid component" like the validator's own.
pub fn check_seal(bytes: &[u8]) -> Result<(), LoadError> {
    crate::seal::check(bytes).map(|_| ()).map_err(|e| {
        LoadError::new(Stage::Compile, format!("invalid component: {e}")).hint(e.hint())
    })
}

/// Validates and compiles a component.
pub fn compile(engine: &wasmtime::Engine, bytes: &[u8]) -> Result<Component, LoadError> {
    classify(bytes)?;
    check_seal(bytes)?;
    let mut validator =
        wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::default());
    if let Err(e) = validator.validate_all(bytes) {
        return Err(LoadError::new(
            Stage::Compile,
            format!(
                "invalid component: {} (at byte offset {})",
                e.message(),
                e.offset()
            ),
        )
        .hint(format!(
            "the file may be truncated or corrupt; {REBUILD_HINT}"
        )));
    }
    Component::new(engine, bytes).map_err(|e| {
        LoadError::new(Stage::Compile, format!("wasmtime cannot compile it: {e:#}"))
            .hint(REBUILD_HINT)
    })
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
    fn a_component_header_passes_classification() {
        assert!(classify(b"\0asm\x0d\0\x01\0").is_ok());
    }
}
