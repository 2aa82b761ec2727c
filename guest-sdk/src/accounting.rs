//! Position arithmetic shared by the native harness and the runtime's broker:
//! one implementation of how a fill changes quantity, average price and cash.

use crate::Position;

/// A flat position holding `cash`.
pub fn flat(cash: f64) -> Position {
    Position {
        quantity: 0.0,
        avg_price: 0.0,
        cash,
        equity: cash,
    }
}

/// Applies a fill of `signed_quantity` (positive buys, negative sells) at
/// `price`, paying `commission`. Returns the realised profit or loss of the
/// part that closed existing exposure (before commission).
///
/// Adding to a position averages the entry price; reducing keeps it; crossing
/// through zero closes the old side and opens the rest at `price`.
pub fn apply_fill(
    position: &mut Position,
    signed_quantity: f64,
    price: f64,
    commission: f64,
) -> f64 {
    let old = position.quantity;
    let new = old + signed_quantity;
    position.cash -= signed_quantity * price + commission;

    let same_direction = old == 0.0 || (old > 0.0) == (signed_quantity > 0.0);
    let realised = if same_direction {
        let total_cost = position.avg_price * old.abs() + price * signed_quantity.abs();
        position.avg_price = if new == 0.0 {
            0.0
        } else {
            total_cost / new.abs()
        };
        0.0
    } else {
        let closed = signed_quantity.abs().min(old.abs());
        let pnl = closed * (price - position.avg_price) * old.signum();
        if new == 0.0 || new.abs() < 1e-12 {
            position.avg_price = 0.0;
        } else if new.signum() != old.signum() {
            position.avg_price = price;
        }
        pnl
    };
    position.quantity = if new.abs() < 1e-12 { 0.0 } else { new };
    realised
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adding_averages_the_entry() {
        let mut p = flat(1000.0);
        apply_fill(&mut p, 1.0, 10.0, 0.0);
        apply_fill(&mut p, 1.0, 20.0, 0.0);
        assert_eq!((p.quantity, p.avg_price, p.cash), (2.0, 15.0, 970.0));
    }

    #[test]
    fn partial_close_realises_and_keeps_the_entry() {
        let mut p = flat(1000.0);
        apply_fill(&mut p, 2.0, 10.0, 0.0);
        let pnl = apply_fill(&mut p, -1.0, 13.0, 0.5);
        assert_eq!(pnl, 3.0);
        assert_eq!((p.quantity, p.avg_price, p.cash), (1.0, 10.0, 992.5));
    }

    #[test]
    fn flip_closes_then_opens_at_the_fill_price() {
        let mut p = flat(0.0);
        apply_fill(&mut p, -1.0, 10.0, 0.0);
        let pnl = apply_fill(&mut p, 3.0, 8.0, 0.0);
        assert_eq!(pnl, 2.0);
        assert_eq!((p.quantity, p.avg_price), (2.0, 8.0));
    }

    #[test]
    fn full_close_goes_flat() {
        let mut p = flat(0.0);
        apply_fill(&mut p, 1.5, 10.0, 0.0);
        apply_fill(&mut p, -1.5, 9.0, 0.0);
        assert_eq!((p.quantity, p.avg_price, p.cash), (0.0, 0.0, -1.5));
    }
}
