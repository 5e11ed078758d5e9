// What the published package weighs: packs it (npm pack) and prints the tarball's size and the
// gzipped size of each group of files (each group gzipped as one stream, so the groups add up
// roughly, not exactly, to the tarball), plus the JS the slim entry reaches.
// (The tarball is one gzip stream over tar, which adds a header per file.)
//
//   npm run build && node scripts/size-report.mjs
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = fileURLToPath(new URL("../", import.meta.url));
const out = mkdtempSync(join(tmpdir(), "simdopt-size-"));
try {
  const [info] = JSON.parse(execFileSync("npm", ["pack", "--json", "--pack-destination", out], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }));
  const files = info.files.map((file) => file.path);
  // Every JS file on its own line (entries and shared chunks; the chunk the slim entry does not
  // reach holds the embedded wasm), the rest by kind.
  const groups = {
    ...Object.fromEntries(files.filter((f) => f.endsWith(".js")).map((f) => [f, (g) => g === f])),
    "dist/*.wasm": (f) => f.endsWith(".wasm"),
    "README.md": (f) => f === "README.md",
    ".d.ts": (f) => f.endsWith(".d.ts"),
    "package.json, LICENSE": (f) => f === "package.json" || f === "LICENSE",
  };
  const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
  console.log(`tarball: ${statSync(join(out, info.filename)).size} B (${kib(statSync(join(out, info.filename)).size)}) gzipped; limit 131072 B (128 KiB, test/runtimes.test.ts)`);
  for (const [name, test] of Object.entries(groups)) {
    const chosen = files.filter(test);
    const raw = Buffer.concat(chosen.map((file) => readFileSync(join(root, file))));
    console.log(`  ${name.padEnd(40)} ${String(chosen.length).padStart(3)} files  ${kib(raw.length).padStart(10)} raw  ${kib(gzipSync(raw, { level: 9 }).length).padStart(9)} gz`);
  }
  // The slim entry's static import graph (what a bundler starts from).
  const seen = [join(root, "dist", "slim.js")];
  for (let i = 0; i < seen.length; i++) {
    for (const match of readFileSync(seen[i], "utf8").matchAll(/(?:\bfrom|\bimport)\s*["'](\.{1,2}\/[^"']+)["']/g)) {
      const file = join(dirname(seen[i]), match[1]);
      if (!seen.includes(file)) seen.push(file);
    }
  }
  const slim = Buffer.concat(seen.map((file) => readFileSync(file)));
  console.log(`simdopt/slim reaches ${seen.length} modules: ${kib(slim.length)} raw, ${kib(gzipSync(slim, { level: 9 }).length)} gz`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
