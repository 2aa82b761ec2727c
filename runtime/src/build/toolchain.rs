//! Which compiler builds guests: the rustup target when it is installed, the
//! Debian `rustc-web` toolchain with `-Zbuild-std` otherwise.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The target every strategy is compiled for: no WASI, no host imports
/// beyond the contract's.
pub const GUEST_TARGET: &str = "wasm32-unknown-unknown";
const DEBIAN_CARGO: &str = "/usr/bin/cargo";
const DEBIAN_RUSTC: &str = "/usr/bin/rustc";
const DEBIAN_STD_SOURCES: &str = "/usr/lib/rustlib/src/rust/library";
const DEBIAN_RUST_LLD: &str = "/usr/bin/rust-lld";
/// Chooses the toolchain by hand: `rustup` or `debian`.
pub const TOOLCHAIN_ENV: &str = "SANDBAR_GUEST_TOOLCHAIN";

/// A toolchain able to build `wasm32-unknown-unknown`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Toolchain {
    /// `rustup target add wasm32-unknown-unknown` was done.
    RustupTarget {
        /// `rustc --print sysroot` of the toolchain that has the target.
        sysroot: PathBuf,
    },
    /// Debian's rustc-web + rust-web-src, building std from source.
    DebianFallback {
        /// A `wasm-ld` found on `PATH`, used when `/usr/bin/rust-lld` (rustc's
        /// default wasm linker) is missing or dangling; `None` keeps rust-lld.
        linker: Option<PathBuf>,
    },
}

impl Toolchain {
    /// One line for `runtime build` and error messages: which toolchain,
    /// and its sysroot or linker.
    pub fn describe(&self) -> String {
        match self {
            Toolchain::RustupTarget { sysroot } => {
                format!(
                    "rustup target {GUEST_TARGET} (sysroot {})",
                    sysroot.display()
                )
            }
            Toolchain::DebianFallback { linker } => format!(
                "Debian fallback {DEBIAN_CARGO} with -Zbuild-std{}",
                linker
                    .as_ref()
                    .map(|l| format!(", linker {}", l.display()))
                    .unwrap_or_default()
            ),
        }
    }

    /// Sub-directory of the guest target dir: two compilers never share one.
    pub fn target_subdir(&self) -> &'static str {
        match self {
            Toolchain::RustupTarget { .. } => "rustup",
            Toolchain::DebianFallback { .. } => "debian",
        }
    }

    /// The `cargo build` command for these packages, ready to run in
    /// `workspace`. `remaps` are extra `(real path, stable name)` pairs: the
    /// SDK and crate directories of a standalone build.
    pub fn cargo_build(
        &self,
        workspace: &Path,
        target_dir: &Path,
        packages: &[String],
        remaps: &[(PathBuf, String)],
    ) -> Command {
        let mut cmd = match self {
            Toolchain::RustupTarget { .. } => Command::new("cargo"),
            Toolchain::DebianFallback { linker } => {
                let mut cmd = Command::new(DEBIAN_CARGO);
                cmd.env("RUSTC_BOOTSTRAP", "1")
                    .env("RUSTC", DEBIAN_RUSTC)
                    .env_remove("RUSTUP_TOOLCHAIN")
                    .env_remove("RUSTDOC");
                if let Some(linker) = linker {
                    cmd.env(
                        "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER",
                        linker.as_os_str(),
                    );
                }
                cmd
            }
        };
        // When run from `cargo test` or `cargo run`, the parent's build
        // settings must not leak into the guest build.
        for var in [
            "CARGO_TARGET_DIR",
            "CARGO_BUILD_TARGET",
            "RUSTFLAGS",
            "CARGO_ENCODED_RUSTFLAGS",
            "CARGO_MAKEFLAGS",
        ] {
            cmd.env_remove(var);
        }
        if matches!(self, Toolchain::RustupTarget { .. }) {
            cmd.env_remove("RUSTC");
        }
        cmd.env(
            "CARGO_ENCODED_RUSTFLAGS",
            remap_flags(self, workspace, target_dir, remaps).join("\x1f"),
        );
        cmd.current_dir(workspace).arg("build");
        if matches!(self, Toolchain::DebianFallback { .. }) {
            cmd.arg("-Zbuild-std=std,panic_abort");
        }
        cmd.args([
            "--target",
            GUEST_TARGET,
            "--profile",
            "guest",
            "--target-dir",
        ])
        .arg(target_dir);
        for package in packages {
            cmd.args(["-p", package]);
        }
        cmd
    }
}

