// A test guest (issue 18): on every bar from `from_bar` on, it tries what its
// `mode` names and reports what it saw as the quantity of a buy order, so a
// test can read it from the orders:
//
// - time:        Date.now()                  -> throws (the SDK's guard)
// - newdate:     new Date()                  -> throws
// - performance: performance.now()           -> throws
// - random:      Math.random()               -> throws
// - crypto:      crypto.getRandomValues()    -> throws
// - env:         process.env, Deno, Bun      -> 1 + variables seen (1: none)
// - file:        require, fetch("file://")   -> 1 when there is no way to a file, 2 when one was read
// - intl:        Intl date formatting of "now" -> 1 + its text's length (or a throw)
// - raise:       throws RangeError in onBar  (the trap carries file:line)
// - initfail:    throws TypeError in setup   (init's error carries file:line)

import { BUY, Strategy, param } from "sandbar";

export class Probe extends Strategy {
  static name = "js-probe";
  static params = {
    mode: param.text("time", "What to reach for: time, newdate, performance, random, crypto, env, file, intl, raise, initfail."),
    from_bar: param.int(0, "First bar sequence number to probe on."),
  };

  setup() {
    if (this.mode === "initfail") {
      const table = {};
      table.missing.deeper = 1;
    }
  }

  seen() {
    switch (this.mode) {
      case "time":
        return 1 + Date.now();
      case "newdate":
        return 1 + new Date().getTime();
      case "performance":
        return 1 + performance.now();
      case "random":
        return 1 + Math.random();
      case "crypto":
        return 1 + crypto.getRandomValues(new Uint8Array(2))[0];
      case "env": {
        const env = globalThis.process?.env ?? globalThis.Deno?.env?.toObject?.() ?? globalThis.Bun?.env ?? {};
        return 1 + Object.keys(env).length;
      }
      case "file": {
        if (typeof globalThis.require === "function") return 2;
        try {
          fetch("file:///etc/hostname");
          return 2;
        } catch {
          return 1;
        }
      }
      case "intl": {
        if (typeof Intl === "undefined") return 1;
        return 1 + new Intl.DateTimeFormat("en-US", { dateStyle: "full" }).format().length;
      }
      case "raise":
        throw new RangeError(`the probe was told to raise (mode=${this.mode})`);
      default:
        return 1;
    }
  }

  onBar(bar, position, orders) {
    if (bar.seq >= this.from_bar) {
      orders.market(bar.symbol, BUY, this.seen());
    }
  }
}
