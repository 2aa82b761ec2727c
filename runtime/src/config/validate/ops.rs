//! `[ops]`: the listen address, tokens, and the server's connection and rate limits.

use super::*;

/// `[ops]`: a parseable listen address; tokens well-formed with unique
/// names; a token whenever the API is reachable from other machines or the
/// profile is `prod`. Env-var tokens are resolved at start, not here, so a
/// config's validity does not depend on the shell it is checked in.
pub(super) fn check_ops(
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
pub(super) fn check_ops_limits(
    ops: &crate::config::schema::OpsSection,
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
