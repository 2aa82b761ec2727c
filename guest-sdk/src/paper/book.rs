//! The working orders of one account: placing, cancelling and replacing
//! them by id, their time in force, stop triggers, trailing levels, OCO
//! groups and brackets — and, per bar, which of them fill in what order.
//! Cash and holdings are the account's ([`super::PaperAccount`]).

use super::order::{Kind, OrderId, OrderStatus, OrderUpdate, Request, Ticket, TimeInForce};
use super::rules::{self, Phase, Touch};
use super::{FillModel, TieRule};
use crate::{Bar, Side};

const DAY_MS: i64 = 86_400_000;

/// One order the broker holds.
#[derive(Debug, Clone)]
struct Working {
    ticket: Ticket,
    /// False for a bracket child whose entry has not filled yet.
    active: bool,
    /// A stop-limit whose stop traded: it works as its limit.
    triggered: bool,
    /// A trailing stop's best price so far.
    extreme: f64,
    /// Bars of its symbol it has worked through without filling.
    bars_worked: u32,
    /// UTC day of the bar it was sent on (for [`TimeInForce::Day`]).
    day: i64,
    /// The bar on which a fill inside the bar released this bracket child:
    /// that bar's range may have come before the fill, so it neither counts
    /// as worked nor moves a trailing stop.
    released_on: Option<u64>,
}

/// An order this bar filled, at its price, in the order fills happened.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Filled {
    pub ticket: Ticket,
    pub price: f64,
}

/// The working orders, and what happened to orders since last taken.
#[derive(Debug, Clone, Default)]
pub(super) struct OrderBook {
    working: Vec<Working>,
    updates: Vec<OrderUpdate>,
    next_host_id: OrderId,
}

impl OrderBook {
    pub fn new() -> Self {
        Self {
            next_host_id: super::order::HOST_IDS,
            ..Self::default()
        }
    }

    /// A fresh id for an order that came without one.
    pub fn host_id(&mut self) -> OrderId {
        let id = self.next_host_id;
        self.next_host_id += 1;
        id
    }

    /// Orders working or waiting for their bracket's entry, in the order sent.
    pub fn tickets(&self) -> impl Iterator<Item = &Ticket> {
        self.working.iter().map(|w| &w.ticket)
    }

    /// Every update since the last call.
    pub fn take_updates(&mut self) -> Vec<OrderUpdate> {
        std::mem::take(&mut self.updates)
    }

    fn update(&mut self, ticket: &Ticket, status: OrderStatus, seq: u64, reason: Option<String>) {
        self.updates.push(OrderUpdate {
            id: ticket.id,
            symbol: ticket.symbol,
            status,
            seq,
            reason,
        });
    }

    /// Carries out one request sent with the bar `seq` (at `ts_ms`);
    /// `reference` is the symbol's last price, where a trailing stop starts.
    pub fn request(&mut self, request: Request, seq: u64, ts_ms: i64, reference: f64) {
        match request {
            Request::Place(ticket) => self.place(ticket, seq, ts_ms, reference),
            Request::Cancel(id) => match self.position_of(id) {
                Some(index) => {
                    let reason = "cancelled by the strategy".to_owned();
                    self.remove(index, OrderStatus::Cancelled, seq, reason);
                }
                None => self.reject_unknown(id, "cancel", seq),
            },
            Request::Replace { id, quantity, kind } => self.replace(id, quantity, kind, seq),
        }
    }

    fn reject_unknown(&mut self, id: OrderId, what: &str, seq: u64) {
        self.updates.push(OrderUpdate {
            id,
            symbol: u32::MAX,
            status: OrderStatus::Rejected,
            seq,
            reason: Some(format!(
                "{what} of order {id}: no such working order (it filled, ended or never existed)"
            )),
        });
    }

    fn place(&mut self, ticket: Ticket, seq: u64, ts_ms: i64, reference: f64) {
        if let Err(reason) = self.check(&ticket) {
            return self.update(&ticket, OrderStatus::Rejected, seq, Some(reason));
        }
        let parent_working = ticket.parent.map(|p| self.position_of(p).is_some());
        if parent_working == Some(false) {
            let reason = format!(
                "its bracket entry {} is not working (it filled, ended or never existed)",
                ticket.parent.unwrap_or_default()
            );
            return self.update(&ticket, OrderStatus::Rejected, seq, Some(reason));
        }
        self.working.push(Working {
            ticket,
            active: ticket.parent.is_none(),
            triggered: false,
            extreme: reference,
            bars_worked: 0,
            day: ts_ms.div_euclid(DAY_MS),
            released_on: None,
        });
        self.update(&ticket, OrderStatus::Accepted, seq, None);
    }

    /// Why a ticket cannot work, if it cannot.
    fn check(&self, ticket: &Ticket) -> Result<(), String> {
        if self.position_of(ticket.id).is_some() {
            return Err(format!(
                "id {} is already working; ids must be unique",
                ticket.id
            ));
        }
        if !(ticket.quantity.is_finite() && ticket.quantity > 0.0) {
            return Err(format!(
                "quantity {} is not a finite number above 0",
                ticket.quantity
            ));
        }
        check_kind(ticket.kind)?;
        if ticket.tif == TimeInForce::Bars(0) {
            return Err("a time in force of 0 bars never works; use bars(1) or more".into());
        }
        Ok(())
    }

