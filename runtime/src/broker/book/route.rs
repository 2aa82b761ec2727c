//! [`Book::route`]: the requests of either contract version through the
//! contract checks and the risk gate into the account — one-bar orders as
//! [`Book::submit`] takes them, orders with ids (place, cancel, replace)
//! through the same gate.

use super::Book;
use crate::contract::Request;
use crate::risk::{OrderContext, Refusal, RiskRule, RiskRules};
use sandbar_guest::paper::{self, Ticket};

impl Book {
    /// [`Book::submit`] for the requests of either contract version: the
    /// whole result checked first ([`crate::validate::validate_requests`]),
    /// then one-bar orders as `submit` takes them, and orders with ids
    /// through the same risk gate (a replace is checked as the order it
    /// makes, without the order it replaces; a cancel always passes). A
    /// refused order with an id also becomes a `rejected` update naming the
    /// rule, so the strategy knows it is not working. `seq` is the bar the
    /// strategy answered. Returns the accepted requests (prices on the
    /// tick) and the refusals.
    pub fn route(
        &mut self,
        rules: &RiskRules,
        requests: Vec<Request>,
        max_orders: usize,
        now_ms: i64,
        seq: u64,
    ) -> (Vec<Request>, Vec<Refusal>) {
        if let Err(reason) =
            crate::validate::validate_requests(&requests, self.symbols.len(), max_orders)
        {
            let refusal = Refusal {
                rule: RiskRule::Validation,
                reason,
            };
            return (Vec::new(), vec![refusal]);
        }
        let mut accepted = Vec::with_capacity(requests.len());
        let mut refused = Vec::new();
        for request in requests {
            let outcome = match request {
                Request::Order(order) => {
                    self.submit_order(rules, order, now_ms).map(Request::Order)
                }
                Request::Broker(request) => self.broker_request(rules, request, now_ms, seq),
            };
            match outcome {
                Ok(request) => accepted.push(request),
                Err(refusal) => refused.push(refusal),
            }
        }
        (accepted, refused)
    }

    fn broker_request(
        &mut self,
        rules: &RiskRules,
        request: paper::Request,
        now_ms: i64,
        seq: u64,
    ) -> Result<Request, Refusal> {
        let ticket = match request {
            paper::Request::Cancel(_) => None,
            paper::Request::Place(ticket) => Some(ticket),
            paper::Request::Replace { id, quantity, kind } => {
                // Unknown ids go to the broker, which answers `rejected`.
                self.account.working().find(|t| t.id == id).map(|t| Ticket {
                    quantity: quantity.unwrap_or(t.quantity),
                    kind: kind.unwrap_or(t.kind),
                    ..*t
                })
            }
        };
        let Some(ticket) = ticket else {
            self.account.request([request]);
            return Ok(Request::Broker(request));
        };
        let checked = self.check_ticket(
            rules,
            &ticket,
            now_ms,
            !matches!(request, paper::Request::Place(_)),
        );
        let checked = match checked {
            Ok(checked) => checked,
            Err(refusal) => {
                let reason = format!(
                    "refused by risk rule `{}`: {}",
                    refusal.rule.as_str(),
                    refusal.reason
                );
                self.account.reject(ticket.id, ticket.symbol, seq, reason);
                return Err(refusal);
            }
        };
        let request = match request {
            paper::Request::Place(_) => paper::Request::Place(checked),
            paper::Request::Replace { id, quantity, kind } => paper::Request::Replace {
                id,
                quantity,
                kind: kind.map(|_| checked.kind),
            },
            cancel => cancel,
        };
        self.account.request([request]);
        Ok(Request::Broker(request))
    }

