//! Guest outputs are checked before anything acts on them: a strategy can
//! return garbage, the runtime never forwards it.

use crate::contract::{Order, OrderKind, Request};
use sandbar_guest::paper::{self, Kind};

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

/// Checks the requests of one `on-bar` call (either contract version):
/// one-bar orders as [`validate_orders`] does, orders with ids the same way
/// plus every price level and the id's range, a replace's new quantity and
/// levels. The error says which request (`order #i`) and why.
pub fn validate_requests(
    requests: &[Request],
    symbol_count: usize,
    max_orders: usize,
) -> Result<(), String> {
    if requests.len() > max_orders {
        return Err(format!(
            "returned {} orders for one bar, over the limit of {max_orders} (`limits.max_orders_per_bar`)",
            requests.len()
        ));
    }
    for (i, request) in requests.iter().enumerate() {
        match request {
            Request::Order(order) => validate_orders(std::slice::from_ref(order), symbol_count, 1)
                .map_err(|e| e.replacen("order #0", &format!("order #{i}"), 1))?,
            Request::Broker(paper::Request::Place(ticket)) => {
                if ticket.symbol as usize >= symbol_count {
                    return Err(format!(
                        "order #{i} names symbol index {} but the strategy was given {symbol_count} symbol(s)",
                        ticket.symbol
                    ));
                }
                if ticket.id >= paper::HOST_IDS {
                    return Err(format!(
                        "order #{i} has id {}; a strategy's ids must be below 2^63 (the host numbers its own from there)",
                        ticket.id
                    ));
                }
                check_quantity(i, ticket.quantity)?;
                check_levels(i, ticket.kind)?;
            }
            Request::Broker(paper::Request::Replace { quantity, kind, .. }) => {
                if let Some(quantity) = quantity {
                    check_quantity(i, *quantity)?;
                }
                if let Some(kind) = kind {
                    check_levels(i, *kind)?;
                }
            }
            Request::Broker(paper::Request::Cancel(_)) => {}
        }
    }
    Ok(())
}

fn check_quantity(i: usize, quantity: f64) -> Result<(), String> {
    if !quantity.is_finite() || quantity <= 0.0 {
        return Err(format!(
            "order #{i} has quantity {quantity}; it must be a finite number above 0 (the side gives the direction)"
        ));
    }
    if !(MIN_QUANTITY..=MAX_QUANTITY).contains(&quantity) {
        return Err(format!(
            "order #{i} has quantity {quantity:e}; it must be between {MIN_QUANTITY:e} and {MAX_QUANTITY:e} (check the strategy's position sizing)"
        ));
    }
    Ok(())
}

/// Every level of `kind` finite and above 0 (a trailing percent also below 100).
fn check_levels(i: usize, kind: Kind) -> Result<(), String> {
    let levels: &[(&str, f64)] = match &kind {
        Kind::Market => &[],
        Kind::Limit(p) => &[("limit price", *p)],
        Kind::Stop(p) => &[("stop price", *p)],
        Kind::StopLimit { stop, limit } => &[("stop price", *stop), ("limit price", *limit)],
        Kind::TrailingAmount(a) => &[("trailing amount", *a)],
        Kind::TrailingPercent(p) => &[("trailing percent", *p)],
    };
    for (name, value) in levels {
        if !value.is_finite() || *value <= 0.0 {
            return Err(format!(
                "order #{i} has {name} {value}; it must be a finite number above 0"
            ));
        }
    }
    if let Kind::TrailingPercent(p) = kind
        && p >= 100.0
    {
        return Err(format!(
            "order #{i} has trailing percent {p}; it must be below 100 (2.0 means 2 %)"
        ));
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

    /// Issue 15 item 1: requests of contract 0.2.0 are checked as 0.1.0's
    /// orders are (the same messages for the same faults), plus every level.
    #[test]
    fn issue_15_1_requests_are_checked_like_orders_and_every_level() {
        use sandbar_guest::paper::{Request as P, Ticket};
        let err = |r: Request| {
            validate_requests(&[Request::Order(order(0, 1.0, OrderKind::Market)), r], 1, 4)
                .unwrap_err()
        };
        let ticket = |kind| Ticket::one_bar(7, 0, sandbar_guest::Side::Buy, 1.0, kind);
        assert_eq!(
            err(Request::Order(order(0, f64::NAN, OrderKind::Market))),
            "order #1 has quantity NaN; it must be a finite number above 0 (the side gives the direction)"
        );
        assert!(
            err(Request::Broker(P::Place(ticket(Kind::Stop(-1.0)))))
                .contains("order #1 has stop price -1")
        );
        assert!(
            err(Request::Broker(P::Place(ticket(Kind::StopLimit {
                stop: 1.0,
                limit: f64::NAN
            }))))
            .contains("limit price NaN")
        );
        assert!(
            err(Request::Broker(P::Place(ticket(Kind::TrailingPercent(
                100.0
            )))))
            .contains("below 100")
        );
        assert!(
            err(Request::Broker(P::Place(Ticket {
                symbol: 2,
                ..ticket(Kind::Market)
            })))
            .contains("symbol index 2")
        );
        assert!(
            err(Request::Broker(P::Place(Ticket {
                id: paper::HOST_IDS,
                ..ticket(Kind::Market)
            })))
            .contains("below 2^63")
        );
        assert!(
            err(Request::Broker(P::Replace {
                id: 7,
                quantity: Some(0.0),
                kind: None
            }))
            .contains("quantity 0")
        );
        let fine = [
            Request::Broker(P::Place(ticket(Kind::TrailingAmount(2.0)))),
            Request::Broker(P::Cancel(99)),
            Request::Broker(P::Replace {
                id: 7,
                quantity: None,
                kind: Some(Kind::Limit(3.0)),
            }),
        ];
        assert!(validate_requests(&fine, 1, 4).is_ok());
    }
}
