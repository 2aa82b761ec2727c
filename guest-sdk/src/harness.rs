//! A native harness: drive a strategy with plain `cargo test`, no Wasm needed.
//! It goes through the same glue as the component (parameter parsing,
//! snapshot codec), and keeps a position per symbol that [`Harness::fill`]
//! updates with the same accounting the runtime uses.
//!
//! Two ways to run a series:
//! - [`Harness::replay`] and [`Harness::replay_csv`] trade like the runtime:
//!   full OHLCV bars, each order filled on the next bar of its symbol by the
//!   runtime's own paper broker ([`crate::paper`]: next open plus slippage,
//!   limits at the limit or the gap open, commission), fills passed to
//!   `on-fill` before the bar's `on-bar`. A replay of a CSV file gives the
//!   fills `runtime backtest` gives on it (the runtime's contract checks and
//!   `[risk]` rules are not applied: a strategy that trips them differs).
//! - [`Harness::run_filled`], [`Harness::run_filled_mirrored`] and
//!   [`Harness::activity`] are quick logic checks on close prices: bars with
//!   open = high = low = close, every order filled at once at its close and
//!   for free. [`crate::testing`] has series to feed them.

use crate::data::BadRow;
use crate::paper::{FillModel, OrderUpdate, PaperAccount};
use crate::testing::Activity;
use crate::{
    Bar, Fill, LogLevel, OpenOrders, Order, Param, ParamType, Position, Request, Strategy,
    StrategyInfo, slot::Slot,
};
use std::path::Path;

/// Cash the harness's book starts with.
pub const STARTING_CASH: f64 = 100_000.0;

/// Drives one strategy instance natively.
pub struct Harness<S: Strategy> {
    slot: Slot<S>,
    symbols: Vec<String>,
    /// The harness's book: the runtime's paper account.
    account: PaperAccount,
    next_seq: u64,
}

/// What a [`Harness::replay`] did, bar by bar.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Replay {
    /// Every one-bar order the strategy sent, with the `seq` of the bar it answered.
    pub orders: Vec<(u64, Order)>,
    /// Every request the strategy sent (one-bar orders, orders with ids,
    /// cancels, replaces), with the `seq` of the bar it answered.
    pub requests: Vec<(u64, Request)>,
    /// Every fill, in the order the broker made them (stamped with the
    /// filling bar's `seq` and `ts_ms`).
    pub fills: Vec<Fill>,
    /// What happened to each order (accepted, filled, expired...), in order;
    /// those of orders with the strategy's ids also went to its
    /// `on_order_update` (before the `on_bar` of the bar they came with).
    pub updates: Vec<OrderUpdate>,
    /// Bars replayed.
    pub bars: u64,
    /// Equity after the last bar: cash plus holdings at their last close.
    pub final_equity: f64,
}

impl<S: Strategy> Harness<S> {
    /// A harness for these symbols, with default parameters until [`Harness::init`].
    pub fn new(symbols: &[&str]) -> Self {
        Self {
            slot: Slot::new(),
            symbols: symbols.iter().map(|s| (*s).to_owned()).collect(),
            account: PaperAccount::new(symbols.len(), STARTING_CASH, FillModel::default()),
            next_seq: 0,
        }
    }

    /// The same harness with a fresh book of `starting_cash` filling by
    /// `model`: set them as the config's `[broker]` says
    /// (`broker.starting_cash`, `broker.commission`, `broker.slippage_bps`)
    /// to replay what a backtest does. Without it: 100,000 of cash and the
    /// runtime's default model (commission 0.001, no slippage).
    pub fn with_broker(mut self, starting_cash: f64, model: FillModel) -> Self {
        self.account = PaperAccount::new(self.symbols.len(), starting_cash, model);
        self
    }

    /// The harness's book (cash, holdings, waiting orders, PnL).
    pub fn account(&self) -> &PaperAccount {
        &self.account
    }

