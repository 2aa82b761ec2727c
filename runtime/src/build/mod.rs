//! `runtime build`: compile strategy crates for wasm32-unknown-unknown,
//! wrap each core module into a component and seal it (`crate::seal`).

mod componentize;
mod toolchain;

pub use componentize::componentize;
pub use toolchain::{GUEST_TARGET, TOOLCHAIN_ENV, Toolchain, detect as detect_toolchain};

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// What to build and where to put it.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The cargo workspace holding the strategy crates.
    pub workspace: PathBuf,
    /// Strategy crate directories.
    pub strategy_dirs: Vec<PathBuf>,
    /// Where components are written (`<crate_name>.wasm`).
    pub out_dir: PathBuf,
    /// Capture cargo's output (shown only on failure) instead of streaming it.
    pub quiet: bool,
}

/// One component written by [`build`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    /// The crate's `[package] name`.
    pub package: String,
    /// The sealed component, `<out_dir>/<package with - as _>.wasm`.
    pub path: PathBuf,
    /// Size of the sealed component, in bytes.
    pub size_bytes: usize,
    /// SHA-256 (hex) of the whole sealed file: the value to pin as the
    /// strategy's `sha256` in the config.
    pub sha256: String,
}

/// The nearest directory at or above `start` whose Cargo.toml has `[workspace]`.
pub fn find_workspace(start: &Path) -> Option<PathBuf> {
    let start = std::fs::canonicalize(start).ok()?;
    start.ancestors().find_map(|dir| {
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
        let doc: toml::Table = manifest.parse().ok()?;
        doc.contains_key("workspace").then(|| dir.to_path_buf())
    })
}

/// Every strategy crate under `<workspace>/strategies`, sorted.
pub fn all_strategy_dirs(workspace: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let root = workspace.join("strategies");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .with_context(|| format!("cannot list {}", root.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.join("Cargo.toml").is_file())
        .collect();
    dirs.sort();
    Ok(dirs)
}

/// Builds every strategy crate of `workspace` into `out_dir`.
pub fn build_all(workspace: &Path, out_dir: &Path, quiet: bool) -> anyhow::Result<Vec<Built>> {
    build(&BuildOptions {
        workspace: workspace.to_owned(),
        strategy_dirs: all_strategy_dirs(workspace)?,
        out_dir: out_dir.to_owned(),
        quiet,
    })
}

/// The package name in `<dir>/Cargo.toml`.
pub fn package_name(dir: &Path) -> anyhow::Result<String> {
    let manifest_path = dir.join("Cargo.toml");
    let manifest = std::fs::read_to_string(&manifest_path).with_context(|| {
        format!(
            "{} is not a strategy crate (no readable Cargo.toml)",
            dir.display()
        )
    })?;
    let doc: toml::Table = manifest
        .parse()
        .with_context(|| format!("cannot parse {}", manifest_path.display()))?;
    doc.get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .map(str::to_owned)
        .with_context(|| format!("{} has no [package] name", manifest_path.display()))
}

/// Builds every crate in one cargo invocation, then componentizes each.
pub fn build(options: &BuildOptions) -> anyhow::Result<Vec<Built>> {
    if options.strategy_dirs.is_empty() {
        bail!("nothing to build: name strategy directories or pass --all");
    }
    let toolchain = toolchain::detect().map_err(anyhow::Error::msg)?;
    tracing::debug!(toolchain = %toolchain.describe(), "building guests");
    let packages = options
        .strategy_dirs
        .iter()
        .map(|dir| package_name(dir))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let target_dir = options
        .workspace
        .join("target/guest")
        .join(toolchain.target_subdir());
    let mut cmd = toolchain.cargo_build(&options.workspace, &target_dir, &packages);
    if options.quiet {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    }
    let output = cmd
        .output()
        .with_context(|| format!("cannot run cargo for {}", toolchain.describe()))?;
    if !output.status.success() {
        bail!(
            "cargo build for {GUEST_TARGET} failed ({}):\n{}",
            toolchain.describe(),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    std::fs::create_dir_all(&options.out_dir)
        .with_context(|| format!("cannot create {}", options.out_dir.display()))?;
    let artifacts = target_dir.join(GUEST_TARGET).join("guest");
    packages
        .iter()
        .map(|package| write_component(package, &artifacts, &options.out_dir))
        .collect()
}

fn write_component(package: &str, artifacts: &Path, out_dir: &Path) -> anyhow::Result<Built> {
    let file_name = format!("{}.wasm", package.replace('-', "_"));
    let core_path = artifacts.join(&file_name);
    let core = std::fs::read(&core_path).with_context(|| {
        format!(
            "{package} produced no {} — does its Cargo.toml have `crate-type = [\"cdylib\", \"rlib\"]`?",
            core_path.display()
        )
    })?;
    let component = componentize(&core).with_context(|| format!("componentizing {package}"))?;
    // The seal goes on last: the loader refuses any prefix of what is written.
    let component = crate::seal::seal(&component)
        .with_context(|| format!("sealing {package}"))?
        .into_owned();
    let path = out_dir.join(&file_name);
    write_atomically(&path, &component)?;
    Ok(Built {
        package: package.to_owned(),
        path,
        size_bytes: component.len(),
        sha256: crate::hash::sha256_hex(&component),
    })
}

/// Write to a temporary file in the same directory, then rename over the
/// target: a watcher never sees a half-written component.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("cannot move into place {}", path.display()))
}
