//! Golden tests of config error messages: what a user sees for each mistake.
//!
//! Each case is a pair in `runtime/tests/golden/config/`: `<case>.toml`, a
//! config with one mistake, and `<case>.expected`, the exact `Display` of the
//! error `Config::parse(text, Path::new("<case>.toml"))` returns (followed by
//! one newline).
//!
//! To add a case, write the `.toml` and run
//! `UPDATE_GOLDEN=1 cargo test -p sandbar-runtime --test config_errors`,
//! which (re)writes every `.expected` file from the current messages instead
//! of comparing; review the diff before committing it.

use sandbar_runtime::config::{Config, ConfigError};
use std::path::{Path, PathBuf};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/config")
}

fn updating() -> bool {
    std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1")
}

/// Every `<case>.toml`, sorted by name.
fn cases() -> Vec<String> {
    let mut cases: Vec<String> = std::fs::read_dir(golden_dir())
        .expect("reading runtime/tests/golden/config")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .map(|path| path.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    cases.sort();
    cases
}

fn error_of(case: &str) -> ConfigError {
    let text = std::fs::read_to_string(golden_dir().join(format!("{case}.toml"))).unwrap();
    match Config::parse(&text, Path::new(&format!("{case}.toml"))) {
        Ok(config) => panic!("golden case {case} parsed without error: {config:?}"),
        Err(error) => error,
    }
}

#[test]
fn config_errors_match_their_golden_files() {
    let cases = cases();
    assert!(
        !cases.is_empty(),
        "no golden cases in {}",
        golden_dir().display()
    );
    let mut mismatches = Vec::new();
    for case in &cases {
        let actual = format!("{}\n", error_of(case));
        let expected_path = golden_dir().join(format!("{case}.expected"));
        if updating() {
            std::fs::write(&expected_path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_else(|_| {
            panic!(
                "golden case {case} has no {case}.expected; run with UPDATE_GOLDEN=1 to create it"
            )
        });
        if actual != expected {
            mismatches.push(format!(
                "--- {case}.expected\n{expected}+++ actual\n{actual}"
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} golden cases differ (UPDATE_GOLDEN=1 rewrites them):\n\n{}",
        mismatches.len(),
        cases.len(),
        mismatches.join("\n")
    );
}

#[test]
fn every_expected_file_has_its_case() {
    let cases = cases();
    for entry in std::fs::read_dir(golden_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "expected") {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            assert!(
                cases.contains(&stem),
                "{} has no .toml case",
                path.display()
            );
        }
    }
}

/// A mistake in a file always says where it is and how to fix it.
#[test]
fn every_golden_error_has_a_position_and_a_hint() {
    for case in cases() {
        let error = error_of(&case);
        assert_eq!(error.path, Path::new(&format!("{case}.toml")));
        assert!(
            error.line.is_some() && error.column.is_some(),
            "{case}: no position in {error}"
        );
        assert!(error.hint.is_some(), "{case}: no hint in {error}");
    }
}

/// The cases the config reference promises, so none is dropped by accident.
#[test]
fn the_promised_cases_exist() {
    let cases = cases();
    for case in [
        "top_level_misspelled_key",
        "hot_reload_misspelled_key",
        "strategy_misspelled_key",
        "wrong_type",
        "syntax_unclosed_string",
        "prod_skip_hash_verification",
        "prod_missing_sha256",
        "bad_sha256_length",
        "duplicate_strategy_id",
        "unknown_symbol",
        "wasm_path_escapes",
        "array_param",
    ] {
        assert!(
            cases.iter().any(|c| c == case),
            "golden case {case} is missing"
        );
    }
}

/// Golden cases of `[strategy.params]` values a strategy refuses at `init`
/// (`golden/config/params/<case>.toml` parses; `<case>.expected` is what
/// [`Config::param_error`] makes of the strategy's refusal in `<case>.reason`,
/// the words the guest SDK uses). A wrong type cannot be seen by the config
/// alone — the strategy declares the kinds — but is still reported at its
/// file:line:column.
#[test]
fn regression_14_7_a_refused_param_is_reported_at_its_line_and_column() {
    let dir = golden_dir().join("params");
    let mut cases = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        cases += 1;
        let case = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let origin = format!("{case}.toml");
        let config = Config::parse(&text, Path::new(&origin)).unwrap();
        let reason = std::fs::read_to_string(dir.join(format!("{case}.reason"))).unwrap();
        let id = &config.strategies[0].id;
        let error = config
            .param_error(id, reason.trim_end())
            .unwrap_or_else(|| panic!("{case}: no error for the reason"));
        assert!(error.line.is_some() && error.column.is_some(), "{error}");
        let actual = format!("{error}\n");
        let expected_path = dir.join(format!("{case}.expected"));
        if updating() {
            std::fs::write(&expected_path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap();
        assert_eq!(actual, expected, "golden case params/{case}");
    }
    assert!(cases > 0, "no cases in {}", dir.display());
}
