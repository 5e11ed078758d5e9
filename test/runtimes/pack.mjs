// Packs the built package with `npm pack` and installs the tarball into a scratch project, so every
// runtime imports `simdopt` exactly as a user would: by its package name, through package.json
// "exports", from node_modules/simdopt. The scratch project also gets the shared conformance files.
//
// Reused when SIMDOPT_RUNTIME_DIR names an already prepared directory (the vitest file packs once
// and hands the directory to every runner).
import { execFileSync, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
export const runtimesDir = fileURLToPath(new URL("./", import.meta.url));

/** Files of test/runtimes/ every runtime needs beside the package. */
const SHARED_FILES = ["conformance.mjs", "expected.json", "entry.mjs", "entry-slim.mjs"];

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
  // A runner started on its own packs for itself and cleans up on exit; under vitest the test
  // file packs once, hands the directory down, and removes it in afterAll.
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
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

/** node_modules/.bin/<name> of the repository, or a failure naming the runtime. */
export function binary(runtime, name = runtime) {
  const path = join(repoRoot, "node_modules", ".bin", name);
  if (!existsSync(path)) fail(runtime, `${path} is missing (the devDependency "${name}" is not installed: run npm ci)`);
  return path;
}

/**
 * Runs a command that prints one JSON report line; resolves to the parsed report. Rejects with
 * the exit status and stderr when it fails, times out, or prints no JSON.
 */
export function runJson(command, args, { cwd, env = {}, timeoutMs = 30_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`\`${command} ${args.join(" ")}\` timed out after ${timeoutMs} ms; stderr: ${stderr.trim().slice(-2000)}`));
    }, timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot start \`${command}\`: ${error.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const line = stdout.trim().split("\n").pop() ?? "";
      if (code !== 0 || !line.startsWith("{")) {
        reject(new Error(`\`${command} ${args.join(" ")}\` exited with ${signal ?? code}; stderr: ${stderr.trim().slice(-2000) || "(empty)"}; stdout: ${stdout.trim().slice(-500) || "(empty)"}`));
        return;
      }
      try {
        resolve(JSON.parse(line));
      } catch (error) {
        reject(new Error(`\`${command}\` printed invalid JSON: ${error.message}`));
      }
    });
  });
}

/** First line of `command --version`. */
export function versionOf(command, args = ["--version"]) {
  try {
    return execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim().split("\n")[0];
  } catch (error) {
    return `unknown (${error.message})`;
  }
}

/**
 * The shared body of the Node/Deno/Bun runners: runs entry.mjs once per mode and emits
 * `{ runtime, version, runs }`; a runtime that cannot run fails with its name and the reason.
 */
export async function runModes(runtime, command, argsFor, modes, env = {}) {
  let pack;
  try {
    pack = preparePackage();
  } catch (error) {
    fail(runtime, `cannot prepare the packed package: ${error.message}`);
  }
  const runs = [];
  for (const mode of modes) {
    try {
      runs.push(await runJson(command, argsFor(mode), { cwd: pack.dir, env }));
    } catch (error) {
      fail(runtime, `conformance run "${mode}" failed: ${error.message}`);
    }
  }
  emit({ runtime, version: versionOf(command), runs });
}