    fn replace(&mut self, id: OrderId, quantity: Option<f64>, kind: Option<Kind>, seq: u64) {
        let Some(index) = self.position_of(id) else {
            return self.reject_unknown(id, "replace", seq);
        };
        let mut ticket = self.working[index].ticket;
        if let Some(quantity) = quantity {
            ticket.quantity = quantity;
        }
        if let Some(kind) = kind {
            // A stop-limit stays triggered, and a trailing stop keeps its
            // best price, only while it stays the same kind of order.
            if std::mem::discriminant(&kind) != std::mem::discriminant(&ticket.kind) {
                self.working[index].triggered = false;
            }
            ticket.kind = kind;
        }
        let checked = Ticket {
            id: u64::MAX,
            ..ticket
        };
        if let Err(reason) = self.check(&checked) {
            let reason = format!("replace of order {id}: {reason}; the order works unchanged");
            return self.update(&ticket, OrderStatus::Rejected, seq, Some(reason));
        }
        self.working[index].ticket = ticket;
        self.update(&ticket, OrderStatus::Replaced, seq, None);
    }

    fn position_of(&self, id: OrderId) -> Option<usize> {
        self.working.iter().position(|w| w.ticket.id == id)
    }

    /// Ends the order at `index` (not filled), and the bracket children
    /// waiting for it.
    fn remove(&mut self, index: usize, status: OrderStatus, seq: u64, reason: String) {
        let gone = self.working.remove(index);
        self.update(&gone.ticket, status, seq, Some(reason));
        self.cancel_children(gone.ticket.id, status, seq);
    }

    fn cancel_children(&mut self, parent: OrderId, why: OrderStatus, seq: u64) {
        while let Some(index) = self
            .working
            .iter()
            .position(|w| w.ticket.parent == Some(parent))
        {
            let reason = format!("its bracket entry {parent} was {} unfilled", why.as_str());
            self.remove(index, OrderStatus::Cancelled, seq, reason);
        }
    }

    /// Ends every order (halt, pause): cancelled with `reason`.
    pub fn cancel_all(&mut self, seq: u64, reason: &str) {
        for gone in std::mem::take(&mut self.working) {
            self.update(
                &gone.ticket,
                OrderStatus::Cancelled,
                seq,
                Some(reason.to_owned()),
            );
        }
    }

    /// Which orders of the bar's symbol fill on `bar`, in the order they
    /// fill: expiries first, then fills at the open in the order sent, then
    /// fills inside the bar (stops before limits under
    /// [`TieRule::StopFirst`]); a fill cancels its OCO group and releases
    /// its bracket children, which a fill at the open lets work on the rest
    /// of this bar. Then stop-limits trigger, trailing stops follow the bar,
    /// and orders whose bars ran out expire.
    pub fn on_bar(&mut self, bar: &Bar, model: &FillModel) -> Vec<Filled> {
        self.expire_days(bar);
        let mut filled = Vec::new();
        let mut candidates: Vec<OrderId> = self.active_ids(bar.symbol);
        while !candidates.is_empty() {
            let released = self.fill_round(&candidates, bar, model, &mut filled);
            candidates = released;
        }
        self.after_bar(bar);
        filled
    }

    fn active_ids(&self, symbol: u32) -> Vec<OrderId> {
        self.working
            .iter()
            .filter(|w| w.active && w.ticket.symbol == symbol)
            .map(|w| w.ticket.id)
            .collect()
    }

    /// Fills what `candidates` fill on `bar`; returns the bracket children
    /// released by fills at the open (they may fill later in this bar).
    fn fill_round(
        &mut self,
        candidates: &[OrderId],
        bar: &Bar,
        model: &FillModel,
        filled: &mut Vec<Filled>,
    ) -> Vec<OrderId> {
        let mut touched: Vec<(Phase, u8, usize, OrderId, f64)> = Vec::new();
        for (order, &id) in candidates.iter().enumerate() {
            let Some(w) = self.working.iter().find(|w| w.ticket.id == id) else {
                continue;
            };
            let trail = rules::trail_level(w.ticket.side, w.ticket.kind, w.extreme);
            match rules::touch(model, w.ticket.side, w.ticket.kind, w.triggered, trail, bar) {
                Touch::Fill(phase, price) => {
                    let stop_like = w.ticket.kind.is_stop();
                    let rank = match (model.tie, stop_like) {
                        (TieRule::StopFirst, true) | (TieRule::TargetFirst, false) => 0,
                        _ => 1,
                    };
                    touched.push((phase, rank, order, id, price));
                }
                Touch::Trigger => {
                    if let Some(w) = self.working.iter_mut().find(|w| w.ticket.id == id) {
                        w.triggered = true;
                        let ticket = w.ticket;
                        self.update(&ticket, OrderStatus::Triggered, bar.seq, None);
                    }
                }
                Touch::Miss => {}
            }
        }
        touched.sort_by_key(|t| (t.0, t.1, t.2));
        let mut released = Vec::new();
        for (phase, _, _, id, price) in touched {
            // An earlier fill of this bar may have cancelled it (its OCO group).
            let Some(index) = self.position_of(id) else {
                continue;
            };
            let done = self.working.remove(index);
            let ticket = done.ticket;
            self.update(&ticket, OrderStatus::Filled, bar.seq, None);
            filled.push(Filled { ticket, price });
            if let Some(group) = ticket.oco_group {
                self.cancel_group(group, id, bar.seq);
            }
            for child in self
                .working
                .iter_mut()
                .filter(|w| w.ticket.parent == Some(id))
            {
                child.active = true;
                child.day = bar.ts_ms.div_euclid(DAY_MS);
                child.extreme = price;
                if phase == Phase::Open && child.ticket.symbol == bar.symbol {
                    released.push(child.ticket.id);
                } else {
                    child.released_on = Some(bar.seq);
                }
            }
        }
        released
    }

