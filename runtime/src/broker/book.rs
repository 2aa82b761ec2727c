//! A strategy's book: its paper account behind its risk gate, with the
//! round-trip trades its fills made. Live and backtests trade through this
//! one type, so both apply the same fills and the same rules.

use super::account::{FillModel, PaperAccount};
use super::trades::TradeLedger;
use crate::contract::{Bar, Fill, Order, OrderKind, Position};
use crate::risk::{OrderContext, Refusal, RiskGate, RiskRule, RiskRules};
use sandbar_guest::paper::{self, Kind, Ticket};
use std::sync::Arc;

mod route;

/// One strategy's trading state: its [`PaperAccount`], its [`RiskGate`]
/// and its [`TradeLedger`], over the strategy's own symbols (indices into
/// [`Book::symbols`]).
pub struct Book {
    account: PaperAccount,
    gate: RiskGate,
    ledger: TradeLedger,
    symbols: Vec<Arc<str>>,
}

/// What one bar did to the book.
#[derive(Debug, Default)]
pub struct Marked {
    /// The orders this bar filled, in the order they were submitted; the
    /// caller passes each to the guest's `on-fill`.
    pub fills: Vec<Fill>,
    /// Set on the bar the drawdown kill switch fired.
    pub halted: Option<String>,
    /// What happened to the strategy's orders with ids (contract 0.2.0)
    /// since the last bar, this bar's fills, expiries and cancellations
    /// included, in order; the caller passes them to the guest's
    /// `on-order-updates` (after `on-fill`, before `on-bar`) and journals them.
    pub updates: Vec<paper::OrderUpdate>,
}

impl Book {
    /// A flat, un-halted book for `symbols` with `starting_cash`
    /// (`broker.starting_cash`) and the fill `model` (`broker.commission`,
    /// `broker.slippage_bps`).
    pub fn new(symbols: Vec<Arc<str>>, starting_cash: f64, model: FillModel) -> Self {
        Self {
            account: PaperAccount::new(symbols.len(), starting_cash, model),
            gate: RiskGate::new(),
            ledger: TradeLedger::new(symbols.len()),
            symbols,
        }
    }

    /// Fills what this bar fills (the bar's symbol is the strategy's own
    /// index), marks the account, and checks the drawdown kill switch.
    pub fn on_bar(&mut self, rules: &RiskRules, bar: &Bar) -> Marked {
        let fills = self.account.on_bar(bar);
        for fill in &fills {
            self.ledger.record(fill);
        }
        let equity = self.account.equity();
        let halted = if equity.is_finite() {
            self.gate.mark(rules, equity)
        } else {
            // NaN compares false with every limit: stop before it spreads.
            let reason = format!(
                "equity is {equity}, not a finite number; the account can no longer be valued (fix the strategy's sizing, then `runtime unhalt <id>`)"
            );
            (self.halted().is_none()).then(|| {
                self.gate.halt(reason.clone());
                reason
            })
        };
        if halted.is_some() {
            self.account.cancel_pending();
        }
        Marked {
            fills,
            halted,
            updates: self.account.take_updates(),
        }
    }

    /// Checks one `on-bar` result against the contract (symbols, finite
    /// positive sizes and prices, at most `max_orders` orders; a failure
    /// refuses the whole result), then each order against the risk rules;
    /// the accepted ones wait for their symbol's next bar. Returns the
    /// accepted orders (a limit price moved onto its symbol's tick, see
    /// [`crate::risk`]) and one refusal per refused order (or result).
    pub fn submit(
        &mut self,
        rules: &RiskRules,
        orders: Vec<Order>,
        max_orders: usize,
        now_ms: i64,
    ) -> (Vec<Order>, Vec<Refusal>) {
        if let Err(reason) =
            crate::validate::validate_orders(&orders, self.symbols.len(), max_orders)
        {
            let refusal = Refusal {
                rule: RiskRule::Validation,
                reason,
            };
            return (Vec::new(), vec![refusal]);
        }
        let mut accepted = Vec::with_capacity(orders.len());
        let mut refused = Vec::new();
        for order in orders {
            match self.submit_order(rules, order, now_ms) {
                Ok(order) => accepted.push(order),
                Err(refusal) => refused.push(refusal),
            }
        }
        (accepted, refused)
    }

