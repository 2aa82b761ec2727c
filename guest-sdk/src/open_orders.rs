//! The strategy's view of its orders with ids: what it sent and the broker
//! has not ended yet, kept up to date from what it sends and the order
//! updates it gets (`on-order-updates`). The broker's book is the truth;
//! this is the strategy's copy, one bar behind it at most (a fill on this
//! bar arrives as an update before this bar's `on-bar`).

use crate::{OrderStatus, OrderUpdate, Request, Ticket};
use serde::{Deserialize, Serialize};

/// One order the strategy believes is working.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OpenOrder {
    /// The order as sent (with any replace applied).
    #[serde(with = "ticket_serde")]
    pub ticket: Ticket,
    /// The broker has said `accepted` (until then it was only sent).
    pub accepted: bool,
    /// A stop-limit whose stop traded.
    pub triggered: bool,
    /// The order before a replace the broker has not answered yet: put back
    /// if the replace is rejected.
    #[serde(skip)]
    before_replace: Option<Ticket>,
}

/// The strategy's open orders, in the order sent. Read it in `on_bar`
/// through [`crate::Orders::open`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpenOrders {
    orders: Vec<OpenOrder>,
}

impl OpenOrders {
    /// No open orders.
    pub const fn new() -> Self {
        Self { orders: Vec::new() }
    }

    /// Every open order, in the order sent.
    pub fn iter(&self) -> impl Iterator<Item = &OpenOrder> {
        self.orders.iter()
    }

    /// The open order with this id.
    pub fn get(&self, id: u64) -> Option<&OpenOrder> {
        self.orders.iter().find(|o| o.ticket.id == id)
    }

    /// Whether the order with this id is open.
    pub fn contains(&self, id: u64) -> bool {
        self.get(id).is_some()
    }

    /// How many are open.
    pub fn len(&self) -> usize {
        self.orders.len()
    }

    /// `true` with no open orders.
    pub fn is_empty(&self) -> bool {
        self.orders.is_empty()
    }

    /// Notes what the strategy just sent: new orders are open (not yet
    /// accepted), a replace changes its order at once (undone if rejected),
    /// a cancel waits for the broker's word.
    pub fn sent(&mut self, requests: &[Request]) {
        for request in requests {
            match request {
                Request::Place(ticket) => self.orders.push(OpenOrder {
                    ticket: *ticket,
                    accepted: false,
                    triggered: false,
                    before_replace: None,
                }),
                Request::Replace(r) => {
                    if let Some(open) = self.orders.iter_mut().find(|o| o.ticket.id == r.id) {
                        open.before_replace = Some(open.ticket);
                        if let Some(quantity) = r.quantity {
                            open.ticket.quantity = quantity;
                        }
                        if let Some(kind) = r.kind {
                            open.ticket.kind = kind;
                        }
                    }
                }
                Request::Order(_) | Request::Cancel(_) => {}
            }
        }
    }

    /// Applies one update from the broker.
    pub fn update(&mut self, update: &OrderUpdate) {
        let Some(index) = self.orders.iter().position(|o| o.ticket.id == update.id) else {
            return;
        };
        let open = &mut self.orders[index];
        match update.status {
            OrderStatus::Accepted => open.accepted = true,
            OrderStatus::Triggered => open.triggered = true,
            OrderStatus::Replaced => open.before_replace = None,
            OrderStatus::PartiallyFilled => {}
            // A rejected replace leaves the order working as it was; a
            // rejected cancel (of an order that is still working, which the
            // broker does not do) likewise. A rejected new order is gone.
            OrderStatus::Rejected if open.accepted => {
                if let Some(before) = open.before_replace.take() {
                    open.ticket = before;
                }
            }
            OrderStatus::Rejected
            | OrderStatus::Filled
            | OrderStatus::Cancelled
            | OrderStatus::Expired => {
                self.orders.remove(index);
            }
        }
    }
}

/// `Ticket` is the contract's record; this writes it field by field so
/// [`OpenOrder`] can be part of a strategy's serde state.
mod ticket_serde {
    use crate::{Side, StopLimitLevels, Ticket, TicketKind, TimeInForce};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    enum K {
        Market,
        Limit(f64),
        Stop(f64),
        StopLimit(f64, f64),
        TrailingAmount(f64),
        TrailingPercent(f64),
    }

    #[derive(Serialize, Deserialize)]
    enum T {
        Gtc,
        Bars(u32),
        Day,
    }

