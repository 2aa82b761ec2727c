//! `[risk]`, `[strategy.risk]` and `[symbols.NAME]`: the risk rules' values.

use super::*;

/// `[risk]` (or one `[strategy.risk]`): every cap set is a positive number.
pub(super) fn check_risk(
    risk: &crate::config::schema::RiskSection,
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
pub(super) fn check_symbols(
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
