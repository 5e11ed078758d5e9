// Bundles the package's JS: tsc's per-module output (build/js/, not shipped) becomes one ES module
// per entry of package.json "exports" plus shared chunks (code splitting), minified. One file per
// module cost the tarball a header and a separately compressed copy of every repeated message per
// file; shared code still exists once, so the slim entry's graph holds no embedded wasm (the
// strings live in a chunk only the main and tfjs entries import).
// Class and function names are kept (keepNames) because messages and state dicts use
// `constructor.name`. Declarations come from tsc separately (scripts/prune-types.mjs).
//
//   node scripts/bundle.mjs   (after `tsc --outDir build/js`)
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("../", import.meta.url));
/** Output path without .js → module in build/js/; the same paths as the "exports" targets. */
const ENTRIES = { index: "build/js/index.js", slim: "build/js/slim.js", "interop/tfjs": "build/js/interop/tfjs.js" };

rmSync(`${root}dist`, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: ENTRIES,
  outdir: "dist",
  bundle: true,
  splitting: true,
  chunkNames: "chunk-[hash]",
  format: "esm",
  platform: "neutral",
  target: "es2022",
  minify: true,
  keepNames: true,
  charset: "utf8",
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
});
const outputs = Object.entries(result.metafile.outputs);
console.info(`bundle: ${outputs.map(([file, { bytes }]) => `${file.replace(/^dist\//, "")} ${bytes} B`).join(", ")}`);
