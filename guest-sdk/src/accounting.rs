//! Position arithmetic shared by the native harness and the runtime's broker:
//! one implementation of how a fill changes quantity, average price and cash.

/// Quantity and average entry price of one symbol.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Holding {
    /// Signed: positive long, negative short.
    pub quantity: f64,
    /// Average entry price of the open quantity; 0 when flat.
    pub avg_price: f64,
}

/// What a fill did besides changing the holding.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FillEffect {
    /// Change of cash: minus the notional bought (plus the notional sold),
    /// minus commission.
    pub cash_delta: f64,
    /// Profit or loss realised on the part that closed exposure, before commission.
    pub realised_pnl: f64,
}

/// Quantities smaller than this are treated as flat.
const FLAT_EPSILON: f64 = 1e-12;

impl Holding {
    /// Applies a fill of `signed_quantity` (positive buys, negative sells) at
    /// `price`, paying `commission`.
    ///
    /// Adding to a position averages the entry price; reducing keeps it;
    /// crossing through zero closes the old side and opens the rest at `price`.
    pub fn apply_fill(&mut self, signed_quantity: f64, price: f64, commission: f64) -> FillEffect {
        let old = self.quantity;
        let new = old + signed_quantity;
        let cash_delta = -(signed_quantity * price) - commission;
        let adding = old == 0.0 || (old > 0.0) == (signed_quantity > 0.0);
        let realised_pnl = if adding {
            let cost = self.avg_price * old.abs() + price * signed_quantity.abs();
            self.avg_price = if new == 0.0 { 0.0 } else { cost / new.abs() };
            0.0
        } else {
            let closed = signed_quantity.abs().min(old.abs());
            let pnl = closed * (price - self.avg_price) * old.signum();
            if new.abs() < FLAT_EPSILON {
                self.avg_price = 0.0;
            } else if new.signum() != old.signum() {
                self.avg_price = price;
            }
            pnl
        };
        self.quantity = if new.abs() < FLAT_EPSILON { 0.0 } else { new };
        FillEffect {
            cash_delta,
            realised_pnl,
        }
    }

    /// Profit or loss of the open quantity marked at `price`.
    pub fn unrealised_pnl(&self, price: f64) -> f64 {
        self.quantity * (price - self.avg_price)
    }
}

/// Cash plus every holding marked at its price (`holdings` and `prices`
/// are indexed by symbol).
pub fn equity(cash: f64, holdings: &[Holding], prices: &[f64]) -> f64 {
    cash + holdings
        .iter()
        .zip(prices)
        .map(|(h, price)| h.quantity * price)
        .sum::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adding_averages_the_entry() {
        let mut h = Holding::default();
        let a = h.apply_fill(1.0, 10.0, 0.0);
        let b = h.apply_fill(1.0, 20.0, 0.0);
        assert_eq!((h.quantity, h.avg_price), (2.0, 15.0));
        assert_eq!(a.cash_delta + b.cash_delta, -30.0);
    }

    #[test]
    fn partial_close_realises_and_keeps_the_entry() {
        let mut h = Holding::default();
        h.apply_fill(2.0, 10.0, 0.0);
        let effect = h.apply_fill(-1.0, 13.0, 0.5);
        assert_eq!(
            effect,
            FillEffect {
                cash_delta: 12.5,
                realised_pnl: 3.0
            }
        );
        assert_eq!((h.quantity, h.avg_price), (1.0, 10.0));
    }

    #[test]
    fn flip_closes_then_opens_at_the_fill_price() {
        let mut h = Holding::default();
        h.apply_fill(-1.0, 10.0, 0.0);
        let effect = h.apply_fill(3.0, 8.0, 0.0);
        assert_eq!(effect.realised_pnl, 2.0);
        assert_eq!((h.quantity, h.avg_price), (2.0, 8.0));
        assert_eq!(h.unrealised_pnl(9.0), 2.0);
    }

    #[test]
    fn equity_marks_every_holding() {
        let long = Holding {
            quantity: 2.0,
            avg_price: 5.0,
        };
        let short = Holding {
            quantity: -1.0,
            avg_price: 9.0,
        };
        assert_eq!(
            equity(100.0, &[long, short], &[6.0, 8.0]),
            100.0 + 12.0 - 8.0
        );
    }

    #[test]
    fn full_close_goes_flat() {
        let mut h = Holding::default();
        h.apply_fill(1.5, 10.0, 0.0);
        let effect = h.apply_fill(-1.5, 9.0, 0.0);
        assert_eq!(
            (h.quantity, h.avg_price, effect.realised_pnl),
            (0.0, 0.0, -1.5)
        );
    }
}
