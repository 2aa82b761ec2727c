//! Every rule a well-typed config must also satisfy, in one function, each
//! pointing at the offending key when the config came from a file.

use super::defaults as d;
use super::error::ConfigError;
use super::schema::{Config, Profile};
use super::source::{KeyPath, SourceMap};
use super::suggest;
use std::collections::HashMap;
use std::path::Component;

/// Checks `config` against the rules in config/README.md ("Rules"); `map`
/// locates keys in the file it came from (empty for configs built in code).
/// The first broken rule is the error.
pub(crate) fn validate(config: &Config, map: &SourceMap) -> Result<(), ConfigError> {
    let origin = config.message_path();
    let fail = |path: KeyPath, message: String, hint: Option<String>| -> Result<(), ConfigError> {
        Err(ConfigError::new(&origin, message)
            .at(map.locate(&path))
            .key(path.to_string())
            .maybe_hint(hint))
    };
    let key = |section: &str, name: &str| KeyPath::of(&[section, name]);

    // Profile.
    if config.profile == Profile::Prod && config.hot_reload.skip_hash_verification {
        return fail(
            key("hot_reload", "skip_hash_verification"),
            "prod never skips hash verification".into(),
            Some("remove `skip_hash_verification = true` from [hot_reload], or use profile = \"dev\"".into()),
        );
    }

    // [runtime]
    let history = config.runtime.history_bars;
    if !(1..=d::MAX_HISTORY_BARS).contains(&history) {
        return fail(
            key("runtime", "history_bars"),
            format!(
                "`history_bars` in [runtime] must be between 1 and {}, not {history}",
                d::MAX_HISTORY_BARS
            ),
            Some(format!(
                "it is the number of bars kept per symbol for warm-up and smoke tests; the default is {}",
                d::HISTORY_BARS
            )),
        );
    }

    if config.runtime.loop_spin_us > d::MAX_LOOP_SPIN_US {
        return fail(
            key("runtime", "loop_spin_us"),
            format!(
                "`loop_spin_us` in [runtime] must be at most {} (10 ms), not {}",
                d::MAX_LOOP_SPIN_US,
                config.runtime.loop_spin_us
            ),
            Some(format!(
                "it is how long the bar loop polls for the next bar before it sleeps; the default is {}, and 0 sleeps at once",
                d::LOOP_SPIN_US
            )),
        );
    }

    // The watcher follows the strategies dir; compiled code written there
    // would be seen by it, and deploy tools that sync the folder would ship it.
    if config.runtime.cache_dir.is_some()
        && let Some(cache) = config.cache_dir()
        && cache.starts_with(config.strategies_dir())
    {
        return fail(
            key("runtime", "cache_dir"),
            "`cache_dir` in [runtime] is inside `strategies_dir`".into(),
            Some("keep the artefact cache outside the strategies directory, or leave `cache_dir` out for the default (~/.cache/sandbar)".into()),
        );
    }
    if config.runtime.cache_max_mb > d::MAX_CACHE_MAX_MB {
        return fail(
            key("runtime", "cache_max_mb"),
            format!(
                "`cache_max_mb` in [runtime] must be at most {} (1 TiB), not {}",
                d::MAX_CACHE_MAX_MB,
                config.runtime.cache_max_mb
            ),
            Some(format!(
                "it caps the artefact cache in MiB; the default is {}, and 0 turns the cache off",
                d::CACHE_MAX_MB
            )),
        );
    }

    // [hot_reload]
    let hot = &config.hot_reload;
    if hot.debounce_ms > d::MAX_DEBOUNCE_MS {
        return fail(
            key("hot_reload", "debounce_ms"),
            format!(
                "`debounce_ms` in [hot_reload] must be at most {} (one minute), not {}",
                d::MAX_DEBOUNCE_MS,
                hot.debounce_ms
            ),
            Some(format!(
                "the debounce only has to outlast one build writing its output; the default is {}",
                d::DEBOUNCE_MS
            )),
        );
    }
    if hot.keep_versions == 0 {
        return fail(
            key("hot_reload", "keep_versions"),
            "`keep_versions` in [hot_reload] must be at least 1 (the running version counts), not 0".into(),
            Some(format!("the default is {}", d::KEEP_VERSIONS)),
        );
    }
    if hot.trap_window_bars == 0 {
        return fail(
            key("hot_reload", "trap_window_bars"),
            "`trap_window_bars` in [hot_reload] must be at least 1, not 0".into(),
            Some(format!(
                "it is the number of feed bars over which traps of one build are counted; the default is {}",
                d::TRAP_WINDOW_BARS
            )),
        );
    }
    if hot.rollback_after_traps == 0 {
        return fail(
            key("hot_reload", "rollback_after_traps"),
            "`rollback_after_traps` in [hot_reload] must be at least 1, not 0".into(),
            Some(format!(
                "it counts the traps of a new version before the previous one is restored; the default is {}",
                d::ROLLBACK_AFTER_TRAPS
            )),
        );
    }

    // [limits]
    check_limits(&config.limits, &KeyPath::of(&["limits"]), "[limits]", &fail)?;
    for language in [crate::Language::Python, crate::Language::Js] {
        let name = language.name();
        check_limits(
            &config.limits.for_language(language),
            &KeyPath::of(&["limits", name]),
            &format!("[limits.{name}]"),
            &fail,
        )?;
    }

    // [feed]
    let feed = &config.feed.symbols;
    let feed_list = feed.join(", ");
    if feed.is_empty() {
        return fail(
            key("feed", "symbols"),
            "`symbols` in [feed] is empty; the feed must produce at least one symbol".into(),
            Some("for example: symbols = [\"BTCUSD\", \"ETHUSD\"]".into()),
        );
    }
    let mut seen = HashMap::new();
    for (i, symbol) in feed.iter().enumerate() {
        let at = key("feed", "symbols").index(i);
        if symbol.trim().is_empty() {
            return fail(
                at,
                "`symbols` in [feed] has an empty symbol".into(),
                Some("remove the \"\" from the list".into()),
            );
        }
        if seen.insert(symbol.as_str(), i).is_some() {
            return fail(
                at,
                format!("`symbols` in [feed] lists `{symbol}` twice"),
                Some("remove one of them".into()),
            );
        }
    }

    // [broker]
    let broker = &config.broker;
    if !(broker.starting_cash.is_finite() && broker.starting_cash > 0.0) {
        return fail(
            key("broker", "starting_cash"),
            format!(
                "`starting_cash` in [broker] must be a number above 0, not {}",
                broker.starting_cash
            ),
            Some(format!("the default is {:?}", d::STARTING_CASH)),
        );
    }
    for (name, value, hint) in [
        (
            "commission",
            broker.commission,
            "commission is a fraction of the notional: 0.001 is 0.1 %",
        ),
        (
            "slippage_bps",
            broker.slippage_bps,
            "slippage is in basis points: 5 is 0.05 %",
        ),
    ] {
        if !(value.is_finite() && value >= 0.0) {
            return fail(
                key("broker", name),
                format!("`{name}` in [broker] must be a finite number of at least 0, not {value}"),
                Some(hint.into()),
            );
        }
    }

    // [feed] per kind
    check_feed_source(config, &fail)?;

    // [risk]
    check_risk(&config.risk, &KeyPath::of(&["risk"]), "[risk]", &fail)?;

    // [symbols.NAME]
    check_symbols(config, &fail)?;

    // [ops]
    check_ops(config, &fail)?;
    check_fleet(config, &fail)?;

    // [[strategy]]
    let strategies_dir = config.strategies_dir();
    let mut ids: HashMap<&str, usize> = HashMap::new();
    for (i, s) in config.strategies.iter().enumerate() {
        let at = KeyPath::of(&["strategy"]).index(i);
        let name = if s.id.is_empty() {
            format!("[[strategy]] #{}", i + 1)
        } else {
            format!("strategy `{}`", s.id)
        };

        if !s.risk.is_empty() {
            check_risk(
                &s.risk,
                &at.key("risk"),
                &format!("[strategy.risk] of {name}"),
                &fail,
            )?;
        }
        if !s.limits.is_empty() {
            let merged = s.limits.over(&config.limits.for_language(s.language));
            let table = at.key("limits");
            check_limits(
                &merged,
                &table,
                &format!("[strategy.limits] of {name}"),
                &fail,
            )?;
        }
        if let Some((deploy_key, message, hint)) =
            crate::config::deploy::check(&s.deploy, &format!("[strategy.deploy] of {name}"))
        {
            return fail(at.key("deploy").key(deploy_key), message, Some(hint));
        }
        if s.id.is_empty() {
            return fail(
                at.key("id"),
                format!("{name} has an empty id"),
                Some(
                    "ids use lowercase letters, digits, '-' and '_', for example id = \"sma-fast\""
                        .into(),
                ),
            );
        }
        if !s.id.chars().all(is_id_char) {
            let suggestion = suggested_id(&s.id);
            return fail(
                at.key("id"),
                format!(
                    "strategy id `{}` may use only lowercase letters, digits, '-' and '_'",
                    s.id
                ),
                Some(match suggestion {
                    Some(id) => format!("for example id = \"{id}\""),
                    None => "for example id = \"sma-fast\"".into(),
                }),
            );
        }
        if let Some(first) = ids.insert(&s.id, i) {
            let first_at = map.locate(&KeyPath::of(&["strategy"]).index(first).key("id"));
            let message = match first_at {
                Some((line, _)) => format!(
                    "strategy id `{}` is used twice; the first is on line {line}",
                    s.id
                ),
                None => format!("strategy id `{}` is used by two [[strategy]] tables", s.id),
            };
            return fail(
                at.key("id"),
                message,
                Some("give each [[strategy]] its own id".into()),
            );
        }

        let escapes = s.wasm.components().any(|c| {
            matches!(
                c,
                Component::ParentDir | Component::RootDir | Component::Prefix(_)
            )
        });
        if s.wasm.is_absolute() || escapes {
            let file = s.wasm.file_name().map(|f| f.to_string_lossy().into_owned());
            return fail(
                at.key("wasm"),
                format!(
                    "`wasm` of {name} is `{}`, outside runtime.strategies_dir; only files inside runtime.strategies_dir are loadable",
                    s.wasm.display()
                ),
                Some(match file {
                    Some(file) => format!(
                        "copy the component into {} and name it relative to that directory, for example wasm = \"{file}\"",
                        strategies_dir.display()
                    ),
                    None => format!("name a file inside {}", strategies_dir.display()),
                }),
            );
        }
        if s.wasm.extension().is_none_or(|e| e != "wasm") {
            return fail(
                at.key("wasm"),
                format!(
                    "`wasm` of {name} is `{}`, which does not end in .wasm",
                    s.wasm.display()
                ),
                Some(if s.wasm.as_os_str().is_empty() {
                    "name the component file, for example wasm = \"sma_cross.wasm\"".into()
                } else {
                    format!(
                        "strategies are WebAssembly components built by `runtime build`; for example wasm = \"{}\"",
                        s.wasm.with_extension("wasm").display()
                    )
                }),
            );
        }

        let hash_hint = format!(
            "run `runtime hash {}` and paste the line it prints into this [[strategy]]",
            config.wasm_path(s).display()
        );
        match &s.sha256 {
            Some(sha) if sha.chars().count() != 64 => {
                return fail(
                    at.key("sha256"),
                    format!(
                        "`sha256` of {name} has {} characters; a SHA-256 is 64 hex digits",
                        sha.chars().count()
                    ),
                    Some(hash_hint),
                );
            }
            Some(sha) => {
                if let Some(bad) = sha.chars().find(|c| !c.is_ascii_hexdigit()) {
                    return fail(
                        at.key("sha256"),
                        format!("`sha256` of {name} contains `{bad}`, which is not a hex digit"),
                        Some(hash_hint),
                    );
                }
            }
            None if config.profile == Profile::Prod && s.enabled => {
                return fail(
                    at.key("sha256"),
                    format!(
                        "{name} has no sha256, and profile \"prod\" loads only components pinned by hash"
                    ),
                    Some(hash_hint),
                );
            }
            None => {}
        }

        if s.symbols.is_empty() && map.get(&at.key("symbols")).is_some() {
            return fail(
                at.key("symbols"),
                format!("{name} has symbols = [], so it would trade nothing"),
                Some(format!(
                    "remove the line to trade every feed symbol, or list some of: {feed_list}"
                )),
            );
        }
        let mut mine = HashMap::new();
        for (j, symbol) in s.symbols.iter().enumerate() {
            let at = at.key("symbols").index(j);
            if !feed.contains(symbol) {
                let feed_refs: Vec<&str> = feed.iter().map(String::as_str).collect();
                let hint = match suggest::closest(symbol, &feed_refs) {
                    Some(close) => format!("did you mean `{close}`? the feed produces {feed_list}"),
                    None => format!(
                        "the feed produces {feed_list}; add `{symbol}` to symbols in [feed], or remove it here"
                    ),
                };
                return fail(
                    at,
                    format!("{name} trades `{symbol}`, which is not in feed.symbols"),
                    Some(hint),
                );
            }
            if mine.insert(symbol.as_str(), j).is_some() {
                return fail(
                    at,
                    format!("{name} lists `{symbol}` twice in symbols"),
                    Some("remove one of them".into()),
                );
            }
        }

        for (param, value) in &s.params {
            if let Err(message) = crate::param_from_toml(param, value) {
                let example = match value {
                    toml::Value::Array(items) => items
                        .first()
                        .filter(|v| !v.is_array() && !v.is_table())
                        .cloned(),
                    _ => None,
                }
                .unwrap_or(toml::Value::Integer(10));
                return fail(
                    at.key("params").key(param),
                    format!("{name}: {message}"),
                    Some(format!(
                        "a parameter holds one value, for example {param} = {example}; give each further value a key of its own"
                    )),
                );
            }
        }
    }
    Ok(())
}

fn is_id_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'
}

/// `SMA Fast` -> `sma-fast`.
fn suggested_id(id: &str) -> Option<String> {
    let mut out = String::new();
    for c in id.trim().chars() {
        let c = c.to_ascii_lowercase();
        if is_id_char(c) {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-').to_owned();
    (!out.is_empty()).then_some(out)
}

mod feed;
mod fleet;
mod limits;
mod ops;
mod risk;
#[cfg(test)]
mod tests;

use feed::check_feed_source;
use fleet::check_fleet;
use limits::check_limits;
use ops::check_ops;
use risk::{check_risk, check_symbols};
