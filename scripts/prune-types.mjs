// Keeps only the declarations a consumer can reach: the "types" of each package.json "exports"
// entry and the .d.ts files they import, transitively. tsc declares every module, but the JS is
// bundled (scripts/bundle.mjs), so declarations of modules no public type mentions would ship
// as dead weight.
//
//   node scripts/prune-types.mjs   (after `tsc --emitDeclarationOnly`)
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const dist = join(root, "dist");
const { exports } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const reached = Object.values(exports).flatMap((target) => (typeof target === "object" && target.types ? [join(root, target.types)] : []));
for (let i = 0; i < reached.length; i++) {
  // Static `import`/`export … from` and inline `import("…")` types.
  for (const match of readFileSync(reached[i], "utf8").matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*)["'](\.{1,2}\/[^"']+)\.js["']/g)) {
    const file = join(dirname(reached[i]), `${match[1]}.d.ts`);
    if (!reached.includes(file)) reached.push(file);
  }
}
const removed = [];
for (const file of readdirSync(dist, { recursive: true, encoding: "utf8" })) {
  const path = join(dist, file);
  if (file.endsWith(".d.ts") && !reached.includes(path)) {
    rmSync(path);
    removed.push(relative(dist, path));
  }
}
console.info(`prune-types: ${reached.length} declaration files kept, ${removed.length} removed (${removed.join(", ")})`);