    /// Replays `bars` as the runtime does: on each bar the broker first fills
    /// the orders waiting for that symbol (each passed to `on-fill`), then
    /// the strategy sees the bar with its position and its orders wait for
    /// the symbol's next bar. Bars' `symbol` fields index this harness's
    /// symbols.
    pub fn replay(&mut self, bars: &[Bar]) -> Replay {
        let mut replay = Replay::default();
        for bar in bars {
            for fill in self.account.on_bar(bar) {
                self.slot.on_fill(fill);
                replay.fills.push(fill);
            }
            // As the runtime: the updates since the last bar (the answers to
            // its requests, this bar's fills and expiries), then on-bar.
            self.deliver_updates(&mut replay);
            let position = self.account.position(bar.symbol);
            let requests = self.requests_at(*bar, position);
            for request in &requests {
                if let Request::Order(order) = request {
                    replay.orders.push((bar.seq, *order));
                }
                replay.requests.push((bar.seq, *request));
            }
            self.account.send(requests);
            replay.bars += 1;
        }
        self.deliver_updates(&mut replay);
        replay.final_equity = self.account.equity();
        replay
    }

    fn deliver_updates(&mut self, replay: &mut Replay) {
        let updates = self.account.take_updates();
        let mine: Vec<crate::OrderUpdate> = updates
            .iter()
            .filter(|u| u.id < crate::paper::HOST_IDS)
            .map(Into::into)
            .collect();
        if !mine.is_empty() {
            self.slot.on_order_updates(mine);
        }
        replay.updates.extend(updates);
    }

    /// The strategy's open orders with ids, as it knows them
    /// ([`crate::Orders::open`]).
    pub fn open_orders(&self) -> OpenOrders {
        self.slot.open_orders()
    }

    /// Passes order updates to the strategy (its open orders and
    /// `on_order_update`), without touching the harness's book.
    pub fn on_order_updates(&mut self, updates: Vec<crate::OrderUpdate>) {
        self.slot.on_order_updates(updates);
    }

    /// Reads a CSV file with the runtime's reader (the layouts
    /// `runtime backtest --data` takes; the harness's symbols are the feed's,
    /// rows without a symbol column belong to the first) and
    /// [`Harness::replay`]s it. A bad row is an error naming its line.
    pub fn replay_csv(&mut self, path: impl AsRef<Path>) -> Result<Replay, BadRow> {
        let bars = crate::data::read_all(path.as_ref(), &self.symbols, false, |_| {})?;
        Ok(self.replay(&bars))
    }

    /// What `describe` returns to the host: name, version, description,
    /// parameter specs and the warm-up for the default parameters (whatever
    /// [`Harness::init`] was given).
    pub fn describe(&self) -> StrategyInfo {
        Slot::<S>::describe()
    }

    /// Calls `init` with these parameters, exactly as the host would.
    pub fn init(&mut self, params: &[(&str, crate::ParamValue)]) -> Result<(), String> {
        let params = params
            .iter()
            .map(|(name, value)| Param {
                name: (*name).to_owned(),
                value: value.clone(),
            })
            .collect();
        self.slot.init(self.symbols.clone(), params)
    }

    /// `init` with default parameters; panics with the strategy's message if refused.
    pub fn with_defaults(symbols: &[&str]) -> Self {
        let mut harness = Self::new(symbols);
        if let Err(e) = harness.init(&[]) {
            panic!("{} refused its default parameters: {e}", S::NAME);
        }
        harness
    }

    /// A harness for `symbols` whose `init` accepted `params`; panics with
    /// the strategy's message if they are refused.
    pub fn with_params(symbols: &[&str], params: &[(&str, crate::ParamValue)]) -> Self {
        let mut harness = Self::new(symbols);
        if let Err(e) = harness.init(params) {
            panic!("{} refused the parameters {params:?}: {e}", S::NAME);
        }
        harness
    }

    /// The message `init` refuses `params` with (for `symbols`), to assert
    /// on; panics if they are accepted.
    pub fn init_error(symbols: &[&str], params: &[(&str, crate::ParamValue)]) -> String {
        match Self::new(symbols).init(params) {
            Ok(()) => panic!("{} accepted the parameters {params:?}", S::NAME),
            Err(e) => e,
        }
    }

    /// Feeds one bar (with the harness's position for its symbol) and returns the orders.
    pub fn on_bar(&mut self, bar: Bar) -> Vec<Order> {
        self.account.mark(bar.symbol, bar.close);
        let position = self.position(bar.symbol);
        self.on_bar_at(bar, position)
    }

    /// Feeds one bar with a position chosen by the caller (for example one
    /// kept by the runtime's broker), bypassing the harness's own book.
    /// Returns the one-bar orders; [`Harness::requests_at`] returns every
    /// request.
    pub fn on_bar_at(&mut self, bar: Bar, position: Position) -> Vec<Order> {
        self.requests_at(bar, position)
            .into_iter()
            .filter_map(|r| match r {
                Request::Order(order) => Some(order),
                _ => None,
            })
            .collect()
    }

