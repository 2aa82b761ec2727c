//! Typed strategy parameters: declared once with [`crate::params!`], described
//! to the host by `describe`, parsed from the config's values by `init`.

use crate::{Param, ParamKind, ParamSpec, ParamValue};
use std::fmt;

/// A parameter set declared with [`crate::params!`].
pub trait Params: Sized + Default {
    /// Name, kind, default and description of every parameter.
    fn specs() -> Vec<ParamSpec>;
    /// Builds the set from the values given by the host; absent parameters keep
    /// their defaults, unknown or ill-typed ones are an error.
    fn from_params(params: &[Param]) -> Result<Self, ParamError>;
}

/// A Rust type that can be a parameter: `i64`, `i32`, `u32`, `u64`, `usize`
/// (all [`ParamKind::Int`]), `f64` ([`ParamKind::Float`]), `bool`
/// ([`ParamKind::Boolean`]) and `String` ([`ParamKind::Text`]).
pub trait ParamType: Sized {
    /// The kind `describe` reports for a field of this type, and the kind a
    /// [`ParamError::WrongType`] says was expected.
    const KIND: ParamKind;
    /// This value as the contract carries it; how a field's default reaches
    /// [`ParamSpec::default`].
    fn to_value(&self) -> ParamValue;
    /// `None` when `value` cannot become this type: another kind, an integer
    /// outside the type's range (`-1` for a `u32`), or a float that is NaN or
    /// infinite. An integer is accepted where a float is expected (`size = 2`
    /// in TOML is `2.0`); a float is never accepted where an integer is.
    fn from_value(value: &ParamValue) -> Option<Self>;
}

impl ParamType for i64 {
    const KIND: ParamKind = ParamKind::Int;
    fn to_value(&self) -> ParamValue {
        ParamValue::Int(*self)
    }
    fn from_value(value: &ParamValue) -> Option<Self> {
        match value {
            ParamValue::Int(v) => Some(*v),
            _ => None,
        }
    }
}

macro_rules! narrow_int_param {
    ($($ty:ty),*) => {$(
        impl ParamType for $ty {
            const KIND: ParamKind = ParamKind::Int;
            fn to_value(&self) -> ParamValue {
                ParamValue::Int(*self as i64)
            }
            fn from_value(value: &ParamValue) -> Option<Self> {
                match value {
                    ParamValue::Int(v) => <$ty>::try_from(*v).ok(),
                    _ => None,
                }
            }
        }
    )*};
}
narrow_int_param!(u32, u64, usize, i32);

impl ParamType for f64 {
    const KIND: ParamKind = ParamKind::Float;
    fn to_value(&self) -> ParamValue {
        ParamValue::Float(*self)
    }
    fn from_value(value: &ParamValue) -> Option<Self> {
        match value {
            ParamValue::Float(v) if v.is_finite() => Some(*v),
            // An integer literal in TOML (`size = 2`) is a fine float.
            ParamValue::Int(v) => Some(*v as f64),
            _ => None,
        }
    }
}

impl ParamType for bool {
    const KIND: ParamKind = ParamKind::Boolean;
    fn to_value(&self) -> ParamValue {
        ParamValue::Boolean(*self)
    }
    fn from_value(value: &ParamValue) -> Option<Self> {
        match value {
            ParamValue::Boolean(v) => Some(*v),
            _ => None,
        }
    }
}

impl ParamType for String {
    const KIND: ParamKind = ParamKind::Text;
    fn to_value(&self) -> ParamValue {
        ParamValue::Text(self.clone())
    }
    fn from_value(value: &ParamValue) -> Option<Self> {
        match value {
            ParamValue::Text(v) => Some(v.clone()),
            _ => None,
        }
    }
}

