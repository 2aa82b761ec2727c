//! The paper broker's fill model and account, natively: the one
//! implementation behind the runtime's paper broker (live and
//! `runtime backtest`) and the native [`crate::Harness`], so a strategy's unit
//! tests see the fills the runtime makes.
//!
//! The rules (config/README.md, `[broker]`): an order waits for the next bar
//! of its symbol. A market order fills at that bar's open, plus slippage for
//! a buy and minus it for a sell (`broker.slippage_bps`, basis points of the
//! open). A limit buy fills at the open when the bar opens at or below the
//! limit, else at the limit when the bar's low reaches it; a limit sell
//! mirrors it with the high; a limit the bar does not reach expires. Every
//! fill pays `broker.commission` × notional. Orders of one bar fill in the
//! order they were sent; there are no partial fills.

use crate::accounting::Holding;
use crate::{Bar, Fill, Order, OrderKind, Position, Side};

/// How orders become fills.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FillModel {
    /// Commission as a fraction of notional (0.001 = 10 bp).
    pub commission: f64,
    /// Slippage on market orders, in basis points of the open (paid, never earned).
    pub slippage_bps: f64,
}

impl Default for FillModel {
    /// The runtime's defaults: `broker.commission = 0.001`, `broker.slippage_bps = 0`.
    fn default() -> Self {
        Self {
            commission: 0.001,
            slippage_bps: 0.0,
        }
    }
}

impl FillModel {
    /// No commission and no slippage: fills at exactly the open or the limit.
    pub const FREE: Self = Self {
        commission: 0.0,
        slippage_bps: 0.0,
    };

    /// The price `order` fills at on `bar` (the next bar of its symbol), or
    /// `None` when a limit is not reached (the order then expires).
    pub fn fill_price(&self, order: &Order, bar: &Bar) -> Option<f64> {
        let slip = self.slippage_bps / 10_000.0;
        match (order.kind, order.side) {
            (OrderKind::Market, Side::Buy) => Some(bar.open * (1.0 + slip)),
            (OrderKind::Market, Side::Sell) => Some(bar.open * (1.0 - slip)),
            (OrderKind::Limit(limit), Side::Buy) if bar.open <= limit => Some(bar.open),
            (OrderKind::Limit(limit), Side::Buy) => (bar.low <= limit).then_some(limit),
            (OrderKind::Limit(limit), Side::Sell) if bar.open >= limit => Some(bar.open),
            (OrderKind::Limit(limit), Side::Sell) => (bar.high >= limit).then_some(limit),
        }
    }
}

