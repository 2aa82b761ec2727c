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
            let mut dirs = sandbar_runtime::build::rust_strategy_dirs(workspace())
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

/// The Python strategy in `dir` (a path relative to the workspace, e.g.
/// `strategies/sma-cross-py`, or an absolute one), built by `sandbar_runtime::build::python`
/// once per content: the component is kept under
/// `target/test-components/python/` by a key of its sources, the Python SDK,
/// the contract and the componentize-py version, so every test binary and
/// every CI run after the first reuses it (a build takes 20–60 s).
/// Needs `scripts/install-python-guest.sh python` (scripts/test.sh runs it).
pub fn python_component(dir: impl AsRef<Path>) -> PathBuf {
    use sandbar_runtime::build::python;
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_build_at_a_time = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = workspace().join(dir.as_ref());
    let sdk = workspace().join("guest-sdk");
    let project = python::read_project(&dir).expect("a Python strategy");
    let mut inputs: Vec<(String, Vec<u8>)> = Vec::new();
    let mut add = |name: String, path: &Path| {
        inputs.push((name, std::fs::read(path).expect("reading a build input")));
    };
    add("pyproject.toml".into(), &dir.join("pyproject.toml"));
    for file in python::sources(&dir).expect("listing the sources") {
        add(format!("src/{}", file.display()), &dir.join(&file));
    }
    let sdk_package = sdk.join("python/sandbar");
    let mut sdk_files: Vec<PathBuf> = std::fs::read_dir(&sdk_package)
        .expect("the Python SDK")
        .map(|e| e.expect("listing the SDK").path())
        .filter(|p| p.extension().is_some_and(|e| e == "py"))
        .collect();
    sdk_files.sort();
    for file in &sdk_files {
        add(format!("sdk/{}", file.display()), file);
    }
    let mut wit: Vec<PathBuf> = std::fs::read_dir(sdk.join("wit"))
        .expect("the contract")
        .map(|e| e.expect("listing the contract").path())
        // The 0.1.0 contract the Python SDK builds against; other versions
        // sit in their own folders.
        .filter(|p| p.is_file())
        .collect();
    wit.sort();
    for file in &wit {
        add(format!("wit/{}", file.display()), file);
    }
    let mut keyed = python::COMPONENTIZE_PY_VERSION.as_bytes().to_vec();
    for (name, bytes) in &inputs {
        keyed.extend_from_slice(name.as_bytes());
        keyed.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        keyed.extend_from_slice(bytes);
    }
    let key = &sandbar_runtime::sha256_hex(&keyed)[..16];
    let out_dir = workspace().join("target/test-components/python");
    let path = out_dir.join(format!("{}-{key}.wasm", project.name.replace('-', "_")));
    if path.is_file() {
        return path;
    }
    let started = std::time::Instant::now();
    let component = python::compile(&dir, &sdk, true)
        .unwrap_or_else(|e| panic!("building {}: {e:#}", dir.display()));
    std::fs::create_dir_all(&out_dir).expect("creating target/test-components/python");
    sandbar_runtime::build::write_atomically(&path, &component.bytes).expect("writing it");
    eprintln!(
        "built {} in {:.1} s ({} bytes)",
        project.name,
        started.elapsed().as_secs_f64(),
        component.bytes.len()
    );
    path
}

/// The JavaScript strategy in `dir` (relative to the workspace, e.g.
/// `strategies/sma-cross-js`, or absolute), built by
/// `sandbar_runtime::build::js` once per content: kept under
/// `target/test-components/js/` by a key of its package.json and sources,
/// the JavaScript SDK, the contract, the build's driver and the
/// componentize-js and jco versions, so every test binary and every CI run
/// after the first reuses it (a build takes 10–40 s).
/// Needs `scripts/install-python-guest.sh js` (scripts/test.sh runs it).
pub fn js_component(dir: impl AsRef<Path>) -> PathBuf {
    use sandbar_runtime::build::js;
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_build_at_a_time = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = workspace().join(dir.as_ref());
    let sdk = workspace().join("guest-sdk");
    let project = js::read_project(&dir).expect("a JavaScript strategy");
    let mut inputs: Vec<(String, Vec<u8>)> = Vec::new();
    let mut add = |name: String, path: &Path| {
        inputs.push((name, std::fs::read(path).expect("reading a build input")));
    };
    add("package.json".into(), &dir.join("package.json"));
    for file in js::sources(&dir).expect("listing the sources") {
        add(format!("src/{}", file.display()), &dir.join(&file));
    }
    let listed = |folder: &Path, ext: &str| {
        let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
            .unwrap_or_else(|e| panic!("listing {}: {e}", folder.display()))
            .map(|e| e.expect("listing a folder").path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == ext))
            .collect();
        files.sort();
        files
    };
    for file in listed(&sdk.join("js"), "js") {
        add(
            format!("sdk/{}", file.file_name().unwrap_or_default().display()),
            &file,
        );
    }
    // The 0.1.0 contract; other versions sit in their own folders.
    for file in listed(&sdk.join("wit"), "wit") {
        add(
            format!("wit/{}", file.file_name().unwrap_or_default().display()),
            &file,
        );
    }
    let mut keyed = format!(
        "{} {} {}",
        js::COMPONENTIZE_JS_VERSION,
        js::JCO_VERSION,
        js::DRIVER
    )
    .into_bytes();
    for (name, bytes) in &inputs {
        keyed.extend_from_slice(name.as_bytes());
        keyed.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        keyed.extend_from_slice(bytes);
    }
    let key = &sandbar_runtime::sha256_hex(&keyed)[..16];
    let out_dir = workspace().join("target/test-components/js");
    let path = out_dir.join(format!("{}-{key}.wasm", project.name.replace('-', "_")));
    if path.is_file() {
        return path;
    }
    let started = std::time::Instant::now();
    let component = js::compile(&dir, &sdk, true)
        .unwrap_or_else(|e| panic!("building {}: {e:#}", dir.display()));
    std::fs::create_dir_all(&out_dir).expect("creating target/test-components/js");
    sandbar_runtime::build::write_atomically(&path, &component.bytes).expect("writing it");
    eprintln!(
        "built {} in {:.1} s ({} bytes)",
        project.name,
        started.elapsed().as_secs_f64(),
        component.bytes.len()
    );
    path
}
