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
            let merged = s.limits.over(&config.limits);
            let table = at.key("limits");
            check_limits(
                &merged,
                &table,
                &format!("[strategy.limits] of {name}"),
                &fail,
            )?;
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

/// `[risk]` (or one `[strategy.risk]`): every cap set is a positive number.
fn check_risk(
    risk: &super::schema::RiskSection,
    table: &KeyPath,
    where_: &str,
    fail_at: &dyn Fn(KeyPath, String, Option<String>) -> Result<(), ConfigError>,
) -> Result<(), ConfigError> {
    for (name, value, hint) in [
        (
            "max_position",
            risk.max_position,
            "it caps the absolute position per symbol, e.g. max_position = 10.0; leave it out for no cap",
        ),
        (
            "max_notional_per_order",
            risk.max_notional_per_order,
            "it caps quantity x price of one order, e.g. max_notional_per_order = 50_000.0; leave it out for no cap",
        ),
        (
            "max_leverage",
            risk.max_leverage,
            "it caps gross exposure over equity: 1.0 is a cash account (no buying beyond the cash), 2.0 allows twice the equity; leave it out for no cap",
        ),
        (
            "max_gross_exposure",
            risk.max_gross_exposure,
            "it caps the sum of every position's absolute value (with working orders) in account currency, e.g. max_gross_exposure = 200_000.0; leave it out for no cap",
        ),
    ] {
        if let Some(v) = value
            && !(v.is_finite() && v > 0.0)
        {
            return fail_at(
                table.key(name),
                format!("`{name}` in {where_} must be a number above 0, not {v}"),
                Some(hint.into()),
            );
        }
    }
    if risk.max_orders_per_sec == Some(0) {
        return fail_at(
            table.key("max_orders_per_sec"),
            format!("`max_orders_per_sec` in {where_} must be at least 1, not 0"),
            Some("with 0 every order is refused; leave the key out for no cap".into()),
        );
    }
    if let Some(v) = risk.max_drawdown_pct
        && !(v.is_finite() && v > 0.0 && v <= 100.0)
    {
        return fail_at(
            table.key("max_drawdown_pct"),
            format!("`max_drawdown_pct` in {where_} must be above 0 and at most 100, not {v}"),
            Some("it is a percentage of the equity peak: 20 halts the strategy after a 20 % drawdown".into()),
        );
    }
    Ok(())
}

/// `[symbols.NAME]`: each names a feed symbol; `tick` and `lot` are
/// positive finite numbers.
fn check_symbols(
    config: &Config,
    fail_at: &dyn Fn(KeyPath, String, Option<String>) -> Result<(), ConfigError>,
) -> Result<(), ConfigError> {
    let feed: Vec<&str> = config.feed.symbols.iter().map(String::as_str).collect();
    let feed_list = suggest::list(&feed);
    for (name, section) in &config.symbols {
        let table = KeyPath::of(&["symbols", name]);
        if !feed.contains(&name.as_str()) {
            let hint = match suggest::closest(name, &feed) {
                Some(close) => {
                    format!("did you mean [symbols.{close}]? the feed produces {feed_list}")
                }
                None => format!(
                    "the feed produces {feed_list}; add `{name}` to symbols in [feed], or remove [symbols.{name}]"
                ),
            };
            return fail_at(
                table,
                format!("[symbols.{name}] names `{name}`, which is not in feed.symbols"),
                Some(hint),
            );
        }
        for (key, value, hint) in [
            (
                "tick",
                section.tick,
                "tick is the price increment, e.g. tick = 0.01; limit and stop prices off it are rounded to it",
            ),
            (
                "lot",
                section.lot,
                "lot is the quantity increment, e.g. lot = 1 (whole units) or lot = 0.001; orders off it are refused",
            ),
        ] {
            if let Some(v) = value
                && !(v.is_finite() && v > 0.0)
            {
                return fail_at(
                    table.key(key),
                    format!("`{key}` in [symbols.{name}] must be a number above 0, not {v}"),
                    Some(hint.into()),
                );
            }
        }
    }
    Ok(())
}

