// Minifies every dist/**/*.js in place (after tsc): whitespace, syntax and local names. Class and
// function names are kept (keepNames) because messages and state dicts use `constructor.name`.
// Each file stays its own ES module, so the module graph (and what the slim entry reaches) is
// the one tsc emitted. Declarations (.d.ts) are untouched and keep their TSDoc.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { transformSync } from "esbuild";

const dist = fileURLToPath(new URL("../dist/", import.meta.url));
let before = 0;
let after = 0;
for (const file of readdirSync(dist, { recursive: true, encoding: "utf8" })) {
  if (!file.endsWith(".js")) continue;
  const path = join(dist, file);
  const source = readFileSync(path, "utf8");
  const { code } = transformSync(source, {
    loader: "js",
    format: "esm",
    target: "es2022",
    minify: true,
    keepNames: true,
    charset: "utf8",
    legalComments: "none",
    sourcefile: file,
  });
  writeFileSync(path, code);
  before += Buffer.byteLength(source);
  after += Buffer.byteLength(code);
}
console.info(`minify: dist JS ${before} B → ${after} B`);
