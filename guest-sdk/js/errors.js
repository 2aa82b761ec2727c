// An exception as a JavaScript author can act on it: the innermost frame of
// the strategy's own code as file:line, the exception, and the stack.
//
// With WASI disabled there is no stderr, so the export glue (export.js) sends
// this one-line text through the contract: as `init`'s or `restore`'s error
// result, and as an error line of `host.log` before any other export traps
// (the host attaches a call's last error line to the trap it reports).

// Frames of these files are the SDK's, not the author's.
const SDK_MARKERS = ["sandbar/", "guest-sdk/js/"];

// SpiderMonkey (inside the component): "fn@file:line:col".
const SPIDERMONKEY = /^(.*?)@(.*):(\d+):(\d+)$/;
// V8 (node, the native tests): "    at fn (file:line:col)" or "    at file:line:col".
const V8 = /^\s*at (?:(.*?) \()?(.*?):(\d+):(\d+)\)?$/;

// The SDK is one flat folder: `sandbar/<file>` inside the component,
// `.../guest-sdk/js/<file>` natively (its tests/ are not the SDK).
function short(file) {
  const f = file.replace(/^file:\/\//, "");
  for (const marker of SDK_MARKERS) {
    const at = f.startsWith(marker) ? 0 : f.lastIndexOf(`/${marker}`) + 1;
    if (at > 0 || f.startsWith(marker)) {
      const rest = f.slice(at + marker.length);
      if (!rest.includes("/")) return `sandbar/${rest}`;
    }
  }
  // Inside the component the paths are already relative to the strategy's
  // directory; natively, the file's name is what an author recognises.
  return f.startsWith("/") ? f.slice(f.lastIndexOf("/") + 1) : f;
}

function isSdk(file) {
  return short(file).startsWith("sandbar/");
}

/** The frames of `error.stack`, innermost first: {fn, file, line, column}. */
export function frames(error) {
  const stack = error !== null && typeof error === "object" && typeof error.stack === "string" ? error.stack : "";
  const out = [];
  for (const line of stack.split("\n")) {
    const m = SPIDERMONKEY.exec(line) ?? V8.exec(line);
    if (!m) continue;
    const file = m[2];
    // Skip the engine's and node's own frames, and componentize-js's
    // generated bindings (`initializer.js`, which calls the SDK's glue).
    if (file.startsWith("node:") || file === "native" || file === "" || file.endsWith("initializer.js")) continue;
    let fn = (m[1] ?? "").replace(/^async\s+/, "").replace(/^new\s+/, "");
    // SpiderMonkey writes "Class.prototype.method" or "method"; V8 "Class.method".
    fn = fn.replace(/\.prototype\./, ".").replace(/\/<$/, "") || "<anonymous>";
    out.push({ fn, file: short(file), line: Number(m[3]), column: Number(m[4]), sdk: isSdk(file) });
  }
  return out;
}

/** `file.js:line:col in fn` of the innermost frame outside the SDK, or "?". */
export function where(error) {
  const all = frames(error);
  const own = all.filter((f) => !f.sdk);
  const frame = (own.length > 0 ? own : all)[0];
  return frame ? `${frame.file}:${frame.line}:${frame.column} in ${frame.fn}` : "?";
}

function typeName(error) {
  if (error instanceof Error || (error !== null && typeof error === "object" && typeof error.name === "string")) {
    return error.name || "Error";
  }
  return `thrown ${error === null ? "null" : typeof error}`;
}

function message(error) {
  let text;
  if (error instanceof Error) {
    text = error.message;
  } else {
    try {
      text = typeof error === "string" ? error : JSON.stringify(error) ?? String(error);
    } catch {
      text = String(error);
    }
  }
  return String(text).split(/\s+/).filter(Boolean).join(" ");
}

/**
 * One line (the host's log keeps a line to one line): the export, the
 * exception, where in the author's code, then the whole stack, most recent
 * call last (the order the Python SDK writes it):
 *
 *     onBar raised TypeError: x is undefined at strategy.js:12:5 in SmaCross.onBar
 *     (stack: sandbar/export.js:80:7 in onBar > strategy.js:12:5 in SmaCross.onBar)
 */
export function describe(exportName, error) {
  const chain = frames(error)
    .reverse()
    .map((f) => `${f.file}:${f.line}:${f.column} in ${f.fn}`)
    .join(" > ");
  const head = `${exportName} raised ${typeName(error)}: ${message(error)} at ${where(error)}`;
  return chain ? `${head} (stack: ${chain})` : head;
}
