// Bundles the package's JS: tsc's per-module output (build/js/, not shipped) becomes one ES module
// per entry of package.json "exports" plus shared chunks (code splitting), minified. One file per
// module cost the tarball a header and a separately compressed copy of every repeated message per
// file; shared code still exists once, so the slim entry's graph holds no embedded wasm (the
// strings live in a chunk only the main and tfjs entries import).
// Local names are then shortened by terser, which can keep class names alone (messages and state
// dicts use `constructor.name`): esbuild's keepNames keeps every function's name too, through a
// helper call per function, which cost ~1.8 KB gzipped. The bundle fails if any class that
// ships lost its name. Declarations come from tsc separately (scripts/prune-types.mjs).
//
//   node scripts/bundle.mjs   (after `tsc --outDir build/js`)
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { minify } from "terser";

const root = fileURLToPath(new URL("../", import.meta.url));
/** Output path without .js → module in build/js/; the same paths as the "exports" targets. */
// The thread pool's worker script is an entry too: the pool (a chunk in dist/, loaded by a dynamic
// import) starts it as new URL("./worker.js", import.meta.url).
const ENTRIES = { index: "build/js/index.js", slim: "build/js/slim.js", "interop/tfjs": "build/js/interop/tfjs.js", worker: "build/js/threads/worker.js" };

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
  // Syntax only: identifiers are left for terser (below), so that class names survive as written.
  minifySyntax: true,
  charset: "utf8",
  legalComments: "none",
  write: false,
  logLevel: "warning",
});
// Classes whose name is a binding (`class X`, or `var X = class`, which esbuild writes for
// bundled classes) keep it: terser does not mangle those bindings.
const classBindings = new Set(result.outputFiles.flatMap((file) =>
  [...file.text.matchAll(/\bclass\s+([A-Za-z_$][\w$]*)|\b([A-Za-z_$][\w$]*)\s*=\s*class\b/g)].map((m) => m[1] ?? m[2])));
const sizes = [];
for (const file of result.outputFiles) {
  const { code } = await minify(file.text, {
    module: true,
    ecma: 2022,
    compress: false,
    mangle: { reserved: [...classBindings] },
    keep_classnames: true,
    keep_fnames: false,
    format: { comments: false, ascii_only: false },
  });
  mkdirSync(dirname(file.path), { recursive: true });
  writeFileSync(file.path, code);
  sizes.push(`${relative(join(root, "dist"), file.path)} ${Buffer.byteLength(code)} B`);
}
console.info(`bundle: ${sizes.join(", ")}`);

// Every exported class keeps its source name (the export name), and so do the others: a class
// esbuild renamed to avoid a clash (`Foo2`) would show up here as well.
for (const entry of Object.keys(ENTRIES)) {
  const module = await import(pathToFileURL(join(root, "dist", `${entry}.js`)).href);
  for (const [name, value] of Object.entries(module)) {
    if (typeof value === "function" && /^class\b/.test(Function.prototype.toString.call(value)) && value.name !== name) {
      throw new Error(`bundle: ${entry}.js exports class ${name} named "${value.name}"`);
    }
  }
}
const renamed = [...classBindings].filter((name) => /\d$/.test(name));
if (renamed.length > 0) throw new Error(`bundle: esbuild renamed classes ${renamed.join(", ")} (name clash)`);
