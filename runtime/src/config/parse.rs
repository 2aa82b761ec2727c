//! Text to [`Config`]: TOML syntax, unknown keys and wrong types, each as a
//! [`ConfigError`] pointing at the offending line and column, with a hint.
//!
//! Three passes: the spanned TOML parse (syntax), a walk over every key
//! against the key names the serde derives accept (unknown keys and section
//! shapes), then serde itself (types), whose errors are mapped back to keys
//! through their spans and reworded.

use super::error::ConfigError;
use super::introspect::{fields_of, variants_of};
use super::schema::{
    BadRowPolicy, BracketTie, BrokerKind, BrokerSection, Config, FeedKind, FeedSection,
    HotReloadSection, LimitsSection, Profile, RiskSection, RuntimeSection, StrategyConfig,
};
use super::source::{Entry, KeyPath, Seg, SourceMap, line_column};
use super::suggest;
use std::path::Path;

/// Parses `text` (read from `origin`) into a config and the map of where
/// each key is; nothing is validated beyond types.
pub(crate) fn parse(text: &str, origin: &Path) -> Result<(Config, SourceMap), ConfigError> {
    let root = toml::de::DeTable::parse(text).map_err(|e| syntax_error(&e, text, origin))?;
    let map = SourceMap::new(text, root.get_ref());
    check_keys(&map, origin)?;
    let config: Config = toml::from_str(text).map_err(|e| serde_error(&e, &map, origin))?;
    Ok((config, map))
}

// ---------------------------------------------------------------- syntax

fn syntax_error(error: &toml::de::Error, text: &str, origin: &Path) -> ConfigError {
    let span = error.span().unwrap_or(0..0);
    let found = text.get(span.clone()).unwrap_or("").trim();
    let raw = error.message();
    let at_line_end = matches!(text.as_bytes().get(span.start), None | Some(b'\n' | b'\r'));
    let (message, hint) = if raw.starts_with("invalid basic string") && at_line_end {
        (
            "unterminated string: no closing `\"` before the end of the line".to_owned(),
            "close the string on the same line; text spanning lines goes in triple quotes (\"\"\"…\"\"\")".to_owned(),
        )
    } else if raw.starts_with("invalid literal string") && at_line_end {
        (
            "unterminated string: no closing `'` before the end of the line".to_owned(),
            "close the string on the same line; text spanning lines goes in triple quotes ('''…''')".to_owned(),
        )
    } else if raw.starts_with("string values must be quoted") && found.is_empty() {
        (
            "a value is missing after `=`".to_owned(),
            "write key = value, for example enabled = true".to_owned(),
        )
    } else if raw.starts_with("string values must be quoted") {
        (
            format!(
                "text values must be quoted: `{found}` is not a number, boolean, array or table"
            ),
            format!("write \"{found}\", with the quotes"),
        )
    } else if raw.starts_with("duplicate key") {
        let name = found.trim_matches(|c| c == '[' || c == ']');
        (
            format!("duplicate key `{name}`: it is already defined above"),
            "each key, and each [table] header, may appear once; merge the two or remove one"
                .to_owned(),
        )
    } else if raw.starts_with("unclosed table") {
        (
            format!("TOML syntax error: {raw}"),
            "table headers look like [hot_reload], and each strategy starts with [[strategy]]"
                .to_owned(),
        )
    } else if raw.starts_with("key with no value") {
        (
            format!("TOML syntax error: {raw}"),
            "write key = value; a key with spaces or dots in it needs quotes".to_owned(),
        )
    } else {
        (
            format!("TOML syntax error: {raw}"),
            "config/README.md has a complete example; the syntax is at https://toml.io".to_owned(),
        )
    };
    ConfigError::new(origin, message)
        .at(line_column(text, span.start))
        .hint(hint)
}

// ---------------------------------------------------------------- keys

