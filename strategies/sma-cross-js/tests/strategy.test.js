// sma-cross-js natively: crosses make the orders, parameters are checked.
// Run: npm test (node --import ../../guest-sdk/js/register.mjs --test).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Bar, ParamError, Position } from "sandbar";
import { SmaCross } from "../strategy.js";

test("sma-cross-js buys on the cross above and sells on the cross below", () => {
  const s = SmaCross.create(["A"], { fast: 2, slow: 3 });
  assert.equal(s.warmupBars(), 3);
  const got = [];
  let qty = 0.0;
  [10.0, 10.0, 11.0, 12.0, 9.0, 8.0, 8.0].forEach((c, i) => {
    const orders = s.bar(new Bar(i, 0, 0, c, c, c, c), new Position(qty));
    for (const o of orders) qty += o.side === "buy" ? o.quantity : -o.quantity;
    got.push(orders.map((o) => o.key()));
  });
  assert.deepEqual(got[2], [[0, "buy", 1.0, null]]);
  assert.deepEqual(got[4], [[0, "sell", 1.0, null]]);
  assert.equal(qty, 0.0);
});

test("sma-cross-js refuses fast >= slow and says how to fix it", () => {
  assert.throws(() => SmaCross.create(["A"], { fast: 40 }), (e) => {
    assert.ok(e instanceof ParamError);
    assert.match(e.message, /must be smaller than slow/);
    return true;
  });
});
