#!/usr/bin/env python3
"""Reference values for the guest SDK's indicators (sandbar_guest::indicators).

Computed with TA-Lib's Python package (the C library inside its wheel) on the
GOOG daily and EURUSD hourly CSVs of scripts/fetch-reference-data.sh, with
TA-Lib's defaults written out. Two series TA-Lib lacks follow the SDK's
documented rules in plain Python, sharing no code with the SDK:

- session VWAP: sessions are UTC days of the bar's timestamp; within one,
  sum(tp * volume) / sum(volume) so far, tp = (high + low + close) / 3; the
  typical price itself while the session's volume is 0.
- Keltner channels: talib.EMA(close, 20) +- 2 * talib.ATR(high, low, close, 10).
- z-score: (close - talib.SMA(close, 20)) / talib.STDDEV(close, 20).

Run by scripts/reference-indicators.sh in the venv of scripts/reference-env.sh.

Usage: indicators.py DATA.csv OUT.csv
Writes one row per bar: the inputs (ts_ms, open, high, low, close, volume, as
parsed here, written with repr so they round-trip exactly) then one column per
series, empty where the series has no value yet.
"""

import csv
import math
import sys
from datetime import datetime, timezone

import numpy as np
import talib


def read(path):
    ts, o, h, l, c, v = [], [], [], [], [], []
    with open(path, newline="") as f:
        rows = csv.reader(f)
        next(rows)
        for row in rows:
            fmt = "%Y-%m-%d %H:%M:%S" if " " in row[0] else "%Y-%m-%d"
            t = datetime.strptime(row[0], fmt).replace(tzinfo=timezone.utc)
            ts.append(int(t.timestamp()) * 1000)
            o.append(float(row[1]))
            h.append(float(row[2]))
            l.append(float(row[3]))
            c.append(float(row[4]))
            v.append(float(row[5]))
    return ts, [np.array(x, dtype=np.float64) for x in (o, h, l, c, v)]


def session_vwap(ts, high, low, close, volume):
    out, session, pv, vol = [], None, 0.0, 0.0
    for t, hi, lo, cl, vo in zip(ts, high, low, close, volume):
        day = t // 86_400_000
        if day != session:
            session, pv, vol = day, 0.0, 0.0
        tp = (float(hi) + float(lo) + float(cl)) / 3.0
        pv += tp * float(vo)
        vol += float(vo)
        out.append(pv / vol if vol != 0.0 else tp)
    return np.array(out)


def series(ts, o, h, l, c, v):
    out = {}
    out["sma20"] = talib.SMA(c, 20)
    out["ema20"] = talib.EMA(c, 20)
    out["rsi14"] = talib.RSI(c, 14)
    out["stddev20"] = talib.STDDEV(c, 20, 1.0)
    # Where TA-Lib rounds a variance below 1e-8 to 0 (see the SDK's StdDev).
    out["var20"] = talib.VAR(c, 20, 1.0)
    upper, middle, lower = talib.BBANDS(c, 20, 2.0, 2.0, talib.MA_Type.SMA)
    out["bb_upper"], out["bb_middle"], out["bb_lower"] = upper, middle, lower
    macd, signal, hist = talib.MACD(c, 12, 26, 9)
    out["macd"], out["macd_signal"], out["macd_hist"] = macd, signal, hist
    out["trange"] = talib.TRANGE(h, l, c)
    out["atr14"] = talib.ATR(h, l, c, 14)
    out["wma20"] = talib.WMA(c, 20)
    out["dema20"] = talib.DEMA(c, 20)
    out["tema20"] = talib.TEMA(c, 20)
    out["roc10"] = talib.ROC(c, 10)
    out["mom10"] = talib.MOM(c, 10)
    k, d = talib.STOCH(h, l, c, 5, 3, talib.MA_Type.SMA, 3, talib.MA_Type.SMA)
    out["stoch_k"], out["stoch_d"] = k, d
    out["willr14"] = talib.WILLR(h, l, c, 14)
    out["cci20"] = talib.CCI(h, l, c, 20)
    out["adx14"] = talib.ADX(h, l, c, 14)
    out["plus_di14"] = talib.PLUS_DI(h, l, c, 14)
    out["minus_di14"] = talib.MINUS_DI(h, l, c, 14)
    out["obv"] = talib.OBV(c, v)
    out["vwap"] = session_vwap(ts, h, l, c, v)
    mid, atr = talib.EMA(c, 20), talib.ATR(h, l, c, 10)
    out["kc_upper"], out["kc_middle"], out["kc_lower"] = mid + 2.0 * atr, mid, mid - 2.0 * atr
    out["zscore20"] = (c - talib.SMA(c, 20)) / talib.STDDEV(c, 20, 1.0)
    out["highest20"] = talib.MAX(h, 20)
    out["lowest20"] = talib.MIN(l, 20)
    return out


def cell(x):
    x = float(x)
    return "" if math.isnan(x) else repr(x)


def main():
    data, dest = sys.argv[1], sys.argv[2]
    ts, (o, h, l, c, v) = read(data)
    out = series(ts, o, h, l, c, v)
    names = list(out)
    tmp = dest + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ts_ms", "open", "high", "low", "close", "volume"] + names)
        for i in range(len(ts)):
            inputs = [str(ts[i])] + [repr(float(x[i])) for x in (o, h, l, c, v)]
            w.writerow(inputs + [cell(out[n][i]) for n in names])
    # Written whole or not at all: the test regenerates a missing file only.
    import os

    os.replace(tmp, dest)


if __name__ == "__main__":
    main()
