//! The trait a strategy implements, and the order buffer it writes into.

use crate::{
    Bar, Fill, OpenOrders, Order, OrderKind, OrderUpdate, Params, Position, ReplaceOrder, Request,
    Side, StopLimitLevels, Ticket, TicketKind, TimeInForce,
};
use serde::{Serialize, de::DeserializeOwned};

/// A trading strategy. Export it to Wasm with [`crate::export_strategy!`];
/// test it natively with [`crate::Harness`].
pub trait Strategy: Sized + 'static {
    /// Short machine-friendly name, also stamped into snapshots.
    const NAME: &'static str;
    /// The strategy's own version (semver recommended).
    const VERSION: &'static str;
    /// One line on what it does.
    const DESCRIPTION: &'static str;

    /// Typed parameters, declared with [`crate::params!`] (which derives
    /// the `Clone` that the default [`Strategy::warmup_bars`] needs).
    type Params: Params + Clone;
    /// Everything that must survive a hot swap. Serialised with a compact
    /// codec; a new version whose `State` no longer decodes the old bytes is
    /// simply warmed up from recent history instead.
    type State: Serialize + DeserializeOwned;

    /// Bars needed before the strategy can trade with these parameters;
    /// `describe` reports it for the default parameters, and the runtime
    /// replays at least that many recent bars into a new instance.
    ///
    /// The default builds an instance for one symbol and asks it
    /// ([`Strategy::warmup`]), so a strategy whose indicators know their
    /// warm-up ([`crate::indicators::WarmUp`]) need not work it out by hand;
    /// parameters that [`Strategy::new`] refuses give 0.
    fn warmup_bars(params: &Self::Params) -> u32 {
        Self::new(params.clone(), &[String::from("warm-up")]).map_or(0, |s| s.warmup())
    }

    /// This instance's warm-up, in bars; used by the default
    /// [`Strategy::warmup_bars`]. The default is 0 (it can trade from the
    /// first bar): override it, typically as the [`crate::indicators::WarmUp`]
    /// of the state (which [`crate::keep_state!`]`(state, warmup)` writes), or
    /// override [`Strategy::warmup_bars`] instead.
    fn warmup(&self) -> u32 {
        0
    }

    /// Builds the strategy; an `Err` explains which parameter is wrong and why.
    fn new(params: Self::Params, symbols: &[String]) -> Result<Self, crate::ParamError>;

    /// Called once per bar of every subscribed symbol, in sequence order.
    ///
    /// A new instance (a new version, new parameters, a rebuild after a
    /// trap) is warmed up before it goes live: the runtime restores the last
    /// good snapshot if the strategy accepts it, then replays the recent bars
    /// after it (all of them without one) and discards the orders of those
    /// bars. During that replay `position` is flat, with cash and equity 0,
    /// whatever the live book holds.
    fn on_bar(&mut self, bar: &Bar, position: &Position, orders: &mut Orders);

    /// Called when one of the strategy's orders filled.
    fn on_fill(&mut self, _fill: &Fill) {}

    /// Called for each update of an order with an id (accepted, triggered,
    /// filled, cancelled, expired, rejected with the reason, replaced), in
    /// order, after the bar's fills and before its `on_bar`. The default
    /// does nothing; [`Orders::open`] already follows them.
    fn on_order_update(&mut self, _update: &OrderUpdate) {}

    /// The state to carry across a hot swap. [`crate::keep_state!`] writes
    /// it and [`Strategy::restore_state`] for a state kept in one field.
    fn state(&self) -> &Self::State;

    /// Takes over state produced by [`Strategy::state`] (possibly of an
    /// earlier version of this strategy), or says why not. With a
    /// [`crate::Carried`] state, [`crate::keep_state!`] writes it with the
    /// standard checks (same symbols, same lookbacks, one state per symbol).
    fn restore_state(&mut self, state: Self::State) -> Result<(), String>;
}