/// The keys a section table accepts, `None` for names that are not sections.
fn section_keys(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "runtime" => fields_of::<RuntimeSection>(),
        "hot_reload" => fields_of::<HotReloadSection>(),
        "limits" => fields_of::<LimitsSection>(),
        "feed" => fields_of::<FeedSection>(),
        "broker" => fields_of::<BrokerSection>(),
        "risk" => fields_of::<RiskSection>(),
        "ops" => fields_of::<super::schema::OpsSection>(),
        "fleet" => fields_of::<super::schema::FleetSection>(),
        _ => return None,
    })
}

/// The keys a table accepts; `None` where any key goes (`[strategy.params]`)
/// or where the table itself is already wrong.
fn known_keys(table: &KeyPath) -> Option<&'static [&'static str]> {
    match table.0.as_slice() {
        [] => Some(fields_of::<Config>()),
        [Seg::Key(name)] => section_keys(name),
        [Seg::Key(s), Seg::Index(_)] if s == "strategy" => Some(fields_of::<StrategyConfig>()),
        [Seg::Key(s), Seg::Index(_), Seg::Key(l)] if s == "strategy" && l == "limits" => {
            Some(fields_of::<super::schema::LimitsOverride>())
        }
        [Seg::Key(s), Seg::Index(_), Seg::Key(r)] if s == "strategy" && r == "risk" => {
            Some(fields_of::<RiskSection>())
        }
        [Seg::Key(s), Seg::Index(_), Seg::Key(r)] if s == "strategy" && r == "deploy" => {
            Some(fields_of::<super::deploy::DeploySection>())
        }
        [Seg::Key(s), Seg::Key(_)] if s == "symbols" => {
            Some(fields_of::<super::schema::SymbolSection>())
        }
        [Seg::Key(o), Seg::Key(t), Seg::Index(_)] if o == "ops" && t == "tokens" => {
            Some(fields_of::<super::schema::OpsToken>())
        }
        _ => None,
    }
}

