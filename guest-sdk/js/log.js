// Logging through the contract's only import, `host.log`. Inside the
// component the generated entry module connects it (`connect`); natively
// (tests), lines go to `lines` instead.

export const TRACE = "trace";
export const DEBUG = "debug";
export const INFO = "info";
export const WARN = "warn";
export const ERROR = "error";

/** What was logged natively: [level, message] pairs. */
export const lines = [];

let host = null;

/** Sends every later line to `hostLog(level, message)` (the contract's `host.log`). */
export function connect(hostLog) {
  host = hostLog;
}

export function log(level, message) {
  const text = String(message);
  if (host !== null) {
    host(level, text);
  } else {
    lines.push([level, text]);
  }
}

export const trace = (message) => log(TRACE, message);
export const debug = (message) => log(DEBUG, message);
export const info = (message) => log(INFO, message);
export const warn = (message) => log(WARN, message);
export const error = (message) => log(ERROR, message);
