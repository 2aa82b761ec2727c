//! Per-strategy resource limits. The config's `[limits]` section maps onto
//! this; every field has a default that suits a typical bar strategy.

/// What one strategy instance may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Fuel (roughly: Wasm instructions) per call, refilled before every call,
    /// so CPU use is deterministic and the same in backtest and live.
    pub fuel_per_call: u64,
    /// Wall-clock time one call may take (a watchdog for what fuel does not
    /// count); enforced by epoch interruption.
    pub deadline: std::time::Duration,
    /// Linear memory cap of the instance, in bytes.
    pub memory_bytes: usize,
    /// Orders one `on-bar` may return; more is a misbehaving guest.
    pub max_orders_per_bar: usize,
    /// Largest snapshot carried across a swap, in bytes.
    pub max_snapshot_bytes: usize,
    /// Largest component file the runtime will read, in bytes.
    pub max_component_bytes: u64,
    /// Wall-clock time `snapshot` and `restore` may take on the bar loop
    /// (off the loop, in the smoke test, they get the lifecycle deadline).
    pub state_deadline: std::time::Duration,
    /// Log bytes (after escaping) one guest call may write.
    pub log_bytes_per_call: usize,
    /// Log bytes one instance may write per second.
    pub log_bytes_per_sec: u64,
    /// Core instances one store may hold (`limits.instances`): a Rust
    /// strategy is one or two; a componentize-py one is 38 (CPython, its
    /// libc, the WASI stubs and the adapters each are a core instance).
    pub instances: usize,
    /// Tables one store may hold (`limits.tables`).
    pub tables: usize,
    /// Linear memories one store may hold (`limits.memories`).
    pub memories: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            fuel_per_call: 5_000_000,
            deadline: std::time::Duration::from_millis(50),
            memory_bytes: 64 << 20,
            max_orders_per_bar: 64,
            max_snapshot_bytes: 4 << 20,
            max_component_bytes: 32 << 20,
            state_deadline: std::time::Duration::from_millis(20),
            log_bytes_per_call: 8 << 10,
            log_bytes_per_sec: 64 << 10,
            instances: 8,
            tables: 8,
            memories: 4,
        }
    }
}

/// The language a strategy is written in (`[[strategy]] language`): it picks
/// the defaults of the limits a guest of that language needs (an interpreter
/// in the component costs fuel, memory and core instances a Rust guest does
/// not). `[strategy.limits]` still overrides each of them.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// A Rust crate built with the guest SDK: the `[limits]` defaults.
    #[default]
    Rust,
    /// A componentize-py component (`guest-sdk/python`).
    Python,
    /// A componentize-js component (`guest-sdk/js`).
    Js,
}

impl Language {
    /// Every language, in the order the docs list them.
    pub const ALL: [Language; 3] = [Language::Rust, Language::Python, Language::Js];

    /// Its name in the config (`language = "python"`).
    pub fn name(self) -> &'static str {
        match self {
            Language::Rust => "rust",
            Language::Python => "python",
            Language::Js => "js",
        }
    }

    /// What made a component, from the names its core modules import
    /// from: componentize-py links CPython as shared libraries
    /// (`libpython3.*.so`, `libcomponentize_py_runtime.so`); componentize-js
    /// 0.23 writes `processed-by: ComponentizeJS` (and `language:
    /// JavaScript`) into the component's `producers` section. Anything else is
    /// taken for Rust. `runtime check` uses it to pick a file's limits
    /// without a config.
    pub fn detect(component: &[u8]) -> Language {
        let mut saw_js = false;
        for payload in wasmparser::Parser::new(0).parse_all(component) {
            match payload {
                Ok(wasmparser::Payload::ImportSection(imports)) => {
                    let python = imports.into_iter().flatten().any(|group| {
                        let module = match group {
                            wasmparser::Imports::Single(_, import) => import.module,
                            wasmparser::Imports::Compact1 { module, .. }
                            | wasmparser::Imports::Compact2 { module, .. } => module,
                        };
                        module.starts_with("libpython3") || module.starts_with("libcomponentize_py")
                    });
                    if python {
                        return Language::Python;
                    }
                }
                Ok(wasmparser::Payload::CustomSection(section)) => {
                    let data = section.data();
                    let has = |needle: &[u8]| data.windows(needle.len()).any(|w| w == needle);
                    saw_js |= section.name() == "producers"
                        && (has(b"ComponentizeJS")
                            || has(b"componentize-js")
                            || has(b"StarlingMonkey"));
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        if saw_js { Language::Js } else { Language::Rust }
    }
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_18_detect_names_python_by_its_cpython_imports() {
        let python =
            wat::parse_str(r#"(module (import "libpython3.14.so" "Py_Initialize" (func)))"#)
                .unwrap();
        assert_eq!(Language::detect(&python), Language::Python);
        let rust = wat::parse_str(r#"(module (import "host" "log" (func)))"#).unwrap();
        assert_eq!(Language::detect(&rust), Language::Rust);
        assert_eq!(Language::detect(b"not wasm"), Language::Rust);
    }

    #[test]
    fn issue_18_detect_names_js_by_its_engine() {
        let js = wat::parse_str(r#"(module (@custom "producers" "StarlingMonkey"))"#).unwrap();
        assert_eq!(Language::detect(&js), Language::Js);
        // What componentize-js 0.23.0 writes (a real build is checked in
        // tests/e2e/js.rs): processed-by ComponentizeJS.
        let js = wat::parse_str(
            r#"(module (@custom "producers" "\02\08language\01\0aJavaScript\00\0cprocessed-by\01\0eComponentizeJS\060.23.0"))"#,
        )
        .unwrap();
        assert_eq!(Language::detect(&js), Language::Js);
        // The words elsewhere (a data segment, another section) do not count.
        let rust = wat::parse_str(r#"(module (@custom "notes" "ComponentizeJS"))"#).unwrap();
        assert_eq!(Language::detect(&rust), Language::Rust);
    }
}
