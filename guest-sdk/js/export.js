// The glue from the contract's exports (`sandbar:strategy@0.1.0`, as
// componentize-js maps them to JavaScript) to a `Strategy` subclass: what the
// entry module `runtime build` generates exports.
//
// Every export catches what the strategy throws: `init` and `restore` return
// it as their error result; the others log it at error level (file:line,
// message, stack) and then rethrow, so the component traps and the host
// reports a trap that carries the text.

import * as errors from "./errors.js";
import * as log from "./log.js";
import * as P from "./params.js";
import * as snapshot from "./snapshot.js";
import { BUY, SELL, Orders } from "./orders.js";
import { Bar, Fill, Position, Strategy } from "./strategy.js";

function value(kind, v) {
  // s64 crosses the boundary as a BigInt.
  return kind === P.INT ? { tag: "int", val: BigInt(v) } : { tag: kind, val: v };
}

// An int arrives as a BigInt; Param.accept makes it a number (or refuses
// one beyond 2^53 by name).
function unwrap(pv) {
  return [pv.tag, pv.val];
}

// A method that returns a promise (an `async` one) would go on after the
// call returned, its orders lost: refuse it by name.
function synchronous(method, result) {
  if (result !== null && typeof result === "object" && typeof result.then === "function") {
    throw new TypeError(`${method} returned a Promise: a strategy's methods run synchronously, once per call (remove async/await)`);
  }
  return result;
}

function fail(exportName, error) {
  const text = errors.describe(exportName, error);
  log.error(text);
  return text;
}

/** The six exports for strategy class `cls`. */
export function exportStrategy(cls) {
  if (!(typeof cls === "function" && cls.prototype instanceof Strategy)) {
    throw new TypeError("exportStrategy takes a subclass of Strategy");
  }
  let strategy = null;
  const market = { tag: "market" };

  function current(exportName) {
    if (strategy === null) throw new Error(`${exportName} before a successful init`);
    return strategy;
  }

  return {
    describe() {
      try {
        const params = cls.declared().map((p) => ({
          name: p.name,
          kind: p.kind,
          default: value(p.kind, p.default),
          description: p.description,
        }));
        const warmup = cls.create(["_"], []).warmupBars();
        return {
          name: cls.name,
          version: cls.version,
          description: cls.description,
          params,
          warmupBars: Math.max(0, Math.min(0xffffffff, Math.trunc(Number(warmup)) || 0)),
        };
      } catch (e) {
        fail("describe", e);
        throw e;
      }
    },

    init(symbols, params) {
      try {
        strategy = cls.create(
          symbols,
          params.map((p) => [p.name, ...unwrap(p.value)]),
        );
        return { tag: "ok", val: undefined };
      } catch (e) {
        strategy = null;
        if (e instanceof P.ParamError) return { tag: "err", val: e.message };
        return { tag: "err", val: fail("init", e) };
      }
    },

    onBar(bar, position) {
      const orders = new Orders();
      try {
        synchronous(
          "onBar",
          current("onBar").onBar(
            new Bar(Number(bar.seq), Number(bar.tsMs), bar.symbol, bar.open, bar.high, bar.low, bar.close, bar.volume),
            new Position(position.quantity, position.avgPrice, position.cash, position.equity),
            orders,
          ),
        );
      } catch (e) {
        fail("onBar", e);
        throw e;
      }
      if (orders.orders.length === 0) return [];
      return orders.orders.map((o) => ({
        symbol: o.symbol,
        side: o.side === BUY ? BUY : SELL,
        quantity: o.quantity,
        kind: o.limit === null ? market : { tag: "limit", val: o.limit },
      }));
    },

    onFill(fill) {
      try {
        synchronous(
          "onFill",
          current("onFill").onFill(
            new Fill(Number(fill.seq), Number(fill.tsMs), fill.symbol, fill.side, fill.quantity, fill.price, fill.commission),
          ),
        );
      } catch (e) {
        fail("onFill", e);
        throw e;
      }
    },

    snapshot() {
      try {
        const s = current("snapshot");
        return snapshot.dump(cls.name, cls.stateLayout, s.symbols, s.paramValues(), s.state());
      } catch (e) {
        fail("snapshot", e);
        throw e;
      }
    },

    restore(state) {
      try {
        const s = current("restore");
        s.restoreState(snapshot.load(state, cls.name, cls.stateLayout, s.symbols, s.paramValues()));
        return { tag: "ok", val: undefined };
      } catch (e) {
        if (e instanceof snapshot.SnapshotError) return { tag: "err", val: e.message };
        return { tag: "err", val: fail("restore", e) };
      }
    },
  };
}

/**
 * The Strategy subclass `name` exported by `module` (a module namespace),
 * or its only one. `file` names the module in the error.
 */
export function findStrategy(module, file, name = null) {
  if (name) {
    const cls = module[name];
    if (!(typeof cls === "function" && cls.prototype instanceof Strategy)) {
      throw new TypeError(`${file} exports no Strategy subclass named ${name}`);
    }
    return cls;
  }
  const found = Object.entries(module).filter(
    ([, v]) => typeof v === "function" && v.prototype instanceof Strategy,
  );
  if (found.length !== 1) {
    const names = found.map(([k]) => k).sort().join(", ") || "none";
    throw new TypeError(
      `${file} exports ${found.length} Strategy subclasses (${names}); name one with "strategy": "ClassName" under "sandbar" in package.json`,
    );
  }
  return found[0][1];
}