    /// One contract 0.1.0 order through the notional bound and the risk
    /// gate into the account.
    pub(super) fn submit_order(
        &mut self,
        rules: &RiskRules,
        order: Order,
        now_ms: i64,
    ) -> Result<Order, Refusal> {
        let symbol = order.symbol as usize;
        let reference_price = self.reference_price(symbol);
        let limit = match order.kind {
            OrderKind::Market => None,
            OrderKind::Limit(price) => Some(price),
        };
        let name = self.symbols.get(symbol).map_or("?", |s| &**s);
        let notional = order.quantity * limit.unwrap_or(reference_price);
        // A halted book refuses as halted (the rule that says what to do).
        let absurd = !notional.is_finite() || notional > crate::validate::MAX_NOTIONAL;
        if absurd && self.gate.halted().is_none() {
            return Err(Refusal {
                rule: RiskRule::Validation,
                reason: format!(
                    "order notional {notional:e} ({} {name} at {}) is over the broker's bound of {:e}; check the strategy's position sizing",
                    order.quantity,
                    limit.unwrap_or(reference_price),
                    crate::validate::MAX_NOTIONAL
                ),
            });
        }
        // Only the gross-exposure rules read the account-wide numbers;
        // summing every symbol per order is skipped when they are off.
        let gross_rules = rules.max_leverage.is_some() || rules.max_gross_exposure.is_some();
        let ctx = OrderContext {
            symbol: name,
            exposure: self.account.exposure(order.symbol),
            reference_price,
            now_ms,
            gross_exposure: if gross_rules {
                self.gross_exposure()
            } else {
                0.0
            },
            equity: if gross_rules {
                self.account.equity()
            } else {
                f64::NAN
            },
        };
        let kind = match limit {
            None => Kind::Market,
            Some(price) => Kind::Limit(price),
        };
        let ticket = Ticket::one_bar(0, order.symbol, order.side.into(), order.quantity, kind);
        let checked = self.gate.check_ticket(rules, &ticket, ctx)?;
        // The gate may have moved a limit onto the symbol's tick.
        let order = Order {
            kind: match checked.kind {
                Kind::Limit(price) => OrderKind::Limit(price),
                _ => order.kind,
            },
            ..order
        };
        self.account.submit([order]);
        Ok(order)
    }

    /// The last close of `symbol` (0 before its first bar): the price an
    /// order's notional and exposure are checked at.
    pub(super) fn reference_price(&self, symbol: usize) -> f64 {
        self.account
            .last_prices()
            .get(symbol)
            .copied()
            .unwrap_or(0.0)
    }

    /// Σ over the strategy's symbols of |position once working orders fill|
    /// × last close: what `risk.max_leverage` and `risk.max_gross_exposure`
    /// measure.
    pub fn gross_exposure(&self) -> f64 {
        self.account
            .last_prices()
            .iter()
            .enumerate()
            .map(|(i, price)| (self.account.exposure(i as u32) * price).abs())
            .sum()
    }

    /// Operator kill switch: cancels waiting orders, refuses new ones.
    pub fn halt(&mut self, reason: String) {
        self.account.cancel_pending();
        self.gate.halt(reason);
    }

    /// Lifts a halt; the drawdown kill switch measures from the current
    /// equity from now on, so it does not fire again at once.
    pub fn unhalt(&mut self) {
        self.gate.unhalt(self.account.equity());
    }

    /// Why the book is halted (kill switch or operator), or `None`.
    pub fn halted(&self) -> Option<&str> {
        self.gate.halted()
    }

    /// Drops every order still waiting (a poisoned or paused strategy's).
    pub fn cancel_pending(&mut self) {
        self.account.cancel_pending();
    }

