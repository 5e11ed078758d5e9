// Worker half of the browser run. Import maps do not reach workers, so the package entry is
// imported by its URL (what a bundler would rewrite "simdopt" to).
import * as simdopt from "/node_modules/simdopt/dist/index.js";
import { runConformance } from "/conformance.mjs";

const WASM_URL = "/node_modules/simdopt/dist/simdopt-simd.wasm";
const mode = new URLSearchParams(self.location.search).get("mode") ?? "init";

try {
  const expected = await (await fetch("/expected.json")).json();
  const initialize = mode === "url" ? () => simdopt.init(new URL(WASM_URL, self.location.href))
    : mode === "initSync" ? async () => simdopt.initSync()
      : () => simdopt.init();
  self.postMessage(await runConformance(simdopt, expected, { initialize, mode }));
} catch (error) {
  self.postMessage({ ok: false, error: `${error?.name}: ${error?.message ?? error}`, cases: [] });
}
