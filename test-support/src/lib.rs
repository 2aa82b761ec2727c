//! The component-building fixture of the runtime's CLI tests
//! (`runtime/tests/`), the end-to-end tests (`tests/e2e/`) and the benches:
//! the example strategies and chosen test guests, built by
//! `sandbar_runtime::build` (guest code in `target/guest`, as `runtime
//! build` does) into a components directory of their own under `target/`,
//! once per test binary.
//!
//! ```no_run
//! use sandbar_test_support::Components;
//!
//! static COMPONENTS: Components = Components::new("test-components/mine", &["hostile"]);
//!
//! let wasm = COMPONENTS.path("sma-cross");
//! # let _ = wasm;
//! ```

use sandbar_runtime::build::{BuildOptions, Built};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The workspace root (the parent of this crate).
pub fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("test-support sits inside the workspace")
}

/// A set of components: every example strategy under `strategies/` plus the
/// named guests under `tests/guests/`, built on first use and kept for the
/// rest of the test binary. Declare one as a `static` per test binary.
pub struct Components {
    out_dir: &'static str,
    guests: &'static [&'static str],
    built: OnceLock<Vec<Built>>,
}

impl Components {
    /// Components written to `target/<out_dir>`; a directory per set, so
    /// sets built by different test binaries never overwrite each other.
    pub const fn new(out_dir: &'static str, guests: &'static [&'static str]) -> Self {
        Self {
            out_dir,
            guests,
            built: OnceLock::new(),
        }
    }

    /// Every component of the set, building them on the first call.
    pub fn all(&'static self) -> &'static [Built] {
        self.built.get_or_init(|| {
            let mut dirs = sandbar_runtime::build::all_strategy_dirs(workspace())
                .expect("listing the example strategies");
            dirs.extend(
                self.guests
                    .iter()
                    .map(|guest| workspace().join("tests/guests").join(guest)),
            );
            sandbar_runtime::build::build(&BuildOptions {
                workspace: workspace().to_owned(),
                strategy_dirs: dirs,
                out_dir: workspace().join("target").join(self.out_dir),
                quiet: true,
            })
            .expect("building the example strategies and test guests")
        })
    }

    /// The component built from `package` (a crate name, e.g. `sma-cross`).
    pub fn path(&'static self, package: &str) -> PathBuf {
        find(self.all(), package)
    }
}

/// The component built from `package` among `built`.
pub fn find(built: &[Built], package: &str) -> PathBuf {
    built
        .iter()
        .find(|b| b.package == package)
        .unwrap_or_else(|| panic!("{package} was not built"))
        .path
        .clone()
}
