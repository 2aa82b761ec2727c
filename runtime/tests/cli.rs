//! The `runtime` binary end to end: `build`, `hash` and `check` against real
//! built components and hand-written bad inputs.

use sandbar_runtime::build::Built;
use sandbar_test_support::{Components, workspace};
use std::path::PathBuf;
use std::process::{Command, Output};

/// Every example strategy, built once for this test binary.
static COMPONENTS: Components = Components::new("test-components/cli", &[]);

fn components() -> &'static [Built] {
    COMPONENTS.all()
}

fn component(package: &str) -> PathBuf {
    COMPONENTS.path(package)
}

fn runtime(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_runtime"))
        .args(args)
        .current_dir(workspace())
        .env("NO_COLOR", "1")
        // The artefact cache of `live` and `build` stays out of $HOME.
        .env("XDG_CACHE_HOME", env!("CARGO_TARGET_TMPDIR"))
        .output()
        .expect("running the runtime binary")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn fixture(name: &str) -> PathBuf {
    workspace().join("tests/fixtures").join(name)
}

/// Writes `bytes` to a fresh temp file and returns its path (kept alive by the dir).
fn temp_file(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn build_all_makes_one_component_per_example_strategy() {
    let built = components();
    let mut packages: Vec<&str> = built.iter().map(|b| b.package.as_str()).collect();
    packages.sort();
    assert_eq!(
        packages,
        [
            "atr-trailing",
            "bollinger-reversion",
            "channel-breakout",
            "macd-atr",
            "rsi-reversion",
            "sma-cross"
        ]
    );
    for b in built {
        let bytes = std::fs::read(&b.path).unwrap();
        assert_eq!(bytes.len(), b.size_bytes);
        assert_eq!(sandbar_runtime::sha256_hex(&bytes), b.sha256);
        assert_eq!(&bytes[..4], b"\0asm");
        assert_eq!(
            bytes[6..8],
            [1, 0],
            "{} is a component (layer 1)",
            b.package
        );
    }
}

#[test]
fn build_command_prints_path_size_and_sha256() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = runtime(&[
        "build",
        "strategies/sma-cross",
        "--out",
        out_dir.path().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let line = stdout.lines().next().unwrap();
    let path = out_dir.path().join("sma_cross.wasm");
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(
        line,
        format!(
            "{}  {} bytes  sha256 {}",
            path.display(),
            bytes.len(),
            sandbar_runtime::sha256_hex(&bytes)
        )
    );
    assert!(text(&out.stderr).contains("building 1 strategy crate(s) with"));
}

#[test]
fn hash_agrees_with_sha256sum() {
    let paths: Vec<String> = components()
        .iter()
        .map(|b| b.path.display().to_string())
        .collect();
    let mut args = vec!["hash"];
    args.extend(paths.iter().map(String::as_str));
    let ours = text(&runtime(&args).stdout);
    let theirs = text(
        &Command::new("sha256sum")
            .args(&paths)
            .output()
            .unwrap()
            .stdout,
    );
    let ours: Vec<(String, String)> = ours
        .lines()
        .map(|l| {
            let digest = l.split('"').nth(1).unwrap().to_owned();
            let file = l.rsplit("# ").next().unwrap().to_owned();
            (digest, file)
        })
        .collect();
    let theirs: Vec<(String, String)> = theirs
        .lines()
        .map(|l| {
            let (d, f) = l.split_once("  ").unwrap();
            (d.to_owned(), f.to_owned())
        })
        .collect();
    assert_eq!(ours.len(), 6);
    assert_eq!(ours, theirs);
}

#[test]
fn check_passes_on_every_example_with_a_report() {
    for (package, name) in [
        ("sma-cross", "sma-cross"),
        ("rsi-reversion", "rsi-reversion"),
        ("channel-breakout", "channel-breakout"),
        ("bollinger-reversion", "bollinger-reversion"),
        ("macd-atr", "macd-atr"),
    ] {
        let path = component(package);
        let out = runtime(&["check", path.to_str().unwrap()]);
        let stdout = text(&out.stdout);
        assert!(out.status.success(), "{package}: {}", text(&out.stderr));
        assert!(stdout.starts_with(&format!("ok: {} passed every stage", path.display())));
        assert!(
            stdout.contains(&format!("strategy     {name} 0.1.0")),
            "{stdout}"
        );
        assert!(
            stdout.contains("smoke test   400 bars over BTCUSD, ETHUSD"),
            "{stdout}"
        );
        assert!(stdout.lines().count() < 25, "one screen: {stdout}");
    }
}

#[test]
fn check_applies_params_and_reports_a_refusal_at_init() {
    let path = component("sma-cross");
    let ok = runtime(&[
        "check",
        path.to_str().unwrap(),
        "--param",
        "fast=3",
        "--param",
        "slow=5",
    ]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    let bad = runtime(&["check", path.to_str().unwrap(), "--param", "fsat=3"]);
    assert_eq!(bad.status.code(), Some(2));
    let stderr = text(&bad.stderr);
    assert!(stderr.contains("check failed at stage `init`"), "{stderr}");
    assert!(
        stderr.contains("unknown parameter `fsat`; did you mean `fast`?"),
        "{stderr}"
    );
}

/// Each bad input fails at its stage with its own message, and never panics.
#[test]
fn check_fails_cleanly_and_distinctly_on_bad_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(component("sma-cross")).unwrap();
    let wat = |name: &str| wat::parse_file(fixture(name)).unwrap();
    let mut random = vec![0u8; 4096];
    let mut x: u32 = 0x1234_5678;
    for b in &mut random {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    let cases: Vec<(&str, String, &str, &str)> = vec![
        (
            "missing file",
            dir.path().join("nope.wasm").display().to_string(),
            "read",
            "cannot open",
        ),
        (
            "empty file",
            temp_file(&dir, "empty.wasm", b""),
            "compile",
            "the file is empty (0 bytes)",
        ),
        (
            "random bytes",
            temp_file(&dir, "random.wasm", &random),
            "compile",
            "not a WebAssembly file",
        ),
        (
            "core module",
            temp_file(&dir, "core.wasm", &wat("core_module.wat")),
            "compile",
            "a core WebAssembly module, not a component",
        ),
        (
            "truncated component",
            temp_file(&dir, "truncated.wasm", &good[..good.len() / 2]),
            "compile",
            "invalid component",
        ),
        (
            "empty component",
            temp_file(&dir, "empty_component.wasm", &wat("empty_component.wat")),
            "type_check",
            "the component exports nothing",
        ),
        (
            "other world",
            temp_file(&dir, "other.wasm", &wat("other_world.wat")),
            "type_check",
            "missing exports: describe, init, on-bar, on-fill, snapshot, restore (the component exports: run)",
        ),
        (
            "wasi imports",
            temp_file(&dir, "wasi.wasm", &wat("wasi_import.wat")),
            "type_check",
            "unexpected imports: wasi:cli/environment@0.2.0, wasi:filesystem/preopens@0.2.0",
        ),
        (
            "other contract version",
            temp_file(&dir, "v2.wasm", &wat("other_contract_version.wat")),
            "type_check",
            "built against contract sandbar:strategy@0.9.0",
        ),
        (
            "wrong signatures",
            temp_file(&dir, "sig.wasm", &wat("wrong_signature.wat")),
            "type_check",
            "exports do not match the contract's signatures",
        ),
    ];
    let mut messages = Vec::new();
    for (what, path, stage, needle) in &cases {
        let out = runtime(&["check", path]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: {stderr}");
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
        assert!(
            stderr.contains(&format!("check failed at stage `{stage}`")),
            "{what}: {stderr}"
        );
        assert!(
            stderr.contains(needle),
            "{what}: expected {needle:?} in {stderr}"
        );
        assert!(stderr.contains("hint: "), "{what} has a hint: {stderr}");
        let first_line = stderr
            .lines()
            .next()
            .unwrap()
            .replace(path.as_str(), "<file>");
        messages.push(first_line);
    }
    let mut unique = messages.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        messages.len(),
        "every bad input has its own message: {messages:#?}"
    );
}

#[test]
fn shipped_configs_are_valid() {
    for name in ["config/dev.toml", "config/prod.toml"] {
        let config = sandbar_runtime::config::Config::from_file(&workspace().join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!config.strategies.is_empty(), "{name} runs strategies");
    }
}

/// A copy of `config/<name>` in a temp tree laid out like the checkout, with
/// the built components in `strategies/dist/`.
fn temp_checkout(name: &str, edit: impl Fn(String) -> String) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("config")).unwrap();
    std::fs::create_dir_all(dir.path().join("strategies/dist")).unwrap();
    for b in components() {
        std::fs::copy(
            &b.path,
            dir.path()
                .join("strategies/dist")
                .join(b.path.file_name().unwrap()),
        )
        .unwrap();
    }
    let text = std::fs::read_to_string(workspace().join("config").join(name)).unwrap();
    let path = dir.path().join("config").join(name);
    std::fs::write(&path, edit(text)).unwrap();
    (dir, path)
}

#[test]
fn pin_rewrites_stale_pins_and_keeps_the_layout() {
    let stale = "0".repeat(64);
    // This test is about pins: a generous deadline keeps a loaded machine
    // from failing the start for another reason.
    let (_dir, path) = temp_checkout("prod.toml", |text| {
        text.replace("deadline_us = 10_000", "deadline_us = 1_000_000")
            // The ops API needs a token in prod; any free port.
            .replace(
                "token_env = \"SANDBAR_OPS_TOKEN\"",
                "token = \"cli-test-token-0123456789\"",
            )
            .replace("127.0.0.1:9191", "127.0.0.1:0")
            .lines()
            .map(|l| {
                if l.starts_with("sha256 = ") {
                    format!("sha256 = \"{stale}\"")
                } else {
                    l.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    let refused = runtime(&["live", "--config", path.to_str().unwrap(), "--bars", "10"]);
    assert!(!refused.status.success());
    let stderr = text(&refused.stderr);
    assert!(stderr.contains("refusing to start in prod"), "{stderr}");
    assert!(stderr.contains(&format!("expected {stale}")), "{stderr}");

    let out = runtime(&["pin", "--config", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let sma = sandbar_runtime::sha256_hex(&std::fs::read(component("sma-cross")).unwrap());
    assert!(text(&out.stdout).contains(&format!("strategy `sma-slow` sha256 {stale} -> {sma}")));
    let pinned = std::fs::read_to_string(&path).unwrap();
    assert!(pinned.contains(&format!("sha256 = \"{sma}\"")));
    assert!(pinned.starts_with("# Production profile"), "comments kept");
    let again = runtime(&["pin", "--config", path.to_str().unwrap()]);
    assert!(text(&again.stdout).contains("every pin already matches its file"));
    let ran = runtime(&["live", "--config", path.to_str().unwrap(), "--bars", "10"]);
    assert!(ran.status.success(), "{}", text(&ran.stderr));
}

#[test]
fn live_runs_the_dev_config_and_prints_a_summary() {
    let (dir, path) = temp_checkout("dev.toml", |text| {
        text.replace("interval_ms = 250", "interval_ms = 0")
            .replace("127.0.0.1:9190", "127.0.0.1:0")
    });
    let journal = dir.path().join("journal");
    let out = runtime(&[
        "live",
        "--config",
        path.to_str().unwrap(),
        "--bars",
        "4000",
        "--journal",
        journal.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let rows: Vec<&str> = stdout.lines().skip(1).collect();
    assert_eq!(rows.len(), 3, "{stdout}");
    for (id, bars) in [("breakout", "2000"), ("rsi", "4000"), ("sma-fast", "2000")] {
        let row = rows
            .iter()
            .find(|r| r.starts_with(id))
            .unwrap_or_else(|| panic!("{id}: {stdout}"));
        let fields: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(fields[2], bars, "{row}");
        assert!(fields[4].parse::<u64>().unwrap() > 0, "{id} traded: {row}");
    }
    for file in ["orders.jsonl", "fills.jsonl", "events.jsonl"] {
        assert!(journal.join(file).is_file(), "{file} written");
    }
}

#[test]
fn regression_14_7_live_reports_a_refused_param_at_its_line_and_column() {
    let (_dir, path) = temp_checkout("dev.toml", |text| {
        text.replace("interval_ms = 250", "interval_ms = 0")
            .replace("127.0.0.1:9190", "127.0.0.1:0")
            .replace("period = 14", "period = \"14\"")
    });
    let out = runtime(&["live", "--config", path.to_str().unwrap(), "--bars", "50"]);
    let stderr = text(&out.stderr);
    // Line 51 of the copied dev.toml sets `period`.
    assert!(stderr.contains("dev.toml:51:1: strategy `rsi`"), "{stderr}");
    assert!(
        stderr.contains("remove the quotes: period = 14"),
        "{stderr}"
    );
}

/// Runs `runtime check` on `path` and returns its stderr, which must be a
/// refusal (exit code 2, no panic).
fn refusal(path: &str) -> String {
    let out = runtime(&["check", path]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

/// The first line of a refusal with the path replaced by `<file>`.
/// The first line of the command's own output, past any log line (a log
/// line starts with its RFC 3339 time: `2026-12-02T00:42:14…`).
fn first_line(stderr: &str, path: &str) -> String {
    let is_log = |line: &str| {
        let b = line.as_bytes();
        b.len() > 20
            && b[4] == b'-'
            && b[7] == b'-'
            && b[10] == b'T'
            && b[..4].iter().all(u8::is_ascii_digit)
    };
    stderr
        .lines()
        .find(|line| !is_log(line))
        .unwrap_or("")
        .replace(path, "<file>")
}

#[test]
fn regression_13_11_foreign_binaries_get_messages_that_say_what_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let wat = |name: &str| wat::parse_file(fixture(name)).unwrap();
    let cases: Vec<(String, &str)> = vec![
        (
            temp_file(&dir, "header.wasm", b"\0asm"),
            "check failed at stage `compile` for <file>: truncated: the file is 4 bytes, shorter than the 8-byte WebAssembly header (magic 00 61 73 6d, version bytes missing)",
        ),
        (
            {
                let sub = dir.path().join("a-directory.wasm");
                std::fs::create_dir(&sub).unwrap();
                sub.display().to_string()
            },
            "check failed at stage `read` for <file>: it is a directory, not a strategy file",
        ),
        (
            temp_file(&dir, "imports.wasm", &wat("other_world_imports.wat")),
            "check failed at stage `type_check` for <file>: unexpected imports: acme:logger/log@1.0.0; missing exports: describe, init, on-bar, on-fill, snapshot, restore (the component exports: run); it is not of the `strategy` world",
        ),
        (
            temp_file(&dir, "unversioned.wasm", &wat("unversioned_contract.wat")),
            "check failed at stage `type_check` for <file>: imports the contract without a version (`sandbar:strategy/host`); this runtime speaks sandbar:strategy@0.1.0 and 0.2.0 and expects `sandbar:strategy/host@0.2.0`",
        ),
        (
            temp_file(&dir, "host.wasm", &wat("plain_host_import.wat")),
            "check failed at stage `type_check` for <file>: unexpected imports: host; and it exports nothing: it is not a strategy",
        ),
    ];
    for (path, expected) in &cases {
        let stderr = refusal(path);
        assert_eq!(first_line(&stderr, path), *expected, "{stderr}");
        assert!(stderr.contains("\n  hint: "), "{stderr}");
        assert!(
            stderr.contains("\n  stages: read "),
            "timings even on failure: {stderr}"
        );
    }
    let host = refusal(&cases[4].0);
    assert!(
        host.contains("hint: an import named just `host` is not the contract's interface"),
        "{host}"
    );
    let dir_hint = refusal(&cases[1].0);
    assert!(!dir_hint.contains("permissions"), "{dir_hint}");
}

#[test]
fn regression_13_11_an_unenabled_feature_is_named_not_called_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = wat::parse_file(fixture("threads_feature.wat")).unwrap();
    let path = temp_file(&dir, "threads.wasm", &bytes);
    let stderr = refusal(&path);
    let line = first_line(&stderr, &path);
    assert!(
        line.starts_with("check failed at stage `compile` for <file>: the component uses the WebAssembly feature threads, which Sandbar does not enable ("),
        "{stderr}"
    );
    assert!(line.contains(" at offset 0x"), "offsets in hex: {line}");
    assert!(!stderr.contains("corrupt"), "{stderr}");
    // The validator's verdict is the engine's: wasmtime refuses it too.
    let engine = sandbar_runtime::new_engine().unwrap();
    assert!(wasmtime::component::Component::new(&engine, &bytes).is_err());
}

#[test]
fn regression_13_11_corrupt_offsets_are_hex_like_wasmtimes() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(component("sma-cross")).unwrap();
    let foreign = unsealed(&good);
    // Cut inside the last non-custom section: the validator's refusal.
    let path = temp_file(&dir, "cut.wasm", &foreign[..foreign.len() * 2 / 3]);
    let stderr = refusal(&path);
    let line = first_line(&stderr, &path);
    assert!(line.contains("invalid component: "), "{stderr}");
    assert!(line.contains("(at offset 0x"), "{line}");
    assert!(!line.contains("byte offset"), "{line}");
}

/// `bytes` without the Sandbar marker and seal sections: what another
/// tool's component of the same code looks like.
fn unsealed(bytes: &[u8]) -> Vec<u8> {
    let layout = sandbar_runtime::seal::layout(bytes).unwrap();
    let mut out = bytes[..8].to_vec();
    for section in &layout.sections {
        let ours = section.id == 0
            && matches!(
                section.name.as_deref(),
                Some(sandbar_runtime::seal::BUILD_MARKER | sandbar_runtime::seal::SEAL_SECTION)
            );
        if !ours {
            out.extend_from_slice(&bytes[section.start..section.end]);
        }
    }
    out
}

/// `needle` replaced by `with` (same length) everywhere in `bytes`.
fn renamed(bytes: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    assert_eq!(needle.len(), with.len());
    let mut out = bytes.to_vec();
    let mut i = 0;
    while i + needle.len() <= out.len() {
        if &out[i..i + needle.len()] == needle {
            out[i..i + needle.len()].copy_from_slice(with);
            i += needle.len();
        } else {
            i += 1;
        }
    }
    out
}

#[test]
fn regression_13_11_a_foreign_component_is_refused_by_name_before_the_compile() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(component("sma-cross")).unwrap();
    let foreign = renamed(&unsealed(&good), b"on-bar", b"on-baz");
    let path = temp_file(&dir, "renamed.wasm", &foreign);
    let started = std::time::Instant::now();
    let stderr = refusal(&path);
    eprintln!(
        "refusing a {}-byte foreign component by name took {:?}",
        foreign.len(),
        started.elapsed()
    );
    assert!(
        first_line(&stderr, &path).starts_with(
            "check failed at stage `type_check` for <file>: missing exports: on-bar (the component exports: describe, init, on-baz"
        ),
        "{stderr}"
    );
    let stages = stderr
        .lines()
        .find(|l| l.starts_with("  stages: "))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(stages.contains("type_check "), "{stages}");
    assert!(
        !stages.contains("compile"),
        "refused before any compile: {stages}"
    );
}

#[test]
fn regression_13_10_check_shows_fuel_per_call_and_the_deadline_verdict_apart() {
    let path = component("sma-cross");
    let out = runtime(&["check", path.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let fuel = stdout
        .lines()
        .find(|l| l.starts_with("  fuel         max per call "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(fuel.ends_with("the same on any machine"), "{fuel}");
    assert!(
        stdout.lines().any(|l| l.starts_with("  wall time    ")),
        "{stdout}"
    );
}

#[test]
fn issue_16_runtime_cache_ls_verify_clear_and_the_refusal_of_a_world_writable_dir() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, path) = temp_checkout("dev.toml", |text| {
        text.replace("interval_ms = 250", "interval_ms = 0")
            .replace("127.0.0.1:9190", "127.0.0.1:0")
            .replacen("[runtime]\n", "[runtime]\ncache_dir = \"../cache\"\n", 1)
            // Cranelift's code only: ten bars end before a tier-up would, so
            // under `auto` the entries would be the baseline tier's.
            .replacen(
                "[hot_reload]\n",
                "[hot_reload]\ntiering = \"optimized\"\n",
                1,
            )
    });
    let config = path.to_str().unwrap();
    let cache = dir.path().join("cache");
    let ran = runtime(&["live", "--config", config, "--bars", "10"]);
    assert!(ran.status.success(), "{}", text(&ran.stderr));
    let ls = runtime(&["cache", "ls", "--config", config]);
    assert!(ls.status.success(), "{}", text(&ls.stderr));
    let listing = text(&ls.stdout);
    // dev.toml runs sma-cross twice (one build), rsi and breakout: three entries.
    assert!(listing.contains("3 entries"), "{listing}");
    let sma = sandbar_runtime::sha256_hex(&std::fs::read(component("sma-cross")).unwrap());
    assert!(listing.contains(&format!("{sma}  optimized")), "{listing}");
    let verify = runtime(&["cache", "verify", "--cache-dir", cache.to_str().unwrap()]);
    assert!(verify.status.success(), "{}", text(&verify.stdout));
    assert!(text(&verify.stdout).contains("3 entries checked, 0 would not load"));

    // A tampered entry: verify names it and fails; the next run replaces it.
    let entry = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(&sma))
        .unwrap();
    let mut bytes = std::fs::read(&entry).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 1;
    std::fs::write(&entry, &bytes).unwrap();
    let verify = runtime(&["cache", "verify", "--config", config]);
    assert_eq!(verify.status.code(), Some(1), "{}", text(&verify.stdout));
    assert!(
        text(&verify.stdout).contains(&format!("tampered {sma} optimized")),
        "{}",
        text(&verify.stdout)
    );
    let ran = runtime(&["live", "--config", config, "--bars", "10"]);
    assert!(ran.status.success(), "{}", text(&ran.stderr));
    let verify = runtime(&["cache", "verify", "--config", config]);
    assert!(
        verify.status.success(),
        "replaced: {}",
        text(&verify.stdout)
    );

    let cleared = runtime(&["cache", "clear", "--config", config, "--sha256", &sma]);
    assert!(
        text(&cleared.stdout).contains("removed 1 entry"),
        "{}",
        text(&cleared.stdout)
    );
    let cleared = runtime(&["cache", "clear", "--config", config]);
    assert!(
        text(&cleared.stdout).contains("removed 2 entries"),
        "{}",
        text(&cleared.stdout)
    );

    // World-writable: refused with the fix, and `live` runs without it.
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
    let ls = runtime(&["cache", "ls", "--config", config]);
    assert!(!ls.status.success());
    let stderr = text(&ls.stderr);
    assert!(stderr.contains("mode is 777"), "{stderr}");
    // The directory as the config names it (`config/../cache`).
    assert!(
        stderr.contains("hint: `chmod go-w ") && stderr.contains("/../cache`"),
        "{stderr}"
    );
    let ran = runtime(&["live", "--config", config, "--bars", "10"]);
    assert!(ran.status.success(), "{}", text(&ran.stderr));
    let stderr = text(&ran.stderr);
    assert!(stderr.contains("without the artefact cache"), "{stderr}");
    assert_eq!(
        std::fs::read_dir(&cache).unwrap().count(),
        1,
        "only the key: nothing written"
    );
}
