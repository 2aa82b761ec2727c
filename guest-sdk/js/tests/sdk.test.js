// The JavaScript SDK natively: parameters, orders, snapshots, errors (issue 18).
// Run: node --import ./register.mjs --test (in guest-sdk/js).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as sandbar from "../index.js";
import { Bar, Orders, ParamError, Sma, SnapshotError, Strategy, carried, param } from "../index.js";
import * as errors from "../errors.js";
import * as snapshot from "../snapshot.js";
import { exportStrategy, findStrategy } from "../export.js";

class Demo extends Strategy {
  static name = "demo";
  static params = {
    period: param.int(5, "Lookback, in bars."),
    size: param.float(1.0, "Quantity."),
    short: param.bool(false, "Allow short."),
    label: param.text("x", "A label."),
  };

  validate() {
    if (this.period < 1) throw this.invalid("period", `must be at least 1 (got ${this.period}); the default is 5`);
  }

  setup() {
    this.sma = this.perSymbol(() => new Sma(this.period));
    this.bars = 0;
  }

  onBar(bar) {
    this.bars += 1;
    this.sma.get(bar.symbol).update(bar.close);
  }
}

test("issue 18: defaults, kinds and descriptions", () => {
  const specs = Demo.declared().map((p) => [p.name, p.kind, p.default, p.description]);
  assert.deepEqual(specs, [
    ["period", "int", 5, "Lookback, in bars."],
    ["size", "float", 1.0, "Quantity."],
    ["short", "boolean", false, "Allow short."],
    ["label", "text", "x", "A label."],
  ]);
  const d = Demo.create(["A"], [["size", "int", 2]]);
  assert.equal(d.period, 5);
  assert.equal(d.size, 2.0);
  assert.throws(() => param.int(1.5, "x"), /must be an integer/);
});

test("issue 18: parameter errors say how to fix them", () => {
  const cases = [
    [[["peroid", "int", 3]], "unknown parameter `peroid`; did you mean `period`?"],
    [[["zzz", "int", 3]], "unknown parameter `zzz`; known parameters: period, size, short, label"],
    [[["period", "text", "3"]], 'parameter `period` must be an integer, got the string "3"; for example period = 5'],
    [[["size", "text", "big"]], 'parameter `size` must be a number, got the string "big"; for example size = 1'],
    [[["short", "float", 2.5]], "parameter `short` must be true or false, got the number 2.5; for example short = false"],
    [[["period", "int", 1], ["period", "int", 2]], "parameter `period` is given twice; keep one"],
    [[["period", "int", 0]], "parameter `period`: must be at least 1 (got 0); the default is 5"],
    [[["period", "int", 2n ** 60n]], "parameter `period` is 1152921504606846976, beyond the integers a JavaScript number holds exactly (±9007199254740991); use a smaller value"],
  ];
  for (const [values, message] of cases) {
    assert.throws(
      () => Demo.create(["A"], values),
      (e) => e instanceof ParamError && e.message === message,
      message,
    );
  }
});

test("issue 18: target, market and limit orders", () => {
  const o = new Orders();
  o.target(0, 0.0, 2.0);
  o.target(0, 2.0, 2.0 + 1e-12);
  o.target(1, 1.0, -1.0);
  o.target(0, 0.0, NaN);
  o.limit(0, sandbar.BUY, 1, 99.5);
  assert.deepEqual(
    o.orders.map((x) => x.key()),
    [
      [0, "buy", 2.0, null],
      [1, "sell", 2.0, null],
      [0, "buy", 1.0, 99.5],
    ],
  );
  assert.throws(() => o.market(0, "long", 1), /BUY \("buy"\) or SELL/);
});

function runBars(s, closes) {
  closes.forEach((c, i) => s.bar(new Bar(i, 0, 0, c, c, c, c)));
}

test("issue 18: a restored state continues like the original, same state same bytes", () => {
  const a = Demo.create(["A"], [["period", "int", 3]]);
  runBars(a, [1.0, 2.0, 3.5]);
  const data = snapshot.dump(Demo.name, Demo.stateLayout, a.symbols, a.paramValues(), a.state());
  assert.deepEqual([...data.subarray(0, 5)], [0x53, 0x42, 0x4a, 0x53, 1]); // "SBJS", 1
  const b = Demo.create(["A"], [["period", "int", 3]]);
  b.restoreState(snapshot.load(data, Demo.name, Demo.stateLayout, b.symbols, b.paramValues()));
  assert.equal(b.bars, 3);
  assert.ok(b.sma.get(0) instanceof Sma, "an indicator comes back as itself");
  assert.equal(a.sma.get(0).update(7.25), b.sma.get(0).update(7.25));
  const again = snapshot.dump(Demo.name, Demo.stateLayout, a.symbols, a.paramValues(), a.state());
  const other = snapshot.dump(Demo.name, Demo.stateLayout, b.symbols, b.paramValues(), b.state());
  assert.deepEqual(again, other);
});

test("issue 18: what JSON cannot say survives a snapshot", () => {
  class Box {
    constructor() {
      this.v = 1;
    }
  }
  carried(Box);
  const state = {
    nan: NaN,
    inf: -Infinity,
    negZero: -0,
    big: 2n ** 70n,
    none: undefined,
    map: new Map([["k", 1.5], [2, [3]]]),
    set: new Set(["a"]),
    box: new Box(),
    tiny: 5e-324,
  };
  const data = snapshot.dump("s", 1, [], {}, state);
  const back = snapshot.load(data, "s", 1, [], {});
  assert.ok(Number.isNaN(back.nan));
  assert.equal(back.inf, -Infinity);
  assert.ok(Object.is(back.negZero, -0));
  assert.equal(back.big, 2n ** 70n);
  assert.ok("none" in back && back.none === undefined);
  assert.deepEqual([...back.map], [["k", 1.5], [2, [3]]]);
  assert.deepEqual([...back.set], ["a"]);
  assert.ok(back.box instanceof Box);
  assert.equal(back.tiny, 5e-324);
  assert.throws(() => snapshot.dump("s", 1, [], {}, { f: () => 1 }), /cannot snapshot a function/);
  assert.throws(() => snapshot.dump("s", 1, [], {}, { d: new Date(0) }), /carried\(Date\)/);
});

