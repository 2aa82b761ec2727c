//! Shared by the benches: built components and a few bars.

use sandbar_runtime::build::{BuildOptions, Built};
use std::path::{Path, PathBuf};

pub fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The example strategies and the `hostile` guest (mode "none" is a no-op).
pub fn components() -> Vec<Built> {
    let mut dirs = sandbar_runtime::build::all_strategy_dirs(workspace()).expect("strategies");
    dirs.push(workspace().join("tests/guests/hostile"));
    sandbar_runtime::build::build(&BuildOptions {
        workspace: workspace().to_owned(),
        strategy_dirs: dirs,
        out_dir: workspace().join("target/bench-components"),
        quiet: true,
    })
    .expect("building the components")
}

pub fn component(built: &[Built], package: &str) -> PathBuf {
    built
        .iter()
        .find(|b| b.package == package)
        .unwrap_or_else(|| panic!("{package} was not built"))
        .path
        .clone()
}

/// The same component with a custom section appended: a new hash, the same code.
#[allow(dead_code)] // used by the reload bench only
pub fn with_marker(bytes: &[u8], marker: u32) -> Vec<u8> {
    let name = b"sandbar-bench-marker";
    let payload = marker.to_le_bytes();
    let mut out = bytes.to_vec();
    out.push(0);
    out.push((1 + name.len() + payload.len()) as u8);
    out.push(name.len() as u8);
    out.extend_from_slice(name);
    out.extend_from_slice(&payload);
    out
}
