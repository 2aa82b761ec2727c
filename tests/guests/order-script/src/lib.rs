//! A test guest for contract 0.2.0's orders (issue 15). On its n-th bar it
//! sends the requests of [`script`]: a cancel of an unknown id, limits and
//! an OCO pair that fill on one bar (one leg cancelled by the other), a
//! cancel of a filled id, a trailing stop that a gap jumps, a stop-limit
//! triggered on a gap and then replaced, a bracket whose legs one bar both
//! touches. It makes what it is told visible from outside: for every order
//! update it gets, its next `on-bar` also sends a one-bar limit buy at
//! 0.0001 (never filled) of quantity `id × 10 + status code` (accepted 1,
//! triggered 2, partially filled 3, filled 4, cancelled 5, expired 6,
//! rejected 7, replaced 8), so the journal's orders show the guest received
//! each update, in order. Its state (bars seen, updates waiting to be
//! echoed) survives a hot swap.

use sandbar_guest::{
    Bar, Bracket, OrderStatus, OrderUpdate, Orders, ParamError, Position, Side, StopLoss, Strategy,
    TicketKind, Trail, params,
};
use serde::{Deserialize, Serialize};

params! {
    pub struct ScriptParams {
        /// Any text; changing it makes a new generation without recompiling.
        label: String = String::from("a"),
    }
}

/// What the guest carries across a swap.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScriptState {
    /// Bars seen.
    pub bars: u64,
    /// Echo quantities of the updates not yet echoed.
    pub echoes: Vec<f64>,
}

pub struct OrderScript {
    state: ScriptState,
}

/// Far below any price of the script's bars: echoes never fill.
pub const ECHO_PRICE: f64 = 0.0001;

/// The status's code in an echo's quantity.
pub fn code(status: OrderStatus) -> u64 {
    match status {
        OrderStatus::Accepted => 1,
        OrderStatus::Triggered => 2,
        OrderStatus::PartiallyFilled => 3,
        OrderStatus::Filled => 4,
        OrderStatus::Cancelled => 5,
        OrderStatus::Expired => 6,
        OrderStatus::Rejected => 7,
        OrderStatus::Replaced => 8,
    }
}

/// The requests of the guest's `n`-th bar (1-based), on symbol 0. The bars
/// the tests feed are in `tests/e2e/orders.rs` (`SCRIPT_BARS`).
pub fn script(n: u64, orders: &mut Orders) {
    match n {
        1 => {
            orders.cancel(42);
            orders.limit_order(1, 0, Side::Buy, 1.0, 98.0);
            orders.limit_order(2, 0, Side::Buy, 1.0, 97.0).oco(7);
            orders.limit_order(3, 0, Side::Buy, 1.0, 96.5).oco(7);
        }
        2 => {
            orders.cancel(1);
            orders.trailing(4, 0, Side::Sell, 2.0, Trail::Amount(2.0));
        }
        4 => {
            orders.stop_limit(5, 0, Side::Sell, 1.0, 92.0, 91.5);
        }
        5 => {
            let kind = TicketKind::StopLimit(sandbar_guest::StopLimitLevels {
                stop: 92.0,
                limit: 91.0,
            });
            orders.replace(5, None, Some(kind));
        }
        6 => orders.bracket(Bracket {
            id: 10,
            symbol: 0,
            side: Side::Buy,
            quantity: 1.0,
            entry: TicketKind::Market,
            take_profit: Some(93.0),
            stop_loss: Some(StopLoss::At(89.0)),
        }),
        _ => {}
    }
}

impl Strategy for OrderScript {
    const NAME: &'static str = "order-script";
    const VERSION: &'static str = "0.1.0";
    const DESCRIPTION: &'static str = "Test guest: a fixed script of orders, echoing updates.";
    type Params = ScriptParams;
    type State = ScriptState;

    fn warmup_bars(_: &ScriptParams) -> u32 {
        0
    }

    fn new(_params: ScriptParams, _symbols: &[String]) -> Result<Self, ParamError> {
        Ok(Self {
            state: ScriptState::default(),
        })
    }

    fn on_bar(&mut self, _bar: &Bar, _position: &Position, orders: &mut Orders) {
        self.state.bars += 1;
        for quantity in self.state.echoes.drain(..) {
            orders.limit(0, Side::Buy, quantity, ECHO_PRICE);
        }
        script(self.state.bars, orders);
    }

    fn on_order_update(&mut self, update: &OrderUpdate) {
        let quantity = (update.id * 10 + code(update.status)) as f64;
        self.state.echoes.push(quantity);
    }

