// The resolve hook `register.mjs` installs: "sandbar" is this SDK's index.js.
const SDK = new URL("./index.js", import.meta.url).href;

export async function resolve(specifier, context, next) {
  if (specifier === "sandbar") return { url: SDK, shortCircuit: true };
  return next(specifier, context);
}
