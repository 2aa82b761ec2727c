//! `runtime build`: compile strategy crates for wasm32-unknown-unknown,
//! wrap each core module into a component and seal it (`crate::seal`);
//! `runtime new` ([`new`]): start a strategy crate anywhere on disk.
//!
//! Crates inside the Sandbar checkout build in its workspace; any other
//! crate builds in a generated wrapper workspace ([`standalone`]) so that
//! its hash does not depend on where it or the SDK sits ([`remap_flags`]).

mod componentize;
pub mod js;
pub mod new;
pub mod new_guest;
pub mod new_js;
pub mod new_python;
pub mod python;
pub mod sdk;
pub mod standalone;
mod toolchain;
pub mod verify;

pub use componentize::componentize;
pub use toolchain::{
    GUEST_TARGET, TOOLCHAIN_ENV, Toolchain, detect as detect_toolchain, remap_flags,
};

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

/// Every strategy under `<workspace>/strategies`, sorted: Rust crates
/// (`Cargo.toml`), Python strategies (`pyproject.toml` with `[tool.sandbar]`)
/// and JavaScript ones (`package.json` with `"sandbar"`).
pub fn all_strategy_dirs(workspace: &Path) -> anyhow::Result<Vec<PathBuf>> {
    strategy_dirs(workspace, |path| {
        path.join("Cargo.toml").is_file() || python::is_python(path) || js::is_js(path)
    })
}

/// The Rust strategy crates under `<workspace>/strategies`, sorted (what the
/// test fixtures build; Python and JS components are built one by one).
pub fn rust_strategy_dirs(workspace: &Path) -> anyhow::Result<Vec<PathBuf>> {
    strategy_dirs(workspace, |path| path.join("Cargo.toml").is_file())
}

