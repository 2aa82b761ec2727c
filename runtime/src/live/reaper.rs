//! Old generations and poisoned instances are dropped here, never on the bar
//! loop: dropping a store unmaps memory and can take a while.

use std::sync::mpsc::{Receiver, Sender};
use std::thread::JoinHandle;

pub type Retiree = Box<dyn Send>;

pub fn start() -> anyhow::Result<(Sender<Retiree>, JoinHandle<u64>)> {
    let (tx, rx) = std::sync::mpsc::channel::<Retiree>();
    let handle = crate::threads::spawn("sandbar-reaper", move || reap(rx))
        .map_err(|e| anyhow::anyhow!("cannot start the reaper thread: {e}"))?;
    Ok((tx, handle))
}

/// Drops everything it receives; returns how many it dropped.
fn reap(rx: Receiver<Retiree>) -> u64 {
    let mut dropped = 0;
    for retiree in rx {
        drop(retiree);
        dropped += 1;
    }
    dropped
}
