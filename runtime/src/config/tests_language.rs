//! Issue 18: limits by language (`[[strategy]] language`, `[limits.python]`,
//! `[limits.js]`) and the store counts (`limits.instances`, `tables`,
//! `memories`).

use super::*;

fn parse(text: &str) -> Config {
    Config::parse(text, std::path::Path::new("sandbar.toml")).unwrap()
}

const STRATEGY: &str = "[[strategy]]\nid = \"py\"\nwasm = \"py.wasm\"\n";

#[test]
fn issue_18_a_python_strategy_gets_the_python_defaults() {
    let config = parse(&format!("{STRATEGY}language = \"python\"\n"));
    let limits = config.limits_of(config.strategy("py").unwrap());
    assert_eq!(limits.instances, defaults::PYTHON_LIMITS.instances.unwrap());
    assert_eq!(
        limits.fuel_per_call,
        defaults::PYTHON_LIMITS.fuel_per_bar.unwrap()
    );
    assert_eq!(limits.memory_bytes, 256 << 20);
    // Keys the language leaves alone come from [limits].
    assert_eq!(limits.deadline, crate::Limits::default().deadline);
    // A Rust strategy keeps the [limits] defaults.
    let rust = parse(STRATEGY);
    assert_eq!(
        rust.limits_of(rust.strategy("py").unwrap()),
        crate::Limits::default()
    );
}

#[test]
fn issue_18_strategy_limits_over_limits_python_over_builtin_over_limits() {
    let config = parse(&format!(
        "[limits]\ndeadline_us = 9000\ntables = 5\n[limits.python]\nmemory_mb = 300\ninstances = 50\n\
         {STRATEGY}language = \"python\"\n[strategy.limits]\ninstances = 40\n"
    ));
    let limits = config.limits_of(config.strategy("py").unwrap());
    assert_eq!(limits.instances, 40, "[strategy.limits] wins");
    assert_eq!(limits.memory_bytes, 300 << 20, "then [limits.python]");
    assert_eq!(limits.tables, 32, "then the built-in Python defaults");
    assert_eq!(limits.deadline.as_micros(), 9000, "then [limits]");
    // The section survives a write-back.
    let again = parse(&toml::to_string(&config).unwrap());
    assert_eq!(again.limits, config.limits);
    assert_eq!(
        again.strategy("py").unwrap().language,
        crate::Language::Python
    );
}

#[test]
fn issue_18_store_counts_are_validated_with_a_hint() {
    for (text, key) in [
        ("[limits]\ninstances = 0\n", "instances"),
        ("[limits.python]\ntables = 100000\n", "tables"),
        (
            &*format!("{STRATEGY}[strategy.limits]\nmemories = 0\n"),
            "memories",
        ),
    ] {
        let error = Config::parse(text, std::path::Path::new("sandbar.toml"))
            .unwrap_err()
            .to_string();
        assert!(error.contains(&format!("`{key}`")), "{text}: {error}");
        assert!(error.contains("the default is"), "{text}: {error}");
    }
}

#[test]
fn issue_18_an_unknown_language_is_refused() {
    let error = Config::parse(
        &format!("{STRATEGY}language = \"cobol\"\n"),
        std::path::Path::new("sandbar.toml"),
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("python"), "{error}");
}
