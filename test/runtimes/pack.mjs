// Packs the built package with `npm pack` and installs the tarball into a scratch project, so every
// runtime imports `simdopt` exactly as a user would: by its package name, through package.json
// "exports", from node_modules/simdopt. The scratch project also gets the shared conformance files.
//
// Reused when SIMDOPT_RUNTIME_DIR names an already prepared directory (the vitest file packs once
// and hands the directory to every runner).
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
export const runtimesDir = fileURLToPath(new URL("./", import.meta.url));

/** Files of test/runtimes/ every runtime needs beside the package. */
const SHARED_FILES = ["conformance.mjs", "expected.json", "entry.mjs"];

/**
 * Returns `{ dir, tarball, files, packedBytes, unpackedBytes }`: `dir` holds package.json,
 * node_modules/simdopt (the unpacked tarball) and the shared conformance files.
 */
export function preparePackage() {
  const reuse = process.env.SIMDOPT_RUNTIME_DIR;
  if (reuse && existsSync(join(reuse, "pack.json"))) return JSON.parse(readFileSync(join(reuse, "pack.json"), "utf8"));

  if (!existsSync(join(repoRoot, "dist", "index.js"))) {
    throw new Error("simdopt is not built: run `npm run build` first (dist/index.js is missing)");
  }
  const dir = mkdtempSync(join(tmpdir(), "simdopt-runtimes-"));
  const [info] = JSON.parse(execFileSync("npm", ["pack", "--json", "--pack-destination", dir], {
    cwd: repoRoot,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  }));
  const tarball = join(dir, info.filename);
  const install = join(dir, "node_modules", "simdopt");
  mkdirSync(install, { recursive: true });
  execFileSync("tar", ["-xzf", tarball, "-C", install, "--strip-components=1"]);
  writeFileSync(join(dir, "package.json"), JSON.stringify({
    name: "simdopt-runtime-check",
    private: true,
    type: "module",
    dependencies: { simdopt: info.version },
  }, null, 2));
  for (const file of SHARED_FILES) copyFileSync(join(runtimesDir, file), join(dir, file));
  const result = {
    dir,
    tarball,
    packedBytes: statSync(tarball).size,
    unpackedBytes: info.unpackedSize,
    files: info.files.map((file) => file.path).sort(),
    version: info.version,
  };
  writeFileSync(join(dir, "pack.json"), JSON.stringify(result, null, 2));
  return result;
}

/** Every file under `root` (relative paths, "/"-separated), for listing modules to workerd. */
export function listFiles(root, prefix = "") {
  const out = [];
  for (const entry of readdirSync(join(root, prefix), { withFileTypes: true })) {
    const path = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...listFiles(root, path));
    else out.push(path);
  }
  return out.sort();
}

/** Prints a runner's result as the single JSON line the vitest file parses. */
export function emit(result) {
  process.stdout.write(JSON.stringify(result) + "\n");
}

/** Ends a runner that could not start its runtime: the message says which runtime and why. */
export function fail(runtime, why) {
  process.stderr.write(`${runtime}: ${why}\n`);
  process.exit(1);
}
