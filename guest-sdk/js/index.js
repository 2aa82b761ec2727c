// Sandbar's JavaScript guest SDK: write a trading strategy as a `Strategy`
// subclass; `runtime build` turns it into a `sandbar:strategy@0.1.0`
// component (componentize-js, WASI disabled: no files, clock, randomness or
// network). See guest-sdk/js/README.md.

export * as log from "./log.js";
export { ABOVE, BELOW, CrossDetector, Ema, Rsi, Sma, carried, longest } from "./indicators.js";
export { BUY, SELL, Order, Orders } from "./orders.js";
export { ParamError, param } from "./params.js";
export { SnapshotError } from "./snapshot.js";
export { SandboxError } from "./sandbox.js";
export { Bar, Fill, PerSymbol, Position, Strategy } from "./strategy.js";

export const version = "0.1.0";
