//! Builds a strategy crate that is not a member of the SDK's checkout: one
//! made by `runtime new` (a `[workspace]` of its own) or an example copied
//! out of the checkout (`edition.workspace = true` and friends, with no
//! workspace to inherit from).
//!
//! Both are built in a generated wrapper workspace, `<crate>/target/
//! sandbar-workspace/`, that holds symlinks to the crate's files and to the
//! SDK:
//!
//! ```text
//! sandbar-workspace/Cargo.toml          [workspace] + the SDK checkout's
//!                                       [workspace.package|dependencies], the
//!                                       crate's (or the SDK's) [profile.guest]
//! sandbar-workspace/Cargo.lock          the crate's, else the checkout's
//! sandbar-workspace/sandbar-guest  ->   the SDK
//! sandbar-workspace/strategy/Cargo.toml the crate's manifest, workspace-free,
//!                                       SDK dependency pointed at ../sandbar-guest
//! sandbar-workspace/strategy/src   ->   <crate>/src (and every other entry)
//! ```
//!
//! Why: cargo derives each crate's `-C metadata` (and so its symbol hashes
//! and the order of functions in the output) from its path relative to the
//! workspace root, or from its absolute path when it lies outside. An SDK
//! outside the crate's workspace therefore changes the component's bytes
//! with the directory it sits in, which no `--remap-path-prefix` undoes.
//! Inside the wrapper both crates have fixed relative paths, so the same
//! source gives the same SHA-256 from any directory.

use super::sdk::{self, SDK_PACKAGE, SdkWorkspace};
use anyhow::Context;
use std::path::{Path, PathBuf};

/// The wrapper workspace's directory, inside the crate.
pub const WRAPPER_DIR: &str = "target/sandbar-workspace";
/// The crate's directory name inside the wrapper.
pub const MEMBER: &str = "strategy";
/// Entries of the crate directory not linked into the wrapper.
const NOT_LINKED: [&str; 4] = ["Cargo.toml", "Cargo.lock", "target", ".git"];

/// A crate ready to build in its wrapper workspace.
#[derive(Debug, Clone)]
pub struct Staged {
    /// The wrapper workspace (where cargo runs).
    pub root: PathBuf,
    /// The crate's `[package] name`.
    pub package: String,
    /// The crate's own directory, absolute.
    pub crate_dir: PathBuf,
    /// Extra `--remap-path-prefix` pairs: the crate and the SDK.
    pub remaps: Vec<(PathBuf, String)>,
}

/// True when `dir` is its own workspace root or in no workspace at all:
/// `runtime build` builds it through a wrapper workspace.
pub fn is_standalone(dir: &Path) -> bool {
    let Ok(dir) = std::fs::canonicalize(dir) else {
        return true;
    };
    super::find_workspace(&dir).is_none_or(|root| root == dir)
}

