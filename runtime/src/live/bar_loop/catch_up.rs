//! Bringing an instance up to date at a bar boundary: restore a snapshot, or
//! replay the bars it has not seen (orders discarded).

use super::super::events::HandoffMethod;
use super::super::generation::StrategySlot;
use super::super::recent_bars::LoopRecentBars;
use crate::broker::Book;
use crate::contract::Bar;
use crate::instance::{CallError, StrategyInstance};

/// Restores the snapshot when there is one and the new version accepts it
/// (under `limits.state_deadline_us`: this runs on the bar loop); otherwise
/// replays the bars it has not seen. Returns the method used.
pub(super) fn handoff(
    instance: &mut StrategyInstance,
    snapshot: Option<&[u8]>,
    restore_error: &mut Option<String>,
    gap: impl FnOnce() -> Vec<Bar>,
    book: &Book,
) -> Result<(HandoffMethod, u64), CallError> {
    if let Some(bytes) = snapshot {
        match instance.restore_on_loop(bytes)? {
            Ok(()) => return Ok((HandoffMethod::Snapshot, 0)),
            Err(reason) => *restore_error = Some(reason),
        }
    }
    let bars = gap();
    let replayed = replay(instance, &bars, book)?;
    Ok((HandoffMethod::Replay, replayed))
}

/// The bars a generation warmed up to `warmed_through` has not seen before
/// `next_seq`, mapped to the strategy's own symbol indices.
pub(super) fn catch_up_bars(
    history: &LoopRecentBars,
    slot: &StrategySlot,
    warmed_through: Option<u64>,
    next_seq: u64,
) -> Vec<Bar> {
    history
        .between(warmed_through, next_seq)
        .filter_map(|bar| {
            let local = slot
                .symbol_map
                .get(bar.symbol as usize)
                .copied()
                .flatten()?;
            Some(Bar {
                symbol: local,
                ..*bar
            })
        })
        .collect()
}

/// Feeds bars with orders discarded: state catches up, nothing trades.
pub(super) fn replay(
    instance: &mut StrategyInstance,
    bars: &[Bar],
    book: &Book,
) -> Result<u64, CallError> {
    for bar in bars {
        instance.replay_bar(*bar, book.position(bar.symbol))?;
    }
    Ok(bars.len() as u64)
}