/// Orders emitted for one bar. Empty for most bars, which costs nothing.
///
/// `symbol` is an index into the symbols given at `init` (as in
/// [`Bar::symbol`]), quantities are in units of the symbol, prices in its
/// quote currency. The runtime checks the whole result before acting on it:
/// an unknown symbol index, a quantity that is not a finite number above 0,
/// a price level that is not a finite number above 0, or more orders than
/// `limits.max_orders_per_bar` refuses every order of the bar, as one
/// refusal of rule `validation`. Orders that pass then meet the risk rules
/// one by one.
///
/// Two kinds of order: [`Orders::market`], [`Orders::limit`] and
/// [`Orders::target`] send one-bar orders without ids (as contract 0.1.0
/// does); the others ([`Orders::stop`], [`Orders::stop_limit`],
/// [`Orders::trailing`], [`Orders::limit_order`], [`Orders::market_order`],
/// [`Orders::bracket`], [`Orders::oco`]) send orders with ids the strategy
/// chooses, good till cancelled unless told otherwise ([`Placed`]), that
/// it can [`Orders::cancel`] and [`Orders::replace`] and reads back in
/// [`Orders::open`]. The fill rule of every kind is in [`crate::paper`]
/// (native builds) and guest-sdk/README.md.
#[derive(Debug, Default)]
pub struct Orders {
    orders: Vec<Order>,
    requests: Vec<Request>,
    open: OpenOrders,
}

/// How far a trailing stop trails the best price.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Trail {
    /// By this amount of price.
    Amount(f64),
    /// By this percent of the best price (2.0 = 2 %), below 100.
    Percent(f64),
}

/// An entry with a take-profit and a stop-loss ([`Orders::bracket`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bracket {
    /// The entry's id; the take-profit is `id + 1`, the stop-loss `id + 2`,
    /// and the exits' OCO group is `id`.
    pub id: u64,
    /// Index into the strategy's symbols.
    pub symbol: u32,
    /// The entry's side (the exits take the other).
    pub side: Side,
    /// Units of the entry and of each exit.
    pub quantity: f64,
    /// The entry: market, limit or stop... (good till cancelled).
    pub entry: TicketKind,
    /// The take-profit's limit price, if any.
    pub take_profit: Option<f64>,
    /// The stop-loss: a stop at a price, or a trailing stop.
    pub stop_loss: Option<StopLoss>,
}

/// A bracket's stop-loss.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StopLoss {
    /// A stop at this price.
    At(f64),
    /// A trailing stop.
    Trailing(Trail),
}

/// An order with an id just written, to set its time in force and links.
pub struct Placed<'a> {
    ticket: &'a mut Ticket,
}

impl Placed<'_> {
    /// Works until filled or cancelled (the default).
    pub fn gtc(self) -> Self {
        self.ticket.tif = TimeInForce::Gtc;
        self
    }

    /// Works for `n` bars of its symbol (1: the next bar only).
    pub fn bars(self, n: u32) -> Self {
        self.ticket.tif = TimeInForce::Bars(n);
        self
    }

    /// Works until the end of the UTC day of the bar it answers.
    pub fn day(self) -> Self {
        self.ticket.tif = TimeInForce::Day;
        self
    }

    /// Joins OCO group `group`: the first of the group to fill cancels the rest.
    pub fn oco(self, group: u64) -> Self {
        self.ticket.oco_group = Some(group);
        self
    }

    /// Makes it a bracket child of `entry`: it works once `entry` fills.
    pub fn child_of(self, entry: u64) -> Self {
        self.ticket.parent = Some(entry);
        self
    }

    /// The order's id.
    pub fn id(&self) -> u64 {
        self.ticket.id
    }
}

/// Position changes smaller than this are treated as no change.
const QUANTITY_EPSILON: f64 = 1e-9;

impl Orders {
    /// An empty buffer. The export glue and the harness make one per bar;
    /// a strategy needs one only to test a helper that writes orders.
    pub fn new() -> Self {
        Self::default()
    }

    /// A market order for `quantity` units (finite, above 0): fills at the
    /// open of the symbol's next bar.
    pub fn market(&mut self, symbol: u32, side: Side, quantity: f64) {
        self.push(symbol, side, quantity, OrderKind::Market);
    }

