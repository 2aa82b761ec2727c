// Imported first by the entry module `runtime build` generates, so the
// sandbox guards (sandbox.js) are in place before the strategy's own
// modules are evaluated (at build time, inside the component's snapshot).
import { install } from "./sandbox.js";

install();