/// Writes (or refreshes) the wrapper workspace of `crate_dir`. The SDK is
/// `sdk_override` when given, else the crate's `sandbar-guest` path
/// dependency, else [`sdk::locate`]'s default.
pub fn stage(crate_dir: &Path, sdk_override: Option<&Path>) -> anyhow::Result<Staged> {
    let crate_dir = std::path::absolute(crate_dir)
        .with_context(|| format!("cannot resolve {}", crate_dir.display()))?;
    let manifest_path = crate_dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest_path).with_context(|| {
        format!(
            "{} is not a strategy crate (no readable Cargo.toml)",
            crate_dir.display()
        )
    })?;
    let manifest: toml::Table = text
        .parse()
        .with_context(|| format!("cannot parse {}", manifest_path.display()))?;
    let package = manifest
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .map(str::to_owned)
        .with_context(|| format!("{} has no [package] name", manifest_path.display()))?;
    let sdk_dir = match sdk_override {
        Some(dir) => sdk::locate(Some(dir))?,
        None => match sdk_path_dependency(&manifest, &crate_dir) {
            Some(dir) => {
                sdk::check_sdk(&dir).with_context(|| {
                    format!(
                        "{}: the `{SDK_PACKAGE}` path dependency does not point at the SDK; fix its `path`, or pass `--sdk <checkout>/guest-sdk`",
                        manifest_path.display()
                    )
                })?;
                dir
            }
            None => sdk::locate(None)?,
        },
    };
    let sdk_workspace = SdkWorkspace::of(&sdk_dir)?;

    let root = crate_dir.join(WRAPPER_DIR);
    let member = root.join(MEMBER);
    std::fs::create_dir_all(&member)
        .with_context(|| format!("cannot create {}", member.display()))?;
    write_if_changed(
        &root.join("Cargo.toml"),
        &wrapper_manifest(&manifest, &crate_dir, &sdk_workspace)?,
    )?;
    write_if_changed(
        &member.join("Cargo.toml"),
        &member_manifest(manifest, &crate_dir)?,
    )?;
    let lock = std::fs::read(crate_dir.join("Cargo.lock"))
        .ok()
        .or_else(|| sdk_workspace.lockfile());
    if let Some(lock) = lock {
        write_if_changed(&root.join("Cargo.lock"), &String::from_utf8_lossy(&lock))?;
    }
    relink(&root.join(SDK_PACKAGE), &sdk_dir)?;
    link_entries(&crate_dir, &member)?;

    let remaps = vec![
        (crate_dir.clone(), format!("/sandbar/{MEMBER}")),
        (sdk_dir, format!("/sandbar/{SDK_PACKAGE}")),
    ];
    Ok(Staged {
        root,
        package,
        crate_dir,
        remaps,
    })
}

/// The crate's `sandbar-guest = { path = ... }`, resolved against its directory.
fn sdk_path_dependency(manifest: &toml::Table, crate_dir: &Path) -> Option<PathBuf> {
    let path = manifest
        .get("dependencies")?
        .get(SDK_PACKAGE)?
        .get("path")?
        .as_str()?;
    Some(crate_dir.join(path))
}

fn wrapper_manifest(
    manifest: &toml::Table,
    crate_dir: &Path,
    sdk: &SdkWorkspace,
) -> anyhow::Result<String> {
    let own_workspace = manifest.get("workspace").and_then(|w| w.as_table());
    let mut workspace = toml::Table::new();
    workspace.insert("members".into(), vec![MEMBER.to_owned()].into());
    let resolver = sdk
        .table(&["workspace"])
        .and_then(|w| w.get("resolver"))
        .cloned()
        .unwrap_or_else(|| "3".into());
    workspace.insert("resolver".into(), resolver);
    // What the SDK (and a copied example) inherit: the checkout's values,
    // then the crate's own workspace tables on top.
    for key in ["package", "dependencies", "lints"] {
        let mut merged = sdk.table(&["workspace", key]).cloned().unwrap_or_default();
        if key == "dependencies" {
            absolutize_paths(&mut merged, &sdk.root);
        }
        if let Some(own) = own_workspace
            .and_then(|w| w.get(key))
            .and_then(|t| t.as_table())
        {
            let mut own = own.clone();
            if key == "dependencies" {
                absolutize_paths(&mut own, crate_dir);
            }
            merged.extend(own);
        }
        if key == "dependencies" {
            let mut sdk_dep = toml::Table::new();
            sdk_dep.insert("path".into(), SDK_PACKAGE.into());
            merged.insert(SDK_PACKAGE.into(), sdk_dep.into());
        }
        if !merged.is_empty() {
            workspace.insert(key.into(), merged.into());
        }
    }
    let mut out = toml::Table::new();
    out.insert("workspace".into(), workspace.into());
    // The crate's profiles when it declares `guest`, else the checkout's.
    let profile = match manifest.get("profile").and_then(|p| p.as_table()) {
        Some(own) if own.contains_key("guest") => own.clone(),
        _ => {
            let guest = sdk.table(&["profile", "guest"]).with_context(|| {
                format!(
                    "neither the crate nor {} defines [profile.guest]; copy it from the Sandbar checkout's Cargo.toml",
                    sdk.root.join("Cargo.toml").display()
                )
            })?;
            let mut profile = toml::Table::new();
            profile.insert("guest".into(), guest.clone().into());
            profile
        }
    };
    out.insert("profile".into(), profile.into());
    if let Some(patch) = manifest.get("patch") {
        out.insert("patch".into(), patch.clone());
    }
    let body = toml::to_string(&out).context("cannot write the wrapper manifest")?;
    Ok(format!(
        "# Generated by `runtime build` for {}; rewritten on every build.\n{body}",
        crate_dir.display()
    ))
}

