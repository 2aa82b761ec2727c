//! The glue between the contract's exports and a [`Strategy`]. The export
//! macro (inside Wasm) and the native [`crate::Harness`] both go through it, so
//! a native test exercises the same parameter parsing and snapshot codec as
//! the component.

use crate::{
    Bar, Fill, OpenOrders, OrderUpdate, Param, Params, Position, Request, Strategy, StrategyInfo,
    snapshot,
};
use std::cell::RefCell;

/// Holds the strategy between calls. Empty until `init` succeeds.
///
/// One method per export of the contract, each taking and returning the
/// contract's types: [`crate::export_strategy!`] forwards the component's
/// exports here, [`crate::Harness`] calls it directly.
pub struct Slot<S: Strategy> {
    strategy: RefCell<Option<S>>,
    /// The strategy's orders with ids, as far as it knows ([`OpenOrders`]).
    open: RefCell<OpenOrders>,
}

impl<S: Strategy> Default for Slot<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Strategy> Slot<S> {
    /// An empty slot; `const` so the export macro can keep it in a
    /// `thread_local!` without lazy initialisation.
    pub const fn new() -> Self {
        Self {
            strategy: RefCell::new(None),
            open: RefCell::new(OpenOrders::new()),
        }
    }

    /// `describe`: the strategy's constants, its parameter specs and the
    /// warm-up for the default parameters. Needs no instance, so it works
    /// before `init`.
    pub fn describe() -> StrategyInfo {
        StrategyInfo {
            name: S::NAME.into(),
            version: S::VERSION.into(),
            description: S::DESCRIPTION.into(),
            params: S::Params::specs(),
            warmup_bars: S::warmup_bars(&S::Params::default()),
        }
    }

    /// `init`: parses `params` ([`Params::from_params`]) and builds the
    /// strategy ([`Strategy::new`]); either's error becomes the returned
    /// text. On success it replaces any earlier instance; on error the slot
    /// keeps what it had.
    pub fn init(&self, symbols: Vec<String>, params: Vec<Param>) -> Result<(), String> {
        let params = S::Params::from_params(&params).map_err(|e| e.to_string())?;
        let strategy = S::new(params, &symbols).map_err(|e| e.to_string())?;
        *self.strategy.borrow_mut() = Some(strategy);
        Ok(())
    }

    /// `on-bar`: the requests [`Strategy::on_bar`] wrote for this bar
    /// (one-bar orders, orders with ids, cancels, replaces), in order.
    ///
    /// # Panics
    ///
    /// Before a successful `init` (a trap inside Wasm).
    pub fn on_bar(&self, bar: Bar, position: Position) -> Vec<Request> {
        let mut guard = self.strategy.borrow_mut();
        let Some(strategy) = guard.as_mut() else {
            // The host always calls init first; trapping makes a broken host
            // visible instead of silently trading nothing.
            panic!("on-bar called before init");
        };
        // The open orders move into the buffer and back: nothing copied.
        let mut open = self.open.borrow_mut();
        let mut orders = crate::Orders::with_open(std::mem::take(&mut *open));
        strategy.on_bar(&bar, &position, &mut orders);
        let (requests, still_open) = orders.finish();
        *open = still_open;
        requests
    }

    /// `on-order-updates`: each update applied to the open orders, then
    /// passed to [`Strategy::on_order_update`]; ignored before `init`.
    pub fn on_order_updates(&self, updates: Vec<OrderUpdate>) {
        let mut open = self.open.borrow_mut();
        for update in &updates {
            open.update(update);
        }
        drop(open);
        if let Some(strategy) = self.strategy.borrow_mut().as_mut() {
            for update in &updates {
                strategy.on_order_update(update);
            }
        }
    }

    /// The strategy's open orders with ids, as it knows them.
    pub fn open_orders(&self) -> OpenOrders {
        self.open.borrow().clone()
    }

    /// `on-fill`: passes the fill to [`Strategy::on_fill`]; ignored before
    /// `init`, since there is no instance to tell.
    pub fn on_fill(&self, fill: Fill) {
        if let Some(strategy) = self.strategy.borrow_mut().as_mut() {
            strategy.on_fill(&fill);
        }
    }

    /// `snapshot`: [`Strategy::state`] in the snapshot envelope (a header
    /// naming [`Strategy::NAME`], then postcard). Empty before `init` and
    /// when the state cannot be encoded; the host then warms the next
    /// version up from history.
    pub fn snapshot(&self) -> Vec<u8> {
        match self.strategy.borrow().as_ref() {
            // A state that cannot be encoded is returned empty: the host then
            // warms the next version up from history instead.
            Some(strategy) => snapshot::encode(S::NAME, strategy.state()).unwrap_or_default(),
            None => Vec::new(),
        }
    }

    /// `restore`: decodes `bytes` as this strategy's `State` and hands it
    /// to [`Strategy::restore_state`]. An error (before `init`, another
    /// strategy's snapshot, a layout this version cannot decode, or the
    /// strategy's own refusal) says why; the host then warms up from history.
    pub fn restore(&self, bytes: Vec<u8>) -> Result<(), String> {
        let mut guard = self.strategy.borrow_mut();
        let strategy = guard.as_mut().ok_or("restore called before init")?;
        let state = snapshot::decode::<S::State>(S::NAME, &bytes)?;
        strategy.restore_state(state)
    }
}

/// Exports a [`Strategy`] as the component's `strategy` world.
///
/// Expands to nothing outside `wasm32`, so the same crate builds natively for
/// tests.
#[macro_export]
macro_rules! export_strategy {
    ($strategy:ty) => {
        #[cfg(target_arch = "wasm32")]
        mod __sandbar_export {
            use super::*;
            use $crate::__private::{Guest, Slot};

            struct Exported;

            ::std::thread_local! {
                static SLOT: Slot<$strategy> = const { Slot::new() };
            }

            impl Guest for Exported {
                fn describe() -> $crate::StrategyInfo {
                    Slot::<$strategy>::describe()
                }
                fn init(
                    symbols: ::std::vec::Vec<::std::string::String>,
                    params: ::std::vec::Vec<$crate::Param>,
                ) -> ::core::result::Result<(), ::std::string::String> {
                    SLOT.with(|slot| slot.init(symbols, params))
                }
                fn on_bar(bar: $crate::Bar, position: $crate::Position) -> ::std::vec::Vec<$crate::Request> {
                    SLOT.with(|slot| slot.on_bar(bar, position))
                }
                fn on_fill(fill: $crate::Fill) {
                    SLOT.with(|slot| slot.on_fill(fill))
                }
                fn on_order_updates(updates: ::std::vec::Vec<$crate::OrderUpdate>) {
                    SLOT.with(|slot| slot.on_order_updates(updates))
                }
                fn snapshot() -> ::std::vec::Vec<u8> {
                    SLOT.with(|slot| slot.snapshot())
                }
                fn restore(state: ::std::vec::Vec<u8>) -> ::core::result::Result<(), ::std::string::String> {
                    SLOT.with(|slot| slot.restore(state))
                }
            }

            $crate::__private::bindings::__export_strategy_world!(Exported with_types_in $crate::__private::bindings);
        }
    };
}