    /// Feeds one bar with a position chosen by the caller and returns
    /// everything the strategy sent (what `on-bar` returns to the host).
    pub fn requests_at(&mut self, bar: Bar, position: Position) -> Vec<Request> {
        self.next_seq = bar.seq + 1;
        self.slot.on_bar(bar, position)
    }

    /// Passes a fill to the strategy without touching the harness's book.
    pub fn on_fill(&mut self, fill: Fill) {
        self.slot.on_fill(fill);
    }

    /// Feeds a bar built from a close price (open = high = low = close).
    pub fn on_close(&mut self, symbol: u32, close: f64) -> Vec<Order> {
        let seq = self.next_seq;
        self.on_bar(Bar {
            seq,
            ts_ms: seq as i64 * 60_000,
            symbol,
            open: close,
            high: close,
            low: close,
            close,
            volume: 1.0,
        })
    }

    /// Feeds bars of `symbol` built from `closes` (see [`Harness::on_close`])
    /// and fills every order at its bar's close before the next bar, as a
    /// host whose orders always fill would. Returns the orders of each bar,
    /// one entry per close; [`crate::testing::flatten`] lists them.
    pub fn run_filled(&mut self, symbol: u32, closes: &[f64]) -> Vec<Vec<Order>> {
        self.run_filled_mirrored(symbol, closes, &mut [])
    }

    /// [`Harness::run_filled`] that also fills every order in each of
    /// `mirrors` (without feeding them the bars), so their positions match
    /// this harness's: a second instance that a snapshot will be restored
    /// into sees the position the host would pass it after a swap.
    pub fn run_filled_mirrored(
        &mut self,
        symbol: u32,
        closes: &[f64],
        mirrors: &mut [&mut Harness<S>],
    ) -> Vec<Vec<Order>> {
        closes
            .iter()
            .map(|&close| {
                let orders = self.on_close(symbol, close);
                self.fill_all(&orders, close);
                for mirror in mirrors.iter_mut() {
                    mirror.fill_all(&orders, close);
                }
                orders
            })
            .collect()
    }

    /// [`Harness::run_filled`] on `symbol`, tallying entries, busy bars and
    /// orders (see [`Activity`]).
    pub fn activity(&mut self, symbol: u32, closes: &[f64]) -> Activity {
        let mut activity = Activity::default();
        for &close in closes {
            let before = self.position(symbol).quantity;
            let orders = self.run_filled(symbol, &[close]).remove(0);
            activity.record(before, self.position(symbol).quantity, &orders);
        }
        activity
    }

    /// Fills each of `orders` at `price`, in order (see [`Harness::fill`]).
    pub fn fill_all(&mut self, orders: &[Order], price: f64) {
        for order in orders {
            self.fill(order, price);
        }
    }

    /// Fills `order` at `price` for free (no commission or slippage),
    /// updates the position and calls `on_fill`.
    pub fn fill(&mut self, order: &Order, price: f64) {
        let seq = self.next_seq.saturating_sub(1);
        let fill = self.account.fill_at(order, price, 0.0, seq, 0);
        self.slot.on_fill(fill);
    }

    /// The position the harness will pass with the next bar of `symbol`.
    pub fn position(&self, symbol: u32) -> Position {
        self.account.position(symbol)
    }

    /// The bytes `snapshot` would hand the host: the strategy's
    /// [`Strategy::state`] in the same envelope and codec as inside Wasm.
    /// Empty before a successful `init`, or when the state cannot be encoded.
    pub fn snapshot(&self) -> Vec<u8> {
        self.slot.snapshot()
    }

    /// Restores a snapshot as the host does after a swap (typically one
    /// taken from another harness running the old version). The error is
    /// the text the host would log before warming up from history instead:
    /// called before `init`, a snapshot of another strategy, a state layout
    /// this version cannot decode, or [`Strategy::restore_state`]'s refusal.
    /// The harness's own book (positions, cash) is not part of a snapshot.
    pub fn restore(&mut self, bytes: Vec<u8>) -> Result<(), String> {
        self.slot.restore(bytes)
    }

    /// Log lines the strategy wrote since the last call (this thread only).
    pub fn logs(&self) -> Vec<(LogLevel, String)> {
        crate::log::native::take()
    }

