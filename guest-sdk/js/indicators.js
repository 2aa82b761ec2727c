// Indicators with the same values as the Rust SDK's
// (`sandbar_guest::indicators`), bit for bit: the same operations in the same
// order on IEEE doubles (guest-sdk/tests/js_sdk.rs runs one random walk
// through both and compares the bits).
//
// Each keeps its state in plain fields, so a snapshot carries it
// (snapshot.js); `carried` registers the classes a snapshot may hold.

export const ABOVE = "above";
export const BELOW = "below";

const TYPES = new Map();

/**
 * Registers a class whose instances a snapshot may hold: their own
 * enumerable fields are saved by name and set back on restore (the
 * constructor is not called). Returns the class, so it can wrap one.
 */
export function carried(cls, name = cls.name) {
  const known = TYPES.get(name);
  if (known !== undefined && known !== cls) {
    throw new TypeError(`another class is already carried as ${name}; pass carried(cls, "OtherName")`);
  }
  TYPES.set(name, cls);
  return cls;
}

export function carriedType(name) {
  return TYPES.get(name);
}

export function carriedName(cls) {
  for (const [name, known] of TYPES) {
    if (known === cls) return name;
  }
  return undefined;
}

function period(p) {
  const n = Math.trunc(Number(p));
  return Number.isFinite(n) && n >= 1 ? n : 1;
}

/**
 * Simple moving average over the last `period` values (a running sum, as the
 * Rust `Sma`); null during the first period - 1 values.
 */
export class Sma {
  constructor(p) {
    this.period = period(p);
    this.window = [];
    this.sum = 0.0;
  }

  update(value) {
    this.window.push(value);
    this.sum += value;
    if (this.window.length > this.period) {
      this.sum -= this.window.shift();
    }
    return this.value();
  }

  value() {
    return this.window.length === this.period ? this.sum / this.period : null;
  }

  isReady() {
    return this.window.length === this.period;
  }

  warmupBars() {
    return this.period;
  }
}
carried(Sma);

/**
 * Exponential moving average seeded with the SMA of its first `period`
 * values (alpha = 2 / (period + 1)), as the Rust `Ema`.
 */
export class Ema {
  constructor(p) {
    this.period = period(p);
    this.alpha = 2.0 / (this.period + 1.0);
    this.seen = 0;
    this.seedSum = 0.0;
    this.current = null;
  }

  update(x) {
    this.seen += 1;
    if (this.current !== null) {
      this.current = this.current + this.alpha * (x - this.current);
    } else {
      this.seedSum += x;
      if (this.seen === this.period) {
        this.current = this.seedSum / this.period;
      }
    }
    return this.current;
  }

  value() {
    return this.current;
  }

  isReady() {
    return this.current !== null;
  }

  warmupBars() {
    return this.period;
  }
}
carried(Ema);

/** Wilder's RSI over `period` changes, as the Rust `Rsi` (50 on a flat window, 100 with no losses). */
export class Rsi {
  constructor(p) {
    this.period = period(p);
    this.prev = null;
    this.seen = 0;
    this.avgGain = 0.0;
    this.avgLoss = 0.0;
  }

  update(close) {
    const prev = this.prev;
    this.prev = close;
    if (prev === null) return null;
    const change = close - prev;
    let gain = 0.0;
    let loss = 0.0;
    if (change > 0.0) {
      gain = change;
    } else {
      loss = -change;
    }
    this.seen += 1;
    const n = this.period;
    if (this.seen <= this.period) {
      this.avgGain += gain / n;
      this.avgLoss += loss / n;
    } else {
      this.avgGain = (this.avgGain * (n - 1.0) + gain) / n;
      this.avgLoss = (this.avgLoss * (n - 1.0) + loss) / n;
    }
    return this.value();
  }

  value() {
    if (this.seen < this.period) return null;
    if (this.avgLoss === 0.0) return this.avgGain === 0.0 ? 50.0 : 100.0;
    const rs = this.avgGain / this.avgLoss;
    return 100.0 - 100.0 / (1.0 + rs);
  }

  isReady() {
    return this.seen >= this.period;
  }

  warmupBars() {
    return this.period + 1;
  }
}
carried(Rsi);

/**
 * Reports ABOVE when a - b turns positive from <= 0, BELOW when it turns
 * negative from >= 0, else null (as the Rust `CrossDetector`).
 */
export class CrossDetector {
  constructor() {
    this.prevDiff = null;
  }

  update(a, b) {
    const diff = a - b;
    const prev = this.prevDiff;
    let cross = null;
    if (prev !== null) {
      if (prev <= 0.0 && diff > 0.0) {
        cross = ABOVE;
      } else if (prev >= 0.0 && diff < 0.0) {
        cross = BELOW;
      }
    }
    this.prevDiff = diff;
    return cross;
  }

  warmupBars() {
    return 2;
  }
}
carried(CrossDetector);

/** Bars the slowest of `indicators` needs before it gives values. */
export function longest(...indicators) {
  return indicators.reduce((most, i) => Math.max(most, i.warmupBars()), 0);
}