/// The keys the chosen `feed.kind` needs.
fn check_feed_source(
    config: &Config,
    fail_at: &dyn Fn(KeyPath, String, Option<String>) -> Result<(), ConfigError>,
) -> Result<(), ConfigError> {
    let feed = &config.feed;
    let at = |name: &str| KeyPath::of(&["feed", name]);
    if !(feed.speed.is_finite() && feed.speed >= 0.0) {
        return fail_at(
            at("speed"),
            format!(
                "`speed` in [feed] must be a finite number of at least 0, not {}",
                feed.speed
            ),
            Some("0 replays as fast as possible; 60 plays a minute of bars per second".into()),
        );
    }
    match feed.kind {
        super::schema::FeedKind::Csv if feed.path.is_none() => fail_at(
            at("kind"),
            "`kind = \"csv\"` in [feed] needs `path`, the CSV file to replay".into(),
            Some("add for example: path = \"data/btcusd-1h.csv\" (relative to this config file)".into()),
        ),
        super::schema::FeedKind::Tcp => match feed.listen.parse::<std::net::SocketAddr>() {
            Ok(addr) if addr.ip().is_loopback() => Ok(()),
            Ok(addr) => fail_at(
                at("listen"),
                format!("`listen` in [feed] is {addr}, which is not a loopback address"),
                Some("the line feed takes bars from processes on this machine only: use 127.0.0.1:<port>".into()),
            ),
            Err(e) => fail_at(
                at("listen"),
                format!("`listen` in [feed] is not an address: {:?} ({e})", feed.listen),
                Some(format!("for example: listen = \"{}\"", d::FEED_LISTEN)),
            ),
        },
        _ => Ok(()),
    }
}

/// `[ops]`: a parseable listen address; tokens well-formed with unique
/// names; a token whenever the API is reachable from other machines or the
/// profile is `prod`. Env-var tokens are resolved at start, not here, so a
/// config's validity does not depend on the shell it is checked in.
fn check_ops(
    config: &Config,
    fail_at: &dyn Fn(KeyPath, String, Option<String>) -> Result<(), ConfigError>,
) -> Result<(), ConfigError> {
    let ops = &config.ops;
    let at = |name: &str| KeyPath::of(&["ops", name]);
    let token_at = |i: usize, name: &str| KeyPath::of(&["ops", "tokens"]).index(i).key(name);
    let addr = match ops.listen.parse::<std::net::SocketAddr>() {
        Ok(addr) => addr,
        Err(e) => {
            return fail_at(
                at("listen"),
                format!(
                    "`listen` in [ops] is not an address: {:?} ({e})",
                    ops.listen
                ),
                Some(format!(
                    "for example: listen = \"{}\" (port 0 picks a free port)",
                    d::OPS_LISTEN
                )),
            );
        }
    };
    let mut names: HashMap<&str, usize> = HashMap::new();
    for (i, token) in ops.tokens.iter().enumerate() {
        if token.name.is_empty() || !token.name.chars().all(is_id_char) {
            return fail_at(
                token_at(i, "name"),
                format!(
                    "ops token #{} needs a `name` of lowercase letters, digits, `-` and `_`, not {:?}",
                    i + 1,
                    token.name
                ),
                Some(
                    "the name is what the audit trail records, for example: name = \"alice\""
                        .into(),
                ),
            );
        }
        if let Some(first) = names.insert(&token.name, i) {
            return fail_at(
                token_at(i, "name"),
                format!(
                    "ops tokens #{} and #{} are both named `{}`",
                    first + 1,
                    i + 1,
                    token.name
                ),
                Some("give each token its own name, so the audit trail can tell them apart".into()),
            );
        }
        match (&token.token, &token.token_env) {
            (Some(_), Some(_)) | (None, None) => {
                return fail_at(
                    token_at(i, "name"),
                    format!(
                        "ops token `{}` needs exactly one of `token` and `token_env`",
                        token.name
                    ),
                    Some("prefer token_env = \"SANDBAR_OPS_TOKEN\": the secret then stays out of the file".into()),
                );
            }
            (Some(secret), None) if secret.chars().count() < d::OPS_MIN_TOKEN_LEN => {
                return fail_at(
                    token_at(i, "token"),
                    format!(
                        "ops token `{}` is shorter than {} characters",
                        token.name,
                        d::OPS_MIN_TOKEN_LEN
                    ),
                    Some("generate one with: openssl rand -hex 16".into()),
                );
            }
            (None, Some(var)) if var.is_empty() || var.contains('=') => {
                return fail_at(
                    token_at(i, "token_env"),
                    format!(
                        "`token_env` of ops token `{}` is not an environment variable name: {var:?}",
                        token.name
                    ),
                    Some("for example: token_env = \"SANDBAR_OPS_TOKEN\"".into()),
                );
            }
            _ => {}
        }
    }
    check_ops_limits(ops, fail_at)?;
    if !config.ops_enabled() || !ops.tokens.is_empty() {
        return Ok(());
    }
    if !addr.ip().is_loopback() {
        return fail_at(
            at("listen"),
            format!(
                "`listen` in [ops] is {addr}, which other machines can reach, and [ops] has no token"
            ),
            Some("add a [[ops.tokens]] entry (name = \"...\", token_env = \"SANDBAR_OPS_TOKEN\"), or listen on 127.0.0.1".into()),
        );
    }
    if config.profile == Profile::Prod {
        return fail_at(
            at("enabled"),
            "the ops API in profile \"prod\" needs a token: control actions must say who they are".into(),
            Some("add [[ops.tokens]] with name = \"...\" and token_env = \"SANDBAR_OPS_TOKEN\", or set enabled = false".into()),
        );
    }
    Ok(())
}

