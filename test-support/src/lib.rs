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
    let mut inputs = BuildInputs::default();
    inputs.add("pyproject.toml".into(), &dir.join("pyproject.toml"));
    for file in python::sources(&dir).expect("listing the sources") {
        inputs.add(format!("src/{}", file.display()), &dir.join(&file));
    }
    for file in files_in(&sdk.join("python/sandbar"), "py") {
        inputs.add(format!("sdk/{}", file.display()), &file);
    }
    // The 0.1.0 contract the Python SDK builds against; other versions sit
    // in their own folders.
    for file in files_in(&sdk.join("wit"), "wit") {
        inputs.add(format!("wit/{}", file.display()), &file);
    }
    let path = inputs.keyed_path("python", &project.name, python::COMPONENTIZE_PY_VERSION);
    build_once(path, &project.name, || {
        python::compile(&dir, &sdk, true)
            .unwrap_or_else(|e| panic!("building {}: {e:#}", dir.display()))
            .bytes
    })
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
    let mut inputs = BuildInputs::default();
    inputs.add("package.json".into(), &dir.join("package.json"));
    for file in js::sources(&dir).expect("listing the sources") {
        inputs.add(format!("src/{}", file.display()), &dir.join(&file));
    }
    let named = |file: &Path| file.file_name().unwrap_or_default().display().to_string();
    for file in files_in(&sdk.join("js"), "js") {
        inputs.add(format!("sdk/{}", named(&file)), &file);
    }
    // The 0.1.0 contract; other versions sit in their own folders.
    for file in files_in(&sdk.join("wit"), "wit") {
        inputs.add(format!("wit/{}", named(&file)), &file);
    }
    let tools = format!(
        "{} {} {}",
        js::COMPONENTIZE_JS_VERSION,
        js::JCO_VERSION,
        js::DRIVER
    );
    let path = inputs.keyed_path("js", &project.name, &tools);
    build_once(path, &project.name, || {
        js::compile(&dir, &sdk, true)
            .unwrap_or_else(|e| panic!("building {}: {e:#}", dir.display()))
            .bytes
    })
}

/// What a guest build reads, by name: the key of its cached component.
#[derive(Default)]
struct BuildInputs(Vec<(String, Vec<u8>)>);

impl BuildInputs {
    fn add(&mut self, name: String, path: &Path) {
        let bytes = std::fs::read(path)
            .unwrap_or_else(|e| panic!("reading the build input {}: {e}", path.display()));
        self.0.push((name, bytes));
    }

    /// `target/test-components/<kind>/<project>-<key>.wasm`, the key a
    /// SHA-256 of `tools` (the tool versions) and every input.
    fn keyed_path(&self, kind: &str, project: &str, tools: &str) -> PathBuf {
        let mut keyed = tools.as_bytes().to_vec();
        for (name, bytes) in &self.0 {
            keyed.extend_from_slice(name.as_bytes());
            keyed.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            keyed.extend_from_slice(bytes);
        }
        let key = &sandbar_runtime::sha256_hex(&keyed)[..16];
        workspace()
            .join("target/test-components")
            .join(kind)
            .join(format!("{}-{key}.wasm", project.replace('-', "_")))
    }
}

/// The files with extension `ext` directly in `folder`, sorted.
fn files_in(folder: &Path, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
        .unwrap_or_else(|e| panic!("listing {}: {e}", folder.display()))
        .map(|e| e.expect("listing a folder").path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
}

/// `path` if it was built before; else `build`'s bytes, written there
/// atomically (a test killed mid-write leaves no half component).
fn build_once(path: PathBuf, project: &str, build: impl FnOnce() -> Vec<u8>) -> PathBuf {
    if path.is_file() {
        return path;
    }
    let started = std::time::Instant::now();
    let bytes = build();
    let out_dir = path.parent().expect("a keyed path has a folder");
    std::fs::create_dir_all(out_dir)
        .unwrap_or_else(|e| panic!("creating {}: {e}", out_dir.display()));
    sandbar_runtime::build::write_atomically(&path, &bytes).expect("writing it");
    eprintln!(
        "built {project} in {:.1} s ({} bytes)",
        started.elapsed().as_secs_f64(),
        bytes.len()
    );
    path
}
