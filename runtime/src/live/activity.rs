//! What a strategy holds and did lately, as `/status`, `runtime status` and
//! the dashboard show it: its open positions, its working orders, its last
//! fills and the fuel its `on-bar` calls burn. The bar loop owns the book;
//! it publishes an [`Activity`] copy into the slot when a bar changed what
//! the strategy holds (a fill, an order routed, an update) and at least
//! once a second for the marks, so readers never touch the loop's state.

use super::journal::{OrderTerms, TicketFields};
use crate::broker::Book;
use crate::contract::{Fill, Side};
use sandbar_guest::paper::{self, Kind, TimeInForce};
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::Arc;

/// Fills kept for the status, newest last.
pub const RECENT_FILLS: usize = 20;

/// A strategy's positions, working orders and recent fills at one bar.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Activity {
    /// The bar these figures are as of (none before the first bar).
    pub as_of_seq: Option<u64>,
    /// Symbols with a position (flat ones are left out).
    pub positions: Vec<PositionView>,
    /// Orders still working, in the order sent (0.1.0 one-bar orders
    /// until their next bar, 0.2.0 orders until filled, cancelled or
    /// expired; a bracket's exits once its entry filled).
    pub working_orders: Vec<WorkingOrder>,
    /// The last fills, oldest first (at most [`RECENT_FILLS`]).
    pub recent_fills: Vec<RecentFill>,
}

/// One open position, marked at the symbol's last close.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PositionView {
    /// The symbol's name.
    pub symbol: Arc<str>,
    /// Signed quantity: positive long, negative short.
    pub quantity: f64,
    /// Average entry price of the open quantity.
    pub avg_price: f64,
    /// The symbol's last close.
    pub last_price: f64,
    /// (last − average) × quantity.
    pub unrealised_pnl: f64,
}

/// An order working in the paper broker.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkingOrder {
    /// The symbol's name.
    pub symbol: Arc<str>,
    /// `buy` or `sell`.
    pub side: &'static str,
    /// Units.
    pub quantity: f64,
    /// Its kind and levels; the strategy's id for orders with ids
    /// (contract 0.2.0), none for 0.1.0's one-bar orders.
    #[serde(flatten)]
    pub terms: OrderTerms,
}

/// A fill, as the status lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecentFill {
    /// The bar it filled on.
    pub seq: u64,
    /// That bar's time, ms since the epoch.
    pub ts_ms: i64,
    /// The symbol's name.
    pub symbol: Arc<str>,
    /// `buy` or `sell`.
    pub side: &'static str,
    /// Units filled.
    pub quantity: f64,
    /// Price, slippage included.
    pub price: f64,
    /// Commission charged.
    pub commission: f64,
}

/// Fuel one `on-bar` call burnt, over the calls so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct FuelSummary {
    /// Calls measured.
    pub samples: u64,
    /// Median fuel per call.
    pub p50: u64,
    /// 99th percentile.
    pub p99: u64,
    /// The most one call used.
    pub max: u64,
    /// The live generation's budget per call (`limits.fuel_per_bar`).
    pub limit: u64,
}

impl FuelSummary {
    /// Percentiles of `histogram` against the budget `limit`.
    pub fn of(histogram: &hdrhistogram::Histogram<u64>, limit: u64) -> Self {
        if histogram.is_empty() {
            return Self {
                limit,
                ..Self::default()
            };
        }
        Self {
            samples: histogram.len(),
            p50: histogram.value_at_quantile(0.5),
            p99: histogram.value_at_quantile(0.99),
            max: histogram.max(),
            limit,
        }
    }
}

/// Fuel histograms track 1 to 10^12 units at three significant digits.
pub(crate) fn fuel_histogram() -> hdrhistogram::Histogram<u64> {
    hdrhistogram::Histogram::new_with_bounds(1, 1_000_000_000_000, 3)
        .unwrap_or_else(|_| hdrhistogram::Histogram::new(3).expect("3 significant digits is valid"))
}

/// The loop's side: the last fills, kept as they happen.
#[derive(Debug, Default)]
pub(crate) struct RecentFills {
    fills: VecDeque<RecentFill>,
}

impl RecentFills {
    /// Keeps `fill` of the strategy whose symbols are `symbols`.
    pub fn push(&mut self, symbols: &[Arc<str>], fill: &Fill) {
        if self.fills.len() == RECENT_FILLS {
            self.fills.pop_front();
        }
        self.fills.push_back(RecentFill {
            seq: fill.seq,
            ts_ms: fill.ts_ms,
            symbol: symbol_name(symbols, fill.symbol),
            side: side_name(fill.side),
            quantity: fill.quantity,
            price: fill.price,
            commission: fill.commission,
        });
    }

    /// What `book` holds now, with these fills, as of bar `seq`.
    pub fn activity(&self, book: &Book, seq: u64) -> Activity {
        let account = book.account();
        let symbols = book.symbols();
        let positions = (0..symbols.len() as u32)
            .filter_map(|i| {
                let position = book.position(i);
                if position.quantity == 0.0 {
                    return None;
                }
                let last_price = account
                    .last_prices()
                    .get(i as usize)
                    .copied()
                    .unwrap_or(0.0);
                Some(PositionView {
                    symbol: symbol_name(symbols, i),
                    quantity: position.quantity,
                    avg_price: position.avg_price,
                    last_price,
                    unrealised_pnl: (last_price - position.avg_price) * position.quantity,
                })
            })
            .collect();
        let working_orders = account
            .working()
            .map(|ticket| working_order(symbols, ticket))
            .collect();
        Activity {
            as_of_seq: Some(seq),
            positions,
            working_orders,
            recent_fills: self.fills.iter().cloned().collect(),
        }
    }
}

