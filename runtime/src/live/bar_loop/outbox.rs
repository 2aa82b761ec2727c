//! [`Outbox`]: everything the loop sends away — journal records, retirees for
//! the reaper, events for the event thread. Every send is a channel push;
//! none can block or fail the loop.

use super::super::activity::{describe_ticket, side_name, symbol_name};
use super::super::generation::{Generation, StrategySlot};
use super::super::journal::{
    FillRecord, JournalSender, OrderRecord, OrderTerms, OrderUpdateRecord, Record, TradeHead,
};
use super::super::loop_event::LoopEvent;
use super::super::reaper::Retiree;
use crate::contract::{Bar, Fill, OrderKind, Request, Side};
use sandbar_guest::paper;
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

    /// An accepted order (`orders.jsonl`); a cancel or a replace is
    /// journalled by its update instead (`order_updates.jsonl`).
    pub fn order(&self, slot: &StrategySlot, generation: &Generation, order: &Request, bar: &Bar) {
        if let Some(record) = order_record(slot, generation, order, bar) {
            self.journal.send(Record::Order(record));
        }
    }

    /// An order of a shadow candidate (`shadow_orders.jsonl`, its SHA-256).
    pub fn shadow_order(
        &self,
        slot: &StrategySlot,
        generation: &Generation,
        order: &Request,
        bar: &Bar,
    ) {
        if let Some(record) = order_record(slot, generation, order, bar) {
            self.journal.send(Record::ShadowOrder(record));
        }
    }

    /// What happened to an order with an id (`order_updates.jsonl`).
    pub fn order_update(
        &self,
        slot: &StrategySlot,
        generation: &Generation,
        update: &paper::OrderUpdate,
    ) {
        self.journal.send(Record::OrderUpdate(OrderUpdateRecord {
            seq: update.seq,
            strategy: Arc::clone(&slot.id),
            version: generation.version,
            id: update.id,
            symbol: symbol_name(&slot.symbols, update.symbol),
            status: update.status.as_str(),
            reason: update.reason.clone(),
        }));
    }

    pub fn fill(&self, slot: &StrategySlot, generation: &Generation, fill: &Fill) {
        self.journal
            .send(Record::Fill(fill_record(slot, generation, fill)));
    }

    /// A fill on a shadow candidate's account (`shadow_fills.jsonl`).
    pub fn shadow_fill(&self, slot: &StrategySlot, generation: &Generation, fill: &Fill) {
        self.journal
            .send(Record::ShadowFill(fill_record(slot, generation, fill)));
    }
}

/// The journal record of an accepted order; `None` for a cancel or a
/// replace (their updates are the record).
fn order_record(
    slot: &StrategySlot,
    generation: &Generation,
    order: &Request,
    bar: &Bar,
) -> Option<OrderRecord> {
    let (traded, terms) = match order {
        Request::Order(order) => {
            let (kind, limit_price) = match order.kind {
                OrderKind::Market => ("market", None),
                OrderKind::Limit(price) => ("limit", Some(price)),
            };
            let terms = OrderTerms {
                kind,
                limit_price,
                ticket: None,
            };
            ((order.symbol, order.side, order.quantity), terms)
        }
        Request::Broker(paper::Request::Place(t)) => {
            ((t.symbol, t.side.into(), t.quantity), describe_ticket(t))
        }
        Request::Broker(_) => return None,
    };
    let head = trade_head(slot, generation, (bar.ts_ms, bar.seq), traded);
    Some(OrderRecord { head, terms })
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
        symbol: symbol_name(&slot.symbols, symbol),
        side: side_name(side),
        quantity,
    }
}
