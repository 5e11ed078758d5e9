// Main-thread half of the browser run: `?main=<mode>&worker=<mode>` runs the conformance suite
// here, then in a module Web Worker (worker.mjs), and leaves both reports in
// `window.__simdoptReports` for run-browser.mjs to collect.
//   init  await init()                   (the wasm embedded in the package)
//   url   await init(new URL(".../simdopt-simd.wasm"))  (fetched from the server)
//   initSync  initSync()                 (the embedded wasm, compiled synchronously)
import * as simdopt from "simdopt";
import { runConformance } from "/conformance.mjs";

const WASM_URL = "/node_modules/simdopt/dist/simdopt-simd.wasm";
const query = new URLSearchParams(location.search);

async function main() {
  const expected = await (await fetch("/expected.json")).json();
  const mode = query.get("main") ?? "init";
  const initialize = mode === "url" ? () => simdopt.init(new URL(WASM_URL, location.href))
    : mode === "initSync" ? async () => simdopt.initSync()
      : () => simdopt.init();
  const mainReport = await runConformance(simdopt, expected, { initialize, mode });

  const workerMode = query.get("worker") ?? "init";
  const worker = new Worker(`/worker.mjs?mode=${workerMode}`, { type: "module" });
  const workerReport = await new Promise((resolve) => {
    worker.onmessage = (event) => resolve(event.data);
    worker.onerror = (event) => resolve({ ok: false, error: `worker error: ${event.message ?? "failed to load"}`, cases: [] });
  });
  worker.terminate();
  return { main: mainReport, worker: workerReport };
}

main().then(
  (reports) => { window.__simdoptReports = reports; },
  (error) => { window.__simdoptReports = { error: `${error?.name}: ${error?.message ?? error}` }; },
);