/// `[ops]` connection and rate limits: each at least 1, event streams fewer
/// than connections, the idle timeout above the event keep-alive.
fn check_ops_limits(
    ops: &super::schema::OpsSection,
    fail_at: &dyn Fn(KeyPath, String, Option<String>) -> Result<(), ConfigError>,
) -> Result<(), ConfigError> {
    let at = |name: &str| KeyPath::of(&["ops", name]);
    let at_least_one = [
        ("max_connections", ops.max_connections as u64),
        ("max_event_streams", ops.max_event_streams as u64),
        ("header_timeout_ms", ops.header_timeout_ms),
        ("actions_per_second", u64::from(ops.actions_per_second)),
        ("action_burst", u64::from(ops.action_burst)),
    ];
    for (name, value) in at_least_one {
        if value == 0 {
            return fail_at(
                at(name),
                format!("`{name}` in [ops] must be at least 1"),
                Some(format!(
                    "leave it out for the default, or set a positive {name}"
                )),
            );
        }
    }
    if ops.max_event_streams >= ops.max_connections {
        return fail_at(
            at("max_event_streams"),
            format!(
                "`max_event_streams` in [ops] ({}) must be below `max_connections` ({}): long-lived event streams would leave no connection for status and control",
                ops.max_event_streams, ops.max_connections
            ),
            Some("raise `ops.max_connections` or lower `ops.max_event_streams`".into()),
        );
    }
    if ops.idle_timeout_ms <= d::OPS_EVENTS_KEEP_ALIVE_MS {
        return fail_at(
            at("idle_timeout_ms"),
            format!(
                "`idle_timeout_ms` in [ops] ({}) must be above {} ms, the event streams' keep-alive interval, or idle streams would be cut",
                ops.idle_timeout_ms,
                d::OPS_EVENTS_KEEP_ALIVE_MS
            ),
            Some(format!(
                "for example: idle_timeout_ms = {}",
                d::OPS_IDLE_TIMEOUT_MS
            )),
        );
    }
    Ok(())
}

