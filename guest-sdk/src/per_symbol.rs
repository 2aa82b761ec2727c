//! Per-symbol state: one `T` per symbol index, so a strategy trading several
//! symbols keeps their indicators apart.

use serde::{Deserialize, Serialize};

/// One `T` per symbol, indexed like [`crate::Bar::symbol`]: by position in
/// the `symbols` list the strategy was given at `init`.
///
/// It serialises as a plain list, so it can be (part of) a
/// [`crate::Strategy::State`]. Its length travels with it: a state that keeps
/// its symbols next to it can check a restored one with
/// [`crate::checks::snapshot_symbols`] (taken for these symbols?) and
/// [`crate::checks::snapshot_per_symbol`] (one entry per symbol?).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerSymbol<T> {
    items: Vec<T>,
}

impl<T> PerSymbol<T> {
    /// One `T` per symbol, each built by `make`.
    pub fn new(symbols: usize, make: impl FnMut() -> T) -> Self {
        let mut make = make;
        Self {
            items: (0..symbols).map(|_| make()).collect(),
        }
    }

    /// The state of `symbol`; `None` for an index the strategy was not given.
    pub fn get(&self, symbol: u32) -> Option<&T> {
        self.items.get(symbol as usize)
    }

    /// The state of `symbol`, to update; `None` for an index the strategy
    /// was not given.
    pub fn get_mut(&mut self, symbol: u32) -> Option<&mut T> {
        self.items.get_mut(symbol as usize)
    }

    /// How many symbols it holds state for.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// `true` when it holds no symbol (built for an empty symbol list).
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Every symbol index with its state, in index order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &T)> {
        self.items.iter().enumerate().map(|(i, t)| (i as u32, t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_symbols_apart_and_refuses_unknown_indices() {
        let mut s = PerSymbol::new(2, || 0u32);
        *s.get_mut(1).unwrap() += 5;
        assert_eq!((s.get(0), s.get(1), s.get(2)), (Some(&0), Some(&5), None));
        assert_eq!(s.len(), 2);
    }
}
