// Bun from the packed package.
import { binary, runModes } from "./pack.mjs";

const bun = binary("bun");
await runModes("bun", bun, (mode) => ["entry.mjs", mode], ["init", "initSync", "url", "bytes"]);
