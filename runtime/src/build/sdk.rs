//! Where the guest SDK (`sandbar-guest`) is: strategy crates outside the
//! checkout depend on it by path, since no git or crates.io release exists.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};

/// Overrides the SDK directory (the `guest-sdk` folder of a Sandbar checkout).
pub const SDK_ENV: &str = "SANDBAR_SDK";
/// The SDK's package name.
pub const SDK_PACKAGE: &str = "sandbar-guest";

/// The SDK of the checkout this runtime binary was built from.
pub fn built_in() -> PathBuf {
    // CARGO_MANIFEST_DIR is runtime/ at build time; the SDK is its sibling.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("."))
        .join("guest-sdk")
}

/// The SDK to use: `explicit` (a `--sdk` flag), else `$SANDBAR_SDK`, else
/// the checkout this runtime was built from. The path is made absolute but
/// not canonical, so a symlinked SDK keeps the path it was given.
pub fn locate(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    let (dir, from) = match (explicit, std::env::var_os(SDK_ENV)) {
        (Some(dir), _) => (dir.to_owned(), "--sdk"),
        (None, Some(env)) => (PathBuf::from(env), SDK_ENV),
        (None, None) => (built_in(), "the checkout this runtime was built from"),
    };
    let dir = std::path::absolute(&dir)
        .with_context(|| format!("cannot resolve the SDK path {}", dir.display()))?;
    check_sdk(&dir).with_context(|| {
        format!(
            "the SDK from {from} is not usable; pass `--sdk <checkout>/guest-sdk` or set {SDK_ENV}"
        )
    })?;
    Ok(dir)
}

/// `dir` holds the `sandbar-guest` crate.
pub fn check_sdk(dir: &Path) -> anyhow::Result<()> {
    let name = super::package_name(dir)?;
    if name != SDK_PACKAGE {
        bail!(
            "{} holds the crate `{name}`, not `{SDK_PACKAGE}`",
            dir.display()
        );
    }
    Ok(())
}

/// The SDK's own workspace manifest (the checkout's root Cargo.toml): the SDK
/// inherits its edition and dependency versions from it, and new crates copy
/// its `[profile.guest]` and `Cargo.lock`.
#[derive(Debug, Clone)]
pub struct SdkWorkspace {
    /// The directory of that root manifest.
    pub root: PathBuf,
    /// The root manifest, parsed.
    pub manifest: toml::Table,
}

impl SdkWorkspace {
    /// The nearest workspace at or above the SDK (looked up through the real
    /// path, as cargo does when the SDK is reached through a symlink).
    pub fn of(sdk: &Path) -> anyhow::Result<Self> {
        let real = std::fs::canonicalize(sdk)
            .with_context(|| format!("cannot resolve {}", sdk.display()))?;
        let root = super::find_workspace(&real).with_context(|| {
            format!(
                "the SDK at {} is not inside a Sandbar checkout (no workspace Cargo.toml above it)",
                sdk.display()
            )
        })?;
        let path = root.join("Cargo.toml");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let manifest = text
            .parse()
            .with_context(|| format!("cannot parse {}", path.display()))?;
        Ok(Self { root, manifest })
    }

    /// A table of the root manifest, e.g. `["profile", "guest"]`.
    pub fn table(&self, keys: &[&str]) -> Option<&toml::Table> {
        let mut table = &self.manifest;
        for key in keys {
            table = table.get(*key)?.as_table()?;
        }
        Some(table)
    }

    /// The checkout's `Cargo.lock`: the versions the SDK was tested with.
    pub fn lockfile(&self) -> Option<Vec<u8>> {
        std::fs::read(self.root.join("Cargo.lock")).ok()
    }
}
