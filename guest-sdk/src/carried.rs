//! The state most strategies carry across a hot swap, with the standard
//! checks a restored snapshot must pass, so a strategy does not write them.

use crate::indicators::WarmUp;
use crate::{PerSymbol, checks};
use serde::{Deserialize, Serialize};
use std::fmt::Display;

/// A strategy's hot-swap state: one `T` per symbol plus what it was built
/// for (the symbols, and the parameters that shape `T`, such as lookbacks).
/// Use it as [`crate::Strategy::State`] with [`crate::keep_state!`], and a
/// restored snapshot is checked for you ([`Restore`]): refused, with a
/// reason, when it was taken for other symbols, with other values of those
/// parameters, or does not hold one `T` per symbol. The runtime then warms
/// the new instance up from history instead.
///
/// ```
/// use sandbar_guest::{Carried, Restore, indicators::Sma};
/// let symbols = ["BTCUSD".to_owned()];
/// let lost = "its averages do not carry over";
/// let mut now = Carried::new(&symbols, &[("period", 20)], lost, || Sma::new(20));
/// let old = Carried::new(&symbols, &[("period", 10)], lost, || Sma::new(10));
/// assert_eq!(
///     now.restore(old).unwrap_err(),
///     "snapshot was taken with period=10, this instance runs period=20; \
///      its averages do not carry over, warm up from history instead"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Carried<T> {
    symbols: Vec<String>,
    /// `(name, value)` of each parameter that shapes `T`, as displayed.
    shape: Vec<(String, String)>,
    per_symbol: PerSymbol<T>,
    /// What does not carry over when the shape differs; this instance's own
    /// words, not part of the snapshot.
    #[serde(skip)]
    lost: String,
}

impl<T> Carried<T> {
    /// One `T` per symbol, each built by `make`; `shape` names the
    /// parameters `T` is built from (`&[("fast", p.fast), ("slow", p.slow)]`;
    /// values of different types as `&dyn Display`) and `lost` says what a snapshot taken with other values would lose,
    /// for the refusal (`"its averages do not carry over"`).
    pub fn new<V: Display>(
        symbols: &[String],
        shape: &[(&str, V)],
        lost: &str,
        make: impl FnMut() -> T,
    ) -> Self {
        Self {
            symbols: symbols.to_vec(),
            shape: shape
                .iter()
                .map(|(name, value)| ((*name).to_owned(), value.to_string()))
                .collect(),
            per_symbol: PerSymbol::new(symbols.len(), make),
            lost: lost.to_owned(),
        }
    }

    /// The state of `symbol` (an index, as in [`crate::Bar::symbol`]);
    /// `None` for an index the strategy was not given.
    pub fn get(&self, symbol: u32) -> Option<&T> {
        self.per_symbol.get(symbol)
    }

    /// The state of `symbol`, to update; `None` for an index the strategy
    /// was not given.
    pub fn get_mut(&mut self, symbol: u32) -> Option<&mut T> {
        self.per_symbol.get_mut(symbol)
    }

    /// The state of `symbol` with its name, to update (the name is for log
    /// lines); `None` for an index the strategy was not given.
    pub fn entry(&mut self, symbol: u32) -> Option<(&str, &mut T)> {
        let name = self.symbols.get(symbol as usize)?;
        Some((name.as_str(), self.per_symbol.get_mut(symbol)?))
    }

    /// The symbols it was built for, in index order.
    pub fn symbols(&self) -> &[String] {
        &self.symbols
    }

    /// Every symbol's state.
    pub fn per_symbol(&self) -> &PerSymbol<T> {
        &self.per_symbol
    }
}

/// Takes over a restored snapshot's state after checking it fits.
pub trait Restore: Sized {
    /// Replaces `self` with `taken` (decoded from a snapshot) if it fits
    /// this instance; otherwise says why and leaves `self` as it is.
    fn restore(&mut self, taken: Self) -> Result<(), String>;
}