/// The tables a hint may send a key to, with how to name them.
fn homes() -> Vec<(&'static str, &'static [&'static str])> {
    let mut homes = vec![("the top level", fields_of::<Config>())];
    for (name, label) in [
        ("runtime", "[runtime]"),
        ("hot_reload", "[hot_reload]"),
        ("limits", "[limits]"),
        ("feed", "[feed]"),
        ("broker", "[broker]"),
        ("risk", "[risk]"),
        ("ops", "[ops]"),
        ("fleet", "[fleet]"),
    ] {
        homes.push((label, section_keys(name).unwrap_or_default()));
    }
    homes.push(("[[strategy]]", fields_of::<StrategyConfig>()));
    homes
}

/// Every key is one its table accepts, and sections have the right shape.
fn check_keys(map: &SourceMap, origin: &Path) -> Result<(), ConfigError> {
    for entry in map.entries() {
        let Some(Seg::Key(key)) = entry.path.0.last() else {
            continue;
        };
        let table = entry.path.parent();
        let Some(known) = known_keys(&table) else {
            continue;
        };
        let error = |message: String, hint: String| {
            ConfigError::new(origin, message)
                .at(map.position(entry.key_span.start))
                .key(entry.path.to_string())
                .hint(hint)
        };
        if !known.contains(&key.as_str()) {
            let message = format!("unknown key `{key}` {}", map.where_in(&table));
            return Err(error(
                message,
                unknown_key_hint(key, map.table_name(&table), known),
            ));
        }
        if !table.0.is_empty() {
            continue;
        }
        if section_keys(key).is_some() && entry.kind != "table" {
            let hint = if entry.kind == "array" {
                format!("write [{key}] with single brackets; [[…]] is only for [[strategy]]")
            } else {
                format!("put its keys under a [{key}] header")
            };
            let message = format!("`{key}` must be a table, found {}", found(entry, map));
            return Err(error(message, hint));
        }
        if key == "strategy" && entry.kind != "array" {
            return Err(error(
                format!(
                    "`strategy` must be an array of tables, found {}",
                    found(entry, map)
                ),
                "start each strategy with [[strategy]] (double brackets); its [strategy.params] table goes after it".to_owned(),
            ));
        }
    }
    Ok(())
}

fn unknown_key_hint(key: &str, table_name: String, known: &[&str]) -> String {
    let elsewhere: Vec<&str> = homes()
        .into_iter()
        .filter(|(name, keys)| *name != table_name && keys.contains(&key))
        // The top-level `symbols` is the [symbols.NAME] tables, never a list.
        .filter(|(name, _)| !(key == "symbols" && *name == "the top level"))
        .map(|(name, _)| name)
        .collect();
    if !elsewhere.is_empty() {
        return format!("`{key}` belongs in {}", elsewhere.join(" or "));
    }
    if let Some(close) = suggest::closest(key, known) {
        return format!("did you mean `{close}`?");
    }
    for (name, keys) in homes() {
        if name == table_name {
            continue;
        }
        if let Some(close) = suggest::closest(key, keys) {
            return format!("did you mean `{close}` in {name}?");
        }
    }
    let mut hint = format!("known keys: {}", suggest::list(known));
    if table_name.starts_with("[[strategy]]") {
        hint.push_str(
            "; strategy parameters go in a [strategy.params] table after the [[strategy]]",
        );
    }
    hint
}

// ---------------------------------------------------------------- types

fn serde_error(error: &toml::de::Error, map: &SourceMap, origin: &Path) -> ConfigError {
    let raw = error.message();
    let span = error.span();
    let entry = span
        .as_ref()
        .and_then(|s| map.find_span(s, found_kind(raw)));
    let position = span.as_ref().and_then(|s| map.position(s.start));
    let Some(entry) = entry else {
        return ConfigError::new(origin, raw)
            .at(position)
            .hint("config/README.md lists every key with its type and default");
    };
    let subject = subject(map, &entry.path);
    let key = entry.path.last_key().unwrap_or_default();
    let base = ConfigError::new(origin, raw)
        .at(position)
        .key(entry.path.to_string());

    if let Some(field) = between_backticks(raw).filter(|_| raw.starts_with("missing field")) {
        let table = map.table_name(&entry.path);
        let hint = if table.starts_with("[[strategy]]") {
            "every [[strategy]] needs an id and a wasm file, for example id = \"sma-fast\" and wasm = \"sma_cross.wasm\"".to_owned()
        } else {
            format!("add `{field}` to {table}")
        };
        return ConfigError {
            message: format!("missing key `{field}` in {table}"),
            key: Some(entry.path.key(field).to_string()),
            ..base
        }
        .hint(hint);
    }

    if let Some(value) = between_backticks(raw).filter(|_| raw.starts_with("unknown variant")) {
        let choices = choices(&entry.path);
        let quoted: Vec<String> = choices.iter().map(|c| format!("\"{c}\"")).collect();
        let hint = match suggest::closest(value, choices) {
            Some(close) => Some(format!("did you mean \"{close}\"?")),
            None if choices.len() == 1 => Some(format!(
                "\"{}\" is the only {key} this runtime has so far",
                choices[0]
            )),
            None => choices
                .first()
                .map(|first| format!("for example: {key} = \"{first}\"")),
        };
        return ConfigError {
            message: format!(
                "invalid value for {subject}: expected {}, found \"{value}\"",
                or_list(&quoted)
            ),
            ..base
        }
        .maybe_hint(hint);
    }

    if raw.starts_with("unknown field") {
        let table = entry.path.parent();
        let known = known_keys(&table).unwrap_or_default();
        return ConfigError {
            message: format!("unknown key `{key}` {}", map.where_in(&table)),
            ..base
        }
        .hint(unknown_key_hint(key, map.table_name(&table), known));
    }

    let expected = if raw == "wanted string or table" {
        let choices: Vec<String> = choices(&entry.path)
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect();
        Some(format!("a string ({})", or_list(&choices)))
    } else {
        raw.strip_prefix("invalid type: ")
            .or_else(|| raw.strip_prefix("invalid value: "))
            .and_then(|rest| rest.rsplit_once(", expected "))
            .map(|(_, expected)| describe_expected(expected, key))
    };
    let Some(expected) = expected else {
        return ConfigError {
            message: format!("{subject}: {raw}"),
            ..base
        }
        .hint("config/README.md lists every key with its type and default");
    };
    let what = if raw.starts_with("invalid value") {
        "invalid value"
    } else {
        "wrong type"
    };
    let hint = unquote_hint(entry, key, &expected)
        .or_else(|| table_hint(&entry.path, &expected))
        .or_else(|| example(&entry.path).map(|e| format!("for example: {e}")))
        // Keys with no default to show (risk.allow_short): say the syntax.
        .or_else(|| {
            expected
                .starts_with("a boolean")
                .then(|| format!("write true or false without quotes, for example: {key} = false"))
        });
    ConfigError {
        message: format!(
            "{what} for {subject}: expected {expected}, found {}",
            found(entry, map)
        ),
        ..base
    }
    .maybe_hint(hint)
}

/// How messages name a key: "`debounce_ms` in [hot_reload]",
/// "element 2 of `symbols` in [feed]", "[[strategy]] #1".
fn subject(map: &SourceMap, path: &KeyPath) -> String {
    match path.0.as_slice() {
        [Seg::Key(s), Seg::Index(_)] if s == "strategy" => map.table_name(path),
        [.., Seg::Key(key), Seg::Index(i)] => {
            let table = path.parent().parent();
            format!("element {} of `{key}` {}", i + 1, map.where_in(&table))
        }
        [.., Seg::Key(key)] => format!("`{key}` {}", map.where_in(&path.parent())),
        _ => format!("`{path}`"),
    }
}

/// What the file has at a key, as written: `string "fast"`, `integer -1`, `a table`.
fn found(entry: &Entry, map: &SourceMap) -> String {
    match entry.kind {
        "table" => "a table".to_owned(),
        "array" => "an array".to_owned(),
        kind => format!("{kind} {}", map.slice(&entry.value_span)),
    }
}

/// Serde's name of a type, in config words, with the unit the key's name carries.
fn describe_expected(expected: &str, key: &str) -> String {
    let base = match expected {
        "u8" | "u16" | "u64" | "u128" | "usize" => "a non-negative integer".to_owned(),
        "u32" => format!("a non-negative integer up to {}", u32::MAX),
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "an integer".to_owned(),
        "f32" | "f64" => "a number".to_owned(),
        "a boolean" => "a boolean (true or false)".to_owned(),
        "a string" | "path string" | "a character" => "a string".to_owned(),
        "a sequence" => "an array".to_owned(),
        "a map" => "a table".to_owned(),
        other if other.starts_with("struct ") => "a table".to_owned(),
        other => other.to_owned(),
    };
    match unit_of(key) {
        Some(unit) if !base.starts_with("a table") && !base.starts_with("an array") => {
            format!("{base} in {unit}")
        }
        _ => base,
    }
}

/// The unit a key's name ends in.
pub(crate) fn unit_of(key: &str) -> Option<&'static str> {
    [
        ("_ms", "milliseconds"),
        ("_us", "microseconds"),
        ("_mb", "MiB"),
        ("_kb", "KiB"),
        ("_bps", "basis points"),
    ]
    .into_iter()
    .find(|(suffix, _)| key.ends_with(suffix))
    .map(|(_, unit)| unit)
}