fn working_order(symbols: &[Arc<str>], ticket: &paper::Ticket) -> WorkingOrder {
    let mut terms = describe_ticket(ticket);
    if ticket.id >= paper::HOST_IDS {
        // 0.1.0 orders carry host ids, which mean nothing to the strategy.
        terms.ticket = None;
    }
    WorkingOrder {
        symbol: symbol_name(symbols, ticket.symbol),
        side: side_name(ticket.side.into()),
        quantity: ticket.quantity,
        terms,
    }
}

/// A ticket's kind, limit price and id fields: one description for
/// `orders.jsonl` and the status's working orders.
pub(crate) fn describe_ticket(t: &paper::Ticket) -> OrderTerms {
    let (kind, limit, stop, amount, percent) = match t.kind {
        Kind::Market => ("market", None, None, None, None),
        Kind::Limit(l) => ("limit", Some(l), None, None, None),
        Kind::Stop(s) => ("stop", None, Some(s), None, None),
        Kind::StopLimit { stop, limit } => ("stop_limit", Some(limit), Some(stop), None, None),
        Kind::TrailingAmount(a) => ("trailing_amount", None, None, Some(a), None),
        Kind::TrailingPercent(p) => ("trailing_percent", None, None, None, Some(p)),
    };
    let fields = TicketFields {
        id: t.id,
        stop_price: stop,
        trail_amount: amount,
        trail_percent: percent,
        tif: match t.tif {
            TimeInForce::Gtc => "gtc".to_owned(),
            TimeInForce::Bars(n) => format!("bars:{n}"),
            TimeInForce::Day => "day".to_owned(),
        },
        oco_group: t.oco_group,
        parent: t.parent,
    };
    OrderTerms {
        kind,
        limit_price: limit,
        ticket: Some(fields),
    }
}

/// `buy` or `sell`.
pub(crate) fn side_name(side: Side) -> &'static str {
    match side {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

/// The name of the strategy's symbol `index` (`?` out of range).
pub(crate) fn symbol_name(symbols: &[Arc<str>], index: u32) -> Arc<str> {
    symbols
        .get(index as usize)
        .cloned()
        .unwrap_or_else(|| Arc::from("?"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::FillModel;
    use crate::broker::test_orders::{bar_at as bar, place_buy as place};
    use crate::risk::RiskRules;

    /// Issue 17: the dashboard's positions, working orders and fills are the
    /// book's, marked at the last close, the fills capped at the newest.
    #[test]
    fn activity_shows_the_books_positions_orders_and_last_fills() {
        let rules = RiskRules::default();
        let mut book = Book::new(vec![Arc::from("X")], 100_000.0, FillModel::FREE);
        let mut recent = RecentFills::default();
        book.on_bar(&rules, &bar(0, 100.0));
        assert_eq!(recent.activity(&book, 0).positions, []);
        book.route(&rules, vec![place(1, 2.0, Kind::Market)], 64, 0, 0);
        book.route(&rules, vec![place(2, 1.0, Kind::Limit(50.0))], 64, 0, 0);
        let during = recent.activity(&book, 0);
        assert_eq!(during.working_orders.len(), 2);
        let terms = &during.working_orders[1].terms;
        assert_eq!((terms.kind, terms.limit_price), ("limit", Some(50.0)));
        assert_eq!(terms.ticket.as_ref().unwrap().id, 2);
        let marked = book.on_bar(&rules, &bar(1, 110.0));
        for fill in &marked.fills {
            recent.push(book.symbols(), fill);
        }
        let after = recent.activity(&book, 1);
        assert_eq!(after.as_of_seq, Some(1));
        assert_eq!(after.positions.len(), 1);
        let p = &after.positions[0];
        assert_eq!((p.quantity, p.avg_price, p.last_price), (2.0, 110.0, 110.0));
        assert_eq!(after.working_orders.len(), 1, "the limit at 50 rests");
        assert_eq!(after.recent_fills.len(), 1);
        assert_eq!(after.recent_fills[0].side, "buy");
        book.on_bar(&rules, &bar(2, 120.0));
        let marked_up = recent.activity(&book, 2);
        assert_eq!(marked_up.positions[0].unrealised_pnl, 20.0);
        // Only the newest fills are kept.
        let fill = after_fill(&marked.fills[0]);
        for _ in 0..RECENT_FILLS + 5 {
            recent.push(book.symbols(), &fill);
        }
        assert_eq!(recent.activity(&book, 2).recent_fills.len(), RECENT_FILLS);
    }

    fn after_fill(fill: &Fill) -> Fill {
        Fill { seq: 9, ..*fill }
    }

    #[test]
    fn fuel_summary_reads_the_histogram_against_the_budget() {
        let mut h = fuel_histogram();
        assert_eq!(FuelSummary::of(&h, 1000).samples, 0);
        for v in [100, 200, 300, 400, 5000] {
            h.record(v).unwrap();
        }
        let s = FuelSummary::of(&h, 10_000);
        assert_eq!(s.samples, 5);
        assert_eq!(s.limit, 10_000);
        assert!((299..=301).contains(&s.p50), "{s:?}");
        assert!((4990..=5010).contains(&s.max), "{s:?}");
    }
}