/// The `--remap-path-prefix` flags of a guest build: every directory whose
/// path can end up in a component (panic locations, `file!()`) is given a
/// fixed name, so a hash pinned on one machine matches another's build of
/// the same source with the same toolchain, wherever the checkout, the
/// crate, the SDK, cargo's home and the toolchain live.
///
/// rustc applies the last matching prefix, so the broad ones (cargo's home,
/// the toolchain) come first and the nested ones (a target dir inside a
/// crate) last. `--remap-path-scope=object` remaps what goes into the
/// output only: compiler messages keep the real paths, so a warning still
/// names the file to open.
pub fn remap_flags(
    toolchain: &Toolchain,
    workspace: &Path,
    target_dir: &Path,
    remaps: &[(PathBuf, String)],
) -> Vec<String> {
    let mut pairs: Vec<(PathBuf, String)> = Vec::new();
    if let Some(home) = cargo_home() {
        pairs.push((home, "/cargo".to_owned()));
    }
    match toolchain {
        Toolchain::RustupTarget { sysroot } => {
            // The precompiled std already says /rustc/<commit>; a local
            // rust-src component is the sysroot's own path.
            pairs.push((sysroot.clone(), "/rust-toolchain".to_owned()));
        }
        Toolchain::DebianFallback { .. } => {
            pairs.push((
                PathBuf::from(DEBIAN_STD_SOURCES),
                "/rust/library".to_owned(),
            ));
        }
    }
    // A standalone build's workspace and target dir sit inside the crate:
    // the crate's own name first, the deeper ones after it.
    pairs.extend(remaps.iter().cloned());
    pairs.push((workspace.to_owned(), "/sandbar".to_owned()));
    pairs.push((target_dir.to_owned(), "/sandbar-target".to_owned()));
    let mut flags = Vec::with_capacity(pairs.len() * 2 + 1);
    for (from, to) in pairs {
        // Both spellings: cargo passes paths as it found them (through a
        // symlink, say), a macro may expand the canonical one.
        let canonical = std::fs::canonicalize(&from).ok();
        flags.push(format!("--remap-path-prefix={}={to}", from.display()));
        if let Some(canonical) = canonical.filter(|c| *c != from) {
            flags.push(format!("--remap-path-prefix={}={to}", canonical.display()));
        }
    }
    flags.push("--remap-path-scope=object".to_owned());
    flags
}

/// Finds a guest toolchain, or says exactly how to install one.
pub fn detect() -> Result<Toolchain, String> {
    let forced = std::env::var(TOOLCHAIN_ENV).ok();
    if forced.as_deref() != Some("debian") {
        if let Some(sysroot) = rustup_sysroot_with_target() {
            return Ok(Toolchain::RustupTarget { sysroot });
        }
        if forced.as_deref() == Some("rustup") {
            return Err(format!(
                "{TOOLCHAIN_ENV}=rustup but the {GUEST_TARGET} target is not installed; run `rustup target add {GUEST_TARGET}`"
            ));
        }
    }
    if let Some(fallback) = debian_fallback() {
        return Ok(fallback);
    }
    Err(format!(
        "no toolchain can build {GUEST_TARGET}: the rustup target is not installed and the Debian fallback is missing.\n  \
         hint: run `bash scripts/install-guest-toolchain.sh` (as root it installs `rustc-web cargo-web rust-web-src lld-22`), \
         or `rustup target add {GUEST_TARGET}`"
    ))
}

fn rustup_sysroot_with_target() -> Option<PathBuf> {
    let out = Command::new("rustc")
        .arg("--print")
        .arg("sysroot")
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let sysroot = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    sysroot
        .join("lib/rustlib")
        .join(GUEST_TARGET)
        .join("lib")
        .is_dir()
        .then_some(sysroot)
}

fn debian_fallback() -> Option<Toolchain> {
    let installed = Path::new(DEBIAN_CARGO).is_file()
        && Path::new(DEBIAN_RUSTC).is_file()
        && Path::new(DEBIAN_STD_SOURCES).is_dir();
    if !installed {
        return None;
    }
    // rustc's default wasm linker is rust-lld; without lld-22 that link dangles.
    let lld_ok = std::fs::canonicalize(DEBIAN_RUST_LLD).is_ok_and(|p| p.is_file());
    let linker = if lld_ok { None } else { find_wasm_ld() };
    if !lld_ok && linker.is_none() {
        return None;
    }
    Some(Toolchain::DebianFallback { linker })
}

fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
}

fn find_wasm_ld() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| {
            ["wasm-ld", "wasm-ld-22", "wasm-ld-19", "wasm-ld-16"].map(|name| dir.join(name))
        })
        .find(|candidate| candidate.is_file())
}
