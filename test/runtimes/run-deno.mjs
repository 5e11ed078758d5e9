// Deno from the packed package (node_modules resolution through the scratch package.json). No
// permissions for the embedded wasm — static imports need none, and --no-prompt turns any other
// access into an error instead of a prompt; -R (read) only where the .wasm file is read.
import { binary, runModes } from "./pack.mjs";

const deno = binary("deno");
const argsFor = (mode) => ["run", "--no-prompt", ...(mode === "url" || mode === "bytes" ? ["-R"] : []), "entry.mjs", mode];
await runModes("deno", deno, argsFor, ["init", "initSync", "url", "bytes"], { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" });
