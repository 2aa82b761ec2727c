//! How the loop waits for its next bar: it polls the queue for a short
//! while (`runtime.loop_spin_us`) before it sleeps in the channel.
//!
//! Why: a sleeping loop is woken by the feed's send — a futex wake, and on a
//! virtual machine often an idle vCPU's wake-up — which costs 4–30 µs here,
//! ten times the loop's own work on a bar (`cargo bench --bench latency`:
//! round-trip p50 4.7 µs sleeping at once, 0.47 µs with a 50 µs poll, the
//! same two threads without the runtime). The channel's own spin before it
//! sleeps is a few hundred nanoseconds, shorter than a feed takes to send
//! the next bar of a burst. Polling costs at most `spin` of CPU per bar, and
//! nothing when bars queue up.

use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::{Duration, Instant};

/// Polls between clock reads: a clock read is ~20 ns, a poll a few.
const POLLS_PER_CLOCK_READ: u32 = 64;

/// The next bar: polled for up to `spin`, then waited for. `None` when
/// every sender is gone (the loop ends).
pub(super) fn next_bar<T>(bars: &Receiver<T>, spin: Duration) -> Option<T> {
    if !spin.is_zero() {
        let mut started: Option<Instant> = None;
        loop {
            for _ in 0..POLLS_PER_CLOCK_READ {
                match bars.try_recv() {
                    Ok(bar) => return Some(bar),
                    Err(TryRecvError::Disconnected) => return None,
                    Err(TryRecvError::Empty) => std::hint::spin_loop(),
                }
            }
            let since = *started.get_or_insert_with(Instant::now);
            if since.elapsed() >= spin {
                break;
            }
        }
    }
    bars.recv().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::sync_channel;

    #[test]
    fn a_queued_bar_is_taken_without_waiting() {
        let (tx, rx) = sync_channel(4);
        tx.send(7).unwrap();
        assert_eq!(next_bar(&rx, Duration::from_micros(50)), Some(7));
        tx.send(8).unwrap();
        assert_eq!(next_bar(&rx, Duration::ZERO), Some(8));
    }

    #[test]
    fn a_bar_after_the_spin_is_still_received() {
        // The poll gives up after 50 µs; the bar sent 20 ms later arrives
        // through the blocking receive.
        let (tx, rx) = sync_channel(4);
        let sender = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            tx.send(9).unwrap();
            tx
        });
        assert_eq!(next_bar(&rx, Duration::from_micros(50)), Some(9));
        drop(sender.join().unwrap());
        assert_eq!(next_bar(&rx, Duration::from_micros(50)), None);
    }

    #[test]
    fn the_loop_ends_when_the_feed_is_gone() {
        let (tx, rx) = sync_channel::<u32>(4);
        drop(tx);
        assert_eq!(next_bar(&rx, Duration::from_micros(50)), None);
        assert_eq!(next_bar(&rx, Duration::ZERO), None);
    }
}
