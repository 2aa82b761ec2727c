//! Strategy parameters from the outside world (TOML values, `--param k=v`)
//! into the contract's typed values.

use crate::contract::{Param, ParamValue};

/// A TOML value as a parameter value; tables and arrays are not parameters.
pub fn from_toml(name: &str, value: &toml::Value) -> Result<Param, String> {
    let value = match value {
        toml::Value::Integer(v) => ParamValue::Int(*v),
        toml::Value::Float(v) => ParamValue::Float(*v),
        toml::Value::Boolean(v) => ParamValue::Boolean(*v),
        toml::Value::String(v) => ParamValue::Text(v.clone()),
        other => {
            let kind = other.type_str();
            let article = if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
                "an"
            } else {
                "a"
            };
            return Err(format!(
                "parameter `{name}` is {article} {kind}; parameters are integers, floats, booleans or strings"
            ));
        }
    };
    Ok(Param {
        name: name.to_owned(),
        value,
    })
}

/// Parses `key=value` as on the command line: the value is read as TOML
/// (`10`, `2.5`, `true`, `"text"`), and anything that is not valid TOML is text.
pub fn parse_assignment(text: &str) -> Result<Param, String> {
    let (name, raw) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not key=value (for example --param fast=10)"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("`{text}` has no parameter name before `=`"));
    }
    let raw = raw.trim();
    let parsed = format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"));
    match parsed {
        Some(value) => from_toml(name, &value),
        None => Ok(Param {
            name: name.to_owned(),
            value: ParamValue::Text(raw.to_owned()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignments_keep_their_types() {
        let v = |s: &str| parse_assignment(s).unwrap().value;
        assert_eq!(v("fast=10"), ParamValue::Int(10));
        assert_eq!(v("size = 2.5"), ParamValue::Float(2.5));
        assert_eq!(v("short=true"), ParamValue::Boolean(true));
        assert_eq!(v("name=\"a b\""), ParamValue::Text("a b".into()));
        assert_eq!(v("mode=aggressive"), ParamValue::Text("aggressive".into()));
    }

    #[test]
    fn malformed_assignments_say_how_to_write_them() {
        assert!(
            parse_assignment("fast")
                .unwrap_err()
                .contains("--param fast=10")
        );
        assert!(
            parse_assignment("=3")
                .unwrap_err()
                .contains("no parameter name")
        );
        assert!(
            parse_assignment("xs=[1,2]")
                .unwrap_err()
                .contains("is an array")
        );
    }
}
