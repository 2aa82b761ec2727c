// The `Strategy` base class: what a JavaScript strategy extends.

import * as P from "./params.js";
import { carried } from "./indicators.js";
import { Orders } from "./orders.js";

/** One OHLCV bar (the contract's `bar`); `symbol` indexes `this.symbols`. */
export class Bar {
  constructor(seq, tsMs, symbol, open, high, low, close, volume = 0.0) {
    this.seq = seq;
    this.tsMs = tsMs;
    this.symbol = symbol;
    this.open = open;
    this.high = high;
    this.low = low;
    this.close = close;
    this.volume = volume;
  }
}

/** The strategy's own position in the bar's symbol, kept by the host. */
export class Position {
  constructor(quantity = 0.0, avgPrice = 0.0, cash = 0.0, equity = 0.0) {
    this.quantity = quantity;
    this.avgPrice = avgPrice;
    this.cash = cash;
    this.equity = equity;
  }
}

/** One of the strategy's orders, filled. */
export class Fill {
  constructor(seq, tsMs, symbol, side, quantity, price, commission = 0.0) {
    this.seq = seq;
    this.tsMs = tsMs;
    this.symbol = symbol;
    this.side = side;
    this.quantity = quantity;
    this.price = price;
    this.commission = commission;
  }
}

/** One state per symbol of `init`, made by `factory()`; indexed by `bar.symbol`. */
export class PerSymbol {
  constructor(symbols, factory) {
    this.names = [...symbols];
    this.states = this.names.map(() => factory());
  }

  /** [name, state] of a symbol index, or null for an index out of range. */
  entry(symbol) {
    if (Number.isInteger(symbol) && symbol >= 0 && symbol < this.states.length) {
      return [this.names[symbol], this.states[symbol]];
    }
    return null;
  }

  get(symbol) {
    return this.states[symbol];
  }

  get length() {
    return this.states.length;
  }
}
carried(PerSymbol);

/**
 * Extend it, declare parameters in `static params`, and write `onBar`:
 *
 *     export class SmaCross extends Strategy {
 *       static name = "sma-cross";
 *       static params = { fast: param.int(10, "Lookback of the fast average, in bars.") };
 *
 *       setup() {                       // after the parameters are set
 *         this.sma = this.perSymbol(() => new Sma(this.fast));
 *       }
 *
 *       onBar(bar, position, orders) { ... }
 *     }
 *
 * Make instances with `SmaCross.create(symbols, params)`. Everything
 * `setup` and `onBar` keep on `this` (except parameters, `symbols` and
 * names starting with `_`) is the state a hot swap carries (snapshot.js).
 */
export class Strategy {
  // `static name` is the class's own name unless a subclass sets it; it is
  // stamped into snapshots.
  static version = "0.1.0";
  static description = "";
  // Bump when the state's shape changes: an old snapshot is then refused and
  // the host replays history into the new version.
  static stateLayout = 1;
  // Parameters the state depends on; null means all of them. A snapshot made
  // with other values of these is refused (replay instead).
  static carriedParams = null;
  static params = {};

  /** The declared parameters, in declaration order (a subclass's redeclaration wins). */
  static declared() {
    const chain = [];
    for (let c = this; c && c !== Function.prototype; c = Object.getPrototypeOf(c)) {
      if (Object.hasOwn(c, "params")) chain.unshift(c.params);
    }
    const byName = new Map();
    for (const table of chain) {
      for (const [name, p] of Object.entries(table ?? {})) {
        if (!(p instanceof P.Param)) {
          throw new TypeError(
            `${this.name}.params.${name} is not a parameter: declare it with param.int(…), param.float(…), param.bool(…) or param.text(…)`,
          );
        }
        p.name = name;
        byName.set(name, p);
      }
    }
    return [...byName.values()];
  }

  /**
   * An instance for `symbols`, with `params` set: (name, kind, value)
   * triples as `init` gives them, or (in tests) an object such as
   * `{ fast: 2, size: 1.5 }`. Throws ParamError for a parameter it refuses.
   */
  static create(symbols = [], params = []) {
    const s = new this();
    s._configure(symbols, params);
    return s;
  }

  _configure(symbols, params) {
    this.symbols = [...symbols];
    const declared = new Map(this.constructor.declared().map((p) => [p.name, p]));
    for (const p of declared.values()) this[p.name] = p.default;
    const triples = Array.isArray(params)
      ? params
      : Object.entries(params).map(([name, value]) => [name, P.kindOf(value), value]);
    const given = new Set();
    for (const [name, kind, value] of triples) {
      const p = declared.get(name);
      if (p === undefined) throw P.unknown(name, [...declared.keys()]);
      if (given.has(name)) throw P.duplicate(name);
      given.add(name);
      this[name] = p.accept(kind, value);
    }
    for (const method of ["validate", "setup"]) {
      const result = this[method]();
      if (result !== null && typeof result === "object" && typeof result.then === "function") {
        throw new TypeError(`${method} returned a Promise: a strategy's methods run synchronously (remove async/await)`);
      }
    }
  }

  /** Refuse parameter values: `throw this.invalid("fast", "must be at least 1")`. */
  validate() {}

  /** Build the state, once the parameters are set. */
  setup() {}

  invalid(name, reason) {
    return P.invalid(name, reason);
  }

  perSymbol(factory) {
    return new PerSymbol(this.symbols, factory);
  }

  /** Bars needed before the strategy can trade (with these parameters). */
  warmupBars() {
    return 0;
  }

  /** One bar in; write orders into `orders` (most bars write none). */
  onBar(_bar, _position, _orders) {}

  /** One of the strategy's orders filled. */
  onFill(_fill) {}

  /** The state a hot swap carries: own fields but parameters, `symbols` and `_private` ones. */
  state() {
    const params = new Set(this.constructor.declared().map((p) => p.name));
    const out = {};
    for (const k of Object.keys(this).sort()) {
      if (!k.startsWith("_") && !params.has(k) && k !== "symbols") out[k] = this[k];
    }
    return out;
  }

  restoreState(state) {
    Object.assign(this, state);
  }

  /** The values of the `carriedParams` (all parameters when null). */
  paramValues() {
    const keep = this.constructor.carriedParams;
    const out = {};
    for (const p of this.constructor.declared()) {
      if (keep === null || keep.includes(p.name)) out[p.name] = this[p.name];
    }
    return out;
  }

  /** Calls onBar and returns its orders (for tests). */
  bar(bar, position = new Position()) {
    const orders = new Orders();
    this.onBar(bar, position, orders);
    return orders.orders;
  }
}