/// Why a parameter set was refused. Its `Display` says how to fix it; inside
/// Wasm that text is what `init` returns, and what the runtime shows next to
/// the hint to fix `[strategy.params]`.
///
/// [`Params::from_params`] (the code [`crate::params!`] generates) returns the
/// first three variants; a strategy returns [`ParamError::Invalid`] from
/// [`crate::Strategy::new`], built with [`ParamError::invalid`] or one of the
/// [`crate::checks`].
#[derive(Debug, Clone, PartialEq)]
pub enum ParamError {
    /// A name the parameter set does not declare, such as a typo in the
    /// config. `Display` suggests the closest known name, or lists them all
    /// when none is close ("this strategy takes no parameters" when there are
    /// none).
    Unknown {
        /// The name as given.
        name: String,
        /// Every name the set declares, in declaration order.
        known: Vec<String>,
    },
    /// A value that cannot become the field's type (see
    /// [`ParamType::from_value`]): another kind, an integer out of the
    /// field's range, or a float that is NaN or infinite.
    WrongType {
        /// The parameter's name.
        name: String,
        /// The kind the field is declared as.
        expected: ParamKind,
        /// The value as given.
        got: ParamValue,
    },
    /// The same name given more than once; no value is picked over another.
    Duplicate {
        /// The repeated name.
        name: String,
    },
    /// A value of the right type that the strategy does not accept (a zero
    /// lookback, a negative size). `Display`: "parameter `{name}`: {reason}".
    Invalid {
        /// The parameter's name.
        name: String,
        /// What is wrong and, ideally, how to fix it: "must be at least 1 (got
        /// 0); the default is 20".
        reason: String,
    },
}

impl ParamError {
    /// A parameter whose value has the right type but is not acceptable.
    pub fn invalid(name: &str, reason: impl Into<String>) -> Self {
        ParamError::Invalid {
            name: name.to_owned(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamError::Unknown { name, known } => {
                write!(f, "unknown parameter `{name}`")?;
                match closest(name, known) {
                    Some(best) => write!(f, "; did you mean `{best}`?"),
                    None if known.is_empty() => write!(f, "; this strategy takes no parameters"),
                    None => write!(f, "; known parameters: {}", known.join(", ")),
                }
            }
            ParamError::WrongType {
                name,
                expected,
                got,
            } => write!(
                f,
                "parameter `{name}` must be {}, got {}",
                kind_name(*expected),
                describe_value(got)
            ),
            ParamError::Duplicate { name } => {
                write!(f, "parameter `{name}` is given twice; keep one")
            }
            ParamError::Invalid { name, reason } => write!(f, "parameter `{name}`: {reason}"),
        }
    }
}

impl std::error::Error for ParamError {}

fn closest<'a>(name: &str, known: &'a [String]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(name, k), k))
        .filter(|(distance, k)| *distance <= 2.max(k.len() / 3))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, k)| k.as_str())
}

pub(crate) fn kind_name(kind: ParamKind) -> &'static str {
    match kind {
        ParamKind::Int => "an integer",
        ParamKind::Float => "a number",
        ParamKind::Boolean => "true or false",
        ParamKind::Text => "a string",
    }
}

fn describe_value(value: &ParamValue) -> String {
    match value {
        ParamValue::Int(v) => format!("the integer {v}"),
        ParamValue::Float(v) => format!("the number {v}"),
        ParamValue::Boolean(v) => format!("the boolean {v}"),
        ParamValue::Text(v) => format!("the string {v:?}"),
    }
}

/// Used by [`crate::params!`]: reads one field, or keeps its default.
#[doc(hidden)]
pub fn take<T: ParamType>(params: &[Param], name: &str, slot: &mut T) -> Result<(), ParamError> {
    let mut found = params.iter().filter(|p| p.name == name);
    let Some(param) = found.next() else {
        return Ok(());
    };
    if found.next().is_some() {
        return Err(ParamError::Duplicate {
            name: name.to_owned(),
        });
    }
    *slot = T::from_value(&param.value).ok_or_else(|| ParamError::WrongType {
        name: name.to_owned(),
        expected: T::KIND,
        got: param.value.clone(),
    })?;
    Ok(())
}

/// Used by [`crate::params!`]: refuses names that are not fields.
#[doc(hidden)]
pub fn reject_unknown(params: &[Param], known: &[&str]) -> Result<(), ParamError> {
    match params.iter().find(|p| !known.contains(&p.name.as_str())) {
        Some(p) => Err(ParamError::Unknown {
            name: p.name.clone(),
            known: known.iter().map(|k| (*k).to_owned()).collect(),
        }),
        None => Ok(()),
    }
}