    /// A limit order for `quantity` units (finite, above 0): fills on the
    /// symbol's next bar if it trades at `price` or better (at its open when
    /// it gaps through), and expires otherwise.
    pub fn limit(&mut self, symbol: u32, side: Side, quantity: f64, price: f64) {
        self.push(symbol, side, quantity, OrderKind::Limit(price));
    }

    /// A market order that moves `current` quantity to `target` (both
    /// signed: positive long, negative short), buying or selling the
    /// difference. Emits nothing when already there (a difference below
    /// 1e-9 units) and nothing when either is NaN, so a target computed from
    /// a poisoned value keeps the position as it is.
    pub fn target(&mut self, symbol: u32, current: f64, target: f64) {
        let delta = target - current;
        if delta > QUANTITY_EPSILON {
            self.market(symbol, Side::Buy, delta);
        } else if delta < -QUANTITY_EPSILON {
            self.market(symbol, Side::Sell, -delta);
        }
    }

    fn push(&mut self, symbol: u32, side: Side, quantity: f64, kind: OrderKind) {
        let order = Order {
            symbol,
            side,
            quantity,
            kind,
        };
        self.orders.push(order);
        self.requests.push(Request::Order(order));
    }

    /// An order with id `id` (unique among the strategy's working orders,
    /// below 2^63) of any kind, good till cancelled.
    pub fn place(
        &mut self,
        id: u64,
        symbol: u32,
        side: Side,
        quantity: f64,
        kind: TicketKind,
    ) -> Placed<'_> {
        self.requests.push(Request::Place(Ticket {
            id,
            symbol,
            side,
            quantity,
            kind,
            tif: TimeInForce::Gtc,
            oco_group: None,
            parent: None,
        }));
        match self.requests.last_mut() {
            Some(Request::Place(ticket)) => Placed { ticket },
            _ => unreachable!("a place request was just pushed"),
        }
    }

    /// A market order with an id: fills at the open of the symbol's next
    /// bar plus slippage.
    pub fn market_order(&mut self, id: u64, symbol: u32, side: Side, quantity: f64) -> Placed<'_> {
        self.place(id, symbol, side, quantity, TicketKind::Market)
    }

    /// A limit order with an id, good till cancelled: a buy fills at
    /// `price` when the low reaches it (a sell: the high), at the open when
    /// the bar opens through it.
    pub fn limit_order(
        &mut self,
        id: u64,
        symbol: u32,
        side: Side,
        quantity: f64,
        price: f64,
    ) -> Placed<'_> {
        self.place(id, symbol, side, quantity, TicketKind::Limit(price))
    }

    /// A stop order: a buy stop becomes a market order when the high
    /// reaches `stop` (a sell stop: the low) and fills at the stop plus
    /// slippage, at the open plus slippage when the bar gaps through it.
    pub fn stop(
        &mut self,
        id: u64,
        symbol: u32,
        side: Side,
        quantity: f64,
        stop: f64,
    ) -> Placed<'_> {
        self.place(id, symbol, side, quantity, TicketKind::Stop(stop))
    }

    /// A stop-limit: once the price trades through `stop` it works as a
    /// limit order at `limit` (filling on the trigger bar only if the
    /// trigger price is within the limit).
    pub fn stop_limit(
        &mut self,
        id: u64,
        symbol: u32,
        side: Side,
        quantity: f64,
        stop: f64,
        limit: f64,
    ) -> Placed<'_> {
        let kind = TicketKind::StopLimit(StopLimitLevels { stop, limit });
        self.place(id, symbol, side, quantity, kind)
    }

    /// A trailing stop: a sell stop `trail` below the highest high since it
    /// was placed (starting from the last close), a buy stop above the
    /// lowest low; fills as a stop at its level of the bar before.
    pub fn trailing(
        &mut self,
        id: u64,
        symbol: u32,
        side: Side,
        quantity: f64,
        trail: Trail,
    ) -> Placed<'_> {
        let kind = match trail {
            Trail::Amount(a) => TicketKind::TrailingAmount(a),
            Trail::Percent(p) => TicketKind::TrailingPercent(p),
        };
        self.place(id, symbol, side, quantity, kind)
    }

    /// An entry with a take-profit (limit, id + 1) and a stop-loss (id + 2)
    /// that start working when the entry fills (on the rest of its bar when
    /// it fills at the open) and cancel each other (OCO group `id`); an
    /// entry that ends unfilled cancels them. All good till cancelled.
    pub fn bracket(&mut self, b: Bracket) {
        let exit = match b.side {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        };
        self.place(b.id, b.symbol, b.side, b.quantity, b.entry);
        if let Some(target) = b.take_profit {
            self.limit_order(b.id + 1, b.symbol, exit, b.quantity, target)
                .child_of(b.id)
                .oco(b.id);
        }
        if let Some(stop_loss) = b.stop_loss {
            let kind = match stop_loss {
                StopLoss::At(stop) => TicketKind::Stop(stop),
                StopLoss::Trailing(Trail::Amount(a)) => TicketKind::TrailingAmount(a),
                StopLoss::Trailing(Trail::Percent(p)) => TicketKind::TrailingPercent(p),
            };
            self.place(b.id + 2, b.symbol, exit, b.quantity, kind)
                .child_of(b.id)
                .oco(b.id);
        }
    }

    /// Two (or more) orders in OCO group `group`: the first to fill cancels
    /// the others. Each ticket's own group is overwritten.
    pub fn oco(&mut self, group: u64, tickets: impl IntoIterator<Item = Ticket>) {
        for ticket in tickets {
            self.requests.push(Request::Place(Ticket {
                oco_group: Some(group),
                ..ticket
            }));
        }
    }

    /// Cancels the working order `id` (an unknown or ended id is answered
    /// with a `rejected` update).
    pub fn cancel(&mut self, id: u64) {
        self.requests.push(Request::Cancel(id));
    }

    /// Changes the working order `id`: its quantity and/or its kind and
    /// levels; `None` keeps what it has. A trailing stop replaced by one of
    /// the same kind keeps its best price; a triggered stop-limit replaced
    /// by another stop-limit stays triggered.
    pub fn replace(&mut self, id: u64, quantity: Option<f64>, kind: Option<TicketKind>) {
        self.requests
            .push(Request::Replace(ReplaceOrder { id, quantity, kind }));
    }

    /// The strategy's orders with ids that are working (or sent and not yet
    /// answered), as of this bar: what it sent before and the broker's
    /// updates so far ([`OpenOrders`]).
    pub fn open(&self) -> &OpenOrders {
        &self.open
    }

    /// `true` when nothing was written.
    pub fn is_empty(&self) -> bool {
        self.requests.is_empty()
    }

    /// The one-bar orders (market, limit, target) written so far, in the
    /// order they were written (the order the runtime checks and submits
    /// them in).
    pub fn as_slice(&self) -> &[Order] {
        &self.orders
    }

    /// Every request written (one-bar orders, orders with ids, cancels,
    /// replaces), in order.
    pub fn requests(&self) -> &[Request] {
        &self.requests
    }

    /// The one-bar orders written, in order.
    pub fn into_vec(self) -> Vec<Order> {
        self.orders
    }

    /// A buffer that starts from these open orders (the slot's).
    pub(crate) fn with_open(open: OpenOrders) -> Self {
        Self {
            open,
            ..Self::default()
        }
    }

    /// The requests, in order (what `on-bar` returns to the host), and the
    /// open orders updated with them.
    pub(crate) fn finish(mut self) -> (Vec<Request>, OpenOrders) {
        if !self.requests.is_empty() {
            self.open.sent(&self.requests);
        }
        (self.requests, self.open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_emits_the_difference_with_the_right_side() {
        let mut o = Orders::new();
        o.target(0, 1.0, -2.0);
        o.target(1, -1.0, 0.5);
        o.target(2, 3.0, 3.0);
        let got = o.into_vec();
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].side, got[0].quantity), (Side::Sell, 3.0));
        assert_eq!(
            (got[1].symbol, got[1].side, got[1].quantity),
            (1, Side::Buy, 1.5)
        );
    }
}
