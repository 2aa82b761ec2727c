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
        self.journal
            .send(Record::Order(order_record(slot, generation, order, bar)));
    }

    pub fn fill(&self, slot: &StrategySlot, generation: &Generation, fill: &Fill) {
        self.journal
            .send(Record::Fill(fill_record(slot, generation, fill)));
    }

    /// An order of a shadow candidate (`shadow_orders.jsonl`, its SHA-256).
    pub fn shadow_order(
        &self,
        slot: &StrategySlot,
        generation: &Generation,
        order: &Order,
        bar: &Bar,
    ) {
        self.journal.send(Record::ShadowOrder(order_record(
            slot, generation, order, bar,
        )));
    }

    /// A fill on a shadow candidate's account (`shadow_fills.jsonl`).
    pub fn shadow_fill(&self, slot: &StrategySlot, generation: &Generation, fill: &Fill) {
        self.journal
            .send(Record::ShadowFill(fill_record(slot, generation, fill)));
    }
}

fn order_record(
    slot: &StrategySlot,
    generation: &Generation,
    order: &Order,
    bar: &Bar,
) -> OrderRecord {
    {
        let (kind, limit_price) = match order.kind {
            OrderKind::Market => ("market", None),
            OrderKind::Limit(price) => ("limit", Some(price)),
        };
        let traded = (order.symbol, order.side, order.quantity);
        let head = trade_head(slot, generation, (bar.ts_ms, bar.seq), traded);
        OrderRecord {
            head,
            kind,
            limit_price,
        }
    }
}

fn fill_record(slot: &StrategySlot, generation: &Generation, fill: &Fill) -> FillRecord {
    let traded = (fill.symbol, fill.side, fill.quantity);
    let head = trade_head(slot, generation, (fill.ts_ms, fill.seq), traded);
    FillRecord {
        head,
        price: fill.price,
        commission: fill.commission,
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
