// Writes docs/optimizers.md from the optimizer spec table; with --check, exits 1 if it is stale.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { optimizerTable } from "../test/optim/spec.mjs";

const path = fileURLToPath(new URL("../docs/optimizers.md", import.meta.url));
const table = optimizerTable();
if (process.argv.includes("--check")) {
  let current = "";
  try { current = readFileSync(path, "utf8"); } catch { /* missing: stale */ }
  if (current !== table) {
    console.error("docs/optimizers.md is stale: run node scripts/optimizer-table.mjs");
    process.exit(1);
  }
} else {
  writeFileSync(path, table);
}
