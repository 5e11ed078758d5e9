// Node from the packed package: the embedded wasm without flags (plain SIMD: Node 20 gates
// relaxed SIMD behind --experimental-wasm-relaxed-simd), initSync with the flag (relaxed build),
// init(URL of the .wasm file), initSync(bytes) with the flag (still the plain build: the file is
// the only one shipped); then simdopt/slim with init(URL) and initSync(bytes) (the slim entry
// embeds no wasm).
import { runModes } from "./pack.mjs";

const FLAG = "--experimental-wasm-relaxed-simd";
const argsFor = (mode) => {
  const [name, flag] = mode.split("+");
  const [entry, loader] = name.startsWith("slim-") ? ["entry-slim.mjs", name.slice(5)] : ["entry.mjs", name];
  return [...(flag === "relaxed" ? [FLAG] : []), "--no-warnings", entry, loader];
};
await runModes("node", process.execPath, argsFor, ["init", "initSync+relaxed", "url", "bytes+relaxed", "slim-url", "slim-bytes+relaxed"]);
