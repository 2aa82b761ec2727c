"""Indicators with the same values as the Rust SDK's (`sandbar_guest::indicators`),
bit for bit: the same operations in the same order, IEEE doubles on both sides
(checked by tests/test_indicators.py against values the Rust SDK printed).

Each keeps its state in plain fields, so a snapshot carries it (`snapshot.py`).
"""

from collections import deque

ABOVE, BELOW = "above", "below"

_TYPES = {}


def carried(cls):
    """Registers a class whose instances a snapshot may hold: its `__slots__`
    fields are saved by name and set back on restore."""
    _TYPES[cls.__name__] = cls
    return cls


def carried_type(name):
    return _TYPES.get(name)


@carried
class Sma:
    """Simple moving average over the last `period` values (a running sum,
    as the Rust `Sma`); None during the first period - 1 values."""

    __slots__ = ("period", "window", "sum")

    def __init__(self, period):
        self.period = max(int(period), 1)
        self.window = deque()
        self.sum = 0.0

    def update(self, value):
        self.window.append(value)
        self.sum += value
        if len(self.window) > self.period:
            self.sum -= self.window.popleft()
        return self.value()

    def value(self):
        if len(self.window) == self.period:
            return self.sum / float(self.period)
        return None

    def is_ready(self):
        return len(self.window) == self.period

    def warmup_bars(self):
        return self.period


@carried
class Ema:
    """Exponential moving average seeded with the SMA of its first `period`
    values (alpha = 2 / (period + 1)), as the Rust `Ema`."""

    __slots__ = ("period", "alpha", "seen", "seed_sum", "current")

    def __init__(self, period):
        self.period = max(int(period), 1)
        self.alpha = 2.0 / (float(self.period) + 1.0)
        self.seen = 0
        self.seed_sum = 0.0
        self.current = None

    def update(self, x):
        self.seen += 1
        if self.current is not None:
            self.current = self.current + self.alpha * (x - self.current)
        else:
            self.seed_sum += x
            if self.seen == self.period:
                self.current = self.seed_sum / float(self.period)
        return self.current

    def value(self):
        return self.current

    def is_ready(self):
        return self.current is not None

    def warmup_bars(self):
        return self.period


@carried
class Rsi:
    """Wilder's RSI over `period` changes, as the Rust `Rsi` (50 on a flat
    window, 100 with no losses)."""

    __slots__ = ("period", "prev", "seen", "avg_gain", "avg_loss")

    def __init__(self, period):
        self.period = max(int(period), 1)
        self.prev = None
        self.seen = 0
        self.avg_gain = 0.0
        self.avg_loss = 0.0

    def update(self, close):
        prev, self.prev = self.prev, close
        if prev is None:
            return None
        change = close - prev
        if change > 0.0:
            gain, loss = change, 0.0
        else:
            gain, loss = 0.0, -change
        self.seen += 1
        n = float(self.period)
        if self.seen <= self.period:
            self.avg_gain += gain / n
            self.avg_loss += loss / n
        else:
            self.avg_gain = (self.avg_gain * (n - 1.0) + gain) / n
            self.avg_loss = (self.avg_loss * (n - 1.0) + loss) / n
        return self.value()

    def value(self):
        if self.seen < self.period:
            return None
        if self.avg_loss == 0.0:
            return 50.0 if self.avg_gain == 0.0 else 100.0
        rs = self.avg_gain / self.avg_loss
        return 100.0 - 100.0 / (1.0 + rs)

    def is_ready(self):
        return self.seen >= self.period

    def warmup_bars(self):
        return self.period + 1


@carried
class CrossDetector:
    """Reports ABOVE when a - b turns positive from <= 0, BELOW when it turns
    negative from >= 0, else None (as the Rust `CrossDetector`)."""

    __slots__ = ("prev_diff",)

    def __init__(self):
        self.prev_diff = None

    def update(self, a, b):
        diff = a - b
        prev = self.prev_diff
        cross = None
        if prev is not None:
            if prev <= 0.0 and diff > 0.0:
                cross = ABOVE
            elif prev >= 0.0 and diff < 0.0:
                cross = BELOW
        self.prev_diff = diff
        return cross

    def warmup_bars(self):
        return 2


def longest(*indicators):
    """Bars the slowest of `indicators` needs before it gives values."""
    return max((i.warmup_bars() for i in indicators), default=0)
