//! Issue 14 end to end with the real `runtime` binary: `runtime new` outside
//! the checkout, native `cargo test` of the new crate, `runtime build` from
//! another working directory, `runtime check`, `runtime backtest`;
//! reproducible hashes whichever directories hold the crate and the SDK; a
//! build that is not a strategy refused without touching the previous one.
//!
//! Each `runtime build` is a guest release build: they share one guest
//! target dir (`SANDBAR_GUEST_TARGET_DIR`) and each test builds a crate of
//! its own name, so parallel tests never read each other's artifacts.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("runtime/ sits in the checkout")
}

/// The guest build dir all tests share (dependencies compile once).
fn guest_target() -> PathBuf {
    workspace().join("target/authoring/guest")
}

fn runtime(cwd: &Path, args: &[&str]) -> Output {
    let started = std::time::Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_runtime"))
        .args(args)
        .current_dir(cwd)
        .env("SANDBAR_GUEST_TARGET_DIR", guest_target())
        // The artefact cache of `build` stays out of $HOME.
        .env("XDG_CACHE_HOME", env!("CARGO_TARGET_TMPDIR"))
        .env_remove("SANDBAR_SDK")
        .output()
        .expect("running the runtime binary");
    eprintln!(
        "runtime {} took {:.1}s",
        args.join(" "),
        started.elapsed().as_secs_f64()
    );
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[track_caller]
fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed:\n--- stdout\n{}\n--- stderr\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// The sha256 `runtime build` printed for its one component.
fn printed_sha256(out: &Output) -> String {
    let stdout = text(&out.stdout);
    stdout
        .split_whitespace()
        .skip_while(|w| *w != "sha256")
        .nth(1)
        .unwrap_or_else(|| panic!("no sha256 in {stdout}"))
        .to_owned()
}

fn new_crate(cwd: &Path, dir: &Path, extra: &[&str]) {
    let mut args = vec!["new", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = runtime(cwd, &args);
    assert_ok(&out, "runtime new");
}

/// A CSV of 240 daily bars that swing slowly, so a 10/30 SMA cross trades.
fn swinging_csv() -> String {
    let mut csv = String::from("Date,Open,High,Low,Close,Volume\n");
    for i in 0..240u32 {
        let close = 100.0 + 20.0 * (f64::from(i) / 20.0).sin();
        let open = close - 0.5;
        csv.push_str(&format!(
            "{},{open:.2},{:.2},{:.2},{close:.2},1000\n",
            chrono_free_day(i),
            close + 1.0,
            open - 1.0
        ));
    }
    csv
}

/// `2020-MM-DD` for day `i` (28-day months keep it simple and valid).
fn chrono_free_day(i: u32) -> String {
    format!("2020-{:02}-{:02}", 1 + i / 28, 1 + i % 28)
}

#[test]
fn regression_14_1_new_crate_tests_natively_builds_anywhere_checks_and_backtests() {
    let tmp = tempfile::tempdir().unwrap();
    let crate_dir = tmp.path().join("projects/my-cross");
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    new_crate(
        tmp.path(),
        &crate_dir,
        &["--template", "sma-cross", "--name", "authoring-cross"],
    );
    for file in [
        "Cargo.toml",
        "Cargo.lock",
        "src/lib.rs",
        "src/tests.rs",
        "README.md",
        "strategy.toml",
    ] {
        assert!(crate_dir.join(file).is_file(), "runtime new wrote {file}");
    }
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains("[workspace]") && manifest.contains("[profile.guest]"),
        "{manifest}"
    );

    // A second `runtime new` into the same (now non-empty) directory is refused.
    let again = runtime(tmp.path(), &["new", crate_dir.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("not empty"),
        "{}",
        text(&again.stderr)
    );

    // Native tests of the new crate pass, with plain cargo.
    let started = std::time::Instant::now();
    let native = Command::new(env!("CARGO"))
        .args(["test", "--quiet"])
        .current_dir(&crate_dir)
        .env(
            "CARGO_TARGET_DIR",
            workspace().join("target/authoring/native"),
        )
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .expect("running cargo test");
    eprintln!(
        "native cargo test took {:.1}s",
        started.elapsed().as_secs_f64()
    );
    assert_ok(&native, "cargo test in the new crate");

    // Built from a directory that is neither the crate nor the checkout.
    let dist = tmp.path().join("dist");
    let built = runtime(
        &elsewhere,
        &[
            "build",
            crate_dir.to_str().unwrap(),
            "--out",
            dist.to_str().unwrap(),
        ],
    );
    assert_ok(&built, "runtime build from another directory");
    assert!(
        text(&built.stderr).contains("checked authoring-cross"),
        "{}",
        text(&built.stderr)
    );
    let wasm = dist.join("authoring_cross.wasm");
    assert!(wasm.is_file());

    let checked = runtime(&elsewhere, &["check", wasm.to_str().unwrap()]);
    assert_ok(&checked, "runtime check");
    assert!(text(&checked.stdout).contains("passed every stage"));

    // The snippet `runtime new` wrote is a working [[strategy]] entry.
    let snippet = std::fs::read_to_string(crate_dir.join("strategy.toml")).unwrap();
    std::fs::write(tmp.path().join("bars.csv"), swinging_csv()).unwrap();
    let config = format!(
        "[runtime]\nstrategies_dir = \"dist\"\n[hot_reload]\nskip_hash_verification = true\n\
         [feed]\nkind = \"csv\"\nsymbols = [\"BTCUSD\"]\npath = \"bars.csv\"\n{snippet}"
    );
    std::fs::write(tmp.path().join("bt.toml"), config).unwrap();
    let out_dir = tmp.path().join("bt-out");
    let backtest = runtime(
        &elsewhere,
        &[
            "backtest",
            "--config",
            tmp.path().join("bt.toml").to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
        ],
    );
    assert_ok(&backtest, "runtime backtest");
    let trades = std::fs::read_to_string(out_dir.join("trades.csv")).unwrap();
    assert!(
        trades.lines().count() > 1,
        "the crossover traded:\n{trades}"
    );

    // regression 14.7: throughput is strategy-bars per second of the loop,
    // with the load time apart.
    let table = text(&backtest.stdout);
    eprintln!("{}", table.lines().next().unwrap_or_default());
    assert!(
        table.contains("240 strategy-bars") && table.contains("loading"),
        "{table}"
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["performance"]["strategy_bars"], 240);
    assert!(summary["performance"]["load_ms"].as_f64().unwrap() > 0.0);

    // regression 14.7: a wrong-typed parameter names its file:line:column.
    let bad_config = std::fs::read_to_string(tmp.path().join("bt.toml"))
        .unwrap()
        .replace("slow = 30", "slow = \"30\"");
    let line = bad_config
        .lines()
        .position(|l| l.starts_with("slow = "))
        .unwrap()
        + 1;
    std::fs::write(tmp.path().join("bad.toml"), bad_config).unwrap();
    let bad_config = tmp.path().join("bad.toml");
    let refused = runtime(
        &elsewhere,
        &[
            "backtest",
            "--config",
            bad_config.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
        ],
    );
    let stderr = text(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        stderr.contains(&format!(
            "bad.toml:{line}:1: strategy `authoring-cross`: parameter `slow`"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("remove the quotes: slow = 30"), "{stderr}");
}

#[test]
fn regression_14_1_copied_example_builds_outside_the_checkout() {
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("rsi-copy");
    copy_dir(&workspace().join("strategies/rsi-reversion"), &copy);
    let manifest = std::fs::read_to_string(copy.join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains("edition.workspace = true"),
        "the copy still inherits"
    );
    let dist = tmp.path().join("dist");
    let built = runtime(
        tmp.path(),
        &[
            "build",
            copy.to_str().unwrap(),
            "--out",
            dist.to_str().unwrap(),
        ],
    );
    assert_ok(&built, "runtime build of a copied example");
    assert!(dist.join("rsi_reversion.wasm").is_file());
    // Nothing was written into the user's files but target/.
    let mut entries: Vec<String> = std::fs::read_dir(&copy)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(entries, ["Cargo.toml", "README.md", "src", "target"]);
}

#[test]
fn regression_14_2_same_source_gives_one_hash_from_any_crate_dir_and_sdk_path() {
    let tmp = tempfile::tempdir().unwrap();
    // The SDK through two different paths: two symlinks to the checkout
    // (the SDK inherits its edition and versions from the checkout root).
    let mut hashes = Vec::new();
    for (i, place) in ["a/deep/er", "b"].iter().enumerate() {
        let link = tmp.path().join(format!("checkout-link-{i}"));
        std::os::unix::fs::symlink(workspace(), &link).unwrap();
        let sdk = link.join("guest-sdk");
        let crate_dir = tmp.path().join(place).join("repro");
        new_crate(
            tmp.path(),
            &crate_dir,
            &["--name", "authoring-repro", "--sdk", sdk.to_str().unwrap()],
        );
        let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).unwrap();
        assert!(
            manifest.contains(sdk.to_str().unwrap()),
            "depends on the SDK via {}",
            sdk.display()
        );
        let dist = tmp.path().join(format!("dist-{i}"));
        let built = runtime(&crate_dir, &["build", ".", "--out", dist.to_str().unwrap()]);
        assert_ok(&built, "runtime build");
        let bytes = std::fs::read(dist.join("authoring_repro.wasm")).unwrap();
        let tmp_name = tmp.path().to_string_lossy().into_owned();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(&tmp_name),
            "the component names the directory it was built in"
        );
        hashes.push(printed_sha256(&built));
    }
    eprintln!("hashes: {hashes:?}");
    assert_eq!(hashes[0], hashes[1], "one source, one hash");
}

#[test]
fn regression_14_3_build_refuses_a_non_strategy_and_keeps_the_previous_build() {
    let tmp = tempfile::tempdir().unwrap();
    let crate_dir = tmp.path().join("not-yet");
    new_crate(tmp.path(), &crate_dir, &["--name", "authoring-refused"]);
    let dist = tmp.path().join("dist");
    let args = [
        "build",
        crate_dir.to_str().unwrap(),
        "--out",
        dist.to_str().unwrap(),
    ];
    assert_ok(&runtime(tmp.path(), &args), "the first build");
    let wasm = dist.join("authoring_refused.wasm");
    let good = std::fs::read(&wasm).unwrap();

    // No export, and a warning the build must show.
    let lib = crate_dir.join("src/lib.rs");
    let source = std::fs::read_to_string(&lib).unwrap();
    let source = source.replace("sandbar_guest::export_strategy!(AuthoringRefused);", "")
        + "\nfn never_called_by_anything() {}\n";
    std::fs::write(&lib, source).unwrap();
    let refused = runtime(tmp.path(), &args);
    let stderr = text(&refused.stderr);
    assert!(
        !refused.status.success(),
        "a crate that exports nothing is refused:\n{stderr}"
    );
    assert!(stderr.contains("exports nothing"), "{stderr}");
    assert!(
        stderr.contains("export_strategy!"),
        "the hint names the fix:\n{stderr}"
    );
    assert!(
        stderr.contains("never_called_by_anything") && stderr.contains("never used"),
        "compiler warnings are shown:\n{stderr}"
    );
    assert!(
        stderr.contains(&format!("{}", lib.display())),
        "the warning names the crate's real file:\n{stderr}"
    );
    assert_eq!(
        std::fs::read(&wasm).unwrap(),
        good,
        "the previous build is untouched"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
