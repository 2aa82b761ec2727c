//! One strategy's paper account: cash, a holding per symbol, and its
//! working orders ([`OrderBook`]).

use super::FillModel;
use super::book::OrderBook;
use super::order::{Kind, OrderUpdate, Request, Ticket};
use crate::accounting::Holding;
use crate::{Bar, Fill, Order, OrderKind, Position, Side};

/// A strategy's paper account. Symbols are the strategy's own indices.
#[derive(Debug, Clone)]
pub struct PaperAccount {
    model: FillModel,
    starting_cash: f64,
    cash: f64,
    holdings: Vec<Holding>,
    last_price: Vec<f64>,
    /// Working orders.
    book: OrderBook,
    /// The last bar seen: requests sent in answer to it are stamped with it.
    last_seq: u64,
    last_ts_ms: i64,
    realised_pnl: f64,
    commission_paid: f64,
    fills: u64,
}

impl PaperAccount {
    /// A flat account over `symbols` symbols (indices `0..symbols`) holding
    /// `starting_cash` (`broker.starting_cash`), nothing waiting, and last
    /// prices of 0 until each symbol's first bar.
    pub fn new(symbols: usize, starting_cash: f64, model: FillModel) -> Self {
        Self {
            model,
            starting_cash,
            cash: starting_cash,
            holdings: vec![Holding::default(); symbols],
            last_price: vec![0.0; symbols],
            book: OrderBook::new(),
            last_seq: 0,
            last_ts_ms: 0,
            realised_pnl: 0.0,
            commission_paid: 0.0,
            fills: 0,
        }
    }

    /// The fill model this account applies.
    pub fn model(&self) -> FillModel {
        self.model
    }

    /// Queues orders without ids (contract 0.1.0's `market` and `limit`):
    /// each works on the next bar of its symbol only, under an id of the
    /// broker's ([`super::HOST_IDS`] up).
    pub fn submit(&mut self, orders: impl IntoIterator<Item = Order>) {
        for order in orders {
            let kind = match order.kind {
                OrderKind::Market => Kind::Market,
                OrderKind::Limit(limit) => Kind::Limit(limit),
            };
            let id = self.book.host_id();
            let ticket = Ticket::one_bar(id, order.symbol, order.side, order.quantity, kind);
            self.request([Request::Place(ticket)]);
        }
    }

    /// Carries out requests (place, cancel, replace) sent in answer to the
    /// last bar; each outcome is an [`OrderUpdate`] ([`Self::take_updates`]).
    pub fn request(&mut self, requests: impl IntoIterator<Item = Request>) {
        for request in requests {
            let symbol = match request {
                Request::Place(ticket) => Some(ticket.symbol),
                _ => None,
            };
            let reference = symbol
                .and_then(|s| self.last_price.get(s as usize).copied())
                .unwrap_or(0.0);
            self.book
                .request(request, self.last_seq, self.last_ts_ms, reference);
        }
    }

    /// Cancels every working order (a halt or a pause stops its orders).
    pub fn cancel_pending(&mut self) {
        self.book.cancel_all(
            self.last_seq,
            "cancelled by the runtime (strategy halted or paused)",
        );
    }

    /// The orders working (or waiting for their bracket's entry), in the
    /// order sent.
    pub fn working(&self) -> impl Iterator<Item = &Ticket> {
        self.book.tickets()
    }

    /// What happened to orders since the last call: accepted, triggered,
    /// filled, cancelled, expired, rejected, replaced — in order.
    pub fn take_updates(&mut self) -> Vec<OrderUpdate> {
        self.book.take_updates()
    }

