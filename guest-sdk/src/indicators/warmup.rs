use crate::PerSymbol;

/// How many inputs an indicator (or a whole strategy state) needs before it
/// gives its first value: its warm-up length, in bars when fed once per bar.
///
/// Every indicator of this module implements it, so a strategy can derive
/// [`crate::Strategy::warmup_bars`] from what it holds instead of working it
/// out by hand (see [`longest`]). `TA-Lib`'s "lookback" of the same
/// indicator is this minus 1.
pub trait WarmUp {
    /// Inputs fed before (and including) the one that gives the first value.
    fn warmup_bars(&self) -> u32;
}

/// The longest warm-up of `parts`: what a strategy that needs all of them
/// waits for, since they are fed side by side from the same bars.
///
/// ```
/// use sandbar_guest::indicators::{Ema, Rsi, WarmUp, longest};
/// assert_eq!(longest(&[&Ema::new(20), &Rsi::new(14)]), 20);
/// ```
pub fn longest(parts: &[&dyn WarmUp]) -> u32 {
    parts.iter().map(|p| p.warmup_bars()).max().unwrap_or(0)
}

/// Every symbol warms up on its own bars at once, so the state is ready
/// when its slowest symbol is.
impl<T: WarmUp> WarmUp for PerSymbol<T> {
    fn warmup_bars(&self) -> u32 {
        self.iter().map(|(_, t)| t.warmup_bars()).max().unwrap_or(0)
    }
}

impl<T: WarmUp + ?Sized> WarmUp for &T {
    fn warmup_bars(&self) -> u32 {
        (**self).warmup_bars()
    }
}

/// `usize` periods as a `u32` warm-up, saturating (the runtime caps periods
/// far below either limit).
pub(crate) fn bars(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