/// Used by [`crate::params!`]: joins `///` lines into one description.
#[doc(hidden)]
pub fn describe(doc_lines: &[&str]) -> String {
    doc_lines
        .iter()
        .map(|l| l.trim())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Declares a parameter struct with defaults and documentation.
///
/// ```
/// sandbar_guest::params! {
///     pub struct MyParams {
///         /// Lookback in bars.
///         period: u32 = 14,
///         /// Order size in units.
///         size: f64 = 1.0,
///     }
/// }
/// let p = MyParams::default();
/// assert_eq!(p.period, 14);
/// ```
#[macro_export]
macro_rules! params {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $(
                $(#[doc = $doc:literal])*
                $field:ident : $fty:ty = $default:expr
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        $vis struct $name {
            $( $(#[doc = $doc])* pub $field: $fty, )*
        }

        impl ::core::default::Default for $name {
            fn default() -> Self {
                Self { $( $field: $default, )* }
            }
        }

        impl $crate::Params for $name {
            fn specs() -> ::std::vec::Vec<$crate::ParamSpec> {
                let defaults = <Self as ::core::default::Default>::default();
                ::std::vec![$(
                    $crate::ParamSpec {
                        name: ::core::stringify!($field).into(),
                        kind: <$fty as $crate::ParamType>::KIND,
                        default: $crate::ParamType::to_value(&defaults.$field),
                        description: $crate::__private::describe(&[$($doc),*]),
                    },
                )*]
            }

            fn from_params(params: &[$crate::Param]) -> ::core::result::Result<Self, $crate::ParamError> {
                $crate::__private::reject_unknown(params, &[$(::core::stringify!($field)),*])?;
                let mut out = <Self as ::core::default::Default>::default();
                $( $crate::__private::take(params, ::core::stringify!($field), &mut out.$field)?; )*
                ::core::result::Result::Ok(out)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::params! {
        struct Demo {
            /// Fast period.
            fast: u32 = 10,
            /// Order
            /// size.
            size: f64 = 1.5,
            enabled: bool = true,
            label: String = String::from("x"),
        }
    }

    fn p(name: &str, value: ParamValue) -> Param {
        Param {
            name: name.into(),
            value,
        }
    }

    #[test]
    fn absent_params_keep_defaults() {
        assert_eq!(Demo::from_params(&[]).unwrap(), Demo::default());
    }

    #[test]
    fn given_params_override_defaults() {
        let d = Demo::from_params(&[
            p("fast", ParamValue::Int(3)),
            p("size", ParamValue::Int(2)),
            p("enabled", ParamValue::Boolean(false)),
            p("label", ParamValue::Text("y".into())),
        ])
        .unwrap();
        assert_eq!(
            (d.fast, d.size, d.enabled, d.label.as_str()),
            (3, 2.0, false, "y")
        );
    }

    #[test]
    fn misspelled_param_suggests_the_right_one() {
        let err = Demo::from_params(&[p("fsat", ParamValue::Int(3))]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown parameter `fsat`; did you mean `fast`?"
        );
    }

    #[test]
    fn wrong_type_names_expected_and_got() {
        let err = Demo::from_params(&[p("fast", ParamValue::Text("ten".into()))]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "parameter `fast` must be an integer, got the string \"ten\""
        );
    }

    #[test]
    fn negative_value_for_unsigned_is_refused() {
        let err = Demo::from_params(&[p("fast", ParamValue::Int(-1))]).unwrap_err();
        assert!(matches!(err, ParamError::WrongType { .. }), "{err}");
    }

    #[test]
    fn duplicate_param_is_refused() {
        let err =
            Demo::from_params(&[p("fast", ParamValue::Int(1)), p("fast", ParamValue::Int(2))])
                .unwrap_err();
        assert_eq!(
            err,
            ParamError::Duplicate {
                name: "fast".into()
            }
        );
    }

    #[test]
    fn specs_carry_kind_default_and_joined_docs() {
        let specs = Demo::specs();
        assert_eq!(specs.len(), 4);
        assert_eq!(specs[0].name, "fast");
        assert_eq!(specs[0].kind, ParamKind::Int);
        assert_eq!(specs[0].default, ParamValue::Int(10));
        assert_eq!(specs[0].description, "Fast period.");
        assert_eq!(specs[1].description, "Order size.");
        assert_eq!(specs[2].description, "");
    }
}