fn strategy_dirs(workspace: &Path, keep: impl Fn(&Path) -> bool) -> anyhow::Result<Vec<PathBuf>> {
    let root = workspace.join("strategies");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .with_context(|| format!("cannot list {}", root.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| keep(path))
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

/// Builds every crate and writes its component (no check: `runtime build`
/// uses [`compile`], [`verify::verify`] and [`write`] so that a component
/// that fails the check never replaces the previous build).
pub fn build(options: &BuildOptions) -> anyhow::Result<Vec<Built>> {
    let components = compile(options, None)?;
    write(&components, &options.out_dir)
}

/// A sealed component in memory, not yet written.
#[derive(Debug, Clone)]
pub struct Component {
    /// The crate's `[package] name`.
    pub package: String,
    /// `<package with - as _>.wasm`.
    pub file_name: String,
    /// The sealed component.
    pub bytes: Vec<u8>,
}

/// Overrides where standalone crates (outside the SDK's checkout) keep their
/// guest build; by default `<crate>/target/guest`. Tests share one.
pub const GUEST_TARGET_DIR_ENV: &str = "SANDBAR_GUEST_TARGET_DIR";

/// Compiles, componentizes and seals every crate of `options`, without
/// writing anything. Crates that are members of `options.workspace` build in
/// one cargo invocation there; any other crate (its own workspace, or none)
/// builds in its wrapper workspace ([`standalone`]) against `sdk` (or the
/// SDK its manifest names, or the default one).
pub fn compile(options: &BuildOptions, sdk: Option<&Path>) -> anyhow::Result<Vec<Component>> {
    if options.strategy_dirs.is_empty() {
        bail!("nothing to build: name strategy directories or pass --all");
    }
    // Python strategies (`pyproject.toml` with `[tool.sandbar]`) build with
    // componentize-py, JavaScript ones (`package.json` with `"sandbar"`)
    // with componentize-js; the rest are Rust crates.
    let (guest_dirs, rust_dirs): (Vec<&PathBuf>, Vec<&PathBuf>) = options
        .strategy_dirs
        .iter()
        .partition(|dir| python::is_python(dir) || js::is_js(dir));
    let mut components = Vec::new();
    if !guest_dirs.is_empty() {
        let sdk = sdk::locate(sdk)?;
        for dir in guest_dirs {
            components.push(if python::is_python(dir) {
                python::compile(dir, &sdk, options.quiet)?
            } else {
                js::compile(dir, &sdk, options.quiet)?
            });
        }
    }
    if rust_dirs.is_empty() {
        return Ok(components);
    }
    let toolchain = toolchain::detect().map_err(anyhow::Error::msg)?;
    tracing::debug!(toolchain = %toolchain.describe(), "building guests");
    let (alone, members): (Vec<&PathBuf>, Vec<&PathBuf>) = rust_dirs
        .into_iter()
        .partition(|dir| standalone::is_standalone(dir));
    if !members.is_empty() {
        let packages = members
            .iter()
            .map(|dir| package_name(dir))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let target_dir = options
            .workspace
            .join("target/guest")
            .join(toolchain.target_subdir());
        let cmd = toolchain.cargo_build(&options.workspace, &target_dir, &packages, &[]);
        run_cargo(cmd, &toolchain, options.quiet, None)?;
        for package in &packages {
            components.push(componentize_built(package, &target_dir)?);
        }
    }
    for dir in alone {
        let staged = standalone::stage(dir, sdk)?;
        let target_dir = match std::env::var_os(GUEST_TARGET_DIR_ENV) {
            Some(dir) => PathBuf::from(dir),
            None => staged.crate_dir.join("target/guest"),
        }
        .join(toolchain.target_subdir());
        let cmd = toolchain.cargo_build(
            &staged.root,
            &target_dir,
            std::slice::from_ref(&staged.package),
            &staged.remaps,
        );
        // Compiler messages name `strategy/src/...` inside the wrapper;
        // shown with the crate's real directory instead.
        let rewrite = (
            format!("{}/", standalone::MEMBER),
            format!("{}/", staged.crate_dir.display()),
        );
        run_cargo(cmd, &toolchain, options.quiet, Some(&rewrite))?;
        components.push(componentize_built(&staged.package, &target_dir)?);
    }
    Ok(components)
}

/// Runs cargo with its messages (warnings included) passed through to
/// stderr as they come, or kept for the error only when `quiet`.
fn run_cargo(
    mut cmd: std::process::Command,
    toolchain: &Toolchain,
    quiet: bool,
    rewrite: Option<&(String, String)>,
) -> anyhow::Result<()> {
    use std::io::{BufRead, IsTerminal, Write};
    if !quiet && std::io::stderr().is_terminal() {
        cmd.arg("--color=always");
    }
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot run cargo for {}", toolchain.describe()))?;
    let mut captured = String::new();
    if let Some(stderr) = child.stderr.take() {
        let mut out = std::io::stderr();
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(mut line) = line else { break };
            if let Some((from, to)) = rewrite {
                line = rewrite_path(&line, from, to);
            }
            if !quiet {
                let _ = writeln!(out, "{line}");
            }
            captured.push_str(&line);
            captured.push('\n');
        }
    }
    let status = child
        .wait()
        .with_context(|| format!("cannot run cargo for {}", toolchain.describe()))?;
    if !status.success() {
        if quiet {
            bail!(
                "cargo build for {GUEST_TARGET} failed ({}):\n{captured}",
                toolchain.describe()
            );
        }
        bail!(
            "cargo build for {GUEST_TARGET} failed ({}); its messages are above",
            toolchain.describe()
        );
    }
    Ok(())
}

/// ` --> strategy/src/lib.rs:3:5` becomes ` --> /real/crate/src/lib.rs:3:5`.
fn rewrite_path(line: &str, from: &str, to: &str) -> String {
    match line.find("--> ") {
        Some(at) if line[at + 4..].starts_with(from) => {
            format!("{}{to}{}", &line[..at + 4], &line[at + 4 + from.len()..])
        }
        _ => line.to_owned(),
    }
}

/// Writes each component into `out_dir` (atomically, one by one).
pub fn write(components: &[Component], out_dir: &Path) -> anyhow::Result<Vec<Built>> {
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    components
        .iter()
        .map(|c| {
            let path = out_dir.join(&c.file_name);
            write_atomically(&path, &c.bytes)?;
            Ok(Built {
                package: c.package.clone(),
                path,
                size_bytes: c.bytes.len(),
                sha256: crate::hash::sha256_hex(&c.bytes),
            })
        })
        .collect()
}

fn componentize_built(package: &str, target_dir: &Path) -> anyhow::Result<Component> {
    let artifacts = target_dir.join(GUEST_TARGET).join("guest");
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
    let bytes = crate::seal::seal(&component)
        .with_context(|| format!("sealing {package}"))?
        .into_owned();
    Ok(Component {
        package: package.to_owned(),
        file_name,
        bytes,
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

/// Every file under `dir` with its bytes and modification time, sorted:
/// what a staged guest build gives its tool, compared by the staging
/// reproducibility tests.
#[cfg(test)]
pub(crate) fn staged_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>, std::time::SystemTime)> {
    let mut seen = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                seen.push((
                    p.strip_prefix(dir).unwrap().to_owned(),
                    std::fs::read(&p).unwrap(),
                    std::fs::metadata(&p).unwrap().modified().unwrap(),
                ));
            }
        }
    }
    seen.sort();
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `runtime build --all` builds every language's examples; the test
    /// fixtures build the Rust crates only.
    #[test]
    fn issue_18_all_strategy_dirs_has_every_language_and_rust_ones_only_crates() {
        let checkout = python::checkout();
        let names = |dirs: Vec<PathBuf>| -> Vec<String> {
            dirs.iter()
                .filter_map(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
                .collect()
        };
        let all = names(all_strategy_dirs(&checkout).unwrap());
        for name in ["sma-cross", "sma-cross-py", "sma-cross-js"] {
            assert!(all.iter().any(|n| n == name), "{name} in {all:?}");
        }
        assert!(!all.iter().any(|n| n == "dist"), "{all:?}");
        let rust = names(rust_strategy_dirs(&checkout).unwrap());
        assert!(rust.iter().any(|n| n == "sma-cross"));
        assert!(
            !rust
                .iter()
                .any(|n| n == "sma-cross-py" || n == "sma-cross-js"),
            "{rust:?}"
        );
    }
}
