//! [`Outbox`]: everything the loop sends away — journal records, retirees for
//! the reaper, events for the event thread. Every send is a channel push;
//! none can block or fail the loop.

use super::super::generation::{Generation, StrategySlot};
use super::super::journal::{FillRecord, JournalSender, OrderRecord, Record, TradeHead};
use super::super::loop_event::LoopEvent;
use super::super::reaper::Retiree;
use crate::contract::{Bar, Fill, Order, OrderKind, Side};
use std::sync::Arc;
use std::sync::mpsc::Sender;

pub(crate) struct Outbox {
    pub journal: JournalSender,
    pub reaper: Sender<Retiree>,
    pub events: Sender<LoopEvent>,
}

impl Outbox {
    /// Hands something to the reaper thread to drop (stores, old rosters).
    pub fn retire(&self, retiree: Retiree) {
        let _ = self.reaper.send(retiree);
    }

    pub fn event(&self, event: LoopEvent) {
        let _ = self.events.send(event);
    }

    pub fn order(&self, slot: &StrategySlot, generation: &Generation, order: &Order, bar: &Bar) {
        let (kind, limit_price) = match order.kind {
            OrderKind::Market => ("market", None),
            OrderKind::Limit(price) => ("limit", Some(price)),
        };
        let traded = (order.symbol, order.side, order.quantity);
        let head = trade_head(slot, generation, (bar.ts_ms, bar.seq), traded);
        self.journal.send(Record::Order(OrderRecord {
            head,
            kind,
            limit_price,
        }));
    }

    pub fn fill(&self, slot: &StrategySlot, generation: &Generation, fill: &Fill) {
        let traded = (fill.symbol, fill.side, fill.quantity);
        let head = trade_head(slot, generation, (fill.ts_ms, fill.seq), traded);
        self.journal.send(Record::Fill(FillRecord {
            head,
            price: fill.price,
            commission: fill.commission,
        }));
    }
}

fn trade_head(
    slot: &StrategySlot,
    generation: &Generation,
    (ts_ms, seq): (i64, u64),
    (symbol, side, quantity): (u32, Side, f64),
) -> TradeHead {
    TradeHead {
        ts_ms,
        seq,
        strategy: Arc::clone(&slot.id),
        version: generation.version,
        sha256: Arc::from(generation.sha256()),
        symbol: symbol_name(slot, symbol),
        side: side_name(side),
        quantity,
    }
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

fn symbol_name(slot: &StrategySlot, index: u32) -> Arc<str> {
    slot.symbols
        .get(index as usize)
        .cloned()
        .unwrap_or_else(|| Arc::from("?"))
}
