// Node from the packed package: the embedded wasm without flags (plain SIMD: Node 20 gates
// relaxed SIMD behind --experimental-wasm-relaxed-simd), initSync with the flag (relaxed build),
// and init(URL of the .wasm file).
import { runModes } from "./pack.mjs";

const FLAG = "--experimental-wasm-relaxed-simd";
const argsFor = (mode) => {
  const [name, flag] = mode.split("+");
  return [...(flag === "relaxed" ? [FLAG] : []), "--no-warnings", "entry.mjs", name];
};
await runModes("node", process.execPath, argsFor, ["init", "initSync+relaxed", "url", "bytes+relaxed"]);