fn member_manifest(mut manifest: toml::Table, crate_dir: &Path) -> anyhow::Result<String> {
    for key in ["workspace", "profile", "patch"] {
        manifest.remove(key);
    }
    if let Some(package) = manifest.get_mut("package").and_then(|p| p.as_table_mut()) {
        package.remove("workspace");
    }
    for key in ["dependencies", "dev-dependencies", "build-dependencies"] {
        let Some(deps) = manifest.get_mut(key).and_then(|d| d.as_table_mut()) else {
            continue;
        };
        absolutize_paths(deps, crate_dir);
        if deps.contains_key(SDK_PACKAGE) {
            let mut inherit = toml::Table::new();
            inherit.insert("workspace".into(), true.into());
            deps.insert(SDK_PACKAGE.into(), inherit.into());
        }
    }
    toml::to_string(&manifest).context("cannot write the wrapper's crate manifest")
}

/// Relative `path = ...` dependencies, made absolute against `base`: the
/// manifest moves into the wrapper.
fn absolutize_paths(deps: &mut toml::Table, base: &Path) {
    for (_, dep) in deps.iter_mut() {
        let Some(path) = dep.get_mut("path") else {
            continue;
        };
        if let Some(relative) = path.as_str().filter(|p| Path::new(p).is_relative()) {
            *path = base.join(relative).display().to_string().into();
        }
    }
}

/// Rewrites a file only when its content changes, so cargo sees no edit.
fn write_if_changed(path: &Path, content: &str) -> anyhow::Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == content) {
        return Ok(());
    }
    std::fs::write(path, content).with_context(|| format!("cannot write {}", path.display()))
}

/// Points the symlink `link` at `target`, replacing whatever was there.
fn relink(link: &Path, target: &Path) -> anyhow::Result<()> {
    if std::fs::read_link(link).is_ok_and(|old| old == target) {
        return Ok(());
    }
    match std::fs::symlink_metadata(link) {
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(link),
        Ok(_) => std::fs::remove_file(link),
        Err(_) => Ok(()),
    }
    .with_context(|| format!("cannot replace {}", link.display()))?;
    symlink(target, link)
}

/// Links every entry of the crate (but its manifest, lockfile and target)
/// into the wrapper's member directory; drops links to entries now gone.
fn link_entries(crate_dir: &Path, member: &Path) -> anyhow::Result<()> {
    let entries = std::fs::read_dir(crate_dir)
        .with_context(|| format!("cannot list {}", crate_dir.display()))?;
    let mut names = Vec::new();
    for entry in entries {
        let name = entry
            .with_context(|| format!("cannot list {}", crate_dir.display()))?
            .file_name();
        if NOT_LINKED.iter().any(|n| name == *n) {
            continue;
        }
        relink(&member.join(&name), &crate_dir.join(&name))?;
        names.push(name);
    }
    for entry in std::fs::read_dir(member)
        .with_context(|| format!("cannot list {}", member.display()))?
        .flatten()
    {
        let stale =
            !names.contains(&entry.file_name()) && entry.file_type().is_ok_and(|t| t.is_symlink());
        if stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(())
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> anyhow::Result<()> {
    std::os::unix::fs::symlink(target, link)
        .with_context(|| format!("cannot link {} to {}", link.display(), target.display()))
}

#[cfg(not(unix))]
fn symlink(_target: &Path, link: &Path) -> anyhow::Result<()> {
    anyhow::bail!(
        "building {} outside the Sandbar checkout needs symlinks (unix only for now)",
        link.display()
    )
}
