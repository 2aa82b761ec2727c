//! Retries of loads whose read failed for a transient reason (out of file
//! descriptors, interrupted, an io error, a file still being written...):
//! the file's stamp was already handled, so without a retry the new build
//! would stay unloaded until the file changed again. Backoff 0.5 s, 1 s,
//! 2 s, 4 s, 8 s; then the usual rejected reload event. A new stamp of the
//! file starts over.

use super::super::command::Reply;
use super::super::events::{ReloadEvent, Trigger};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Retries of one failure before it is reported as a rejection.
pub(super) const RETRY_ATTEMPTS: u32 = 5;

/// The wait before the first retry; doubled for each next one.
const FIRST_DELAY: Duration = Duration::from_millis(500);

/// The longest wait between two retries.
const MAX_DELAY: Duration = Duration::from_secs(8);

/// The wait before retry `attempt` (1-based).
pub(super) fn backoff(attempt: u32) -> Duration {
    FIRST_DELAY
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(MAX_DELAY)
}

/// A retry waiting for its time.
pub(super) struct Pending {
    pub attempt: u32,
    pub due: Instant,
    pub trigger: Trigger,
    pub force: bool,
    /// Who waits for the load's answer (an API reload).
    pub replies: Vec<Reply<ReloadEvent>>,
}

/// Retries made and to come, per strategy.
#[derive(Default)]
pub(super) struct Retries {
    /// Retries made since the last new stamp or conclusive outcome.
    made: HashMap<String, u32>,
    pending: HashMap<String, Pending>,
}

impl Retries {
    /// The number of the next retry of `id`, or `None` when they are used up
    /// (then the count starts over).
    pub(super) fn next_attempt(&mut self, id: &str) -> Option<u32> {
        let made = self.made.entry(id.to_owned()).or_default();
        if *made >= RETRY_ATTEMPTS {
            self.made.remove(id);
            return None;
        }
        *made += 1;
        Some(*made)
    }

    pub(super) fn schedule(&mut self, id: &str, pending: Pending) {
        self.pending.insert(id.to_owned(), pending);
    }

    /// A load of `id` ended for good (went live, or failed for a reason a
    /// retry would not fix): the count starts over.
    pub(super) fn concluded(&mut self, id: &str) {
        self.made.remove(id);
    }

    /// The file has a new stamp: whatever was pending is superseded by the
    /// load of the new file. Gives back who waited for it.
    pub(super) fn reset(&mut self, id: &str) -> Vec<Reply<ReloadEvent>> {
        self.made.remove(id);
        self.pending
            .remove(id)
            .map(|p| p.replies)
            .unwrap_or_default()
    }

    /// Retries whose time has come, taken out.
    pub(super) fn take_due(&mut self, now: Instant) -> Vec<(String, Pending)> {
        let due: Vec<String> = self
            .pending
            .iter()
            .filter(|(_, p)| p.due <= now)
            .map(|(id, _)| id.clone())
            .collect();
        due.into_iter()
            .filter_map(|id| self.pending.remove(&id).map(|p| (id, p)))
            .collect()
    }

    /// When the next retry is due.
    pub(super) fn next_due(&self) -> Option<Instant> {
        self.pending.values().map(|p| p.due).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_half_a_second_up_to_a_cap() {
        let waits: Vec<u64> = (1..=7).map(|n| backoff(n).as_millis() as u64).collect();
        assert_eq!(waits, [500, 1000, 2000, 4000, 8000, 8000, 8000]);
    }

    #[test]
    fn a_handful_of_retries_then_none_and_a_new_stamp_starts_over() {
        let mut retries = Retries::default();
        let attempts: Vec<Option<u32>> = (0..6).map(|_| retries.next_attempt("a")).collect();
        assert_eq!(
            attempts,
            [Some(1), Some(2), Some(3), Some(4), Some(5), None]
        );
        assert_eq!(retries.next_attempt("a"), Some(1), "counting starts over");
        retries.next_attempt("a");
        let now = Instant::now();
        retries.schedule(
            "a",
            Pending {
                attempt: 2,
                due: now + Duration::from_secs(1),
                trigger: Trigger::File,
                force: false,
                replies: Vec::new(),
            },
        );
        assert_eq!(retries.next_due(), Some(now + Duration::from_secs(1)));
        assert!(retries.take_due(now).is_empty());
        assert_eq!(retries.take_due(now + Duration::from_secs(1)).len(), 1);
        assert_eq!(retries.next_due(), None);
        retries.reset("a");
        assert_eq!(
            retries.next_attempt("a"),
            Some(1),
            "a new stamp starts over"
        );
    }
}
