"""Sandbar's Python guest SDK: write a trading strategy as a `Strategy`
subclass; `runtime build` turns it into a `sandbar:strategy@0.1.0` component
(componentize-py, WASI stubbed: no files, clock, randomness or network).

See guest-sdk/python/README.md.
"""

from . import log
from .indicators import ABOVE, BELOW, CrossDetector, Ema, Rsi, Sma, carried, longest
from .orders import BUY, SELL, Order, Orders
from .params import ParamError, param
from .snapshot import SnapshotError
from .strategy import Bar, Fill, PerSymbol, Position, Strategy

__version__ = "0.1.0"

__all__ = [
    "ABOVE", "BELOW", "BUY", "SELL", "Bar", "CrossDetector", "Ema", "Fill", "Order", "Orders",
    "ParamError", "PerSymbol", "Position", "Rsi", "Sma", "SnapshotError", "Strategy",
    "carried", "log", "longest", "param",
]
