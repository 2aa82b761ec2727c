//! One load of a build at a time past the compile cache: a second load of
//! the same SHA-256 that misses the cache while the first is compiling
//! waits for it and then finds its code, instead of compiling it again.
//!
//! Why: three fleet nodes in one process (or several `[[strategy]]` entries
//! of one `.wasm`) given a new build at once each missed the cache and
//! compiled it side by side: on two cores the first node served after
//! 72 ms instead of 31.

use std::collections::HashSet;
use std::sync::{Condvar, Mutex, MutexGuard};

/// The builds being compiled (or fetched from disk) now.
#[derive(Default)]
pub(super) struct InFlight {
    busy: Mutex<HashSet<String>>,
    done: Condvar,
}

/// This load's turn at a build: the next load of the same build waits
/// until it is dropped.
pub(super) struct Turn<'a> {
    owner: &'a InFlight,
    sha256: String,
}

impl InFlight {
    fn lock(&self) -> MutexGuard<'_, HashSet<String>> {
        // A panic elsewhere leaves a set of names, still consistent.
        self.busy.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until no other load holds `sha256`, then holds it.
    pub fn turn(&self, sha256: &str) -> Turn<'_> {
        let mut busy = self.lock();
        while busy.contains(sha256) {
            busy = self.done.wait(busy).unwrap_or_else(|e| e.into_inner());
        }
        busy.insert(sha256.to_owned());
        Turn {
            owner: self,
            sha256: sha256.to_owned(),
        }
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.owner.lock().remove(&self.sha256);
        self.owner.done.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn one_turn_per_build_at_a_time_and_other_builds_never_wait() {
        let in_flight = InFlight::default();
        let inside = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    let _turn = in_flight.turn("aa");
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(5));
                    inside.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        assert_eq!(
            most.load(Ordering::SeqCst),
            1,
            "one holder of a build at a time"
        );
        // Another build's turn is free while one is held.
        let _held = in_flight.turn("aa");
        let _other = in_flight.turn("bb");
    }
}
