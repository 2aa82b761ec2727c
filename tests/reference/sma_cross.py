#!/usr/bin/env python3
"""Independent reference of the sma-cross strategy and the paper fill model.

Written from the documented rules only (strategies/sma-cross/README.md and
config/README.md), sharing no code with the runtime or the guest SDK:

- strategy: the simple moving averages of the close over `fast` and `slow`
  bars (plain mean of the window); once both exist, the trend is up while
  fast > slow, down while fast < slow, and unchanged on a tie (a tie on the
  first bar counts as down). Wanted position: +size when up; when down,
  -size with allow_short, else 0. An order for the difference is sent at the
  bar's close.
- fills: a market order fills at the next bar's open, plus slippage for buys
  and minus it for sells (basis points of the open); commission is a fraction
  of the notional; cash pays notional and commission.
- trades: a fill that adds to the position opens a lot; one that reduces it
  closes lots oldest first; fees are prorated by quantity.

Usage: sma_cross.py DATA.csv FAST SLOW SIZE ALLOW_SHORT COMMISSION SLIPPAGE_BPS CASH
Prints JSON: {"trades": [...], "final_equity": x, "bars": n}.
"""

import csv
import json
import sys


def read_bars(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header = [h.strip().lower() for h in rows[0]]
    col = {name: header.index(name) for name in ("open", "high", "low", "close")}
    bars = []
    for row in rows[1:]:
        if not row:
            continue
        bars.append({k: float(row[i]) for k, i in col.items()})
    return bars


def main(argv):
    path, fast, slow, size, allow_short, commission, slippage_bps, cash = argv
    fast, slow, size = int(fast), int(slow), float(size)
    allow_short = allow_short.lower() == "true"
    commission, slip, cash = float(commission), float(slippage_bps) / 10_000.0, float(cash)

    bars = read_bars(path)
    closes = []
    position = 0.0
    pending = 0.0  # signed quantity waiting for the next open
    trend = None
    lots = []  # [signed quantity, price, bar, fee]
    trades = []

    for i, bar in enumerate(bars):
        if pending != 0.0:
            buy = pending > 0
            price = bar["open"] * (1 + slip) if buy else bar["open"] * (1 - slip)
            qty = abs(pending)
            fee = qty * price * commission
            cash -= pending * price + fee
            position += pending
            left = qty
            sign = 1.0 if buy else -1.0
            while left > 1e-12 and lots and lots[0][0] * sign < 0:
                lot = lots[0]
                closed = min(left, abs(lot[0]))
                entry_fee = lot[3] * closed / abs(lot[0])
                exit_fee = fee * closed / qty
                direction = 1.0 if lot[0] > 0 else -1.0
                trades.append({
                    "side": "long" if direction > 0 else "short",
                    "size": closed,
                    "entry_bar": lot[2],
                    "entry_price": lot[1],
                    "exit_bar": i,
                    "exit_price": price,
                    "fees": entry_fee + exit_fee,
                    "pnl": (price - lot[1]) * closed * direction - entry_fee - exit_fee,
                })
                lot[3] -= entry_fee
                lot[0] -= closed * direction
                left -= closed
                if abs(lot[0]) <= 1e-12:
                    lots.pop(0)
            if left > 1e-12:
                lots.append([left * sign, price, i, fee * left / qty])
            pending = 0.0

        closes.append(bar["close"])
        if len(closes) < slow:
            continue
        fast_ma = sum(closes[-fast:]) / fast
        slow_ma = sum(closes[-slow:]) / slow
        if fast_ma > slow_ma:
            trend = "up"
        elif fast_ma < slow_ma:
            trend = "down"
        elif trend is None:
            trend = "down"
        want = size if trend == "up" else (-size if allow_short else 0.0)
        if abs(want - position) > 1e-9:
            pending = want - position

    final_equity = cash + position * bars[-1]["close"]
    json.dump({"trades": trades, "final_equity": final_equity, "bars": len(bars)}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