/// The `[limits]` rules, for the global table and for each
/// `[strategy.limits]` (checked merged over the global one).
fn check_limits(
    limits: &super::schema::LimitsSection,
    table: &KeyPath,
    where_: &str,
    fail_at: &dyn Fn(KeyPath, String, Option<String>) -> Result<(), ConfigError>,
) -> Result<(), ConfigError> {
    if limits.fuel_per_bar == 0 {
        return fail_at(
            table.key("fuel_per_bar"),
            format!("`fuel_per_bar` in {where_} must be at least 1, not 0"),
            Some(format!(
                "without fuel every call traps at once; the default is {}",
                d::FUEL_PER_BAR
            )),
        );
    }
    if !(1..=d::MAX_DEADLINE_US).contains(&limits.deadline_us) {
        return fail_at(
            table.key("deadline_us"),
            format!(
                "`deadline_us` in {where_} must be between 1 and {} (one minute), not {}",
                d::MAX_DEADLINE_US,
                limits.deadline_us
            ),
            Some(format!("the default is {}", d::DEADLINE_US)),
        );
    }
    if !(1..=d::MAX_MEMORY_MB).contains(&limits.memory_mb) {
        return fail_at(
            table.key("memory_mb"),
            format!(
                "`memory_mb` in {where_} must be between 1 and {} (the most a wasm32 memory can hold), not {}",
                d::MAX_MEMORY_MB,
                limits.memory_mb
            ),
            Some(format!("the default is {}", d::MEMORY_MB)),
        );
    }
    if !(1..=d::MAX_STATE_DEADLINE_US).contains(&limits.state_deadline_us) {
        return fail_at(
            table.key("state_deadline_us"),
            format!(
                "`state_deadline_us` in {where_} must be between 1 and {} (one second), not {}",
                d::MAX_STATE_DEADLINE_US,
                limits.state_deadline_us
            ),
            Some(format!(
                "it bounds how long `snapshot` and `restore` may stall the bar loop; the default is {}",
                d::STATE_DEADLINE_US
            )),
        );
    }
    if limits.log_bytes_per_call > d::MAX_LOG_BYTES_PER_CALL {
        return fail_at(
            table.key("log_bytes_per_call"),
            format!(
                "`log_bytes_per_call` in {where_} must be at most {} (1 MiB), not {}",
                d::MAX_LOG_BYTES_PER_CALL,
                limits.log_bytes_per_call
            ),
            Some(format!(
                "every logged byte is copied out of the guest on the bar loop; the default is {}",
                d::LOG_BYTES_PER_CALL
            )),
        );
    }
    if limits.max_component_mb == 0 {
        return fail_at(
            table.key("max_component_mb"),
            format!("`max_component_mb` in {where_} must be at least 1, not 0"),
            Some(format!(
                "with 0 no component is loadable; the default is {}",
                d::MAX_COMPONENT_MB
            )),
        );
    }

    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::StrategyConfig;

    fn check(edit: impl FnOnce(&mut Config)) -> Result<(), ConfigError> {
        let mut config = Config::default();
        config.strategies.push(StrategyConfig::new("a", "a.wasm"));
        edit(&mut config);
        validate(&config, &SourceMap::default())
    }

    fn message(edit: impl FnOnce(&mut Config)) -> String {
        check(edit).unwrap_err().message
    }

    #[test]
    fn defaults_pass() {
        check(|_| {}).unwrap();
    }

    #[test]
    fn prod_pins_everything() {
        assert_eq!(
            message(|c| {
                c.profile = Profile::Prod;
                c.hot_reload.skip_hash_verification = true;
            }),
            "prod never skips hash verification"
        );
        let e = check(|c| c.profile = Profile::Prod).unwrap_err();
        assert!(e.message.contains("strategy `a` has no sha256"), "{e}");
        assert_eq!(
            e.hint.unwrap(),
            "run `runtime hash strategies/dist/a.wasm` and paste the line it prints into this [[strategy]]"
        );
        // A disabled strategy is not loaded, so needs no pin.
        check(|c| {
            c.profile = Profile::Prod;
            c.strategies[0].enabled = false;
        })
        .unwrap();
        check(|c| {
            c.profile = Profile::Prod;
            c.strategies[0].sha256 = Some("AB".repeat(32));
        })
        .unwrap();
    }

    #[test]
    fn ranges_are_enforced() {
        assert!(message(|c| c.runtime.history_bars = 0).contains("between 1 and 1000000"));
        assert!(message(|c| c.runtime.history_bars = 1_000_001).contains("not 1000001"));
        assert!(message(|c| c.hot_reload.keep_versions = 0).contains("keep_versions"));
        assert!(message(|c| c.hot_reload.debounce_ms = 60_001).contains("at most 60000"));
        check(|c| c.hot_reload.debounce_ms = 60_000).unwrap();
        assert!(
            message(|c| c.hot_reload.rollback_after_traps = 0).contains("rollback_after_traps")
        );
        assert!(message(|c| c.limits.memory_mb = 0).contains("memory_mb"));
        assert!(message(|c| c.limits.memory_mb = 4097).contains("not 4097"));
        assert!(message(|c| c.limits.fuel_per_bar = 0).contains("fuel_per_bar"));
        assert!(message(|c| c.limits.max_component_mb = 0).contains("max_component_mb"));
        assert!(message(|c| c.limits.state_deadline_us = 0).contains("state_deadline_us"));
        assert!(message(|c| c.limits.state_deadline_us = 1_000_001).contains("not 1000001"));
        assert!(message(|c| c.limits.log_bytes_per_call = 2 << 20).contains("log_bytes_per_call"));
        assert!(message(|c| c.broker.commission = -0.1).contains("commission"));
        assert!(message(|c| c.broker.slippage_bps = f64::NAN).contains("slippage_bps"));
        assert!(message(|c| c.broker.commission = f64::INFINITY).contains("not inf"));
        assert!(message(|c| c.broker.starting_cash = 0.0).contains("starting_cash"));
        assert!(message(|c| c.risk.max_position = Some(0.0)).contains("max_position"));
        assert!(message(|c| c.risk.max_orders_per_sec = Some(0)).contains("at least 1"));
        assert!(message(|c| c.risk.max_drawdown_pct = Some(150.0)).contains("at most 100"));
        assert!(
            message(|c| c.risk.max_notional_per_order = Some(f64::NAN))
                .contains("max_notional_per_order")
        );
        assert!(message(|c| c.feed.kind = super::super::FeedKind::Csv).contains("needs `path`"));
        assert!(
            message(|c| {
                c.feed.kind = super::super::FeedKind::Tcp;
                c.feed.listen = "0.0.0.0:9100".into();
            })
            .contains("not a loopback")
        );
        assert!(message(|c| c.feed.speed = -1.0).contains("speed"));
        assert!(message(|c| c.feed.symbols.clear()).contains("is empty"));
        assert!(message(|c| c.feed.symbols.push("BTCUSD".into())).contains("twice"));
    }

    #[test]
    fn ops_connection_and_rate_limits_are_enforced() {
        check(|c| {
            c.ops.max_connections = 2;
            c.ops.max_event_streams = 1;
        })
        .unwrap();
        assert!(message(|c| c.ops.max_connections = 0).contains("max_connections"));
        assert!(message(|c| c.ops.header_timeout_ms = 0).contains("at least 1"));
        assert!(message(|c| c.ops.actions_per_second = 0).contains("actions_per_second"));
        assert!(message(|c| c.ops.action_burst = 0).contains("action_burst"));
        assert!(
            message(|c| c.ops.max_event_streams = c.ops.max_connections)
                .contains("must be below `max_connections`")
        );
        assert!(message(|c| c.ops.idle_timeout_ms = 15_000).contains("keep-alive interval"));
    }

    #[test]
    fn ops_rules() {
        use crate::config::OpsToken;
        let token = |name: &str| OpsToken {
            name: name.into(),
            token_env: Some("SANDBAR_OPS_TOKEN".into()),
            ..OpsToken::default()
        };
        check(|c| c.ops.tokens.push(token("alice"))).unwrap();
        assert!(message(|c| c.ops.listen = "nowhere".into()).contains("not an address"));
        assert!(message(|c| c.ops.listen = "0.0.0.0:9190".into()).contains("has no token"));
        check(|c| {
            c.ops.listen = "0.0.0.0:9190".into();
            c.ops.tokens.push(token("alice"));
        })
        .unwrap();
        let prod = |c: &mut Config| {
            c.profile = Profile::Prod;
            c.strategies[0].sha256 = Some("0".repeat(64));
        };
        check(prod).unwrap();
        assert!(
            message(|c| {
                prod(c);
                c.ops.enabled = Some(true);
            })
            .contains("needs a token")
        );
        assert!(
            message(|c| c.ops.tokens.extend([token("alice"), token("alice")]))
                .contains("both named")
        );
        assert!(message(|c| c.ops.tokens.push(token("Alice!"))).contains("needs a `name`"));
        assert!(
            message(|c| c.ops.tokens.push(OpsToken {
                name: "bob".into(),
                token: Some("short".into()),
                ..OpsToken::default()
            }))
            .contains("shorter than 16")
        );
        assert!(
            message(|c| c.ops.tokens.push(OpsToken {
                name: "bob".into(),
                ..OpsToken::default()
            }))
            .contains("exactly one of")
        );
    }

    #[test]
    fn strategies_are_checked() {
        assert!(message(|c| c.strategies[0].id.clear()).contains("#1 has an empty id"));
        let e = check(|c| c.strategies[0].id = "SMA Fast".into()).unwrap_err();
        assert_eq!(e.hint.as_deref(), Some("for example id = \"sma-fast\""));
        assert!(
            message(|c| c.strategies.push(StrategyConfig::new("a", "b.wasm")))
                .contains("used by two")
        );
        for bad in ["../x.wasm", "/abs/x.wasm", "sub/../../x.wasm"] {
            assert!(
                message(|c| c.strategies[0].wasm = bad.into())
                    .contains("only files inside runtime.strategies_dir are loadable"),
                "{bad}"
            );
        }
        check(|c| c.strategies[0].wasm = "sub/x.wasm".into()).unwrap();
        assert!(
            message(|c| c.strategies[0].wasm = "x.wat".into()).contains("does not end in .wasm")
        );
        assert!(
            message(|c| c.strategies[0].sha256 = Some("ab".into())).contains("has 2 characters")
        );
        assert!(
            message(|c| c.strategies[0].sha256 = Some("g".repeat(64))).contains("contains `g`")
        );
        let e = check(|c| c.strategies[0].symbols = vec!["BTCUSDT".into()]).unwrap_err();
        assert!(
            e.message
                .contains("trades `BTCUSDT`, which is not in feed.symbols")
        );
        assert_eq!(
            e.hint.as_deref(),
            Some("did you mean `BTCUSD`? the feed produces BTCUSD, ETHUSD")
        );
        assert!(
            message(|c| c.strategies[0].symbols = vec!["ETHUSD".into(), "ETHUSD".into()])
                .contains("twice")
        );
        let e = check(|c| {
            c.strategies[0]
                .params
                .insert("fast".into(), toml::Value::Array(vec![]));
        })
        .unwrap_err();
        assert!(e.message.contains("parameter `fast` is an array"), "{e}");
        assert_eq!(e.key.as_deref(), Some("strategy[0].params.fast"));
    }
}
