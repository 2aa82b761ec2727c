//! Parameters from the command line of `runtime backtest`: `--param
//! ID.KEY=VALUE` sets one value of one strategy's `[strategy.params]`;
//! `--sweep ID.KEY=A..B:STEP` or `--sweep ID.KEY=v1,v2,...` gives one axis
//! of a parameter grid. Values are read as TOML (`10`, `2.5`, `true`,
//! `"text"`); anything that is not valid TOML is text.

use crate::config::Config;

/// `--param ID.KEY=VALUE`.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamOverride {
    /// The `[[strategy]]`'s id.
    pub strategy: String,
    /// The parameter's name.
    pub key: String,
    /// Its value.
    pub value: toml::Value,
}

/// One axis of a sweep: a parameter and the values it takes.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepAxis {
    /// The `[[strategy]]`'s id.
    pub strategy: String,
    /// The parameter's name.
    pub key: String,
    /// Every value, in order.
    pub values: Vec<toml::Value>,
}

/// The most values one axis may have (a typo in a step should not start a
/// million backtests).
pub const MAX_AXIS_VALUES: usize = 10_000;

/// `ID.KEY` and the text after `=`.
fn split_target<'a>(
    text: &'a str,
    flag: &str,
    example: &str,
) -> Result<(String, String, &'a str), String> {
    let (target, raw) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not ID.KEY=VALUE (for example {flag} {example})"))?;
    let (strategy, key) = target.trim().split_once('.').ok_or_else(|| {
        format!("`{target}` names no strategy: write ID.KEY, the [[strategy]] id, a dot and the parameter (for example {flag} {example})")
    })?;
    let (strategy, key) = (strategy.trim(), key.trim());
    if strategy.is_empty() || key.is_empty() {
        return Err(format!(
            "`{target}` needs both a strategy id and a parameter name (for example {flag} {example})"
        ));
    }
    Ok((strategy.to_owned(), key.to_owned(), raw.trim()))
}

/// A command-line value as TOML, or text when it is not TOML.
fn value_of(raw: &str) -> toml::Value {
    format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_owned()))
}

/// Parses `--param ID.KEY=VALUE`.
pub fn parse_override(text: &str) -> Result<ParamOverride, String> {
    let (strategy, key, raw) = split_target(text, "--param", "sma-cross.fast=12")?;
    Ok(ParamOverride {
        strategy,
        key,
        value: value_of(raw),
    })
}

/// Parses `--sweep ID.KEY=A..B:STEP` (inclusive, integers when all three
/// are) or `--sweep ID.KEY=v1,v2,...`.
pub fn parse_sweep(text: &str) -> Result<SweepAxis, String> {
    let (strategy, key, raw) = split_target(text, "--sweep", "sma-cross.fast=5..30:5")?;
    let values = match raw.split_once("..") {
        Some((from, rest)) => range(raw, from, rest)?,
        None => raw
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(value_of)
            .collect(),
    };
    if values.is_empty() {
        return Err(format!("`{text}` gives no values"));
    }
    if values.len() > MAX_AXIS_VALUES {
        return Err(format!(
            "`{text}` gives {} values, more than {MAX_AXIS_VALUES}; use a larger step",
            values.len()
        ));
    }
    Ok(SweepAxis {
        strategy,
        key,
        values,
    })
}

fn range(raw: &str, from: &str, rest: &str) -> Result<Vec<toml::Value>, String> {
    let (to, step) = rest.split_once(':').ok_or_else(|| {
        format!("`{raw}` is a range without a step: write A..B:STEP, e.g. 5..30:5")
    })?;
    let number = |text: &str| match value_of(text.trim()) {
        toml::Value::Integer(v) => Ok(Number::Int(v)),
        toml::Value::Float(v) if v.is_finite() => Ok(Number::Float(v)),
        _ => Err(format!(
            "`{}` in the range `{raw}` is not a number",
            text.trim()
        )),
    };
    let (from_text, step_text) = (from, step);
    let (from, to, step) = (number(from)?, number(to)?, number(step)?);
    if step.as_f64() <= 0.0 {
        return Err(format!("the step of `{raw}` must be above 0"));
    }
    if to.as_f64() < from.as_f64() {
        return Err(format!("the range `{raw}` ends before it starts"));
    }
    let count = ((to.as_f64() - from.as_f64()) / step.as_f64() + 1e-9).floor() + 1.0;
    if count > MAX_AXIS_VALUES as f64 {
        return Err(format!(
            "`{raw}` gives {count} values, more than {MAX_AXIS_VALUES}; use a larger step"
        ));
    }
    let count = count as i64;
    Ok(match (from, step) {
        (Number::Int(a), Number::Int(s)) if matches!(to, Number::Int(_)) => (0..count)
            .map(|i| toml::Value::Integer(a + i * s))
            .collect(),
        // Each value from the start, not by adding steps, so no error builds
        // up; then rounded to the decimals the range was written with, so
        // 0.1..0.9:0.1 gives 0.3, not 0.30000000000000004.
        _ => {
            let decimals = [from_text, step_text].map(written_decimals);
            let decimals = decimals[0].zip(decimals[1]).map(|(a, b)| a.max(b));
            (0..count)
                .map(|i| {
                    let value = from.as_f64() + i as f64 * step.as_f64();
                    toml::Value::Float(match decimals {
                        Some(places) => format!("{value:.places$}").parse().unwrap_or(value),
                        None => value,
                    })
                })
                .collect()
        }
    })
}

