// The public surface of simdopt, with init()/initSync() that load the embedded wasm by default.

export * from "./surface.js";
export { init, initSync } from "./bindings/embedded.js";
