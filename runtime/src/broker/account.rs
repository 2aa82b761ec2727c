//! One strategy's paper account, in the host's contract types. The fill
//! model and the account itself are the guest SDK's
//! ([`sandbar_guest::paper`]), so the native harness a strategy is unit
//! tested with fills exactly as the runtime does; this wrapper only converts
//! between the host's and the SDK's bindings of the same WIT records.

use crate::contract::{Bar, Fill, Order, Position};
use sandbar_guest::paper;

pub use sandbar_guest::paper::FillModel;

/// A strategy's account. Symbols are the strategy's own indices.
#[derive(Debug, Clone)]
pub struct PaperAccount {
    inner: paper::PaperAccount,
    /// Updates of orders with the strategy's own ids (contract 0.2.0), kept
    /// until taken; those of orders without ids are dropped (the strategy
    /// could not tell them apart).
    updates: Vec<paper::OrderUpdate>,
}

impl PaperAccount {
    /// A flat account over `symbols` symbols (indices `0..symbols`) holding
    /// `starting_cash` (`broker.starting_cash`), nothing waiting, and last
    /// prices of 0 until each symbol's first bar.
    pub fn new(symbols: usize, starting_cash: f64, model: FillModel) -> Self {
        Self {
            inner: paper::PaperAccount::new(symbols, starting_cash, model),
            updates: Vec::new(),
        }
    }

    /// Queues validated orders; they fill on the next bar of their symbol.
    pub fn submit(&mut self, orders: impl IntoIterator<Item = Order>) {
        self.inner.submit(orders.into_iter().map(Into::into));
        // Contract 0.1.0 orders have no ids, so their updates (accepted,
        // expired) tell the strategy nothing; fills reach it through on-fill.
        self.keep_updates();
    }

    /// Carries out requests with the strategy's ids (place, cancel,
    /// replace; contract 0.2.0), already checked; each outcome is an update
    /// ([`Self::take_updates`]).
    pub fn request(&mut self, requests: impl IntoIterator<Item = paper::Request>) {
        self.inner.request(requests);
        self.keep_updates();
    }

    /// Records that the host refused the order `id` of `symbol` (a risk
    /// rule), as a `rejected` update for the strategy.
    pub fn reject(&mut self, id: paper::OrderId, symbol: u32, seq: u64, reason: String) {
        self.updates.push(paper::OrderUpdate {
            id,
            symbol,
            status: paper::OrderStatus::Rejected,
            seq,
            reason: Some(reason),
        });
    }

    /// What happened to orders with the strategy's ids since the last call.
    pub fn take_updates(&mut self) -> Vec<paper::OrderUpdate> {
        std::mem::take(&mut self.updates)
    }

    /// The orders working (or waiting for their bracket's entry), in the
    /// order sent.
    pub fn working(&self) -> impl Iterator<Item = &paper::Ticket> {
        self.inner.working()
    }

    fn keep_updates(&mut self) {
        let updates = self.inner.take_updates();
        self.updates
            .extend(updates.into_iter().filter(|u| u.id < paper::HOST_IDS));
    }

    /// Drops every order still waiting for a bar.
    pub fn cancel_pending(&mut self) {
        self.inner.cancel_pending();
        self.keep_updates();
    }

    /// Fills what this bar fills, then marks the symbol at the bar's close.
    /// Market orders fill at the open (plus slippage); limit orders fill at
    /// the limit when the range reaches it, at the open when it gaps through,
    /// and expire unfilled otherwise ([`sandbar_guest::paper`]).
    pub fn on_bar(&mut self, bar: &Bar) -> Vec<Fill> {
        let fills = self
            .inner
            .on_bar(&(*bar).into())
            .into_iter()
            .map(Into::into)
            .collect();
        self.keep_updates();
        fills
    }

    /// The position passed to the strategy with a bar of `symbol`.
    pub fn position(&self, symbol: u32) -> Position {
        self.inner.position(symbol).into()
    }

    /// Cash plus every holding marked at its last close.
    pub fn equity(&self) -> f64 {
        self.inner.equity()
    }

    /// The cash the account opened with, in account currency.
    pub fn starting_cash(&self) -> f64 {
        self.inner.starting_cash()
    }

    /// Cash now: starting cash, minus what buys cost, plus what sells
    /// brought, minus every commission. Negative when the account is
    /// leveraged (nothing stops a buy beyond the cash).
    pub fn cash(&self) -> f64 {
        self.inner.cash()
    }

    /// Profit or loss realised by fills that reduced or closed a holding,
    /// against its average entry price, before commission.
    pub fn realised_pnl(&self) -> f64 {
        self.inner.realised_pnl()
    }

    /// Every commission paid so far (`broker.commission` × notional per
    /// fill), in account currency.
    pub fn commission_paid(&self) -> f64 {
        self.inner.commission_paid()
    }

    /// Fills made so far (one per filled order; there are no partial fills).
    pub fn fill_count(&self) -> u64 {
        self.inner.fill_count()
    }

    /// The position of `symbol` once every waiting order of it fills.
    pub fn exposure(&self, symbol: u32) -> f64 {
        self.inner.exposure(symbol)
    }

    /// The last close seen per symbol (0 before the first bar).
    pub fn last_prices(&self) -> &[f64] {
        self.inner.last_prices()
    }

    /// Profit or loss of the open positions marked at their last close.
    pub fn unrealised_pnl(&self) -> f64 {
        self.inner.unrealised_pnl()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{OrderKind, Side};

    /// The model's rules are tested in the SDK; this proves the conversions
    /// keep every field (symbol, side, kind, quantity, prices, stamps).
    #[test]
    fn host_orders_fill_through_the_sdk_model_with_every_field_kept() {
        let model = FillModel {
            commission: 0.01,
            slippage_bps: 100.0,
            ..FillModel::default()
        };
        let mut account = PaperAccount::new(2, 1000.0, model);
        account.submit([
            Order {
                symbol: 1,
                side: Side::Sell,
                quantity: 2.0,
                kind: OrderKind::Market,
            },
            Order {
                symbol: 1,
                side: Side::Buy,
                quantity: 1.0,
                kind: OrderKind::Limit(95.0),
            },
        ]);
        let bar = Bar {
            seq: 7,
            ts_ms: 1234,
            symbol: 1,
            open: 100.0,
            high: 101.0,
            low: 94.0,
            close: 96.0,
            volume: 1.0,
        };
        let fills = account.on_bar(&bar);
        assert_eq!(fills.len(), 2);
        assert_eq!(
            (fills[0].seq, fills[0].ts_ms, fills[0].symbol, fills[0].side),
            (7, 1234, 1, Side::Sell)
        );
        assert_eq!((fills[0].quantity, fills[0].price), (2.0, 99.0));
        assert_eq!((fills[1].side, fills[1].price), (Side::Buy, 95.0));
        let position = account.position(1);
        assert_eq!((position.quantity, position.avg_price), (-1.0, 99.0));
        assert_eq!(account.last_prices(), [0.0, 96.0]);
        assert_eq!(account.fill_count(), 2);
    }
}