    /// The messages of the log lines at `level` written since the last call
    /// to this or [`Harness::logs`]; lines at other levels are dropped.
    pub fn logs_at(&self, level: LogLevel) -> Vec<String> {
        self.logs()
            .into_iter()
            .filter(|(l, _)| *l == level)
            .map(|(_, message)| message)
            .collect()
    }
}

/// Shorthand for building a parameter value in harness calls.
pub fn value<T: ParamType>(v: T) -> crate::ParamValue {
    v.to_value()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::flatten;
    use crate::{Orders, ParamError, Side};

    crate::params! {
        struct AboveParams {
            /// Long while the close is above this.
            level: f64 = 10.0,
            /// Quantity held (greater than 0).
            size: f64 = 1.0,
        }
    }

    /// Holds `size` while the close is above `level`; warns on negative closes.
    struct Above(AboveParams);

    impl Strategy for Above {
        const NAME: &'static str = "above";
        const VERSION: &'static str = "0.1.0";
        const DESCRIPTION: &'static str = "Long above a level.";
        type Params = AboveParams;
        type State = ();

        fn warmup_bars(_: &AboveParams) -> u32 {
            0
        }

        fn new(params: AboveParams, _: &[String]) -> Result<Self, ParamError> {
            crate::checks::positive("size", params.size, "")?;
            Ok(Self(params))
        }

        fn on_bar(&mut self, bar: &Bar, position: &Position, orders: &mut Orders) {
            if bar.close < 0.0 {
                crate::log::warn("negative close");
            }
            crate::log::debug("bar");
            let target = if bar.close > self.0.level {
                self.0.size
            } else {
                0.0
            };
            orders.target(bar.symbol, position.quantity, target);
        }

        fn state(&self) -> &() {
            &()
        }

        fn restore_state(&mut self, _: ()) -> Result<(), String> {
            Ok(())
        }
    }

    #[test]
    fn with_params_and_init_error_go_through_init() {
        let h = Harness::<Above>::with_params(&["A"], &[("size", value(2.0))]);
        assert_eq!(h.describe().name, "above");
        assert_eq!(
            Harness::<Above>::init_error(&["A"], &[("size", value(0.0))]),
            "parameter `size`: must be a number greater than 0 (got 0)"
        );
    }

    #[test]
    #[should_panic(expected = "above refused the parameters")]
    fn with_params_panics_on_refused_params() {
        Harness::<Above>::with_params(&["A"], &[("size", value(-1.0))]);
    }

    #[test]
    #[should_panic(expected = "above accepted the parameters")]
    fn init_error_panics_on_accepted_params() {
        Harness::<Above>::init_error(&["A"], &[]);
    }

    #[test]
    fn run_filled_fills_each_order_at_its_close_before_the_next_bar() {
        let mut h = Harness::<Above>::with_defaults(&["A", "B"]);
        let per_bar = h.run_filled(1, &[9.0, 11.0, 12.0, 8.0, 7.0]);
        assert_eq!(per_bar.len(), 5);
        // Filled at once, so the buy is not repeated on the 3rd bar.
        assert!(per_bar[0].is_empty() && per_bar[2].is_empty() && per_bar[4].is_empty());
        assert_eq!(flatten(&per_bar), [(Side::Buy, 1.0), (Side::Sell, 1.0)]);
        assert_eq!(per_bar[1][0].symbol, 1);
        assert_eq!(h.position(1).quantity, 0.0);
        assert_eq!(h.position(1).cash, STARTING_CASH - 11.0 + 8.0);
        assert_eq!(h.position(0).quantity, 0.0, "symbol 0 was not traded");
    }

    #[test]
    fn run_filled_mirrored_gives_the_mirrors_the_same_position() {
        let mut a = Harness::<Above>::with_defaults(&["A"]);
        let mut b = Harness::<Above>::with_defaults(&["A"]);
        let mut c = Harness::<Above>::with_defaults(&["A"]);
        let per_bar = a.run_filled_mirrored(0, &[11.0, 12.0], &mut [&mut b, &mut c]);
        assert_eq!(flatten(&per_bar), [(Side::Buy, 1.0)]);
        for mirror in [&b, &c] {
            assert_eq!(mirror.position(0).quantity, 1.0);
            assert_eq!(mirror.position(0).avg_price, 11.0);
        }
        // The mirrors were not fed the bars: with the position they were
        // given, their next bar asks for nothing.
        assert!(b.on_close(0, 13.0).is_empty());
    }

    fn ohlc(seq: u64, open: f64, close: f64) -> Bar {
        Bar {
            seq,
            ts_ms: seq as i64 * 86_400_000,
            symbol: 0,
            open,
            high: open.max(close) + 1.0,
            low: open.min(close) - 1.0,
            close,
            volume: 10.0,
        }
    }

    #[test]
    fn replay_fills_on_the_next_open_by_the_broker_model_before_the_next_on_bar() {
        let model = FillModel {
            commission: 0.01,
            slippage_bps: 100.0,
            ..FillModel::default()
        };
        let mut h = Harness::<Above>::with_defaults(&["A"]).with_broker(1_000.0, model);
        let replay = h.replay(&[ohlc(0, 9.0, 9.0), ohlc(1, 10.0, 11.0), ohlc(2, 12.0, 13.0)]);
        assert_eq!(replay.bars, 3);
        // The buy answers bar 1's close (11 > 10) and fills at bar 2's open
        // plus 1 % slippage, paying 1 % commission: not at bar 1's close.
        assert_eq!(replay.orders.len(), 1);
        assert_eq!(replay.orders[0].0, 1);
        assert_eq!(replay.fills.len(), 1);
        let fill = replay.fills[0];
        assert_eq!((fill.seq, fill.ts_ms), (2, 2 * 86_400_000));
        assert_eq!(fill.price, 12.0 * 1.01);
        assert_eq!(fill.commission, 12.0 * 1.01 * 0.01);
        let position = h.position(0);
        assert_eq!(position.quantity, 1.0);
        assert_eq!(position.cash, 1_000.0 - fill.price - fill.commission);
        assert_eq!(replay.final_equity, position.cash + 13.0);
        // Bar 2 saw the position already filled: no second buy.
        assert!(replay.orders.iter().all(|(seq, _)| *seq == 1));
    }

    #[test]
    fn replay_csv_reads_the_runtime_layouts_and_names_a_bad_row() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.csv");
        std::fs::write(
            &good,
            "Date,Open,High,Low,Close,Volume\n2024-01-01,9,9,9,9,1\n2024-01-02,10,11,10,11,1\n2024-01-03,12,12,12,12,1\n",
        )
        .unwrap();
        let mut h = Harness::<Above>::with_defaults(&["A"]).with_broker(100.0, FillModel::FREE);
        let replay = h.replay_csv(&good).unwrap();
        assert_eq!((replay.bars, replay.fills.len()), (3, 1));
        assert_eq!(replay.fills[0].price, 12.0);

        let bad = dir.path().join("bad.csv");
        std::fs::write(
            &bad,
            "Date,Open,High,Low,Close\n2024-01-01,9,9,9,9\n2024-01-02,10,9,10,11\n",
        )
        .unwrap();
        let error = h.replay_csv(&bad).unwrap_err().to_string();
        assert!(error.contains("bad.csv:3:"), "{error}");
    }

    #[test]
    fn fill_all_fills_in_order() {
        let mut h = Harness::<Above>::with_defaults(&["A"]);
        let buy = h.on_close(0, 11.0);
        h.fill_all(&[buy[0], buy[0]], 11.0);
        assert_eq!(h.position(0).quantity, 2.0);
        h.fill_all(&[], 11.0);
        assert_eq!(h.position(0).quantity, 2.0);
    }

    #[test]
    fn activity_tallies_a_run() {
        let mut h = Harness::<Above>::with_params(&["A"], &[("size", value(2.0))]);
        let activity = h.activity(0, &[9.0, 11.0, 12.0, 9.0, 11.0, 11.0]);
        assert_eq!((activity.entries, activity.busy_bars), (2, 3));
        assert_eq!(
            flatten(&[activity.orders]),
            [(Side::Buy, 2.0), (Side::Sell, 2.0), (Side::Buy, 2.0)]
        );
    }

    #[test]
    fn logs_at_keeps_one_level_and_drains_the_rest() {
        let mut h = Harness::<Above>::with_defaults(&["A"]);
        h.logs();
        h.run_filled(0, &[-1.0, 5.0, -2.0]);
        assert_eq!(
            h.logs_at(LogLevel::Warn),
            ["negative close", "negative close"]
        );
        assert!(h.logs().is_empty());
    }
}