/// `debounce_ms = "250"`: the value is right, the quotes are not.
fn unquote_hint(entry: &Entry, key: &str, expected: &str) -> Option<String> {
    let inner = entry.text.as_deref()?;
    let wants_scalar = expected.starts_with("a non-negative integer")
        || expected.starts_with("an integer")
        || expected.starts_with("a number")
        || expected.starts_with("a boolean");
    let parsed = format!("v = {inner}").parse::<toml::Table>().ok()?;
    let unquoted = matches!(
        parsed.get("v")?,
        toml::Value::Integer(_) | toml::Value::Float(_) | toml::Value::Boolean(_)
    );
    (wants_scalar && unquoted).then(|| format!("remove the quotes: {key} = {inner}"))
}

/// `params = 5`: tables are written as their own [section].
fn table_hint(path: &KeyPath, expected: &str) -> Option<String> {
    if expected != "a table" {
        return None;
    }
    Some(match path.0.as_slice() {
        [Seg::Key(s), Seg::Index(_), Seg::Key(p)] if s == "strategy" && p == "params" => {
            "write the parameters under a [strategy.params] header after the [[strategy]], one key each (fast = 10)".to_owned()
        }
        [Seg::Key(s), Seg::Index(_)] if s == "strategy" => {
            "each strategy is a table of its own: start it with [[strategy]]".to_owned()
        }
        segs if segs.iter().all(|s| matches!(s, Seg::Key(_))) => {
            format!("write it as a [{path}] table")
        }
        _ => return None,
    })
}