/// Digits after the decimal point of a number as written (`None` for an
/// exponent form, whose decimals are not those digits).
fn written_decimals(text: &str) -> Option<usize> {
    let text = text.trim();
    if text.contains(['e', 'E']) {
        return None;
    }
    Some(text.split_once('.').map_or(0, |(_, digits)| digits.len()))
}

#[derive(Debug, Clone, Copy)]
enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    fn as_f64(self) -> f64 {
        match self {
            Number::Int(v) => v as f64,
            Number::Float(v) => v,
        }
    }
}

/// The strategy `id` of the config, or an error naming the enabled ones.
pub fn known_strategy<'a>(
    config: &'a Config,
    id: &str,
    flag: &str,
) -> Result<&'a crate::config::StrategyConfig, String> {
    config.strategy(id).ok_or_else(|| {
        let ids: Vec<&str> = config.strategies.iter().map(|s| s.id.as_str()).collect();
        let hint = crate::config::suggest_closest(id, &ids)
            .map(|s| format!("did you mean `{s}`? "))
            .unwrap_or_default();
        format!(
            "{flag} names strategy `{id}`, which the config does not have; {hint}its strategies: {}",
            ids.join(", ")
        )
    })
}

/// Sets each override in its strategy's `[strategy.params]`.
pub fn apply(config: &mut Config, overrides: &[ParamOverride]) -> Result<(), String> {
    for o in overrides {
        known_strategy(config, &o.strategy, "--param")?;
        if let Some(strategy) = config.strategies.iter_mut().find(|s| s.id == o.strategy) {
            strategy.params.insert(o.key.clone(), o.value.clone());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use toml::Value::{Boolean, Float, Integer, String as Text};

    #[test]
    fn overrides_keep_their_types() {
        let o = parse_override("sma.fast=12").unwrap();
        assert_eq!(
            (o.strategy.as_str(), o.key.as_str(), o.value),
            ("sma", "fast", Integer(12))
        );
        assert_eq!(
            parse_override("sma.short = true").unwrap().value,
            Boolean(true)
        );
        assert_eq!(
            parse_override("sma.mode=wild").unwrap().value,
            Text("wild".into())
        );
    }

    #[test]
    fn sweeps_over_integer_and_float_ranges_and_lists() {
        let axis = parse_sweep("sma.fast=5..20:5").unwrap();
        assert_eq!(
            axis.values,
            [Integer(5), Integer(10), Integer(15), Integer(20)]
        );
        let axis = parse_sweep("sma.size=0.1..0.3:0.1").unwrap();
        assert_eq!(
            axis.values.len(),
            3,
            "0.3 is reached despite rounding: {:?}",
            axis.values
        );
        assert_eq!(axis.values[2], Float(0.3));
        let axis = parse_sweep("sma.short=true,false").unwrap();
        assert_eq!(axis.values, [Boolean(true), Boolean(false)]);
        assert_eq!(parse_sweep("sma.fast=7..7:1").unwrap().values, [Integer(7)]);
    }

    /// Regression: `0.1..0.9:0.1` swept `size=0.7000000000000001` and
    /// `0.30000000000000004`, in the table and in sweep.csv.
    #[test]
    fn regression_33_range_values_keep_the_decimals_they_were_written_with() {
        let floats = |text: &str| -> Vec<f64> {
            parse_sweep(text)
                .unwrap()
                .values
                .iter()
                .map(|v| v.as_float().unwrap())
                .collect()
        };
        assert_eq!(
            floats("s.size=0.1..0.9:0.1"),
            [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
        );
        assert_eq!(floats("s.x=2.123456789..2.5:0.1")[3], 2.423456789);
        assert_eq!(floats("s.x=1..2:0.25"), [1.0, 1.25, 1.5, 1.75, 2.0]);
        // An exponent form is left as computed.
        assert_eq!(floats("s.x=1e-1..3e-1:1e-1").len(), 3);
    }

    #[test]
    fn malformed_flags_say_how_to_write_them() {
        for (text, expect) in [
            ("fast=10", "names no strategy"),
            ("sma.fast", "is not ID.KEY=VALUE"),
            ("sma.fast=5..20", "without a step"),
            ("sma.fast=5..20:0", "must be above 0"),
            ("sma.fast=20..5:1", "ends before it starts"),
            ("sma.fast=a..5:1", "is not a number"),
            ("sma.fast=0..1e9:1", "more than 10000"),
            (".fast=1", "needs both"),
        ] {
            let error = parse_sweep(text).unwrap_err();
            assert!(error.contains(expect), "{text}: {error}");
        }
    }
}