    #[derive(Serialize, Deserialize)]
    struct Flat {
        id: u64,
        symbol: u32,
        buy: bool,
        quantity: f64,
        kind: K,
        tif: T,
        oco_group: Option<u64>,
        parent: Option<u64>,
    }

    pub fn serialize<S: Serializer>(t: &Ticket, s: S) -> Result<S::Ok, S::Error> {
        Flat {
            id: t.id,
            symbol: t.symbol,
            buy: t.side == Side::Buy,
            quantity: t.quantity,
            kind: match t.kind {
                TicketKind::Market => K::Market,
                TicketKind::Limit(p) => K::Limit(p),
                TicketKind::Stop(p) => K::Stop(p),
                TicketKind::StopLimit(l) => K::StopLimit(l.stop, l.limit),
                TicketKind::TrailingAmount(a) => K::TrailingAmount(a),
                TicketKind::TrailingPercent(p) => K::TrailingPercent(p),
            },
            tif: match t.tif {
                TimeInForce::Gtc => T::Gtc,
                TimeInForce::Bars(n) => T::Bars(n),
                TimeInForce::Day => T::Day,
            },
            oco_group: t.oco_group,
            parent: t.parent,
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Ticket, D::Error> {
        let f = Flat::deserialize(d)?;
        Ok(Ticket {
            id: f.id,
            symbol: f.symbol,
            side: if f.buy { Side::Buy } else { Side::Sell },
            quantity: f.quantity,
            kind: match f.kind {
                K::Market => TicketKind::Market,
                K::Limit(p) => TicketKind::Limit(p),
                K::Stop(p) => TicketKind::Stop(p),
                K::StopLimit(stop, limit) => TicketKind::StopLimit(StopLimitLevels { stop, limit }),
                K::TrailingAmount(a) => TicketKind::TrailingAmount(a),
                K::TrailingPercent(p) => TicketKind::TrailingPercent(p),
            },
            tif: match f.tif {
                T::Gtc => TimeInForce::Gtc,
                T::Bars(n) => TimeInForce::Bars(n),
                T::Day => TimeInForce::Day,
            },
            oco_group: f.oco_group,
            parent: f.parent,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ReplaceOrder, Side, TicketKind, TimeInForce};

    fn ticket(id: u64, kind: TicketKind) -> Ticket {
        Ticket {
            id,
            symbol: 0,
            side: Side::Sell,
            quantity: 1.0,
            kind,
            tif: TimeInForce::Gtc,
            oco_group: None,
            parent: None,
        }
    }

    fn update(id: u64, status: OrderStatus) -> OrderUpdate {
        OrderUpdate {
            id,
            symbol: 0,
            status,
            seq: 1,
            reason: None,
        }
    }

    /// Issue 15 item 4: open orders follow what is sent and what the broker
    /// answers; a rejected replace puts the order back, a rejected new
    /// order is gone, a fill or a cancel ends it.
    #[test]
    fn issue_15_4_open_orders_follow_requests_and_updates() {
        let mut open = OpenOrders::new();
        open.sent(&[
            Request::Place(ticket(1, TicketKind::Stop(90.0))),
            Request::Place(ticket(2, TicketKind::Limit(110.0))),
            Request::Place(ticket(3, TicketKind::Limit(120.0))),
        ]);
        assert_eq!(open.len(), 3);
        assert!(!open.get(1).unwrap().accepted);
        open.update(&update(1, OrderStatus::Accepted));
        open.update(&update(2, OrderStatus::Accepted));
        open.update(&update(3, OrderStatus::Rejected));
        assert!(open.get(1).unwrap().accepted);
        assert!(!open.contains(3), "a rejected new order is not open");
        open.sent(&[Request::Replace(ReplaceOrder {
            id: 1,
            quantity: None,
            kind: Some(TicketKind::Stop(95.0)),
        })]);
        assert_eq!(open.get(1).unwrap().ticket.kind, TicketKind::Stop(95.0));
        open.update(&update(1, OrderStatus::Rejected));
        assert_eq!(
            open.get(1).unwrap().ticket.kind,
            TicketKind::Stop(90.0),
            "a rejected replace leaves the order as it was"
        );
        open.update(&update(1, OrderStatus::Filled));
        open.update(&update(2, OrderStatus::Cancelled));
        assert!(open.is_empty());
        let bytes = postcard::to_allocvec(&OpenOrder {
            ticket: ticket(9, TicketKind::TrailingPercent(2.0)),
            accepted: true,
            triggered: false,
            before_replace: None,
        })
        .unwrap();
        let back: OpenOrder = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back.ticket.kind, TicketKind::TrailingPercent(2.0));
    }
}
