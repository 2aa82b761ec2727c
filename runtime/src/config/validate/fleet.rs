//! `[fleet]`: names that become NATS subject tokens, credentials named
//! consistently, and prod never joining without them.

use super::*;

/// `[fleet]`: a URL, a node and fleet name usable as subject tokens,
/// labels well-formed, the heartbeat in range, credentials either a user
/// and password or an nkey seed, and some credentials in prod. Like ops
/// tokens, the variables are read at start, not here.
pub(super) fn check_fleet(
    config: &Config,
    fail_at: &dyn Fn(KeyPath, String, Option<String>) -> Result<(), ConfigError>,
) -> Result<(), ConfigError> {
    let Some(fleet) = &config.fleet else {
        return Ok(());
    };
    let at = |name: &str| KeyPath::of(&["fleet", name]);
    let scheme_ok = ["nats://", "tls://"]
        .iter()
        .any(|scheme| fleet.url.starts_with(scheme) && fleet.url.len() > scheme.len());
    if !scheme_ok {
        return fail_at(
            at("url"),
            format!(
                "`url` in [fleet] must be a nats:// or tls:// address, not {:?}",
                fleet.url
            ),
            Some(format!("for example: url = \"{}\"", d::FLEET_URL)),
        );
    }
    for (name, value) in [("node", &fleet.node), ("fleet", &fleet.fleet)] {
        if value.is_empty() || !value.chars().all(is_id_char) {
            let hint = match name {
                "node" => "name this machine, for example: node = \"ny-1\"".to_owned(),
                _ => format!(
                    "leave it out for {:?}, or name it like fleet = \"prod-eu\"",
                    d::FLEET_NAMESPACE
                ),
            };
            return fail_at(
                at(name),
                format!(
                    "`{name}` in [fleet] must be lowercase letters, digits, `-` and `_` (it is part of every key and subject), not {value:?}"
                ),
                Some(hint),
            );
        }
    }
    for (key, value) in &fleet.labels {
        let ok = |s: &str| !s.is_empty() && s.chars().all(|c| is_id_char(c) || c == '.');
        if !ok(key) || !ok(value) {
            return fail_at(
                KeyPath::of(&["fleet", "labels"]).key(key),
                format!(
                    "label {key:?} = {value:?} in [fleet] must be lowercase letters, digits, `-`, `_` and `.` on both sides"
                ),
                Some("for example: labels = { region = \"eu\", venue = \"paper\" }".into()),
            );
        }
    }
    if !(d::FLEET_MIN_HEARTBEAT_MS..=d::FLEET_MAX_HEARTBEAT_MS).contains(&fleet.heartbeat_ms) {
        return fail_at(
            at("heartbeat_ms"),
            format!(
                "`heartbeat_ms` in [fleet] must be between {} and {}, not {}",
                d::FLEET_MIN_HEARTBEAT_MS,
                d::FLEET_MAX_HEARTBEAT_MS,
                fleet.heartbeat_ms
            ),
            Some(format!("the default is {}", d::FLEET_HEARTBEAT_MS)),
        );
    }
    let vars = [
        ("user_env", &fleet.user_env),
        ("password_env", &fleet.password_env),
        ("nkey_seed_env", &fleet.nkey_seed_env),
    ];
    for (name, var) in vars {
        if let Some(var) = var
            && (var.is_empty() || var.contains('='))
        {
            return fail_at(
                at(name),
                format!("`{name}` in [fleet] is not an environment variable name: {var:?}"),
                Some("for example: nkey_seed_env = \"SANDBAR_NATS_SEED\"".into()),
            );
        }
    }
    if fleet.user_env.is_some() != fleet.password_env.is_some() {
        let (set, missing) = if fleet.user_env.is_some() {
            ("user_env", "password_env")
        } else {
            ("password_env", "user_env")
        };
        return fail_at(
            at(set),
            format!("[fleet] has `{set}` without `{missing}`"),
            Some(format!(
                "name both: user_env = \"SANDBAR_NATS_USER\", password_env = \"SANDBAR_NATS_PASSWORD\" (set `fleet.{missing}`)"
            )),
        );
    }
    if fleet.user_env.is_some() && fleet.nkey_seed_env.is_some() {
        return fail_at(
            at("nkey_seed_env"),
            "[fleet] names both a user and password and an nkey seed; a connection uses one".into(),
            Some("keep `fleet.nkey_seed_env` or `fleet.user_env` with `fleet.password_env`".into()),
        );
    }
    if config.profile == Profile::Prod && !fleet.has_credentials() {
        return fail_at(
            at("node"),
            "[fleet] in profile \"prod\" needs credentials: a node must not join a fleet anyone on the network can steer".into(),
            Some("set nkey_seed_env = \"SANDBAR_NATS_SEED\" (or user_env and password_env) in [fleet]".into()),
        );
    }
    Ok(())
}
