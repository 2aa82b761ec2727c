// sma-cross in JavaScript: long `size` while the fast SMA of the close is
// above the slow one; flat (or short `size`, with allowShort) below it. The
// same trades as the Rust strategies/sma-cross.

import { ABOVE, BELOW, CrossDetector, Sma, Strategy, log, longest, param } from "sandbar";

const MAX_PERIOD = 100_000;

export class SmaCross extends Strategy {
  static name = "sma-cross-js";
  static version = "0.1.0";
  static description = "Long while the fast SMA of the close is above the slow SMA; flat (or short) below it.";
  static carriedParams = ["fast", "slow"];

  static params = {
    fast: param.int(10, "Lookback of the fast moving average, in bars (at least 1)."),
    slow: param.int(30, "Lookback of the slow moving average, in bars (greater than fast)."),
    size: param.float(1.0, "Quantity held while in a position (greater than 0)."),
    allow_short: param.bool(false, "Hold -size instead of going flat while the fast average is below the slow one."),
  };

  validate() {
    if (this.fast < 1) {
      throw this.invalid("fast", `must be at least 1 (got ${this.fast}); the default is 10`);
    }
    if (this.fast >= this.slow) {
      throw this.invalid(
        "fast",
        `must be smaller than slow (got fast=${this.fast}, slow=${this.slow}); the defaults are fast=10, slow=30`,
      );
    }
    if (this.slow > MAX_PERIOD) {
      throw this.invalid(
        "slow",
        `must be at most ${MAX_PERIOD} (got ${this.slow}); use a coarser bar size for longer lookbacks`,
      );
    }
    if (!(this.size > 0.0)) {
      throw this.invalid("size", `must be greater than 0 (got ${this.size}); to sell short, set allow_short = true`);
    }
  }

  setup() {
    this.books = this.perSymbol(() => ({
      fast: new Sma(this.fast),
      slow: new Sma(this.slow),
      cross: new CrossDetector(),
      trend: null,
    }));
  }

  warmupBars() {
    return longest(new Sma(this.fast), new Sma(this.slow));
  }

  target(trend) {
    if (trend === "up") return this.size;
    return this.allow_short ? -this.size : 0.0;
  }

  onBar(bar, position, orders) {
    const entry = this.books.entry(bar.symbol);
    if (entry === null) return;
    const [name, st] = entry;
    if (!Number.isFinite(bar.close)) return;
    const fast = st.fast.update(bar.close);
    const slow = st.slow.update(bar.close);
    if (fast === null || slow === null) return;
    const cross = st.cross.update(fast, slow);
    let trend;
    if (cross === ABOVE) {
      trend = "up";
    } else if (cross === BELOW) {
      trend = "down";
    } else if (st.trend !== null) {
      trend = st.trend;
    } else {
      trend = fast > slow ? "up" : "down";
    }
    if (st.trend !== trend) {
      st.trend = trend;
      log.debug(`${name}: trend ${trend} at bar ${bar.seq} (fast ${fast}, slow ${slow})`);
    }
    orders.target(bar.symbol, position.quantity, this.target(trend));
  }
}
