//! The contract's (0.2.0) order types and the broker's, one to one:
//! `ticket` ↔ [`Ticket`], `ticket-kind` ↔ [`Kind`], `time-in-force` ↔
//! [`TimeInForce`], `request` ↔ [`Request`] (its `order` case is a one-bar
//! order without an id, [`PaperAccount::submit`]'s), `order-update` ↔
//! [`OrderUpdate`], `order-status` ↔ [`OrderStatus`].

use super::PaperAccount;
use super::order::{Kind, OrderStatus, OrderUpdate, Request, Ticket, TimeInForce};

impl From<crate::TicketKind> for Kind {
    fn from(kind: crate::TicketKind) -> Self {
        use crate::TicketKind as W;
        match kind {
            W::Market => Kind::Market,
            W::Limit(p) => Kind::Limit(p),
            W::Stop(p) => Kind::Stop(p),
            W::StopLimit(l) => Kind::StopLimit {
                stop: l.stop,
                limit: l.limit,
            },
            W::TrailingAmount(a) => Kind::TrailingAmount(a),
            W::TrailingPercent(p) => Kind::TrailingPercent(p),
        }
    }
}

impl From<Kind> for crate::TicketKind {
    fn from(kind: Kind) -> Self {
        match kind {
            Kind::Market => Self::Market,
            Kind::Limit(p) => Self::Limit(p),
            Kind::Stop(p) => Self::Stop(p),
            Kind::StopLimit { stop, limit } => {
                Self::StopLimit(crate::StopLimitLevels { stop, limit })
            }
            Kind::TrailingAmount(a) => Self::TrailingAmount(a),
            Kind::TrailingPercent(p) => Self::TrailingPercent(p),
        }
    }
}

impl From<crate::TimeInForce> for TimeInForce {
    fn from(tif: crate::TimeInForce) -> Self {
        match tif {
            crate::TimeInForce::Gtc => TimeInForce::Gtc,
            crate::TimeInForce::Bars(n) => TimeInForce::Bars(n),
            crate::TimeInForce::Day => TimeInForce::Day,
        }
    }
}

impl From<TimeInForce> for crate::TimeInForce {
    fn from(tif: TimeInForce) -> Self {
        match tif {
            TimeInForce::Gtc => Self::Gtc,
            TimeInForce::Bars(n) => Self::Bars(n),
            TimeInForce::Day => Self::Day,
        }
    }
}

impl From<crate::Ticket> for Ticket {
    fn from(t: crate::Ticket) -> Self {
        Self {
            id: t.id,
            symbol: t.symbol,
            side: t.side,
            quantity: t.quantity,
            kind: t.kind.into(),
            tif: t.tif.into(),
            oco_group: t.oco_group,
            parent: t.parent,
        }
    }
}

impl From<Ticket> for crate::Ticket {
    fn from(t: Ticket) -> Self {
        Self {
            id: t.id,
            symbol: t.symbol,
            side: t.side,
            quantity: t.quantity,
            kind: t.kind.into(),
            tif: t.tif.into(),
            oco_group: t.oco_group,
            parent: t.parent,
        }
    }
}

/// A contract request as the broker's: `Err` for a one-bar order without
/// an id (which the broker takes through [`PaperAccount::submit`]).
pub fn request(request: crate::Request) -> Result<Request, crate::Order> {
    match request {
        crate::Request::Order(order) => Err(order),
        crate::Request::Place(ticket) => Ok(Request::Place(ticket.into())),
        crate::Request::Cancel(id) => Ok(Request::Cancel(id)),
        crate::Request::Replace(r) => Ok(Request::Replace {
            id: r.id,
            quantity: r.quantity,
            kind: r.kind.map(Into::into),
        }),
    }
}

impl From<OrderStatus> for crate::OrderStatus {
    fn from(status: OrderStatus) -> Self {
        match status {
            OrderStatus::Accepted => Self::Accepted,
            OrderStatus::Triggered => Self::Triggered,
            OrderStatus::PartiallyFilled => Self::PartiallyFilled,
            OrderStatus::Filled => Self::Filled,
            OrderStatus::Cancelled => Self::Cancelled,
            OrderStatus::Expired => Self::Expired,
            OrderStatus::Rejected => Self::Rejected,
            OrderStatus::Replaced => Self::Replaced,
        }
    }
}

impl From<&OrderUpdate> for crate::OrderUpdate {
    fn from(u: &OrderUpdate) -> Self {
        Self {
            id: u.id,
            symbol: u.symbol,
            status: u.status.into(),
            seq: u.seq,
            reason: u.reason.clone(),
        }
    }
}

impl PaperAccount {
    /// Takes what a strategy's `on-bar` returned: one-bar orders as
    /// [`PaperAccount::submit`] does, the rest as [`PaperAccount::request`].
    pub fn send(&mut self, requests: impl IntoIterator<Item = crate::Request>) {
        for r in requests {
            match request(r) {
                Ok(r) => self.request([r]),
                Err(order) => self.submit([order]),
            }
        }
    }
}
