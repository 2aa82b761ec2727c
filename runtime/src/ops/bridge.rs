//! One thread between the runtime's event channel (std mpsc) and the async
//! world: it counts every event into [`EventMetrics`] and broadcasts it to
//! the `/events` streams, numbered so clients can tell whether they missed
//! any. One subscription for all clients keeps the control plane's fan-out
//! to a single extra channel however many people watch.

use super::event_metrics::EventMetrics;
use crate::live::{Event, RuntimeHandle};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::broadcast;

/// An event and its number (1, 2, ...) since the ops API started.
pub type Numbered = Arc<(u64, Event)>;

/// How many events a slow `/events` client may fall behind before it is
/// told it lagged (and skips ahead).
pub const BROADCAST_CAPACITY: usize = 4096;

pub struct Bridge {
    pub sender: broadcast::Sender<Numbered>,
    pub metrics: Arc<Mutex<EventMetrics>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Bridge {
    pub fn start(handle: &RuntimeHandle) -> std::io::Result<Bridge> {
        let (sender, _) = broadcast::channel(BROADCAST_CAPACITY);
        let metrics = Arc::new(Mutex::new(EventMetrics::default()));
        let (backlog, events) = handle.subscribe_with_backlog();
        {
            let mut m = lock(&metrics);
            for event in &backlog {
                m.observe(event);
            }
        }
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (sender, metrics, stop) = (sender.clone(), Arc::clone(&metrics), Arc::clone(&stop));
            crate::threads::spawn("sandbar-ops-events", move || {
                let mut number = 0u64;
                // Wake up now and then to notice `stop`.
                while !stop.load(Ordering::Relaxed) {
                    match events.recv_timeout(Duration::from_millis(100)) {
                        Ok(event) => {
                            lock(&metrics).observe(&event);
                            number += 1;
                            // No subscriber is not an error.
                            let _ = sender.send(Arc::new((number, event)));
                        }
                        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
                    }
                }
            })?
        };
        Ok(Bridge {
            sender,
            metrics,
            stop,
            thread: Some(thread),
        })
    }

    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        self.stop();
    }
}

pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
