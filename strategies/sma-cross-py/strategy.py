"""sma-cross in Python: long `size` while the fast SMA of the close is above
the slow one; flat (or short `size`, with allow_short) below it. The same
trades as the Rust strategies/sma-cross."""

from sandbar import ABOVE, BELOW, CrossDetector, Sma, Strategy, log, longest, param

MAX_PERIOD = 100_000


class SmaCross(Strategy):
    name = "sma-cross-py"
    version = "0.1.0"
    description = "Long while the fast SMA of the close is above the slow SMA; flat (or short) below it."
    carried_params = ("fast", "slow")

    fast = param(10, "Lookback of the fast moving average, in bars (at least 1).")
    slow = param(30, "Lookback of the slow moving average, in bars (greater than fast).")
    size = param(1.0, "Quantity held while in a position (greater than 0).")
    allow_short = param(False, "Hold -size instead of going flat while the fast average is below the slow one.")

    def validate(self):
        if self.fast < 1:
            raise self.invalid("fast", f"must be at least 1 (got {self.fast}); the default is 10")
        if self.fast >= self.slow:
            raise self.invalid(
                "fast",
                f"must be smaller than slow (got fast={self.fast}, slow={self.slow}); "
                "the defaults are fast=10, slow=30",
            )
        if self.slow > MAX_PERIOD:
            raise self.invalid(
                "slow",
                f"must be at most {MAX_PERIOD} (got {self.slow}); use a coarser bar size for longer lookbacks",
            )
        if not self.size > 0.0:
            raise self.invalid("size", f"must be greater than 0 (got {self.size}); to sell short, set allow_short = true")

    def setup(self):
        self.books = self.per_symbol(
            lambda: {"fast": Sma(self.fast), "slow": Sma(self.slow), "cross": CrossDetector(), "trend": None}
        )

    def warmup_bars(self):
        return longest(Sma(self.fast), Sma(self.slow))

    def target(self, trend):
        if trend == "up":
            return self.size
        return -self.size if self.allow_short else 0.0

    def on_bar(self, bar, position, orders):
        entry = self.books.entry(bar.symbol)
        if entry is None:
            return
        name, st = entry
        if bar.close != bar.close or bar.close in (float("inf"), float("-inf")):
            return
        fast = st["fast"].update(bar.close)
        slow = st["slow"].update(bar.close)
        if fast is None or slow is None:
            return
        cross = st["cross"].update(fast, slow)
        if cross == ABOVE:
            trend = "up"
        elif cross == BELOW:
            trend = "down"
        elif st["trend"] is not None:
            trend = st["trend"]
        else:
            trend = "up" if fast > slow else "down"
        if st["trend"] != trend:
            st["trend"] = trend
            log.debug(f"{name}: trend {trend} at bar {bar.seq} (fast {fast}, slow {slow})")
        orders.target(bar.symbol, position.quantity, self.target(trend))
