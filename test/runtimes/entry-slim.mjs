// The conformance entry for simdopt/slim (Node): imports the slim entry by its package name from
// the scratch project pack.mjs prepared and loads the .wasm the way argv[0] says:
//
//   url    await init(new URL(import.meta.resolve("simdopt/simdopt.wasm")))
//   bytes  initSync(<bytes of the .wasm file>) — the plain SIMD build (the only one shipped as a file)
//
// and first checks that init()/initSync() without a source refuse with the message naming the fix.
import * as simdopt from "simdopt/slim";
import { readFile } from "node:fs/promises";
import { runConformance } from "./conformance.mjs";
import expected from "./expected.json" with { type: "json" };

const mode = process.argv[2] ?? "url";

/** What init()/initSync() without a source do here: they must throw, naming the .wasm and the main entry. */
async function refusals() {
  const out = {};
  for (const [call, run] of [["init()", () => simdopt.init()], ["initSync()", async () => simdopt.initSync()]]) {
    try {
      await run();
      out[call] = { threw: false };
    } catch (error) {
      out[call] = { threw: true, message: error instanceof Error ? error.message : String(error) };
    }
  }
  return out;
}

const loaders = {
  url: () => simdopt.init(new URL(import.meta.resolve("simdopt/simdopt.wasm"))),
  bytes: async () => {
    simdopt.initSync(await readFile(new URL(import.meta.resolve("simdopt/simdopt.wasm"))));
  },
};
if (!(mode in loaders)) throw new Error(`unknown mode ${mode}; expected one of ${Object.keys(loaders).join(", ")}`);

const refused = await refusals();
const report = await runConformance(simdopt, expected, { initialize: loaders[mode], mode: `slim-${mode}` });
report.refusals = refused;
console.log(JSON.stringify(report));
