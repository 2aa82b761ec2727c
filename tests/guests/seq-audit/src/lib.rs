//! A test guest for the hot-reload tests. It counts the bars it sees and
//! checks that sequence numbers arrive exactly once and in order (the tests
//! use one symbol, so they are consecutive). Its state survives a swap only
//! through snapshot/restore, and it makes that state visible from outside:
//! every `report_every` bars it places a far-away limit buy (never filled)
//! whose quantity is its bar count, and on any anomaly a limit sell whose
//! quantity is the anomaly count.

use sandbar_guest::{Bar, Orders, ParamError, Position, Side, Strategy, params};
use serde::{Deserialize, Serialize};

params! {
    pub struct AuditParams {
        /// Any text; changing it makes a new generation without recompiling.
        label: String = String::from("a"),
        /// Report the bar count every this many bars.
        report_every: i64 = 100,
        /// Panic on every bar whose sequence number is at least this (-1: never).
        trap_from_seq: i64 = -1,
        /// Panic on the bar with exactly this sequence number (-1: never).
        trap_at_seq: i64 = -1,
        /// Refuse snapshots made under another `label` (a new version whose
        /// state layout changed, say), forcing a warm-up by replay.
        reject_foreign_state: bool = false,
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditState {
    pub label: String,
    pub bars: u64,
    pub last_seq: Option<u64>,
    pub anomalies: u64,
}

pub struct SeqAudit {
    params: AuditParams,
    state: AuditState,
}

/// Far below any synthetic price: these orders never fill.
const NEVER_FILLS: f64 = 0.0001;

impl Strategy for SeqAudit {
    const NAME: &'static str = "seq-audit";
    const VERSION: &'static str = "0.1.0";
    const DESCRIPTION: &'static str = "Test guest: audits bar sequence numbers.";
    type Params = AuditParams;
    type State = AuditState;

    fn warmup_bars(_: &AuditParams) -> u32 {
        0
    }

    fn new(params: AuditParams, _symbols: &[String]) -> Result<Self, ParamError> {
        if params.report_every < 1 {
            return Err(ParamError::invalid("report_every", "must be at least 1"));
        }
        let state = AuditState {
            label: params.label.clone(),
            ..AuditState::default()
        };
        Ok(Self { params, state })
    }

    fn on_bar(&mut self, bar: &Bar, _position: &Position, orders: &mut Orders) {
        if self.params.trap_at_seq >= 0 && bar.seq == self.params.trap_at_seq as u64 {
            panic!("seq-audit: asked to trap at seq {}", bar.seq);
        }
        if self.params.trap_from_seq >= 0 && bar.seq >= self.params.trap_from_seq as u64 {
            panic!(
                "seq-audit: asked to trap from seq {}",
                self.params.trap_from_seq
            );
        }
        if let Some(last) = self.state.last_seq
            && bar.seq != last + 1
        {
            self.state.anomalies += 1;
            orders.limit(bar.symbol, Side::Sell, self.state.anomalies as f64, 1e12);
        }
        self.state.last_seq = Some(bar.seq);
        self.state.bars += 1;
        if self
            .state
            .bars
            .is_multiple_of(self.params.report_every as u64)
        {
            orders.limit(bar.symbol, Side::Buy, self.state.bars as f64, NEVER_FILLS);
        }
    }

    fn state(&self) -> &AuditState {
        &self.state
    }

    fn restore_state(&mut self, state: AuditState) -> Result<(), String> {
        if self.params.reject_foreign_state && state.label != self.params.label {
            return Err(format!("state of label {:?} refused", state.label));
        }
        self.state = AuditState {
            label: self.params.label.clone(),
            ..state
        };
        Ok(())
    }
}

sandbar_guest::export_strategy!(SeqAudit);

#[cfg(test)]
mod tests {
    use super::*;
    use sandbar_guest::{Harness, value};

    #[test]
    fn reports_its_count_and_flags_a_repeated_seq() {
        let mut h = Harness::<SeqAudit>::new(&["X"]);
        h.init(&[("report_every", value(2i64))]).unwrap();
        assert!(h.on_close(0, 10.0).is_empty());
        let report = h.on_close(0, 10.0);
        assert_eq!((report[0].side, report[0].quantity), (Side::Buy, 2.0));
        let mut repeated = Harness::<SeqAudit>::with_defaults(&["X"]);
        let bar = Bar {
            seq: 5,
            ts_ms: 0,
            symbol: 0,
            open: 1.0,
            high: 1.0,
            low: 1.0,
            close: 1.0,
            volume: 1.0,
        };
        repeated.on_bar(bar);
        let flagged = repeated.on_bar(bar);
        assert_eq!((flagged[0].side, flagged[0].quantity), (Side::Sell, 1.0));
    }

    #[test]
    fn state_survives_snapshot_and_restore_unless_refused() {
        let mut a = Harness::<SeqAudit>::with_defaults(&["X"]);
        (0..3).for_each(|_| {
            a.on_close(0, 1.0);
        });
        let mut b = Harness::<SeqAudit>::with_defaults(&["X"]);
        b.restore(a.snapshot()).unwrap();
        assert_eq!(b.snapshot(), a.snapshot());
        let mut refusing = Harness::<SeqAudit>::new(&["X"]);
        refusing
            .init(&[
                ("reject_foreign_state", value(true)),
                ("label", value(String::from("b"))),
            ])
            .unwrap();
        assert_eq!(
            refusing.restore(a.snapshot()).unwrap_err(),
            "state of label \"a\" refused"
        );
        let own = refusing.snapshot();
        assert!(refusing.restore(own).is_ok());
    }
}
