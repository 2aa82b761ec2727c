//! The feed runs on its own thread and hands bars to the loop over a bounded
//! channel, so pacing and (later) parsing or sockets stay off the loop.

use crate::contract::Bar;
use crate::feed::{MarketStyle, SyntheticFeed};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Bars the feed may run ahead of the loop before it waits.
pub const FEED_QUEUE: usize = 4096;

pub struct SyntheticPacing {
    pub symbols: usize,
    pub seed: u64,
    pub interval_ms: u64,
    /// Stop after this many bars (all symbols); `None` runs until stopped.
    pub max_bars: Option<u64>,
}

/// Emits one bar per symbol every `interval_ms` (0 = as fast as the loop takes them).
pub fn start_synthetic(
    pacing: SyntheticPacing,
    bars: SyncSender<Bar>,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("sandbar-feed".into())
        .spawn(move || {
            let interval = Duration::from_millis(pacing.interval_ms);
            let feed = SyntheticFeed::new(
                pacing.symbols,
                pacing.seed,
                MarketStyle::Regimes,
                pacing.interval_ms.max(1) as i64,
            );
            let started = Instant::now();
            let symbols = pacing.symbols.max(1) as u64;
            for (n, bar) in feed.enumerate() {
                let n = n as u64;
                if stop.load(Ordering::Relaxed) || pacing.max_bars.is_some_and(|max| n >= max) {
                    break;
                }
                if !interval.is_zero() && n.is_multiple_of(symbols) {
                    let due = started + interval * (n / symbols) as u32;
                    while let Some(wait) = due.checked_duration_since(Instant::now()) {
                        if stop.load(Ordering::Relaxed) {
                            return;
                        }
                        std::thread::sleep(wait.min(Duration::from_millis(100)));
                    }
                }
                if bars.send(bar).is_err() {
                    break;
                }
            }
        })
        .map_err(|e| anyhow::anyhow!("cannot start the feed thread: {e}"))
}
