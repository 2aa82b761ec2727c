//! Shared fixtures: the example strategies built once per test run.

use sandbar_runtime::build::Built;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every example strategy, built into components once for this test binary.
pub fn components() -> &'static [Built] {
    static BUILT: OnceLock<Vec<Built>> = OnceLock::new();
    BUILT.get_or_init(|| {
        let out = workspace().join("target/test-components/e2e");
        sandbar_runtime::build::build_all(workspace(), &out, true)
            .expect("building the example strategies")
    })
}

pub fn component(package: &str) -> PathBuf {
    components()
        .iter()
        .find(|b| b.package == package)
        .unwrap_or_else(|| panic!("{package} was not built"))
        .path
        .clone()
}

pub fn symbols(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}