/// The TOML kind of what serde found, from "invalid type: sequence, …".
fn found_kind(raw: &str) -> Option<&'static str> {
    let found = raw
        .strip_prefix("invalid type: ")
        .or_else(|| raw.strip_prefix("invalid value: "))?;
    [
        ("sequence", "array"),
        ("map", "table"),
        ("string", "string"),
        ("integer", "integer"),
        ("floating point", "float"),
        ("boolean", "boolean"),
    ]
    .into_iter()
    .find(|(serde, _)| found.starts_with(serde))
    .map(|(_, toml)| toml)
}

/// The allowed values of an enum-valued key.
fn choices(path: &KeyPath) -> &'static [&'static str] {
    let keys: Vec<&str> = path
        .0
        .iter()
        .filter_map(|s| match s {
            Seg::Key(k) => Some(k.as_str()),
            Seg::Index(_) => None,
        })
        .collect();
    match keys.as_slice() {
        ["profile"] => variants_of::<Profile>(),
        ["feed", "kind"] => variants_of::<FeedKind>(),
        ["broker", "kind"] => variants_of::<BrokerKind>(),
        ["broker", "bracket_tie"] => variants_of::<BracketTie>(),
        ["feed", "on_bad_row"] => variants_of::<BadRowPolicy>(),
        ["strategy", "language"] => variants_of::<crate::Language>(),
        ["strategy", "deploy", "mode"] => variants_of::<super::deploy::DeployMode>(),
        ["strategy", "deploy", "swap"] => variants_of::<super::deploy::SwapWhen>(),
        _ => &[],
    }
}

/// `key = value` for a key, taken from the defaults and a sample strategy;
/// for an array element, the whole array.
fn example(path: &KeyPath) -> Option<String> {
    let mut segs = path.0.as_slice();
    if let [init @ .., Seg::Index(_)] = segs {
        segs = init;
    }
    let Some(Seg::Key(key)) = segs.last() else {
        return None;
    };
    let mut sample = Config::default();
    sample.runtime.journal_dir = Some("journal".into());
    let mut strategy = StrategyConfig::new("sma-fast", "sma_cross.wasm");
    strategy.symbols = vec!["BTCUSD".into()];
    sample.strategies.push(strategy);
    let table = toml::Table::try_from(&sample).ok()?;

    let mut value: Option<&toml::Value> = None;
    for seg in segs {
        value = Some(match (seg, value) {
            (Seg::Key(k), None) => table.get(k)?,
            (Seg::Key(k), Some(v)) => v.get(k.as_str())?,
            (Seg::Index(_), Some(v)) => v.get(0)?,
            (Seg::Index(_), None) => return None,
        });
    }
    let value = value?;
    (!value.is_table()).then(|| format!("{key} = {value}"))
}

fn between_backticks(text: &str) -> Option<&str> {
    let start = text.find('`')? + 1;
    let len = text[start..].find('`')?;
    Some(&text[start..start + len])
}

