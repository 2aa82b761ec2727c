// Driven by `runtime build` (runtime/src/build/js.rs) with node, in a staged
// copy of a JavaScript strategy: checks and prepares its modules, then makes
// the component with componentize-js, every WASI feature disabled.
//
//     node driver.mjs <request.json>
//
// request: { tools, app, entry, wit, world, out, sources: [relative paths] }
//
// 1. Every source is parsed (oxc-parser, componentize-js's own parser): a
//    syntax error is reported as `file:line:col: SyntaxError: message`.
// 2. Imports are checked: a strategy imports its own files ("./x.js") and
//    the SDK ("sandbar"), nothing else (there are no packages and no node:
//    modules in the sandbox). "sandbar" is rewritten in place to the staged
//    SDK's relative path (lines and columns of everything else unchanged).
// 3. componentize-js runs with the strategy's folder as its working
//    directory, so stack traces name `strategy.js`, not a staged path.
//
// Reproducibility: componentize-js names its work directory after
// Math.random(); it is pinned here (and TMPDIR is the stage's own), so the
// paths baked into the component are the same on every build.

import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, posix } from "node:path";
import { pathToFileURL } from "node:url";

const request = JSON.parse(readFileSync(process.argv[2], "utf8"));
const problems = [];

function position(text, offset) {
  let line = 1;
  let last = -1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line += 1;
      last = i;
    }
  }
  return `${line}:${offset - last}`;
}

const oxcModule = await import(pathToFileURL(join(request.tools, "node_modules/oxc-parser/index.js")).href);
const oxc = oxcModule.default ?? oxcModule;

for (const file of request.sources) {
  const path = join(request.app, file);
  const text = readFileSync(path, "utf8");
  const parsed = oxc.parseSync(file, text, { sourceType: "module" });
  const errors = parsed.errors.filter((e) => e.severity === "Error" || e.severity === undefined);
  if (errors.length > 0) {
    for (const e of errors) {
      const at = e.labels && e.labels.length > 0 ? position(text, e.labels[0].start) : "1:1";
      problems.push(`${file}:${at}: SyntaxError: ${e.message}${e.helpMessage ? ` (${e.helpMessage})` : ""}`);
    }
    continue;
  }
  const sdk = posix.join(relative(dirname(path), join(request.app, "sandbar")).split("\\").join("/") || ".", "index.js");
  const sdkSpecifier = sdk.startsWith(".") ? sdk : `./${sdk}`;
  const edits = [];
  const requests = [
    ...parsed.module.staticImports.map((i) => i.moduleRequest),
    ...parsed.module.staticExports.flatMap((e) => e.entries.map((x) => x.moduleRequest).filter(Boolean)),
  ];
  for (const r of requests) {
    const spec = r.value;
    if (spec === "sandbar") {
      edits.push([r.start, r.end, JSON.stringify(sdkSpecifier)]);
    } else if (!spec.startsWith("./") && !spec.startsWith("../")) {
      problems.push(
        `${file}:${position(text, r.start)}: import of "${spec}": a strategy imports its own files ("./name.js") and "sandbar", nothing else (no packages, no node: modules in the sandbox)`,
      );
    }
  }
  for (const d of parsed.module.dynamicImports) {
    problems.push(`${file}:${position(text, d.start)}: import(): a strategy's imports are static (import ... from "./name.js")`);
  }
  if (edits.length > 0) {
    // Unique spans (an export-from appears once per name), last first.
    const unique = [...new Map(edits.map((e) => [e[0], e])).values()].sort((a, b) => b[0] - a[0]);
    let out = text;
    for (const [start, end, replacement] of unique) out = out.slice(0, start) + replacement + out.slice(end);
    writeFileSync(path, out);
  }
}

if (problems.length > 0) {
  process.stderr.write(`${problems.join("\n")}\n`);
  process.exit(3);
}

Math.random = () => 0.5;
const cjs = await import(
  pathToFileURL(join(request.tools, "node_modules/@bytecodealliance/componentize-js/src/componentize.js")).href
);
process.chdir(request.app);
let built;
try {
  built = await cjs.componentize({
    sourcePath: join(request.app, request.entry),
    witPath: request.wit,
    worldName: request.world,
    disableFeatures: ["stdio", "random", "clocks", "http", "fetch-event"],
  });
} catch (e) {
  // componentize-js's message carries the engine's own report (the
  // exception and its stack); node's stack of the driver would add nothing.
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
writeFileSync(request.out, built.component);
