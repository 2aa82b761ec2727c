//! Replayed bars (warm-up, catch-up after a pause, a handoff by replay):
//! their orders are discarded, and a contract 0.2.0 guest is told so, so
//! that its own view of its open orders (`orders.open()` in the SDK) does
//! not keep orders the broker never got.

use super::{CallError, StrategyInstance};
use crate::contract::{Bar, ContractVersion, Position, Request};
use sandbar_guest::paper::{self, OrderStatus, OrderUpdate};

/// Why a replayed bar's order with an id was not sent.
pub const DISCARDED: &str =
    "not sent: the orders of a replayed bar (warm-up or catch-up) are discarded";

impl StrategyInstance {
    /// Calls `on-bar` for a bar whose orders are discarded. Orders with ids
    /// it placed or replaced are answered `rejected` at once
    /// (`on-order-updates`); 0.1.0 components and bars without such
    /// requests cost one `on-bar` call, as before.
    pub fn replay_bar(&mut self, bar: Bar, position: Position) -> Result<(), CallError> {
        let requests = self.on_bar(bar, position)?;
        if self.version() == ContractVersion::V0_1 {
            return Ok(());
        }
        let discarded: Vec<OrderUpdate> = requests
            .iter()
            .filter_map(|r| match r {
                Request::Broker(paper::Request::Place(t)) => Some((t.id, t.symbol)),
                Request::Broker(paper::Request::Replace { id, .. }) => Some((*id, u32::MAX)),
                _ => None,
            })
            .map(|(id, symbol)| OrderUpdate {
                id,
                symbol,
                status: OrderStatus::Rejected,
                seq: bar.seq,
                reason: Some(DISCARDED.to_owned()),
            })
            .collect();
        self.on_order_updates(&discarded)
    }
}