    fn state(&self) -> &ScriptState {
        &self.state
    }

    fn restore_state(&mut self, state: ScriptState) -> Result<(), String> {
        self.state = state;
        Ok(())
    }
}

sandbar_guest::export_strategy!(OrderScript);

/// The bars the script is written for: `(open, high, low, close)` of bars
/// 1..=8, one minute apart (`tests/e2e/orders.rs` feeds the same).
pub const SCRIPT_BARS: [(f64, f64, f64, f64); 8] = [
    (100.0, 101.0, 99.0, 100.0),
    (100.0, 100.5, 96.0, 97.0),
    (98.0, 99.0, 97.5, 98.5),
    (94.0, 95.0, 93.0, 94.5),
    (91.0, 91.8, 90.5, 91.2),
    (90.5, 91.3, 90.0, 91.0),
    (91.0, 93.5, 88.5, 92.0),
    (92.0, 92.0, 92.0, 92.0),
];

/// [`SCRIPT_BARS`] as CSV in the layout `runtime backtest --data` reads.
pub fn script_csv() -> String {
    let mut csv = String::from("date,open,high,low,close,volume\n");
    for (i, (o, h, l, c)) in SCRIPT_BARS.iter().enumerate() {
        csv.push_str(&format!("2024-01-02T10:{i:02}:00Z,{o},{h},{l},{c},1000\n"));
    }
    csv
}

#[cfg(test)]
mod tests {
    use super::*;
    use sandbar_guest::paper::FillModel;
    use sandbar_guest::{Harness, paper};

    fn bars() -> Vec<Bar> {
        SCRIPT_BARS
            .iter()
            .enumerate()
            .map(|(i, &(open, high, low, close))| Bar {
                seq: i as u64 + 1,
                ts_ms: 1_704_189_600_000 + i as i64 * 60_000,
                symbol: 0,
                open,
                high,
                low,
                close,
                volume: 1000.0,
            })
            .collect()
    }

    /// Issue 15 item 6 natively: the script's fills and updates by the
    /// paper model, as the e2e tests expect them through the contract.
    #[test]
    fn issue_15_6_the_script_fills_as_the_paper_model_says() {
        let mut h =
            Harness::<OrderScript>::with_defaults(&["X"]).with_broker(10_000.0, FillModel::FREE);
        let replay = h.replay(&bars());
        let fills: Vec<(u64, Side, f64, f64)> = replay
            .fills
            .iter()
            .map(|f| (f.seq, f.side, f.quantity, f.price))
            .collect();
        assert_eq!(
            fills,
            vec![
                (2, Side::Buy, 1.0, 98.0),
                (2, Side::Buy, 1.0, 97.0),
                (4, Side::Sell, 2.0, 94.0),
                (6, Side::Sell, 1.0, 91.0),
                (7, Side::Buy, 1.0, 91.0),
                (7, Side::Sell, 1.0, 89.0),
            ]
        );
        let mine: Vec<(u64, &str)> = replay
            .updates
            .iter()
            .filter(|u| u.id < paper::HOST_IDS)
            .map(|u| (u.id, u.status.as_str()))
            .collect();
        assert_eq!(
            mine,
            vec![
                (42, "rejected"),
                (1, "accepted"),
                (2, "accepted"),
                (3, "accepted"),
                (1, "filled"),
                (2, "filled"),
                (3, "cancelled"),
                (1, "rejected"),
                (4, "accepted"),
                (4, "filled"),
                (5, "accepted"),
                (5, "triggered"),
                (5, "replaced"),
                (5, "filled"),
                (10, "accepted"),
                (11, "accepted"),
                (12, "accepted"),
                (10, "filled"),
                (12, "filled"),
                (11, "cancelled"),
            ]
        );
        // Every update but the last bar's reached the guest and was echoed.
        let echoes: Vec<u64> = replay
            .orders
            .iter()
            .filter(|(_, o)| o.kind == sandbar_guest::OrderKind::Limit(ECHO_PRICE))
            .map(|(_, o)| o.quantity as u64)
            .collect();
        assert_eq!(echoes[..3], [427, 11, 21]);
        assert_eq!(echoes.len(), mine.len());
        assert!(h.open_orders().is_empty(), "every order ended");
        // Long 2, flat, short 1 (the stop-limit), flat (the bracket's entry),
        // short 1 (its stop-loss).
        assert_eq!(h.account().position(0).quantity, -1.0);
    }
}
