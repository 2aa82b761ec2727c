// The sandbox guards the generated entry module installs (issue 18): the
// clock and entropy throw with what to use instead. (node runs each test
// file in its own process, so installing them here touches no other test.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { SandboxError, install } from "../sandbox.js";

test("issue 18: the clock and entropy throw a SandboxError saying what to use", () => {
  const OldDate = Date;
  install();
  const cases = [
    [() => Date.now(), "Date.now() is not available in the Sandbar sandbox; time comes from bars: use bar.tsMs"],
    [() => new Date(), "new Date() is not available"],
    [() => Date(), "Date() is not available"],
    [() => OldDate.now(), "Date.now() is not available"],
    [() => new (new Date(0).constructor)(), "new Date() is not available"],
    [() => performance.now(), "performance.now() is not available"],
    [() => Math.random(), "Math.random() is not available in the Sandbar sandbox; two runs must make the same orders"],
    [() => crypto.getRandomValues(new Uint8Array(2)), "crypto.getRandomValues() is not available"],
    [() => setTimeout(() => {}, 1), "setTimeout() is not available"],
    [() => fetch("file:///etc/hostname"), "fetch() is not available"],
  ];
  for (const [f, words] of cases) {
    assert.throws(f, (e) => e instanceof SandboxError && e.message.includes(words), words);
  }
  // Arithmetic on given times still works.
  assert.equal(new Date(86_400_000).toISOString(), "1970-01-02T00:00:00.000Z");
  assert.equal(Date.UTC(1970, 0, 2), 86_400_000);
  assert.ok(new Date(0) instanceof Date);
});
