// The conformance entry for Node, Deno and Bun: imports simdopt by its package name from the
// scratch project pack.mjs prepared, loads it the way argv[0] says, runs conformance.mjs and
// prints the report as one JSON line.
//
//   init      await init()                      (the embedded wasm)
//   initSync  initSync()
//   url       await init(new URL(import.meta.resolve("simdopt/simdopt.wasm")))
//   bytes     initSync(<bytes of the .wasm file read from disk>) — the plain SIMD build, the only
//             one shipped as a file (the relaxed build lives inside the main entry)
// Only the url and bytes modes read files (Deno: -R); static imports need no permission.
import * as simdopt from "simdopt";
import { runConformance } from "./conformance.mjs";
import expected from "./expected.json" with { type: "json" };

const g = globalThis;
const args = g.Deno !== undefined ? g.Deno.args : g.process.argv.slice(2);
const mode = args[0] ?? "init";

async function readBytes(url) {
  if (g.Deno !== undefined) return g.Deno.readFile(url);
  if (g.Bun !== undefined) return new Uint8Array(await g.Bun.file(url).arrayBuffer());
  const { readFile } = await import("node:fs/promises");
  return new Uint8Array(await readFile(url));
}

const loaders = {
  init: () => simdopt.init(),
  initSync: async () => simdopt.initSync(),
  url: () => simdopt.init(new URL(import.meta.resolve("simdopt/simdopt.wasm"))),
  bytes: async () => {
    simdopt.initSync(await readBytes(new URL(import.meta.resolve("simdopt/simdopt.wasm"))));
  },
};
if (!(mode in loaders)) throw new Error(`unknown mode ${mode}; expected one of ${Object.keys(loaders).join(", ")}`);

const report = await runConformance(simdopt, expected, { initialize: loaders[mode], mode });
if (mode === "init") {
  // Threads from the packed package: the worker script must load from the installed files.
  const steps = () => {
    const p = simdopt.parameter([300, 401], { init: "xavierUniform", seed: 3 });
    p.grad.fill(1e-2);
    const optimizer = new simdopt.Adam([p], { lr: 1e-3 });
    for (let i = 0; i < 3; i++) optimizer.step();
    const out = p.data.slice();
    optimizer.dispose();
    p.dispose();
    return out;
  };
  const one = steps();
  const threads = await simdopt.initThreads(2);
  const two = steps();
  report.threadsProbe = { threads, workers: simdopt.features().workers, identical: one.every((v, i) => Object.is(v, two[i])) };
  simdopt.terminateThreads();
}
console.log(JSON.stringify(report));
