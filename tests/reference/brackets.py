#!/usr/bin/env python3
"""Reference of bracket orders (stop-loss and take-profit): backtesting.py's
own semantics, run by the backtesting package itself on its GOOG data.

Strategy: when the simple moving average of the close over FAST bars crosses
above the one over SLOW bars (backtesting.lib.crossover: below on the bar
before, above on this one) and the strategy is flat with no order waiting,
buy SIZE units at the next open with a stop-loss at close * (1 - SL_PCT/100)
and a take-profit at close * (1 + TP_PCT/100) of the signal bar. Commission
COMMISSION (a fraction of notional, charged on entry and exit), cash CASH.

The Rust side (guest-sdk/tests/paper_reference.rs) replays the same signal
through the SDK's paper broker with a bracket (market entry, limit take-
profit, stop-loss, one OCO group) and must make the same trades.

Usage: brackets.py DATA.csv FAST SLOW SIZE SL_PCT TP_PCT COMMISSION CASH
Prints JSON: {"trades": [{"entry_bar", "exit_bar", "entry_price",
"exit_price", "size"}...], "final_equity": x, "bars": n}; bars are 0-based
row numbers of DATA.csv.
"""

import json
import sys
import warnings

import pandas as pd
from backtesting import Backtest, Strategy
from backtesting.lib import crossover


def main():
    path, fast, slow, size, sl_pct, tp_pct, commission, cash = sys.argv[1:9]
    fast, slow, size = int(fast), int(slow), int(size)
    sl_pct, tp_pct = float(sl_pct), float(tp_pct)
    data = pd.read_csv(path, index_col=0, parse_dates=True)

    def sma(values, n):
        return pd.Series(values).rolling(n).mean()

    class Bracketed(Strategy):
        def init(self):
            self.fast = self.I(sma, self.data.Close, fast)
            self.slow = self.I(sma, self.data.Close, slow)

        def next(self):
            if self.position or self.orders:
                return
            if crossover(self.fast, self.slow):
                close = self.data.Close[-1]
                self.buy(
                    size=size,
                    sl=close * (1 - sl_pct / 100),
                    tp=close * (1 + tp_pct / 100),
                )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bt = Backtest(data, Bracketed, cash=float(cash), commission=float(commission))
        stats = bt.run()
    trades = [
        {
            "entry_bar": int(t.EntryBar),
            "exit_bar": int(t.ExitBar),
            "entry_price": float(t.EntryPrice),
            "exit_price": float(t.ExitPrice),
            "size": int(t.Size),
        }
        for t in stats["_trades"].itertuples()
    ]
    print(
        json.dumps(
            {
                "trades": trades,
                "final_equity": float(stats["Equity Final [$]"]),
                "bars": len(data),
            }
        )
    )


if __name__ == "__main__":
    main()