/// `"a"`, `"a" or "b"`, `"a", "b" or "c"`.
fn or_list(items: &[String]) -> String {
    match items {
        [] => "one of the documented values".to_owned(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> ConfigError {
        parse(text, Path::new("t.toml")).unwrap_err()
    }

    #[test]
    fn unknown_keys_point_at_the_key_and_suggest_a_fix() {
        let e = error("[hot_reload]\nenabled = true\n  debounce_msec = 5\n");
        assert_eq!(e.message, "unknown key `debounce_msec` in [hot_reload]");
        assert_eq!((e.line, e.column), (Some(3), Some(3)));
        assert_eq!(e.key.as_deref(), Some("hot_reload.debounce_msec"));
        assert_eq!(e.hint.as_deref(), Some("did you mean `debounce_ms`?"));

        let e = error("[limits]\ncolour = 1\n");
        assert!(
            e.hint
                .unwrap()
                .starts_with("known keys: fuel_per_bar, deadline_us, memory_mb")
        );

        let e = error("seed = 1\n");
        assert_eq!(e.hint.as_deref(), Some("`seed` belongs in [feed]"));

        let e = error("hot_reload.debounce_msec = 1\n");
        assert_eq!(e.message, "unknown key `debounce_msec` in [hot_reload]");
    }

    #[test]
    fn wrong_types_name_key_expectation_and_value() {
        let e = error("[hot_reload]\ndebounce_ms = \"250\"\n");
        assert_eq!(
            e.message,
            "wrong type for `debounce_ms` in [hot_reload]: expected a non-negative integer in milliseconds, found string \"250\""
        );
        assert_eq!((e.line, e.column), (Some(2), Some(15)));
        assert_eq!(
            e.hint.as_deref(),
            Some("remove the quotes: debounce_ms = 250")
        );

        let e = error("[feed]\nsymbols = [\"BTCUSD\", 3]\n");
        assert!(
            e.message
                .starts_with("wrong type for element 2 of `symbols` in [feed]")
        );
        assert_eq!(e.key.as_deref(), Some("feed.symbols[1]"));
        assert_eq!(
            e.hint.as_deref(),
            Some("for example: symbols = [\"BTCUSD\", \"ETHUSD\"]")
        );

        let e = error("[hot_reload]\nkeep_versions = -1\n");
        assert!(
            e.message.starts_with("invalid value for `keep_versions`"),
            "{e}"
        );
    }

    #[test]
    fn enums_list_their_values() {
        let e = error("profile = \"Prod\"\n");
        assert_eq!(
            e.message,
            "invalid value for `profile` at the top level: expected \"dev\" or \"prod\", found \"Prod\""
        );
        assert_eq!(e.hint.as_deref(), Some("did you mean \"prod\"?"));
        let e = error("profile = 1\n");
        assert!(
            e.message
                .contains("expected a string (\"dev\" or \"prod\"), found integer 1")
        );
        let e = error("[feed]\nkind = \"cvs\"\n");
        assert!(
            e.message
                .contains("\"synthetic\", \"csv\", \"tcp\" or \"stdin\""),
            "{}",
            e.message
        );
        assert_eq!(e.hint.as_deref(), Some("did you mean \"csv\"?"));
    }

    #[test]
    fn shapes_of_sections_are_checked() {
        let e = error("[strategy]\nid = \"a\"\nwasm = \"a.wasm\"\n");
        assert!(
            e.message
                .starts_with("`strategy` must be an array of tables")
        );
        let e = error("[[hot_reload]]\nenabled = true\n");
        assert_eq!(e.message, "`hot_reload` must be a table, found an array");
        let e = error("[[strategy]]\nwasm = \"a.wasm\"\n");
        assert_eq!(e.message, "missing key `id` in [[strategy]] #1");
        assert_eq!(e.key.as_deref(), Some("strategy[0].id"));
        let e = error("[[strategy]]\nid = \"a\"\nwasm = \"a.wasm\"\nparams = 3\n");
        assert!(e.hint.unwrap().contains("[strategy.params]"));
    }

    #[test]
    fn syntax_errors_are_located() {
        let e = error("a = 1\nb = \"open\nc = 2\n");
        assert_eq!((e.line, e.column), (Some(2), Some(10)));
        assert!(e.message.starts_with("unterminated string"));
        let e = error("[feed]\nkind = synthetic\n");
        assert_eq!(
            e.hint.as_deref(),
            Some("write \"synthetic\", with the quotes")
        );
        let e = error("[feed]\nseed = 1\nseed = 2\n");
        assert_eq!(
            e.message,
            "duplicate key `seed`: it is already defined above"
        );
        assert_eq!(e.line, Some(3));
    }
}
