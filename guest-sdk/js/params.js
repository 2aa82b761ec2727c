// Typed strategy parameters, declared on the class:
//
//     static params = {
//       fast: param.int(10, "Lookback of the fast average, in bars."),
//       size: param.float(1.0, "Quantity held while in a position."),
//     };
//
// A JavaScript number does not say whether it is an integer (10 and 10.0 are
// the same value), so the kind is named, as the contract's `param-kind`.
// Errors say how to fix them, in the same words as the Rust SDK's `params!`
// and the Python SDK.

export const INT = "int";
export const FLOAT = "float";
export const BOOLEAN = "boolean";
export const TEXT = "text";

const KIND_NAME = {
  [INT]: "an integer",
  [FLOAT]: "a number",
  [BOOLEAN]: "true or false",
  [TEXT]: "a string",
};

/** A parameter the strategy refuses; its message is what `init` returns. */
export class ParamError extends Error {
  constructor(message) {
    super(message);
    this.name = "ParamError";
  }
}

/** One declared parameter (see `param`). */
export class Param {
  constructor(kind, defaultValue, description = "") {
    const ok = {
      [INT]: (v) => Number.isSafeInteger(v),
      [FLOAT]: (v) => typeof v === "number",
      [BOOLEAN]: (v) => typeof v === "boolean",
      [TEXT]: (v) => typeof v === "string",
    }[kind];
    if (!ok) {
      throw new TypeError(`unknown parameter kind ${JSON.stringify(kind)}: use param.int, param.float, param.bool or param.text`);
    }
    if (!ok(defaultValue)) {
      throw new TypeError(`a param.${kind === BOOLEAN ? "bool" : kind}'s default must be ${KIND_NAME[kind]}, not ${describeValue(defaultValue)}`);
    }
    if (typeof description !== "string") {
      throw new TypeError("a parameter's description must be a string");
    }
    this.kind = kind;
    this.default = defaultValue;
    this.description = description;
    this.name = null; // set when the class's parameters are collected
  }

  /**
   * The value of `kind` ("int", "float", "boolean", "text") as this
   * parameter's type, or a ParamError saying what to write instead. An int
   * is accepted for a float (as the contract says).
   */
  accept(kind, value) {
    if (typeof value === "bigint") {
      // The contract's s64: exact as a number up to 2^53.
      const n = Number(value);
      if (!Number.isSafeInteger(n) && this.kind === INT) {
        throw new ParamError(
          `parameter \`${this.name}\` is ${value}, beyond the integers a JavaScript number holds exactly (±9007199254740991); use a smaller value`,
        );
      }
      value = n;
    }
    if (kind === this.kind) {
      if (kind === INT && !Number.isSafeInteger(value)) {
        throw new ParamError(
          `parameter \`${this.name}\` is ${value}, beyond the integers a JavaScript number holds exactly (±9007199254740991); use a smaller value`,
        );
      }
      return value;
    }
    if (this.kind === FLOAT && kind === INT) {
      return Number(value);
    }
    throw new ParamError(
      `parameter \`${this.name}\` must be ${KIND_NAME[this.kind]}, got ${describeGiven(kind, value)}; for example ${this.name} = ${toml(this.default)}`,
    );
  }
}

/** Declares parameters: `param.int(10, "Lookback, in bars.")`, `param.float`, `param.bool`, `param.text`. */
export const param = Object.freeze({
  int: (defaultValue, description) => new Param(INT, defaultValue, description),
  float: (defaultValue, description) => new Param(FLOAT, defaultValue, description),
  bool: (defaultValue, description) => new Param(BOOLEAN, defaultValue, description),
  text: (defaultValue, description) => new Param(TEXT, defaultValue, description),
});

function describeValue(v) {
  if (typeof v === "string") return `the string ${JSON.stringify(v)}`;
  if (typeof v === "number" && !Number.isSafeInteger(v)) return `the number ${v}`;
  return `${typeof v} ${String(v)}`;
}

function describeGiven(kind, value) {
  switch (kind) {
    case INT:
      return `the integer ${value}`;
    case FLOAT:
      return `the number ${reprFloat(value)}`;
    case BOOLEAN:
      return `the boolean ${value ? "true" : "false"}`;
    default:
      return `the string "${value}"`;
  }
}

// Floats as the Python and Rust SDKs print them: always with a fraction.
function reprFloat(v) {
  return Number.isInteger(v) ? `${v}.0` : String(v);
}

function toml(value) {
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "string") return `"${value}"`;
  return String(value);
}

/**
 * The kind a plain JavaScript value would be given as (for tests that pass
 * `{ fast: 2 }`): an integral number is an int, any other number a float.
 */
export function kindOf(value) {
  if (typeof value === "boolean") return BOOLEAN;
  if (typeof value === "string") return TEXT;
  if (typeof value === "number") return Number.isInteger(value) ? INT : FLOAT;
  if (typeof value === "bigint") return INT;
  throw new TypeError(`a parameter value must be a number, boolean or string, not ${typeof value}`);
}

/**
 * The known name nearest to `name` (optimal string alignment distance at
 * most max(2, len/3), as the Rust SDK's "did you mean"), or null.
 */
export function closest(name, known) {
  let best = null;
  let bestDistance = null;
  for (const k of known) {
    const d = distance(name, k);
    if (d <= Math.max(2, Math.floor(k.length / 3)) && (bestDistance === null || d < bestDistance)) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

function distance(a, b) {
  // Optimal string alignment distance (adjacent transpositions count 1).
  const rows = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push(new Array(b.length + 1).fill(0));
    rows[i][0] = i;
  }
  for (let j = 0; j <= b.length; j++) rows[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      rows[i][j] = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        rows[i][j] = Math.min(rows[i][j], rows[i - 2][j - 2] + 1);
      }
    }
  }
  return rows[a.length][b.length];
}

/** The error for a parameter the strategy does not declare. */
export function unknown(name, known) {
  const best = closest(name, known);
  if (best !== null) return new ParamError(`unknown parameter \`${name}\`; did you mean \`${best}\`?`);
  if (known.length === 0) return new ParamError(`unknown parameter \`${name}\`; this strategy takes no parameters`);
  return new ParamError(`unknown parameter \`${name}\`; known parameters: ${known.join(", ")}`);
}

export function duplicate(name) {
  return new ParamError(`parameter \`${name}\` is given twice; keep one`);
}

/**
 * A value of the right type that the strategy does not accept:
 * `invalid("fast", "must be at least 1 (got 0); the default is 10")`.
 */
export function invalid(name, reason) {
  return new ParamError(`parameter \`${name}\`: ${reason}`);
}
