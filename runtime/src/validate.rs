//! Guest outputs are checked before anything acts on them: a strategy can
//! return garbage, the runtime never forwards it.

use crate::contract::{Order, OrderKind};

/// The smallest order quantity accepted: below it an order is dust (or a
/// denormal such as 5e-324) that no venue fills and that only breeds
/// rounding noise in the account.
pub const MIN_QUANTITY: f64 = 1e-9;
/// The largest order quantity accepted: above it an order can only be a
/// sizing bug, and products with prices overflow to infinity.
pub const MAX_QUANTITY: f64 = 1e12;
/// The largest order notional (quantity times its limit or the last price)
/// the broker accepts, whatever the risk rules say, so that account sums stay
/// finite.
pub const MAX_NOTIONAL: f64 = 1e15;

/// Checks the orders of one `on-bar` call; the error says which order and why.
pub fn validate_orders(
    orders: &[Order],
    symbol_count: usize,
    max_orders: usize,
) -> Result<(), String> {
    if orders.len() > max_orders {
        return Err(format!(
            "returned {} orders for one bar, over the limit of {max_orders} (`limits.max_orders_per_bar`)",
            orders.len()
        ));
    }
    for (i, order) in orders.iter().enumerate() {
        if order.symbol as usize >= symbol_count {
            return Err(format!(
                "order #{i} names symbol index {} but the strategy was given {symbol_count} symbol(s)",
                order.symbol
            ));
        }
        if !order.quantity.is_finite() || order.quantity <= 0.0 {
            return Err(format!(
                "order #{i} has quantity {}; it must be a finite number above 0 (the side gives the direction)",
                order.quantity
            ));
        }
        if !(MIN_QUANTITY..=MAX_QUANTITY).contains(&order.quantity) {
            return Err(format!(
                "order #{i} has quantity {:e}; it must be between {MIN_QUANTITY:e} and {MAX_QUANTITY:e} (check the strategy's position sizing)",
                order.quantity
            ));
        }
        if let OrderKind::Limit(price) = order.kind
            && (!price.is_finite() || price <= 0.0)
        {
            return Err(format!(
                "order #{i} has limit price {price}; it must be a finite number above 0"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::Side;

    fn order(symbol: u32, quantity: f64, kind: OrderKind) -> Order {
        Order {
            symbol,
            side: Side::Buy,
            quantity,
            kind,
        }
    }

    #[test]
    fn good_orders_pass() {
        let orders = [
            order(0, 1.0, OrderKind::Market),
            order(1, 0.5, OrderKind::Limit(10.0)),
        ];
        assert!(validate_orders(&orders, 2, 4).is_ok());
    }

    #[test]
    fn each_bad_output_is_named() {
        let err = |o: Order| validate_orders(&[o], 1, 4).unwrap_err();
        assert!(err(order(3, 1.0, OrderKind::Market)).contains("symbol index 3"));
        assert!(err(order(0, f64::NAN, OrderKind::Market)).contains("quantity NaN"));
        assert!(err(order(0, -1.0, OrderKind::Market)).contains("quantity -1"));
        assert!(err(order(0, 1.0, OrderKind::Limit(f64::INFINITY))).contains("limit price inf"));
        assert!(err(order(0, 1e308, OrderKind::Market)).contains("quantity 1e308"));
        assert!(err(order(0, 5e-324, OrderKind::Market)).contains("quantity 5e-324"));
        let many = vec![order(0, 1.0, OrderKind::Market); 5];
        assert!(
            validate_orders(&many, 1, 4)
                .unwrap_err()
                .contains("over the limit of 4")
        );
    }
}