impl<T> Restore for Carried<T> {
    /// The three standard checks, in this order: the same symbols
    /// ([`checks::snapshot_symbols`]), the same shaping parameters
    /// ([`checks::snapshot_params`]), one state per symbol
    /// ([`checks::snapshot_per_symbol`]).
    fn restore(&mut self, taken: Self) -> Result<(), String> {
        checks::snapshot_symbols(&taken.symbols, &self.symbols)?;
        let names_match = taken.shape.len() == self.shape.len()
            && taken.shape.iter().zip(&self.shape).all(|(t, c)| t.0 == c.0);
        if names_match {
            let pairs: Vec<(&str, &str, &str)> = taken
                .shape
                .iter()
                .zip(&self.shape)
                .map(|(t, c)| (c.0.as_str(), t.1.as_str(), c.1.as_str()))
                .collect();
            checks::snapshot_params(&pairs, &self.lost)?;
        } else {
            let list = |s: &[(String, String)]| {
                s.iter()
                    .map(|(n, v)| format!("{n}={v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Err(format!(
                "snapshot was taken with {}, this instance runs {}; {}, warm up from history instead",
                list(&taken.shape),
                list(&self.shape),
                self.lost
            ));
        }
        checks::snapshot_per_symbol(&taken.per_symbol, &taken.symbols)?;
        let lost = std::mem::take(&mut self.lost);
        *self = taken;
        self.lost = lost;
        Ok(())
    }
}

/// Ready when its slowest symbol is: see [`WarmUp`] for `PerSymbol`.
impl<T: WarmUp> WarmUp for Carried<T> {
    fn warmup_bars(&self) -> u32 {
        self.per_symbol.warmup_bars()
    }
}

/// Implements [`crate::Strategy::state`] and [`crate::Strategy::restore_state`]
/// (with the checks of [`Restore`]) for a strategy that keeps its
/// [`crate::Strategy::State`] in one field, usually a [`Carried`]. With
/// `warmup` after the field it also implements [`crate::Strategy::warmup`]
/// from the state's [`WarmUp`], so [`crate::Strategy::warmup_bars`] need not
/// be written either. Write it inside the `impl Strategy` block, as the
/// crate-level example does: `sandbar_guest::keep_state!(state, warmup);`.
#[macro_export]
macro_rules! keep_state {
    ($field:ident) => {
        fn state(&self) -> &<Self as $crate::Strategy>::State {
            &self.$field
        }
        fn restore_state(
            &mut self,
            taken: <Self as $crate::Strategy>::State,
        ) -> ::core::result::Result<(), ::std::string::String> {
            $crate::Restore::restore(&mut self.$field, taken)
        }
    };
    ($field:ident, warmup) => {
        $crate::keep_state!($field);
        fn warmup(&self) -> u32 {
            $crate::indicators::WarmUp::warmup_bars(&self.$field)
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(symbols: &[&str], period: u32, n: usize) -> Carried<u8> {
        let symbols: Vec<String> = symbols.iter().map(|s| (*s).to_owned()).collect();
        let mut c = Carried::new(
            &symbols,
            &[("period", &period)],
            "its RSI does not carry over",
            || 0,
        );
        c.per_symbol = PerSymbol::new(n, || 7);
        c
    }

    #[test]
    fn regression_14_6_restore_makes_the_three_standard_checks() {
        let mut now = state(&["A"], 3, 1);
        assert_eq!(
            now.restore(state(&["B"], 3, 1)).unwrap_err(),
            "snapshot was taken for symbols [\"B\"], this instance trades [\"A\"]; \
             warm up from history instead"
        );
        assert_eq!(
            now.restore(state(&["A"], 4, 1)).unwrap_err(),
            "snapshot was taken with period=4, this instance runs period=3; \
             its RSI does not carry over, warm up from history instead"
        );
        assert_eq!(
            now.restore(state(&["A"], 3, 2)).unwrap_err(),
            "snapshot is inconsistent: 2 symbol states for 1 symbols"
        );
        assert_eq!(now.get(0), Some(&7)); // untouched by the refusals
        let mut other = Carried::new(&["A".to_owned()], &[("len", &3)], "x", || 0u8);
        assert_eq!(
            other.restore(state(&["A"], 3, 1)).unwrap_err(),
            "snapshot was taken with period=3, this instance runs len=3; x, warm up from history instead"
        );
        assert!(now.restore(state(&["A"], 3, 1)).is_ok());
        // The refusal wording is this instance's, not the snapshot's.
        assert_eq!(now.lost, "its RSI does not carry over");
        assert_eq!(
            now.entry(0).map(|(n, v)| (n.to_owned(), *v)),
            Some(("A".into(), 7))
        );
        assert!(now.entry(1).is_none());
    }

    #[test]
    fn round_trips_through_the_snapshot_codec_without_its_wording() {
        let c = state(&["A", "B"], 3, 2);
        let bytes = crate::snapshot::encode("s", &c).unwrap();
        let back: Carried<u8> = crate::snapshot::decode("s", &bytes).unwrap();
        assert_eq!(
            (back.symbols(), back.per_symbol().len(), back.lost.as_str()),
            (c.symbols(), 2, "")
        );
    }
}
