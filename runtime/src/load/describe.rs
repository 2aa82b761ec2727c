//! Stage `describe`'s checks: what a strategy says about itself is within
//! the contract limits and consistent before anything else of it runs.

use super::guest_text;
use crate::contract::{ParamValue, StrategyInfo};
use crate::error::{LoadError, Stage};

/// Contract limits on what `describe` may return (README, "Contract
/// limits"): a strategy over any of them is refused at stage `describe`.
/// They bound what the host copies, stores and prints for a version; none
/// is a setting, since no honest strategy comes near them.
pub mod describe_limits {
    /// Bytes of `name` (machine-friendly, stamped into snapshots).
    pub const NAME_BYTES: usize = 64;
    /// Bytes of `version`.
    pub const VERSION_BYTES: usize = 64;
    /// Bytes of `description` (one line).
    pub const DESCRIPTION_BYTES: usize = 1024;
    /// Parameters declared.
    pub const PARAMS: usize = 64;
    /// Bytes of a parameter's name.
    pub const PARAM_NAME_BYTES: usize = 64;
    /// Bytes of a parameter's description.
    pub const PARAM_DESCRIPTION_BYTES: usize = 1024;
    /// Bytes of a text parameter's default.
    pub const TEXT_DEFAULT_BYTES: usize = 1024;
    /// `warmup-bars`: the recent-bar history of a live feed is far shorter.
    pub const WARMUP_BARS: u32 = 100_000;
}

fn too_long(what: &str, len: usize, max: usize) -> LoadError {
    LoadError::new(
        Stage::Describe,
        format!(
            "describe() returned a {what} of {len} bytes, over the contract's {max}-byte limit"
        ),
    )
    .hint("shorten it in the strategy (README, \"Contract limits\")")
}

/// Checks what `describe` returned: a name, the contract limits
/// ([`describe_limits`]), defaults of the declared kinds.
pub fn check_info(info: &StrategyInfo) -> Result<(), LoadError> {
    use describe_limits as max;
    if info.name.trim().is_empty() {
        return Err(
            LoadError::new(Stage::Describe, "describe() returned an empty name")
                .hint("set `Strategy::NAME`"),
        );
    }
    let strings = [
        ("name", info.name.len(), max::NAME_BYTES),
        ("version", info.version.len(), max::VERSION_BYTES),
        (
            "description",
            info.description.len(),
            max::DESCRIPTION_BYTES,
        ),
    ];
    for (what, len, limit) in strings {
        if len > limit {
            return Err(too_long(what, len, limit));
        }
    }
    if info.params.len() > max::PARAMS {
        return Err(LoadError::new(
            Stage::Describe,
            format!(
                "describe() declares {} parameters, over the contract's limit of {}",
                info.params.len(),
                max::PARAMS
            ),
        )
        .hint("declare fewer parameters (README, \"Contract limits\")"));
    }
    if info.warmup_bars > max::WARMUP_BARS {
        return Err(LoadError::new(
            Stage::Describe,
            format!(
                "describe() asks for {} warm-up bars, over the contract's limit of {}",
                info.warmup_bars,
                max::WARMUP_BARS
            ),
        )
        .hint("ask for fewer warm-up bars (README, \"Contract limits\")"));
    }
    for spec in &info.params {
        if spec.name.len() > max::PARAM_NAME_BYTES {
            return Err(too_long(
                "parameter name",
                spec.name.len(),
                max::PARAM_NAME_BYTES,
            ));
        }
        let name = guest_text::shown(&spec.name);
        if spec.description.len() > max::PARAM_DESCRIPTION_BYTES {
            return Err(too_long(
                &format!("description of parameter `{name}`"),
                spec.description.len(),
                max::PARAM_DESCRIPTION_BYTES,
            ));
        }
        if let ParamValue::Text(text) = &spec.default
            && text.len() > max::TEXT_DEFAULT_BYTES
        {
            return Err(too_long(
                &format!("default of parameter `{name}`"),
                text.len(),
                max::TEXT_DEFAULT_BYTES,
            ));
        }
        let matches = matches!(
            (&spec.default, spec.kind),
            (ParamValue::Int(_), crate::contract::ParamKind::Int)
                | (ParamValue::Float(_), crate::contract::ParamKind::Float)
                | (ParamValue::Boolean(_), crate::contract::ParamKind::Boolean)
                | (ParamValue::Text(_), crate::contract::ParamKind::Text)
        );
        if !matches {
            return Err(LoadError::new(
                Stage::Describe,
                format!("parameter `{name}` has a default of another kind than it declares"),
            )
            .hint("fix the strategy's parameter declaration"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> StrategyInfo {
        StrategyInfo {
            name: "ok".into(),
            version: "0.1.0".into(),
            description: "fine".into(),
            params: Vec::new(),
            warmup_bars: 10,
        }
    }

    fn spec(name: &str) -> crate::contract::ParamSpec {
        crate::contract::ParamSpec {
            name: name.into(),
            kind: crate::contract::ParamKind::Int,
            default: ParamValue::Int(1),
            description: String::new(),
        }
    }

    #[test]
    fn regression_13_8_describe_is_bounded_with_clear_refusals() {
        assert!(check_info(&info()).is_ok());
        let refusal = |edit: &dyn Fn(&mut StrategyInfo)| {
            let mut i = info();
            edit(&mut i);
            let err = check_info(&i).unwrap_err();
            assert_eq!(err.stage, Stage::Describe);
            err.message
        };
        assert_eq!(
            refusal(&|i| i.name = "n".repeat(1 << 20)),
            "describe() returned a name of 1048576 bytes, over the contract's 64-byte limit"
        );
        assert_eq!(
            refusal(&|i| i.description = "d".repeat(1025)),
            "describe() returned a description of 1025 bytes, over the contract's 1024-byte limit"
        );
        assert_eq!(
            refusal(&|i| i.params = (0..10_000).map(|n| spec(&format!("p{n}"))).collect()),
            "describe() declares 10000 parameters, over the contract's limit of 64"
        );
        assert_eq!(
            refusal(&|i| i.warmup_bars = u32::MAX),
            "describe() asks for 4294967295 warm-up bars, over the contract's limit of 100000"
        );
        assert_eq!(
            refusal(&|i| i.params = vec![spec(&"x".repeat(65))]),
            "describe() returned a parameter name of 65 bytes, over the contract's 64-byte limit"
        );
        assert_eq!(
            refusal(&|i| {
                let mut p = spec("\u{1b}[2J");
                p.description = "y".repeat(2_000);
                i.params = vec![p];
            }),
            "describe() returned a description of parameter `\\u{1b}[2J` of 2000 bytes, over the contract's 1024-byte limit"
        );
    }
}