    fn cancel_group(&mut self, group: u64, filled: OrderId, seq: u64) {
        while let Some(index) = self
            .working
            .iter()
            .position(|w| w.ticket.oco_group == Some(group))
        {
            let reason = format!("order {filled} of its OCO group {group} filled");
            self.remove(index, OrderStatus::Cancelled, seq, reason);
        }
    }

    fn expire_days(&mut self, bar: &Bar) {
        let today = bar.ts_ms.div_euclid(DAY_MS);
        while let Some(index) = self.working.iter().position(|w| {
            w.active
                && w.ticket.symbol == bar.symbol
                && w.ticket.tif == TimeInForce::Day
                && today > w.day
        }) {
            let reason = "a day order: its day ended".to_owned();
            self.remove(index, OrderStatus::Expired, bar.seq, reason);
        }
    }

    /// Trailing stops follow the bar; bars worked are counted, and orders
    /// whose `bars(n)` ran out expire.
    fn after_bar(&mut self, bar: &Bar) {
        let mut expired = Vec::new();
        for w in self
            .working
            .iter_mut()
            .filter(|w| w.active && w.ticket.symbol == bar.symbol)
            .filter(|w| w.released_on != Some(bar.seq))
        {
            if matches!(
                w.ticket.kind,
                Kind::TrailingAmount(_) | Kind::TrailingPercent(_)
            ) {
                w.extreme = rules::trail_extreme(w.ticket.side, w.extreme, bar);
            }
            w.bars_worked += 1;
            if let TimeInForce::Bars(n) = w.ticket.tif
                && w.bars_worked >= n
            {
                expired.push(w.ticket.id);
            }
        }
        for id in expired {
            if let Some(index) = self.position_of(id) {
                let n = self.working[index].bars_worked;
                let reason = format!("worked its {n} bar(s) unfilled");
                self.remove(index, OrderStatus::Expired, bar.seq, reason);
            }
        }
    }

    /// The signed quantity of the orders of `symbol` that may still add to
    /// the position ([`working_exposure`] with no group left out).
    pub fn exposure(&self, symbol: u32) -> f64 {
        working_exposure(self.tickets(), symbol, None)
    }
}

/// The signed quantity of the `working` orders of `symbol` that may still
/// add to the position: bracket exits (orders with a parent) left out, each
/// OCO group counted once (by its first order), and the group `except` left
/// out entirely (the group of an order being checked: its members are
/// alternatives to it). The one rule of what resting orders expose, for the
/// account and for the runtime's risk gate.
pub fn working_exposure<'a>(
    working: impl IntoIterator<Item = &'a Ticket>,
    symbol: u32,
    except: Option<u64>,
) -> f64 {
    let mut groups_seen: Vec<u64> = Vec::new();
    let mut total = 0.0;
    for t in working {
        if t.symbol != symbol || t.parent.is_some() {
            continue;
        }
        if let Some(group) = t.oco_group {
            if except == Some(group) || groups_seen.contains(&group) {
                continue;
            }
            groups_seen.push(group);
        }
        total += match t.side {
            Side::Buy => t.quantity,
            Side::Sell => -t.quantity,
        };
    }
    total
}

/// Finite, positive levels; a trailing percent below 100.
fn check_kind(kind: Kind) -> Result<(), String> {
    let positive = |name: &str, value: f64| {
        if value.is_finite() && value > 0.0 {
            Ok(())
        } else {
            Err(format!("{name} {value} is not a finite number above 0"))
        }
    };
    match kind {
        Kind::Market => Ok(()),
        Kind::Limit(limit) => positive("limit price", limit),
        Kind::Stop(stop) => positive("stop price", stop),
        Kind::StopLimit { stop, limit } => {
            positive("stop price", stop)?;
            positive("limit price", limit)
        }
        Kind::TrailingAmount(amount) => positive("trailing amount", amount),
        Kind::TrailingPercent(percent) => {
            positive("trailing percent", percent)?;
            if percent < 100.0 {
                Ok(())
            } else {
                Err(format!(
                    "trailing percent {percent} must be below 100 (2.0 means 2 %)"
                ))
            }
        }
    }
}