    /// The risk gate on an order with an id; `replacing`: the working order
    /// of the same id is left out of the exposure (it is what changes).
    fn check_ticket(
        &mut self,
        rules: &RiskRules,
        ticket: &Ticket,
        now_ms: i64,
        replacing: bool,
    ) -> Result<Ticket, Refusal> {
        let symbol = ticket.symbol as usize;
        let reference_price = self.reference_price(symbol);
        let name = self.symbols.get(symbol).map_or("?", |s| &**s);
        let price = crate::risk::order_price(ticket.kind, reference_price);
        let notional = ticket.quantity * price;
        let absurd = !notional.is_finite() || notional > crate::validate::MAX_NOTIONAL;
        if absurd && self.gate.halted().is_none() {
            return Err(Refusal {
                rule: RiskRule::Validation,
                reason: format!(
                    "order notional {notional:e} ({} {name} at {price}) is over the broker's bound of {:e}; check the strategy's position sizing",
                    ticket.quantity,
                    crate::validate::MAX_NOTIONAL
                ),
            });
        }
        let held = self.account.position(ticket.symbol).quantity;
        let others = self
            .account
            .working()
            .filter(|t| !(replacing && t.id == ticket.id));
        let exposure = crate::risk::exposure_for(held, others, ticket);
        let gross_rules = rules.max_leverage.is_some() || rules.max_gross_exposure.is_some();
        let ctx = OrderContext {
            symbol: name,
            exposure,
            reference_price,
            now_ms,
            gross_exposure: if gross_rules {
                self.gross_exposure()
            } else {
                0.0
            },
            equity: if gross_rules {
                self.account.equity()
            } else {
                f64::NAN
            },
        };
        self.gate.check_ticket(rules, ticket, ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::FillModel;
    use crate::broker::test_orders::{bar_at, place_buy};
    use crate::contract::Bar;
    use sandbar_guest::paper::{Kind, OrderStatus};
    use std::sync::Arc;

    fn bar(seq: u64) -> Bar {
        bar_at(seq, 100.0)
    }

    /// Issue 15 item 4: orders with ids meet the risk gate; a refused one is
    /// a refusal and a `rejected` update naming the rule; a replace is
    /// checked as the order it makes, without the order it replaces.
    #[test]
    fn issue_15_4_orders_with_ids_meet_the_gate_and_refusals_are_rejected_updates() {
        let rules = RiskRules {
            max_position: Some(5.0),
            ..Default::default()
        };
        let mut book = Book::new(vec![Arc::from("X")], 10_000.0, FillModel::FREE);
        book.on_bar(&rules, &bar(0));
        let (accepted, refused) = book.route(
            &rules,
            vec![
                place_buy(1, 4.0, Kind::Limit(90.0)),
                place_buy(2, 2.0, Kind::Limit(90.0)),
            ],
            64,
            0,
            0,
        );
        assert_eq!(accepted.len(), 1);
        assert_eq!(refused[0].rule, RiskRule::MaxPosition);
        // 4 → 5 replaces order 1: within the cap once order 1 is left out.
        let replace = Request::Broker(paper::Request::Replace {
            id: 1,
            quantity: Some(5.0),
            kind: None,
        });
        let (accepted, refused) = book.route(&rules, vec![replace], 64, 0, 0);
        assert_eq!((accepted.len(), refused.len()), (1, 0));
        let updates = book.on_bar(&rules, &bar(1)).updates;
        let got: Vec<(u64, OrderStatus)> = updates.iter().map(|u| (u.id, u.status)).collect();
        assert_eq!(
            got,
            [
                (1, OrderStatus::Accepted),
                (2, OrderStatus::Rejected),
                (1, OrderStatus::Replaced)
            ]
        );
        let reason = updates[1].reason.as_deref().unwrap();
        assert!(reason.contains("`max_position`"), "{reason}");
        // A cancel always passes, even halted.
        book.halt("test".into());
        let cancel = Request::Broker(paper::Request::Cancel(1));
        assert_eq!(book.route(&rules, vec![cancel], 64, 0, 1).0.len(), 1);
    }

    /// Regression (issue 19): `when_flat` looked at positions only, so a
    /// swap happened while the strategy had an order resting — the new
    /// generation inherited an order it never sent. Flat now means no
    /// position and no working order.
    #[test]
    fn regression_19_a_resting_order_is_not_flat() {
        let rules = RiskRules::default();
        let mut book = Book::new(vec![Arc::from("X")], 10_000.0, FillModel::FREE);
        book.on_bar(&rules, &bar(0));
        assert!(book.is_flat());
        let (accepted, _) =
            book.route(&rules, vec![place_buy(1, 1.0, Kind::Limit(50.0))], 64, 0, 0);
        assert_eq!(accepted.len(), 1);
        book.on_bar(&rules, &bar(1));
        assert_eq!(book.position(0).quantity, 0.0, "the limit rests");
        assert!(!book.is_flat(), "a resting limit is not flat");
        let cancel = Request::Broker(paper::Request::Cancel(1));
        book.route(&rules, vec![cancel], 64, 0, 1);
        book.on_bar(&rules, &bar(2));
        assert!(book.is_flat(), "cancelled: flat again");
        // A position is not flat either.
        book.route(
            &rules,
            vec![place_buy(2, 1.0, Kind::Limit(100.0))],
            64,
            0,
            2,
        );
        book.on_bar(&rules, &bar(3));
        assert_eq!(book.position(0).quantity, 1.0);
        assert!(!book.is_flat());
    }
}
