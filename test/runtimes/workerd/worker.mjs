// The edge check, run by workerd (run-workerd.mjs generates its config.capnp). Compiling wasm from
// bytes is refused there ("Wasm code generation disallowed by embedder"), so the worker imports
// the package's .wasm file as a module — as wrangler's CompiledWasm rule does — and passes the
// module to init() inside the request handler. First it records what init() says for the paths
// that need compilation from bytes: the message must tell the user to import the .wasm instead.
import * as simdopt from "simdopt";
import simdModule from "simdopt/simdopt.wasm";
import wasmBytes from "simdopt/simdopt.wasm.bytes";
import expected from "./expected.json";
import { runConformance } from "./conformance.mjs";

async function refusal(load) {
  try {
    await load();
    return { threw: false };
  } catch (error) {
    return { threw: true, name: error?.name, message: String(error?.message ?? error) };
  }
}

export default {
  async fetch(request, env) {
    const refusals = {
      "init()": await refusal(() => simdopt.init()),
      "init(bytes)": await refusal(() => simdopt.init(new Uint8Array(wasmBytes))),
      "initSync()": await refusal(() => simdopt.initSync()),
      "initSync(bytes)": await refusal(() => simdopt.initSync(wasmBytes)),
    };
    const module = simdModule;
    const report = await runConformance(simdopt, expected, {
      initialize: () => simdopt.init(module),
      mode: "init(imported simdopt.wasm module)",
    });
    report.refusals = refusals;
    report.moduleType = Object.prototype.toString.call(module);
    return new Response(JSON.stringify(report), { headers: { "Content-Type": "application/json" } });
  },
};
