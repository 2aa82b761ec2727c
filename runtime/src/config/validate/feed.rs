//! `[feed]` per kind: what each feed source needs.

use super::*;

/// The keys the chosen `feed.kind` needs.
pub(super) fn check_feed_source(
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
        crate::config::schema::FeedKind::Csv if feed.path.is_none() => fail_at(
            at("kind"),
            "`kind = \"csv\"` in [feed] needs `path`, the CSV file to replay".into(),
            Some("add for example: path = \"data/btcusd-1h.csv\" (relative to this config file)".into()),
        ),
        crate::config::schema::FeedKind::Tcp => match feed.listen.parse::<std::net::SocketAddr>() {
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
