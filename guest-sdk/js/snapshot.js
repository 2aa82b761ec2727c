// The snapshot encoding of a JavaScript strategy's state (format version 1).
//
//     bytes 0..4   "SBJS"          magic: a JavaScript SDK snapshot
//     byte  4      1               this encoding's version
//     bytes 5..    UTF-8 JSON      {"layout", "params", "state", "strategy", "symbols"}
//
// The JSON has its object keys sorted and no spaces, so the same state is the
// same bytes. `strategy` is the class's `name`; `layout` its `stateLayout`
// (bump it when the state's shape changes); `symbols` and `params` are what
// the state was built for (only the `carriedParams`). Values are JSON values;
// what JSON cannot say is tagged:
//
//     {"$type": "number", "value": "NaN" | "Infinity" | "-Infinity" | "-0"}
//     {"$type": "bigint", "value": "123"}
//     {"$type": "undefined"}
//     {"$type": "Map", "entries": [[key, value], ...]}   (insertion order)
//     {"$type": "Set", "items": [...]}
//     {"$type": <carried class>, "fields": {...}}        (SDK indicators, carried())
//
// Finite numbers are written as JavaScript's shortest round-trip form, which
// reads back to the same double.
//
// A snapshot that does not match (another encoding version, strategy, layout,
// symbols or parameters) is refused by `restore` with the reason, and the
// host replays history into the new version instead, as for a Rust strategy.

import { carriedName, carriedType } from "./indicators.js";

export const MAGIC = "SBJS";
export const VERSION = 1;

/** A snapshot this instance cannot take over; the host replays instead. */
export class SnapshotError extends Error {
  constructor(message) {
    super(message);
    this.name = "SnapshotError";
  }
}

const TAG = "$type";

function isPlain(value) {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** `value` as JSON-able data, tagged where JSON has no word for it. */
export function encode(value) {
  if (value === null || typeof value === "boolean" || typeof value === "string") return value;
  if (value === undefined) return { [TAG]: "undefined" };
  if (typeof value === "number") {
    if (Number.isFinite(value) && !Object.is(value, -0)) return value;
    return { [TAG]: "number", value: Object.is(value, -0) ? "-0" : String(value) };
  }
  if (typeof value === "bigint") return { [TAG]: "bigint", value: value.toString() };
  if (typeof value !== "object") {
    throw new TypeError(`cannot snapshot a ${typeof value}: use JSON values, SDK indicators, or a class registered with carried()`);
  }
  if (Array.isArray(value)) return value.map(encode);
  if (value instanceof Map) return { [TAG]: "Map", entries: [...value].map(([k, v]) => [encode(k), encode(v)]) };
  if (value instanceof Set) return { [TAG]: "Set", items: [...value].map(encode) };
  if (isPlain(value)) {
    const out = {};
    for (const k of Object.keys(value)) {
      if (k === TAG) throw new TypeError(`a carried object may not use the key '${TAG}'`);
      out[k] = encode(value[k]);
    }
    return out;
  }
  const cls = value.constructor;
  const name = carriedName(cls);
  if (name !== undefined && Object.getPrototypeOf(value) === cls.prototype) {
    const fields = {};
    for (const k of Object.keys(value)) fields[k] = encode(value[k]);
    return { [TAG]: name, fields };
  }
  const what = cls && cls.name ? cls.name : "object";
  throw new TypeError(
    `cannot snapshot a ${what}: use JSON values, SDK indicators, or a class registered with carried(${what})`,
  );
}

/** The inverse of `encode`. */
export function decode(value) {
  if (Array.isArray(value)) return value.map(decode);
  if (value === null || typeof value !== "object") return value;
  const kind = value[TAG];
  if (kind === undefined) {
    const out = {};
    for (const k of Object.keys(value)) out[k] = decode(value[k]);
    return out;
  }
  switch (kind) {
    case "undefined":
      return undefined;
    case "number":
      return value.value === "-0" ? -0 : Number(value.value);
    case "bigint":
      return BigInt(value.value);
    case "Map":
      return new Map(value.entries.map(([k, v]) => [decode(k), decode(v)]));
    case "Set":
      return new Set(value.items.map(decode));
    default: {
      const cls = carriedType(kind);
      if (cls === undefined) {
        throw new SnapshotError(`the snapshot holds a ${kind}, which this version does not have; replaying history instead`);
      }
      const obj = Object.create(cls.prototype);
      for (const k of Object.keys(value.fields)) obj[k] = decode(value.fields[k]);
      return obj;
    }
  }
}

/** JSON with every object's keys sorted (of encoded data: no undefined, no NaN). */
export function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function dump(strategy, layout, symbols, params, state) {
  const doc = {
    layout,
    params: encode(params),
    state: encode(state),
    strategy,
    symbols: [...symbols],
  };
  const text = encoder.encode(canonical(doc));
  const out = new Uint8Array(5 + text.length);
  for (let i = 0; i < 4; i++) out[i] = MAGIC.charCodeAt(i);
  out[4] = VERSION;
  out.set(text, 5);
  return out;
}

/** The state in `data`, after the checks above; SnapshotError if any fails. */
export function load(data, strategy, layout, symbols, params) {
  const bytes = data instanceof Uint8Array ? data : Uint8Array.from(data);
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (magic !== MAGIC) {
    throw new SnapshotError("not a JavaScript SDK snapshot (no SBJS magic); replaying history instead");
  }
  if (bytes.length < 5 || bytes[4] !== VERSION) {
    const got = bytes.length > 4 ? bytes[4] : "none";
    throw new SnapshotError(`snapshot encoding version ${got}, this SDK reads ${VERSION}; replaying history instead`);
  }
  let doc;
  try {
    doc = JSON.parse(decoder.decode(bytes.subarray(5)));
  } catch (e) {
    throw new SnapshotError(`the snapshot is not valid JSON (${e.message}); replaying history instead`);
  }
  if (doc === null || typeof doc !== "object") {
    throw new SnapshotError("the snapshot is not a JSON object; replaying history instead");
  }
  if (doc.strategy !== strategy) {
    throw new SnapshotError(
      `the snapshot is of strategy ${JSON.stringify(doc.strategy)}, not ${JSON.stringify(strategy)}; replaying history instead`,
    );
  }
  if (doc.layout !== layout) {
    throw new SnapshotError(
      `state layout ${doc.layout} in the snapshot, ${layout} in this version (stateLayout changed); replaying history instead`,
    );
  }
  if (canonical(doc.symbols) !== canonical([...symbols])) {
    throw new SnapshotError(
      `the snapshot is for symbols ${canonical(doc.symbols)}, this instance trades ${canonical([...symbols])}; replaying history instead`,
    );
  }
  if (canonical(doc.params) !== canonical(encode(params))) {
    throw new SnapshotError(
      `the snapshot was made with ${canonical(doc.params)}, this instance has ${canonical(encode(params))}; its state does not carry over, replaying history instead`,
    );
  }
  return decode(doc.state);
}
