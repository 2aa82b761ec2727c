// Natively (tests in node), `import ... from "sandbar"` resolves to this SDK:
//
//     node --import <checkout>/guest-sdk/js/register.mjs --test
//
// `runtime build` resolves it the same way inside the component.
import { register } from "node:module";

register("./resolve.mjs", import.meta.url);
