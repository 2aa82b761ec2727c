//! Quiet time per path: a path is reported once no event has touched it for
//! the whole debounce time. A burst of in-place writes (truncate, write,
//! close, again and again) is one change, reported after its last event;
//! the caller supplies the clock, so the logic is tested without sleeping.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

pub(crate) struct Quiet<K> {
    wait: Duration,
    /// Each pending key and the time of its last event.
    last_event: BTreeMap<K, Instant>,
}

impl<K: Ord + Clone> Quiet<K> {
    pub(crate) fn new(wait: Duration) -> Self {
        Self {
            wait,
            last_event: BTreeMap::new(),
        }
    }

    /// An event touched `key` at `now`: its quiet time starts again.
    pub(crate) fn touch(&mut self, key: K, now: Instant) {
        self.last_event.insert(key, now);
    }

    /// When the next key goes quiet, if any is pending.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.last_event.values().min().map(|last| *last + self.wait)
    }

    /// The keys quiet for the whole wait at `now`, in key order; they are
    /// no longer pending.
    pub(crate) fn take_due(&mut self, now: Instant) -> Vec<K> {
        let due: Vec<K> = self
            .last_event
            .iter()
            .filter(|(_, last)| now.saturating_duration_since(**last) >= self.wait)
            .map(|(key, _)| key.clone())
            .collect();
        for key in &due {
            self.last_event.remove(key);
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WAIT: Duration = Duration::from_millis(50);

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_burst_of_in_place_writes_is_one_change_after_its_last_event() {
        let t0 = Instant::now();
        let mut quiet = Quiet::new(WAIT);
        // 20 saves, each truncate + write + close, one every 10 ms: the
        // clock advances 1 ms at a time and anything due is collected.
        let mut reported = Vec::new();
        let last_write = t0 + ms(190) + Duration::from_micros(200);
        for tick in 0..=400u64 {
            let now = t0 + ms(tick);
            if tick % 10 == 0 && tick < 200 {
                for step in 0..3u64 {
                    quiet.touch("a.wasm", now + Duration::from_micros(100 * step));
                }
            }
            for key in quiet.take_due(now) {
                reported.push((key, now));
            }
        }
        assert_eq!(reported.len(), 1, "{reported:?}");
        let (key, at) = reported[0];
        assert_eq!(key, "a.wasm");
        assert!(at >= last_write + WAIT, "not before the burst went quiet");
        assert!(at <= last_write + WAIT + ms(1), "as soon as it did");
    }

    #[test]
    fn each_path_has_its_own_quiet_time() {
        let t0 = Instant::now();
        let mut quiet = Quiet::new(WAIT);
        quiet.touch("a", t0);
        quiet.touch("b", t0 + ms(30));
        assert_eq!(quiet.deadline(), Some(t0 + ms(50)));
        assert!(quiet.take_due(t0 + ms(49)).is_empty());
        assert_eq!(quiet.take_due(t0 + ms(50)), ["a"]);
        assert_eq!(quiet.deadline(), Some(t0 + ms(80)));
        // `b` keeps changing: it waits on, `a` is not reported again.
        quiet.touch("b", t0 + ms(70));
        assert!(quiet.take_due(t0 + ms(100)).is_empty());
        assert_eq!(quiet.take_due(t0 + ms(120)), ["b"]);
        assert_eq!(quiet.deadline(), None);
        assert!(quiet.take_due(t0 + ms(1000)).is_empty());
    }

    #[test]
    fn a_change_after_a_report_is_reported_again() {
        let t0 = Instant::now();
        let mut quiet = Quiet::new(WAIT);
        quiet.touch("a", t0);
        assert_eq!(quiet.take_due(t0 + ms(60)), ["a"]);
        quiet.touch("a", t0 + ms(61));
        assert_eq!(quiet.take_due(t0 + ms(111)), ["a"]);
    }

    #[test]
    fn no_wait_reports_at_once() {
        let t0 = Instant::now();
        let mut quiet = Quiet::new(Duration::ZERO);
        quiet.touch("a", t0);
        assert_eq!(quiet.take_due(t0), ["a"]);
    }
}
