//! [`ShadowRunner`]: a strategy's candidate on the bar loop, called after the
//! live generation on every bar the live one gets, with a paper account of
//! its own. Its orders go to that account and to `shadow_orders.jsonl`,
//! never to the live account; its traps discard it and never touch the
//! live generation. It runs under its own recipe's limits (fuel, deadline,
//! memory), so a slow candidate costs at most its deadline per bar, after the
//! live generation's orders were routed.
//!
//! What it measures against the live generation goes into the candidate's
//! [`ShadowStats`](super::super::shadow::ShadowStats).

use super::super::events::{DeployEvent, DeployWhat, now_rfc3339};
use super::super::generation::{Generation, StrategySlot, latency_histogram};
use super::super::loop_event::LoopEvent;
use super::super::shadow::SideCounters;
use super::LoopView;
use super::catch_up::{catch_up_bars, replay};
use super::outbox::Outbox;
use crate::broker::{Book, FillModel};
use crate::contract::{Bar, Request};
use crate::instance::{CallError, StrategyInstance};
use crate::risk::RiskRules;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// How often the comparison's latency histograms are published.
const PUBLISH_EVERY: Duration = Duration::from_secs(1);

/// What the live generation did on this bar, for the comparison.
#[derive(Debug, Default)]
pub(in crate::live::bar_loop) struct LiveBar {
    /// The live guest was called on this bar.
    pub called: bool,
    /// The orders it returned (before risk), empty on most bars.
    pub orders: Vec<Request>,
    /// Accepted by validation and risk.
    pub accepted: u64,
    /// Refused.
    pub refused: u64,
    /// Fills on this bar.
    pub fills: u64,
    /// It trapped.
    pub trapped: bool,
    /// Time in `on-bar`, in ns.
    pub call_ns: u64,
    /// Fuel of the call.
    pub fuel: u64,
}

impl LiveBar {
    pub fn reset(&mut self) {
        self.called = false;
        self.orders.clear();
        self.accepted = 0;
        self.refused = 0;
        self.fills = 0;
        self.trapped = false;
        self.call_ns = 0;
        self.fuel = 0;
    }
}

/// Equity change and drawdown of one side since the candidate started.
#[derive(Debug, Clone, Copy)]
struct Money {
    start: f64,
    peak: f64,
    drawdown: f64,
}

impl Money {
    fn new(start: f64) -> Self {
        Self {
            start,
            peak: start,
            drawdown: 0.0,
        }
    }

    fn mark(&mut self, equity: f64, side: &SideCounters) {
        if equity.is_finite() {
            self.peak = self.peak.max(equity);
            self.drawdown = self.drawdown.max(self.peak - equity);
        }
        side.set_money(equity - self.start, self.drawdown);
    }
}

pub(in crate::live::bar_loop) struct ShadowRunner {
    pub generation: Arc<Generation>,
    /// `None` once it trapped (the runner is then dropped at once).
    instance: Option<StrategyInstance>,
    book: Book,
    live_money: Money,
    shadow_money: Money,
    live_latency: hdrhistogram::Histogram<u64>,
    shadow_latency: hdrhistogram::Histogram<u64>,
    published: Instant,
}

impl ShadowRunner {
    /// Takes a candidate over at the bar `next_seq`: its instance catches up
    /// on the bars after its warm-up (orders discarded), its shadow account
    /// starts flat with the live account's equity as cash. `None` (with the
    /// event sent) when it has no instance or traps while catching up.
    pub fn adopt(
        slot: &StrategySlot,
        generation: Arc<Generation>,
        live: &Book,
        fill_model: FillModel,
        next_seq: u64,
        view: &LoopView<'_>,
    ) -> Option<Self> {
        let equity = live.account().equity();
        let start = if equity.is_finite() && equity > 0.0 {
            equity
        } else {
            live.account().cash()
        };
        let book = Book::new(slot.symbols.clone(), start, fill_model);
        let Some(mut instance) = generation.take_instance() else {
            tracing::error!(strategy = %slot.id, version = generation.version, "candidate without an instance");
            clear_candidate(slot, &generation, view.outbox);
            view.outbox.retire(Box::new(generation));
            return None;
        };
        let bars = catch_up_bars(view.recent, slot, generation.warmed_through, next_seq);
        if let Err(error) = replay(&mut instance, &bars, &book) {
            view.outbox.retire(Box::new(instance));
            discard_trapped(slot, &generation, &error, next_seq, view.outbox);
            view.outbox.retire(Box::new(generation));
            return None;
        }
        Some(Self {
            generation,
            instance: Some(instance),
            book,
            live_money: Money::new(equity),
            shadow_money: Money::new(start),
            live_latency: latency_histogram(),
            shadow_latency: latency_histogram(),
            published: Instant::now(),
        })
    }

    /// Gives the instance up for a promotion (the live runner takes it, with
    /// the state it built on live bars).
    pub fn take_instance(&mut self) -> Option<StrategyInstance> {
        self.publish_latency();
        self.instance.take()
    }