test("issue 18: a layout, strategy, symbol or parameter change is refused for a replay", () => {
  const a = Demo.create(["A"], []);
  const data = snapshot.dump(Demo.name, 1, a.symbols, a.paramValues(), a.state());
  const cases = [
    [[Demo.name, 2, a.symbols, a.paramValues()], "layout"],
    [["other", 1, a.symbols, a.paramValues()], "strategy"],
    [[Demo.name, 1, ["B"], a.paramValues()], "symbols"],
    [[Demo.name, 1, a.symbols, { ...a.paramValues(), period: 9 }], "does not carry over"],
  ];
  for (const [args, words] of cases) {
    assert.throws(
      () => snapshot.load(data, ...args),
      (e) => e instanceof SnapshotError && e.message.includes(words) && e.message.includes("replaying history"),
      words,
    );
  }
  assert.throws(() => snapshot.load(Uint8Array.from([0x53, 0x42, 0x4a, 0x53, 2, 0x7b, 0x7d]), Demo.name, 1, a.symbols, {}), /encoding version 2/);
  assert.throws(() => snapshot.load(Uint8Array.from([0, 1]), Demo.name, 1, a.symbols, {}), /no SBJS magic/);
});

test("issue 18: an exception names the author's file and line", () => {
  function onBar() {
    return null.x;
  }
  let text;
  try {
    onBar();
  } catch (e) {
    text = errors.describe("onBar", e);
  }
  assert.match(text, /^onBar raised TypeError: .* at sdk\.test\.js:\d+:\d+ in onBar \(stack: /);
  assert.ok(!text.includes("\n"), text);
});

test("issue 18: SpiderMonkey stacks (inside the component) are read too", () => {
  const e = new TypeError("x is undefined");
  e.stack =
    "target@strategy.js:61:12\nonBar@strategy.js:77:20\nonBar@sandbar/export.js:95:28\nexport_onBar@initializer.js:408:15\n";
  assert.equal(
    errors.describe("onBar", e),
    "onBar raised TypeError: x is undefined at strategy.js:61:12 in target (stack: sandbar/export.js:95:28 in onBar > strategy.js:77:20 in onBar > strategy.js:61:12 in target)",
  );
  assert.equal(errors.describe("init", "plain"), "init raised thrown string: plain at ?");
});

test("issue 18: the export glue returns errors from init and restore, and logs before a trap", () => {
  class Boom extends Strategy {
    static params = { mode: param.text("ok", "What to do.") };
    onBar() {
      if (this.mode === "raise") throw new RangeError("told to raise");
    }
  }
  const glue = exportStrategy(Boom);
  const info = glue.describe();
  assert.equal(info.name, "Boom");
  assert.deepEqual(info.params[0].default, { tag: "text", val: "ok" });
  assert.deepEqual(glue.init(["A"], [{ name: "mdoe", value: { tag: "text", val: "x" } }]), {
    tag: "err",
    val: "unknown parameter `mdoe`; did you mean `mode`?",
  });
  assert.deepEqual(glue.init(["A"], [{ name: "mode", value: { tag: "text", val: "raise" } }]), { tag: "ok", val: undefined });
  const bar = { seq: 1n, tsMs: 0n, symbol: 0, open: 1, high: 1, low: 1, close: 1, volume: 0 };
  const position = { quantity: 0, avgPrice: 0, cash: 0, equity: 0 };
  sandbar.log.lines.length = 0;
  assert.throws(() => glue.onBar(bar, position), RangeError);
  const [level, line] = sandbar.log.lines.at(-1);
  assert.equal(level, "error");
  assert.match(line, /^onBar raised RangeError: told to raise at sdk\.test\.js:\d+:\d+ in Boom\.onBar/);
  const refused = glue.restore(Uint8Array.from([1, 2]));
  assert.equal(refused.tag, "err");
  assert.match(refused.val, /no SBJS magic/);
  const snap = glue.snapshot();
  assert.deepEqual(glue.restore(snap), { tag: "ok", val: undefined });
  assert.throws(() => findStrategy({ Boom, Demo }, "strategy.js"), /exports 2 Strategy subclasses \(Boom, Demo\)/);
  assert.equal(findStrategy({ Boom, x: 1 }, "strategy.js"), Boom);
});

test("issue 18: an async method is refused by name (its orders would be lost)", () => {
  class Later extends Strategy {
    async onBar(bar, position, orders) {
      orders.market(0, "buy", 1);
    }
  }
  class LateSetup extends Strategy {
    async setup() {}
  }
  const glue = exportStrategy(Later);
  assert.deepEqual(glue.init(["A"], []), { tag: "ok", val: undefined });
  const bar = { seq: 1n, tsMs: 0n, symbol: 0, open: 1, high: 1, low: 1, close: 1, volume: 0 };
  assert.throws(
    () => glue.onBar(bar, { quantity: 0, avgPrice: 0, cash: 0, equity: 0 }),
    /onBar returned a Promise: a strategy's methods run synchronously/,
  );
  assert.throws(() => LateSetup.create(["A"], []), /setup returned a Promise/);
});
