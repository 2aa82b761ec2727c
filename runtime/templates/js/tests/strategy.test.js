// Native tests of the strategy: plain node, no Wasm (npm test).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Bar, ParamError } from "sandbar";
import { SmaCross } from "../strategy.js";

test("it buys when the fast average crosses above", () => {
  const s = SmaCross.create(["A"], { fast: 2, slow: 3 });
  const orders = [10.0, 10.0, 11.0].map((c, i) => s.bar(new Bar(i, 0, 0, c, c, c, c)));
  assert.deepEqual(orders[2].map((o) => o.key()), [[0, "buy", 1.0, null]]);
});

test("bad parameters say how to fix them", () => {
  assert.throws(
    () => SmaCross.create(["A"], { fsat: 2 }),
    (e) => e instanceof ParamError && e.message.includes("did you mean `fast`"),
  );
});