    /// One bar for the candidate, after the live generation had it
    /// (`live`: what that did; `live_equity`: its account now). An error is
    /// a trap: the caller discards the candidate.
    pub fn on_bar(
        &mut self,
        slot: &StrategySlot,
        bar: &Bar,
        live: &LiveBar,
        live_equity: f64,
        rules: &RiskRules,
        outbox: &Outbox,
    ) -> Result<(), CallError> {
        let stats = &self.generation.shadow;
        let (l, s) = (&stats.live, &stats.shadow);
        // The live side over the same bars.
        l.orders.fetch_add(live.accepted, Ordering::Relaxed);
        l.refused.fetch_add(live.refused, Ordering::Relaxed);
        l.fills.fetch_add(live.fills, Ordering::Relaxed);
        if live.trapped {
            l.traps.fetch_add(1, Ordering::Relaxed);
        }
        if live.called {
            l.calls.fetch_add(1, Ordering::Relaxed);
            l.fuel.fetch_add(live.fuel, Ordering::Relaxed);
            let _ = self.live_latency.record(live.call_ns.max(1));
        }
        self.live_money.mark(live_equity, l);

        let Some(instance) = self.instance.as_mut() else {
            return Ok(());
        };
        let marked = self.book.on_bar(rules, bar);
        s.fills
            .fetch_add(marked.fills.len() as u64, Ordering::Relaxed);
        for fill in &marked.fills {
            outbox.shadow_fill(slot, &self.generation, fill);
        }
        for fill in marked.fills {
            instance.on_fill(fill)?;
        }
        // Contract 0.2.0: what became of its orders with ids, before on-bar,
        // as the live generation gets them.
        instance.on_order_updates(&marked.updates)?;
        let position = self.book.position(bar.symbol);
        let started = Instant::now();
        let result = instance.on_bar(*bar, position);
        let elapsed = started.elapsed();
        let orders = result?;
        s.calls.fetch_add(1, Ordering::Relaxed);
        s.fuel
            .fetch_add(instance.fuel_used_last_call(), Ordering::Relaxed);
        let _ = self
            .shadow_latency
            .record(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX).max(1));
        let differ = orders != live.orders;
        if !orders.is_empty() {
            let max_orders = self.generation.recipe.limits.max_orders_per_bar;
            let (accepted, refusals) = self.book.route(
                rules,
                orders,
                max_orders,
                super::runner::wall_clock_ms(),
                bar.seq,
            );
            s.orders.fetch_add(accepted.len() as u64, Ordering::Relaxed);
            s.refused
                .fetch_add(refusals.len() as u64, Ordering::Relaxed);
            for order in &accepted {
                outbox.shadow_order(slot, &self.generation, order, bar);
            }
        }
        self.shadow_money.mark(self.book.account().equity(), s);
        stats.record_bar(bar.seq, differ);
        if self.published.elapsed() >= PUBLISH_EVERY {
            self.publish_latency();
        }
        Ok(())
    }

    /// Makes the latency histograms readable (about once a second, and when
    /// the candidate ends).
    pub fn publish_latency(&mut self) {
        self.published = Instant::now();
        let stats = &self.generation.shadow;
        stats
            .live_latency
            .store(Arc::new(self.live_latency.clone()));
        stats
            .shadow_latency
            .store(Arc::new(self.shadow_latency.clone()));
    }
}

/// Takes `generation` out of the slot's candidate place, if it is still
/// there (the control plane may have stored a newer one meanwhile).
pub(in crate::live::bar_loop) fn clear_candidate(
    slot: &StrategySlot,
    generation: &Arc<Generation>,
    outbox: &Outbox,
) {
    let current = slot.shadow.candidate.load_full();
    if current.as_ref().is_some_and(|c| Arc::ptr_eq(c, generation)) {
        let old = slot
            .shadow
            .candidate
            .compare_and_swap(&current, None::<Arc<Generation>>);
        outbox.retire(Box::new(arc_swap::Guard::into_inner(old)));
    }
    outbox.retire(Box::new(current));
}

/// A candidate trapped: it leaves the slot (and any swap waiting to promote
/// it), with a `deploy` event; the live generation is never touched.
pub(in crate::live::bar_loop) fn discard_trapped(
    slot: &StrategySlot,
    generation: &Arc<Generation>,
    error: &CallError,
    seq: u64,
    outbox: &Outbox,
) {
    generation
        .shadow
        .shadow
        .traps
        .fetch_add(1, Ordering::Relaxed);
    clear_candidate(slot, generation, outbox);
    let pending = slot.shadow.pending.load_full();
    if pending
        .as_ref()
        .is_some_and(|p| Arc::ptr_eq(&p.generation, generation))
    {
        let old = slot.shadow.pending.compare_and_swap(&pending, None);
        outbox.retire(Box::new(arc_swap::Guard::into_inner(old)));
    }
    tracing::warn!(strategy = %slot.id, version = generation.version, seq, "candidate trapped; discarded: {error}");
    outbox.event(LoopEvent::Deploy(Box::new(DeployEvent {
        ts: now_rfc3339(),
        strategy: slot.id.to_string(),
        what: DeployWhat::Discarded,
        version: generation.version,
        sha256: generation.sha256().to_owned(),
        actor: "trap".into(),
        reason: Some(format!(
            "the candidate trapped at seq {seq} ({}): {}; discarded, the live version was not touched",
            error.export, error.message
        )),
        comparison: Some(generation.shadow.comparison()),
    })));
}
