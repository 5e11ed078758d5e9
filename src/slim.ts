// simdopt/slim: the same public surface as "simdopt", without the embedded wasm. init()/initSync()
// need the module (the .wasm file's URL, its bytes, a Response or a WebAssembly.Module); nothing
// reachable from here imports bindings/wasm.ts, so bundles made from this entry carry no wasm.

export * from "./surface.js";
export { init, initSync } from "./bindings/instance.js";
