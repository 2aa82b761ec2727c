"""A test guest (issue 18): on every bar from `from_bar` on, it tries what its
`mode` names and reports what it saw as the quantity of a buy order, so a
test can read it from the orders:

- time:   time.time() and time.monotonic_ns()  -> 1 + both (0 when stubbed)
- env:    os.environ                          -> 1 + number of variables
- file:   open("/etc/hostname")               -> 1 when refused, 2 when read
- listdir: os.listdir("/")                    -> 1 when refused, 2 + entries
- random: random.random()                    -> 1 + a value (frozen at build time)
- urandom: os.urandom(2)                      -> 1 + a value (or a trap: no entropy)
- raise:  raises ValueError in on_bar          (the trap carries file:line)
- initfail: raises KeyError in init            (init's error carries file:line)
"""

import os
import random
import time

from sandbar import BUY, Strategy, param


class Probe(Strategy):
    name = "py-probe"
    mode = param("time", "What to reach for: time, env, file, listdir, random, urandom, raise, initfail.")
    from_bar = param(0, "First bar sequence number to probe on.")

    def setup(self):
        if self.mode == "initfail":
            {}["no such key"]

    def seen(self):
        if self.mode == "time":
            return 1.0 + time.time() + time.monotonic_ns()
        if self.mode == "env":
            return 1.0 + len(os.environ)
        if self.mode == "file":
            try:
                with open("/etc/hostname") as f:
                    f.read()
                return 2.0
            except OSError:
                return 1.0
        if self.mode == "listdir":
            try:
                return 2.0 + len(os.listdir("/"))
            except OSError:
                return 1.0
        if self.mode == "random":
            return 1.0 + random.random()
        if self.mode == "urandom":
            return 1.0 + int.from_bytes(os.urandom(2), "little")
        if self.mode == "raise":
            raise ValueError(f"the probe was told to raise (mode={self.mode})")
        return 1.0

    def on_bar(self, bar, position, orders):
        if bar.seq >= self.from_bar:
            orders.market(bar.symbol, BUY, self.seen())