    /// Fills what this bar fills (see [`crate::paper`] for the rules), in
    /// the order they happen, then marks the symbol at the bar's close.
    pub fn on_bar(&mut self, bar: &Bar) -> Vec<Fill> {
        self.last_seq = bar.seq;
        self.last_ts_ms = bar.ts_ms;
        let filled = self.book.on_bar(bar, &self.model);
        let fills = filled
            .into_iter()
            .map(|f| {
                let order = Order {
                    symbol: f.ticket.symbol,
                    side: f.ticket.side,
                    quantity: f.ticket.quantity,
                    kind: OrderKind::Market,
                };
                let commission = f.ticket.quantity * f.price * self.model.commission;
                self.fill_at(&order, f.price, commission, bar.seq, bar.ts_ms)
            })
            .collect();
        self.mark(bar.symbol, bar.close);
        fills
    }

    /// Sets the last price of `symbol` (what equity marks it at).
    pub fn mark(&mut self, symbol: u32, price: f64) {
        if let Some(last) = self.last_price.get_mut(symbol as usize) {
            *last = price;
        }
    }

    /// Fills `order` at `price` paying `commission` now, whatever the fill
    /// model says: for callers that decide fills themselves (the harness's
    /// [`crate::Harness::fill`]). The fill is stamped with `seq` and `ts_ms`.
    pub fn fill_at(
        &mut self,
        order: &Order,
        price: f64,
        commission: f64,
        seq: u64,
        ts_ms: i64,
    ) -> Fill {
        let signed = match order.side {
            Side::Buy => order.quantity,
            Side::Sell => -order.quantity,
        };
        if let Some(holding) = self.holdings.get_mut(order.symbol as usize) {
            let effect = holding.apply_fill(signed, price, commission);
            self.cash += effect.cash_delta;
            self.realised_pnl += effect.realised_pnl;
        }
        self.commission_paid += commission;
        self.fills += 1;
        Fill {
            seq,
            ts_ms,
            symbol: order.symbol,
            side: order.side,
            quantity: order.quantity,
            price,
            commission,
        }
    }

    /// The position passed to the strategy with a bar of `symbol`.
    pub fn position(&self, symbol: u32) -> Position {
        let holding = self
            .holdings
            .get(symbol as usize)
            .copied()
            .unwrap_or_default();
        Position {
            quantity: holding.quantity,
            avg_price: holding.avg_price,
            cash: self.cash,
            equity: self.equity(),
        }
    }

    /// Cash plus every holding marked at its last close.
    pub fn equity(&self) -> f64 {
        crate::accounting::equity(self.cash, &self.holdings, &self.last_price)
    }

    /// The cash the account opened with, in account currency.
    pub fn starting_cash(&self) -> f64 {
        self.starting_cash
    }

    /// Cash now: starting cash, minus what buys cost, plus what sells
    /// brought, minus every commission. Negative when the account is
    /// leveraged (nothing stops a buy beyond the cash).
    pub fn cash(&self) -> f64 {
        self.cash
    }

    /// Profit or loss realised by fills that reduced or closed a holding,
    /// against its average entry price, before commission.
    pub fn realised_pnl(&self) -> f64 {
        self.realised_pnl
    }

    /// Every commission paid so far, in account currency.
    pub fn commission_paid(&self) -> f64 {
        self.commission_paid
    }

    /// Fills made so far (one per filled order; there are no partial fills).
    pub fn fill_count(&self) -> u64 {
        self.fills
    }

    /// The position of `symbol` once every working order of it that may
    /// add to it fills (bracket exits excluded, an OCO group counted once).
    pub fn exposure(&self, symbol: u32) -> f64 {
        let held = self
            .holdings
            .get(symbol as usize)
            .map_or(0.0, |h| h.quantity);
        held + self.book.exposure(symbol)
    }

    /// The last close seen per symbol (0 before the first bar).
    pub fn last_prices(&self) -> &[f64] {
        &self.last_price
    }

    /// Profit or loss of the open positions marked at their last close.
    pub fn unrealised_pnl(&self) -> f64 {
        self.holdings
            .iter()
            .zip(&self.last_price)
            .map(|(h, price)| h.unrealised_pnl(*price))
            .sum()
    }
}