    /// The position passed to the guest with a bar of `symbol` (quantity 0
    /// for an index out of range).
    pub fn position(&self, symbol: u32) -> Position {
        self.account.position(symbol)
    }

    /// True when the book holds no position in any symbol and has no
    /// order working — a resting limit, a stop, an entry in flight — so a
    /// new generation that takes over (`swap = "when_flat"`) inherits
    /// nothing its predecessor started.
    pub fn is_flat(&self) -> bool {
        (0..self.symbols.len() as u32).all(|i| self.position(i).quantity == 0.0)
            && self.account.working().next().is_none()
    }

    /// The paper account, for cash, equity and totals.
    pub fn account(&self) -> &PaperAccount {
        &self.account
    }

    /// The round trips made so far.
    pub fn ledger(&self) -> &TradeLedger {
        &self.ledger
    }

    /// The strategy's symbols; a bar's, order's or fill's `symbol` indexes
    /// this list.
    pub fn symbols(&self) -> &[Arc<str>] {
        &self.symbols
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::Side;

    fn bar(open: f64, close: f64) -> Bar {
        Bar {
            seq: 0,
            ts_ms: 0,
            symbol: 0,
            open,
            high: open.max(close),
            low: open.min(close),
            close,
            volume: 1.0,
        }
    }

    fn buy(quantity: f64) -> Order {
        Order {
            symbol: 0,
            side: Side::Buy,
            quantity,
            kind: OrderKind::Market,
        }
    }

    #[test]
    fn refused_orders_never_reach_the_account() {
        let rules = RiskRules {
            max_position: Some(3.0),
            ..Default::default()
        };
        let mut book = Book::new(vec![Arc::from("BTCUSD")], 1000.0, FillModel::default());
        book.on_bar(&rules, &bar(100.0, 100.0));
        let (accepted, refused) =
            book.submit(&rules, vec![buy(2.0), buy(2.0), buy(1.0)], usize::MAX, 0);
        assert_eq!(accepted.len(), 2, "the second order would make 4");
        assert_eq!(refused.len(), 1);
        assert!(refused[0].reason.contains("BTCUSD"));
        let marked = book.on_bar(&rules, &bar(100.0, 100.0));
        assert_eq!(marked.fills.len(), 2);
        assert_eq!(book.position(0).quantity, 3.0);
    }

    #[test]
    fn the_kill_switch_cancels_waiting_orders_and_refuses_new_ones() {
        let rules = RiskRules {
            max_drawdown_pct: Some(5.0),
            ..Default::default()
        };
        let model = FillModel {
            commission: 0.0,
            slippage_bps: 0.0,
            ..FillModel::default()
        };
        let mut book = Book::new(vec![Arc::from("X")], 1000.0, model);
        book.on_bar(&rules, &bar(100.0, 100.0));
        book.submit(&rules, vec![buy(10.0)], usize::MAX, 0);
        assert!(book.on_bar(&rules, &bar(100.0, 100.0)).halted.is_none());
        book.submit(&rules, vec![buy(1.0)], usize::MAX, 0);
        // Equity 1000 -> 940: 6 % down.
        let marked = book.on_bar(&rules, &bar(100.0, 94.0));
        assert_eq!(marked.fills.len(), 1, "filled at the open before the mark");
        let reason = marked.halted.expect("kill switch");
        assert!(reason.contains("max_drawdown_pct 5"), "{reason}");
        let (accepted, refused) = book.submit(&rules, vec![buy(1.0)], usize::MAX, 0);
        assert!(accepted.is_empty());
        assert_eq!(refused[0].rule, crate::risk::RiskRule::Halted);
        book.unhalt();
        assert_eq!(
            book.submit(&rules, vec![buy(1.0)], usize::MAX, 0).0.len(),
            1
        );
    }

    /// Regression (hardening issue, item 2): quantities of 1e308 and 5e-324
    /// passed validation, filled, and made equity NaN, which no kill switch
    /// noticed.
    #[test]
    fn regression_absurd_quantities_are_refused_and_a_non_finite_equity_halts() {
        let rules = RiskRules::default();
        let mut book = Book::new(vec![Arc::from("X")], 1000.0, FillModel::default());
        book.on_bar(&rules, &bar(100.0, 100.0));
        let huge_limit = Order {
            kind: OrderKind::Limit(1e10),
            ..buy(1e6)
        };
        for order in [buy(1e308), buy(5e-324), buy(1e13), huge_limit] {
            let (accepted, refused) = book.submit(&rules, vec![order], usize::MAX, 0);
            assert!(accepted.is_empty(), "{order:?} accepted");
            assert_eq!(refused[0].rule, RiskRule::Validation, "{order:?}");
        }
        let marked = book.on_bar(&rules, &bar(100.0, 100.0));
        assert!(marked.fills.is_empty());
        assert!(book.account().equity().is_finite());

        // Whatever makes the account non-finite halts the strategy once.
        book.submit(&rules, vec![buy(1.0)], usize::MAX, 0);
        assert_eq!(book.on_bar(&rules, &bar(100.0, 100.0)).fills.len(), 1);
        let marked = book.on_bar(&rules, &bar(f64::NAN, f64::NAN));
        let reason = marked.halted.expect("a NaN equity halts");
        assert!(reason.contains("not a finite number"), "{reason}");
        assert!(
            book.on_bar(&rules, &bar(f64::NAN, f64::NAN))
                .halted
                .is_none(),
            "once"
        );
        let (accepted, refused) = book.submit(&rules, vec![buy(1.0)], usize::MAX, 0);
        assert!(accepted.is_empty());
        assert_eq!(refused[0].rule, RiskRule::Halted);
    }

    #[test]
    fn trades_come_from_the_fills() {
        let rules = RiskRules::default();
        let model = FillModel {
            commission: 0.0,
            slippage_bps: 0.0,
            ..FillModel::default()
        };
        let mut book = Book::new(vec![Arc::from("X")], 1000.0, model);
        book.on_bar(&rules, &bar(10.0, 10.0));
        book.submit(&rules, vec![buy(1.0)], usize::MAX, 0);
        book.on_bar(&rules, &bar(11.0, 12.0));
        let sell = Order {
            side: Side::Sell,
            ..buy(1.0)
        };
        book.submit(&rules, vec![sell], usize::MAX, 0);
        book.on_bar(&rules, &bar(15.0, 15.0));
        assert_eq!(book.ledger().closed()[0].pnl, 4.0);
    }

    /// Regression (issue 15): 224,074 units bought on $100k of equity. The
    /// book values positions and working orders of every symbol, so with
    /// `max_leverage = 1` the oversized order is refused and the book goes on
    /// trading within its buying power.
    #[test]
    fn regression_15_5_the_book_refuses_buys_beyond_buying_power_across_symbols() {
        let rules = RiskRules {
            max_leverage: Some(1.0),
            ..Default::default()
        };
        let mut book = Book::new(
            vec![Arc::from("EURUSD"), Arc::from("GBPUSD")],
            100_000.0,
            FillModel::FREE,
        );
        book.on_bar(&rules, &bar(1.09, 1.09));
        let (accepted, refused) = book.submit(&rules, vec![buy(224_074.0)], usize::MAX, 0);
        assert!(accepted.is_empty());
        assert_eq!(refused[0].rule, RiskRule::MaxLeverage);
        assert!(
            refused[0].reason.contains("EURUSD"),
            "{}",
            refused[0].reason
        );
        // 60k of EURUSD working, then 50k of GBPUSD is over 100k of equity.
        let (accepted, _) = book.submit(&rules, vec![buy(55_000.0)], usize::MAX, 0);
        assert_eq!(accepted.len(), 1);
        book.on_bar(
            &rules,
            &Bar {
                symbol: 1,
                ..bar(1.25, 1.25)
            },
        );
        assert!((book.gross_exposure() - 59_950.0).abs() < 1e-6);
        let gbp = Order {
            symbol: 1,
            ..buy(40_000.0)
        };
        let (accepted, refused) = book.submit(&rules, vec![gbp], usize::MAX, 0);
        assert!(accepted.is_empty());
        assert!(
            refused[0].reason.contains("GBPUSD"),
            "{}",
            refused[0].reason
        );
        let (accepted, _) = book.submit(
            &rules,
            vec![Order {
                quantity: 30_000.0,
                ..gbp
            }],
            usize::MAX,
            0,
        );
        assert_eq!(accepted.len(), 1, "within buying power");
    }

    /// The tick rounds a limit the book accepts; the lot refuses a quantity.
    #[test]
    fn regression_15_5_accepted_limits_are_on_the_tick_and_lots_are_whole() {
        let rules = RiskRules {
            symbols: vec![crate::risk::SymbolRules {
                tick: Some(0.5),
                lot: Some(2.0),
            }],
            ..Default::default()
        };
        let mut book = Book::new(vec![Arc::from("X")], 10_000.0, FillModel::FREE);
        book.on_bar(&rules, &bar(100.0, 100.0));
        let limit = Order {
            kind: OrderKind::Limit(99.9),
            ..buy(4.0)
        };
        let (accepted, _) = book.submit(&rules, vec![limit], usize::MAX, 0);
        assert_eq!(
            accepted[0].kind,
            OrderKind::Limit(99.5),
            "a buy limit rounds down"
        );
        let (accepted, refused) = book.submit(&rules, vec![buy(3.0)], usize::MAX, 0);
        assert!(accepted.is_empty());
        assert_eq!(refused[0].rule, RiskRule::LotSize);
        // The rounded limit is what the broker works: a low of 99.6 misses it.
        let marked = book.on_bar(
            &rules,
            &Bar {
                low: 99.6,
                ..bar(100.0, 100.0)
            },
        );
        assert!(marked.fills.is_empty());
    }

    /// What the new rules cost on the submit path: the same 20,000 orders
    /// over 8 symbols with no rules and with every rule on (times printed,
    /// never asserted: the machine is shared). Both must accept them all.
    #[test]
    fn submit_cost_with_and_without_the_new_rules() {
        let symbols: Vec<Arc<str>> = (0..8).map(|i| Arc::from(format!("S{i}"))).collect();
        let all = RiskRules {
            max_position: Some(1e9),
            max_leverage: Some(1e6),
            max_gross_exposure: Some(1e15),
            allow_short: false,
            symbols: vec![
                crate::risk::SymbolRules {
                    tick: Some(0.01),
                    lot: Some(1.0),
                };
                8
            ],
            ..Default::default()
        };
        for (name, rules) in [("no rules", RiskRules::default()), ("every rule", all)] {
            let mut book = Book::new(symbols.clone(), 1e9, FillModel::FREE);
            for s in 0..8 {
                book.on_bar(
                    &rules,
                    &Bar {
                        symbol: s,
                        ..bar(100.0, 100.0)
                    },
                );
            }
            let started = std::time::Instant::now();
            let mut accepted = 0;
            for i in 0..20_000u32 {
                let order = Order {
                    symbol: i % 8,
                    kind: OrderKind::Limit(99.5),
                    ..buy(1.0)
                };
                accepted += book.submit(&rules, vec![order], usize::MAX, 0).0.len();
                if i % 8 == 7 {
                    // Keep the book small, as bars do: expire the one-bar orders.
                    for s in 0..8 {
                        book.on_bar(
                            &rules,
                            &Bar {
                                symbol: s,
                                low: 99.9,
                                ..bar(100.0, 100.0)
                            },
                        );
                    }
                }
            }
            let per_order = started.elapsed().as_nanos() as f64 / 20_000.0;
            eprintln!("submit + bar upkeep, {name}: {per_order:.0} ns per order");
            assert_eq!(accepted, 20_000, "{name}");
        }
    }
}
