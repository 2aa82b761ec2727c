// Inside the component the clocks and entropy are withheld (componentize-js
// builds with WASI disabled), and the engine would answer a strategy that
// reaches for them with a bare trap, or with values frozen when the
// component was built. The generated entry module installs these guards
// before the strategy's module is evaluated: reading the time or drawing
// random numbers throws a SandboxError saying what to use instead, and the
// error reaches the trap with the author's file:line like any other
// (errors.js). Not installed natively (tests run in node).

export class SandboxError extends Error {
  constructor(message) {
    super(message);
    this.name = "SandboxError";
  }
}

function refuse(what, instead) {
  return function refused() {
    throw new SandboxError(`${what} is not available in the Sandbar sandbox; ${instead}`);
  };
}

const CLOCK = "time comes from bars: use bar.tsMs";
const ENTROPY = "two runs must make the same orders: derive any randomness from the bars or a fixed seed";

function replace(object, name, value) {
  if (object === undefined || object === null) return;
  try {
    Object.defineProperty(object, name, { value, writable: false, configurable: false, enumerable: false });
  } catch {
    // A property the engine does not let us redefine is one it does not have.
  }
}

let installed = false;

/** Installs the guards (once). */
export function install() {
  if (installed) return;
  installed = true;
  const RealDate = globalThis.Date;
  // `new Date(ms)` and `Date.UTC(...)` are arithmetic; `Date()`, `new Date()`
  // and `Date.now()` read the clock.
  const SandboxDate = function Date(...args) {
    if (new.target === undefined) {
      throw new SandboxError(`Date() is not available in the Sandbar sandbox; ${CLOCK}`);
    }
    if (args.length === 0) {
      throw new SandboxError(`new Date() is not available in the Sandbar sandbox; ${CLOCK} (new Date(bar.tsMs))`);
    }
    return Reflect.construct(RealDate, args, new.target);
  };
  SandboxDate.prototype = RealDate.prototype;
  SandboxDate.UTC = RealDate.UTC;
  SandboxDate.parse = RealDate.parse;
  replace(SandboxDate, "now", refuse("Date.now()", CLOCK));
  replace(RealDate, "now", refuse("Date.now()", CLOCK));
  // `new Date(0).constructor` must not lead back to the clock.
  replace(RealDate.prototype, "constructor", SandboxDate);
  replace(globalThis, "Date", SandboxDate);

  if (globalThis.performance !== undefined) {
    replace(globalThis.performance, "now", refuse("performance.now()", CLOCK));
    replace(Object.getPrototypeOf(globalThis.performance), "now", refuse("performance.now()", CLOCK));
  }
  replace(Math, "random", refuse("Math.random()", ENTROPY));
  if (globalThis.crypto !== undefined) {
    for (const target of [globalThis.crypto, Object.getPrototypeOf(globalThis.crypto)]) {
      replace(target, "getRandomValues", refuse("crypto.getRandomValues()", ENTROPY));
      replace(target, "randomUUID", refuse("crypto.randomUUID()", ENTROPY));
    }
  }
  const timers = "a strategy runs once per bar and call; there are no timers";
  for (const name of ["setTimeout", "setInterval"]) {
    replace(globalThis, name, refuse(`${name}()`, timers));
  }
  replace(globalThis, "fetch", refuse("fetch()", "a strategy has no network and no files: parameters come from the config"));
}
