//! Contract `sandbar:strategy@0.2.0`: its bindings (wasmtime `bindgen!` over
//! `guest-sdk/wit/0.2.0/strategy.wit`) and the conversions at the edge: the
//! records it shares with 0.1.0 to and from the host's (0.1.0) types, its
//! requests into the broker's [`sandbar_guest::paper::Request`]s, and the
//! broker's order updates out to the guest. The WIT's new types map one to
//! one onto the SDK's paper types (`ticket` = `Ticket`, `ticket-kind` =
//! `Kind`, `time-in-force` = `TimeInForce`, `order-update` = `OrderUpdate`,
//! `order-status` = `OrderStatus`).

/// The `bindgen!` output (the module scopes the lint, as in `v1.rs`).
mod generated {
    #![allow(missing_docs)]
    wasmtime::component::bindgen!({
        path: "../guest-sdk/wit/0.2.0",
        world: "strategy",
        imports: { default: tracing },
        additional_derives: [PartialEq],
    });
}
pub use generated::*;

pub use sandbar::strategy::types::{
    LogLevel, Order, OrderKind, OrderStatus, ParamKind, ParamSpec, ParamValue, ReplaceOrder, Side,
    StopLimitLevels, Ticket, TicketKind, TimeInForce,
};

use super::v1;
use sandbar_guest::paper;

/// This contract's version, as it appears in import names.
pub const VERSION: &str = "0.2.0";

impl sandbar::strategy::types::Host for super::HostState {}

// The records of scalars, field for field, to and from 0.1.0's.
super::same_records!(v1);

impl From<v1::Side> for Side {
    fn from(side: v1::Side) -> Self {
        match side {
            v1::Side::Buy => Side::Buy,
            v1::Side::Sell => Side::Sell,
        }
    }
}

impl From<Side> for v1::Side {
    fn from(side: Side) -> Self {
        match side {
            Side::Buy => v1::Side::Buy,
            Side::Sell => v1::Side::Sell,
        }
    }
}

impl From<Side> for sandbar_guest::Side {
    fn from(side: Side) -> Self {
        v1::Side::from(side).into()
    }
}

impl From<&v1::ParamValue> for ParamValue {
    fn from(v: &v1::ParamValue) -> Self {
        match v {
            v1::ParamValue::Int(x) => Self::Int(*x),
            v1::ParamValue::Float(x) => Self::Float(*x),
            v1::ParamValue::Boolean(x) => Self::Boolean(*x),
            v1::ParamValue::Text(x) => Self::Text(x.clone()),
        }
    }
}

impl From<ParamValue> for v1::ParamValue {
    fn from(v: ParamValue) -> Self {
        match v {
            ParamValue::Int(x) => Self::Int(x),
            ParamValue::Float(x) => Self::Float(x),
            ParamValue::Boolean(x) => Self::Boolean(x),
            ParamValue::Text(x) => Self::Text(x),
        }
    }
}

/// `init`'s parameters in this version's types.
pub fn params(params: &[v1::Param]) -> Vec<Param> {
    params
        .iter()
        .map(|p| Param {
            name: p.name.clone(),
            value: (&p.value).into(),
        })
        .collect()
}

impl From<StrategyInfo> for v1::StrategyInfo {
    fn from(info: StrategyInfo) -> Self {
        Self {
            name: info.name,
            version: info.version,
            description: info.description,
            params: info
                .params
                .into_iter()
                .map(|p| v1::ParamSpec {
                    name: p.name,
                    kind: match p.kind {
                        ParamKind::Int => v1::ParamKind::Int,
                        ParamKind::Float => v1::ParamKind::Float,
                        ParamKind::Boolean => v1::ParamKind::Boolean,
                        ParamKind::Text => v1::ParamKind::Text,
                    },
                    default: p.default.into(),
                    description: p.description,
                })
                .collect(),
            warmup_bars: info.warmup_bars,
        }
    }
}

impl From<TicketKind> for paper::Kind {
    fn from(kind: TicketKind) -> Self {
        match kind {
            TicketKind::Market => paper::Kind::Market,
            TicketKind::Limit(limit) => paper::Kind::Limit(limit),
            TicketKind::Stop(stop) => paper::Kind::Stop(stop),
            TicketKind::StopLimit(l) => paper::Kind::StopLimit {
                stop: l.stop,
                limit: l.limit,
            },
            TicketKind::TrailingAmount(amount) => paper::Kind::TrailingAmount(amount),
            TicketKind::TrailingPercent(percent) => paper::Kind::TrailingPercent(percent),
        }
    }
}

impl From<TimeInForce> for paper::TimeInForce {
    fn from(tif: TimeInForce) -> Self {
        match tif {
            TimeInForce::Gtc => paper::TimeInForce::Gtc,
            TimeInForce::Bars(n) => paper::TimeInForce::Bars(n),
            TimeInForce::Day => paper::TimeInForce::Day,
        }
    }
}

impl From<Ticket> for paper::Ticket {
    fn from(t: Ticket) -> Self {
        Self {
            id: t.id,
            symbol: t.symbol,
            side: t.side.into(),
            quantity: t.quantity,
            kind: t.kind.into(),
            tif: t.tif.into(),
            oco_group: t.oco_group,
            parent: t.parent,
        }
    }
}

impl From<Request> for super::Request {
    fn from(request: Request) -> Self {
        match request {
            Request::Order(o) => super::Request::Order(v1::Order {
                symbol: o.symbol,
                side: o.side.into(),
                quantity: o.quantity,
                kind: match o.kind {
                    OrderKind::Market => v1::OrderKind::Market,
                    OrderKind::Limit(price) => v1::OrderKind::Limit(price),
                },
            }),
            Request::Place(ticket) => super::Request::Broker(paper::Request::Place(ticket.into())),
            Request::Cancel(id) => super::Request::Broker(paper::Request::Cancel(id)),
            Request::Replace(r) => super::Request::Broker(paper::Request::Replace {
                id: r.id,
                quantity: r.quantity,
                kind: r.kind.map(Into::into),
            }),
        }
    }
}

impl From<&paper::OrderUpdate> for OrderUpdate {
    fn from(u: &paper::OrderUpdate) -> Self {
        Self {
            id: u.id,
            symbol: u.symbol,
            status: match u.status {
                paper::OrderStatus::Accepted => OrderStatus::Accepted,
                paper::OrderStatus::Triggered => OrderStatus::Triggered,
                paper::OrderStatus::PartiallyFilled => OrderStatus::PartiallyFilled,
                paper::OrderStatus::Filled => OrderStatus::Filled,
                paper::OrderStatus::Cancelled => OrderStatus::Cancelled,
                paper::OrderStatus::Expired => OrderStatus::Expired,
                paper::OrderStatus::Rejected => OrderStatus::Rejected,
                paper::OrderStatus::Replaced => OrderStatus::Replaced,
            },
            seq: u.seq,
            reason: u.reason.clone(),
        }
    }
}
