//! `[limits]` and `[strategy.limits]`: every limit within its range.

use super::*;

/// The `[limits]` rules, for the global table and for each
/// `[strategy.limits]` (checked merged over the global one).
pub(super) fn check_limits(
    limits: &crate::config::schema::LimitsSection,
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
    let (py, js) = (d::PYTHON_LIMITS, d::JS_LIMITS);
    for (key, value, default, python, javascript) in [
        (
            "instances",
            limits.instances,
            d::INSTANCES,
            py.instances,
            js.instances,
        ),
        ("tables", limits.tables, d::TABLES, py.tables, js.tables),
        (
            "memories",
            limits.memories,
            d::MEMORIES,
            py.memories,
            js.memories,
        ),
    ] {
        if !(1..=d::MAX_STORE_ITEMS).contains(&value) {
            return fail_at(
                table.key(key),
                format!(
                    "`{key}` in {where_} must be between 1 and {}, not {value}",
                    d::MAX_STORE_ITEMS
                ),
                Some(format!(
                    "it counts per store (one strategy instance); the default is {default} in [limits], {} in [limits.python] and {} in [limits.js]",
                    python.unwrap_or(default),
                    javascript.unwrap_or(default)
                )),
            );
        }
    }

    Ok(())
}