/// A strategy's paper account. Symbols are the strategy's own indices.
#[derive(Debug, Clone)]
pub struct PaperAccount {
    model: FillModel,
    starting_cash: f64,
    cash: f64,
    holdings: Vec<Holding>,
    last_price: Vec<f64>,
    /// Orders waiting for the next bar of their symbol.
    pending: Vec<Order>,
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
            pending: Vec::new(),
            realised_pnl: 0.0,
            commission_paid: 0.0,
            fills: 0,
        }
    }

    /// The fill model this account applies.
    pub fn model(&self) -> FillModel {
        self.model
    }

    /// Queues orders; they fill on the next bar of their symbol.
    pub fn submit(&mut self, orders: impl IntoIterator<Item = Order>) {
        self.pending.extend(orders);
    }

    /// Drops every order still waiting for a bar.
    pub fn cancel_pending(&mut self) {
        self.pending.clear();
    }

    /// The orders waiting for their symbol's next bar, in the order sent.
    pub fn pending(&self) -> &[Order] {
        &self.pending
    }

    /// Fills what this bar fills (see the module's rules), then marks the
    /// symbol at the bar's close.
    pub fn on_bar(&mut self, bar: &Bar) -> Vec<Fill> {
        let mut fills = Vec::new();
        if !self.pending.is_empty() {
            let (due, waiting): (Vec<Order>, Vec<Order>) =
                self.pending.drain(..).partition(|o| o.symbol == bar.symbol);
            self.pending = waiting;
            for order in due {
                if let Some(price) = self.model.fill_price(&order, bar) {
                    let commission = order.quantity * price * self.model.commission;
                    fills.push(self.fill_at(&order, price, commission, bar.seq, bar.ts_ms));
                }
            }
        }
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

    /// The position of `symbol` once every waiting order of it fills.
    pub fn exposure(&self, symbol: u32) -> f64 {
        let held = self
            .holdings
            .get(symbol as usize)
            .map_or(0.0, |h| h.quantity);
        self.pending
            .iter()
            .filter(|o| o.symbol == symbol)
            .fold(held, |q, o| match o.side {
                Side::Buy => q + o.quantity,
                Side::Sell => q - o.quantity,
            })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(symbol: u32, open: f64, high: f64, low: f64, close: f64) -> Bar {
        Bar {
            seq: 1,
            ts_ms: 0,
            symbol,
            open,
            high,
            low,
            close,
            volume: 1.0,
        }
    }

    fn order(side: Side, quantity: f64, kind: OrderKind) -> Order {
        Order {
            symbol: 0,
            side,
            quantity,
            kind,
        }
    }

    #[test]
    fn market_orders_fill_at_the_next_open_with_commission_and_slippage() {
        let model = FillModel {
            commission: 0.01,
            slippage_bps: 100.0,
        };
        let mut account = PaperAccount::new(1, 1000.0, model);
        account.submit([order(Side::Buy, 2.0, OrderKind::Market)]);
        let fills = account.on_bar(&bar(0, 100.0, 110.0, 90.0, 105.0));
        assert_eq!(fills.len(), 1);
        assert_eq!(fills[0].price, 101.0);
        assert_eq!(fills[0].commission, 2.02);
        assert_eq!(account.cash(), 1000.0 - 202.0 - 2.02);
        assert_eq!(account.position(0).quantity, 2.0);
        assert_eq!(account.equity(), account.cash() + 2.0 * 105.0);
    }

    #[test]
    fn sells_pay_slippage_too() {
        let model = FillModel {
            commission: 0.0,
            slippage_bps: 50.0,
        };
        let mut account = PaperAccount::new(1, 0.0, model);
        account.submit([order(Side::Sell, 1.0, OrderKind::Market)]);
        let fills = account.on_bar(&bar(0, 200.0, 210.0, 190.0, 200.0));
        assert_eq!(fills[0].price, 199.0);
        assert_eq!(account.cash(), 199.0);
        assert_eq!(account.position(0).quantity, -1.0);
    }

    #[test]
    fn limit_orders_fill_at_the_limit_or_the_gap_open_or_expire() {
        let mut account = PaperAccount::new(1, 0.0, FillModel::FREE);
        account.submit([order(Side::Buy, 1.0, OrderKind::Limit(95.0))]);
        assert_eq!(
            account.on_bar(&bar(0, 100.0, 101.0, 94.0, 96.0))[0].price,
            95.0
        );
        account.submit([order(Side::Sell, 1.0, OrderKind::Limit(98.0))]);
        assert_eq!(
            account.on_bar(&bar(0, 99.0, 99.5, 97.0, 98.0))[0].price,
            99.0
        );
        account.submit([order(Side::Buy, 1.0, OrderKind::Limit(50.0))]);
        assert!(account.on_bar(&bar(0, 99.0, 99.5, 97.0, 98.0)).is_empty());
        assert!(
            account.on_bar(&bar(0, 40.0, 41.0, 39.0, 40.0)).is_empty(),
            "expired after one bar"
        );
    }

    #[test]
    fn pnl_of_a_long_a_partial_close_and_a_flip_to_short() {
        let mut account = PaperAccount::new(1, 1000.0, FillModel::FREE);
        account.submit([order(Side::Buy, 2.0, OrderKind::Market)]);
        account.on_bar(&bar(0, 100.0, 100.0, 100.0, 110.0));
        assert_eq!(account.unrealised_pnl(), 20.0);
        assert_eq!(account.equity(), 1020.0);
        // Partial close: realises 1 x (120 - 100).
        account.submit([order(Side::Sell, 1.0, OrderKind::Market)]);
        account.on_bar(&bar(0, 120.0, 120.0, 120.0, 120.0));
        assert_eq!(account.realised_pnl(), 20.0);
        assert_eq!(account.unrealised_pnl(), 20.0);
        // Flip: sells 3 at 130, closing 1 (+30) and opening a short of 2 at 130.
        account.submit([order(Side::Sell, 3.0, OrderKind::Market)]);
        account.on_bar(&bar(0, 130.0, 130.0, 125.0, 125.0));
        assert_eq!(account.realised_pnl(), 50.0);
        let position = account.position(0);
        assert_eq!((position.quantity, position.avg_price), (-2.0, 130.0));
        assert_eq!(account.unrealised_pnl(), 10.0);
        assert_eq!(account.equity(), 1000.0 + 50.0 + 10.0);
        assert_eq!(account.cash(), 1000.0 - 200.0 + 120.0 + 390.0);
    }

    #[test]
    fn exposure_counts_waiting_orders() {
        let mut account = PaperAccount::new(2, 0.0, FillModel::default());
        account.submit([order(Side::Buy, 2.0, OrderKind::Market)]);
        account.on_bar(&bar(0, 10.0, 10.0, 10.0, 10.0));
        account.submit([
            order(Side::Sell, 0.5, OrderKind::Limit(11.0)),
            order(Side::Buy, 3.0, OrderKind::Market),
        ]);
        assert_eq!(account.exposure(0), 4.5);
        assert_eq!(account.exposure(1), 0.0);
        account.cancel_pending();
        assert_eq!(account.exposure(0), 2.0);
    }

    #[test]
    fn orders_wait_for_their_own_symbol() {
        let mut account = PaperAccount::new(2, 0.0, FillModel::default());
        account.submit([Order {
            symbol: 1,
            side: Side::Sell,
            quantity: 1.0,
            kind: OrderKind::Market,
        }]);
        assert!(account.on_bar(&bar(0, 10.0, 10.0, 10.0, 10.0)).is_empty());
        let fills = account.on_bar(&bar(1, 20.0, 20.0, 20.0, 20.0));
        assert_eq!((fills.len(), account.position(1).quantity), (1, -1.0));
    }
}
