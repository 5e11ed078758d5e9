// Headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core: the conformance suite
// on the main thread and in a module Web Worker, from the packed package served by a tiny Node
// server on 127.0.0.1. Two origins:
//   isolated — served with COOP same-origin + COEP require-corp: cross-origin isolated, so
//              shared memory is available (features().threads true);
//   plain    — no such headers: no SharedArrayBuffer, so init() falls back to a plain memory
//              (threads false) and the suite must still pass.
// Each origin runs the main thread with one loading mode and the worker with the other, so both
// init() (embedded wasm) and init(URL of the .wasm) run in both kinds of context; initSync()
// runs in both on the plain origin.
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize, sep } from "node:path";
import { emit, fail, preparePackage, runtimesDir, versionOf } from "./pack.mjs";

const CHROMIUM = process.env.SIMDOPT_CHROMIUM ?? "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".json": "application/json", ".wasm": "application/wasm" };
const SCENARIOS = [
  { origin: "isolated", main: "init", worker: "url" },
  { origin: "plain", main: "url", worker: "init" },
  { origin: "plain", main: "initSync", worker: "initSync" },
];

function serve(root, isolated) {
  const routes = {
    "/": join(runtimesDir, "browser", "index.html"),
    "/page.mjs": join(runtimesDir, "browser", "page.mjs"),
    "/worker.mjs": join(runtimesDir, "browser", "worker.mjs"),
    "/conformance.mjs": join(root, "conformance.mjs"),
    "/expected.json": join(root, "expected.json"),
  };
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://127.0.0.1").pathname;
    let file = routes[path];
    if (file === undefined && path.startsWith("/node_modules/simdopt/")) {
      const packageRoot = join(root, "node_modules", "simdopt");
      const candidate = normalize(join(packageRoot, decodeURIComponent(path.slice("/node_modules/simdopt/".length))));
      if (candidate.startsWith(packageRoot + sep)) file = candidate;
    }
    const headers = { "Cache-Control": "no-store" };
    if (isolated) {
      headers["Cross-Origin-Opener-Policy"] = "same-origin";
      headers["Cross-Origin-Embedder-Policy"] = "require-corp";
    }
    if (path === "/favicon.ico") {
      response.writeHead(204, headers).end();
      return;
    }
    let body;
    try {
      if (file === undefined || !statSync(file).isFile()) throw new Error("not found");
      body = readFileSync(file);
    } catch {
      response.writeHead(404, headers).end("not found");
      return;
    }
    headers["Content-Type"] = TYPES[extname(file)] ?? "application/octet-stream";
    response.writeHead(200, headers).end(body);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

async function main() {
  let playwright;
  try {
    playwright = await import("playwright-core");
  } catch (error) {
    throw new Error(`playwright-core cannot be imported (${error.message}); run npm ci`);
  }
  try {
    statSync(CHROMIUM);
  } catch {
    throw new Error(`${CHROMIUM} does not exist: install it with \`apt-get update && apt-get install -y chromium\``);
  }
  let pack;
  try {
    pack = preparePackage();
  } catch (error) {
    throw new Error(`cannot prepare the packed package: ${error.message}`);
  }

  const servers = { isolated: await serve(pack.dir, true), plain: await serve(pack.dir, false) };
  const userDataDir = mkdtempSync(join(tmpdir(), "simdopt-chromium-"));
  let context;
  try {
    try {
      context = await playwright.chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        args: ARGS,
        timeout: 30_000,
      });
    } catch (error) {
      throw new Error(`cannot launch ${CHROMIUM}: ${error.message.split("\n").slice(0, 6).join(" | ")}`);
    }
    const runs = [];
    let browserVersion = context.browser()?.version() ?? null;
    for (const scenario of SCENARIOS) {
      const page = await context.newPage();
      const problems = [];
      page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
      page.on("console", (message) => { if (message.type() === "error") problems.push(`console: ${message.text()}`); });
      page.on("requestfailed", (request) => problems.push(`request failed: ${request.url()}`));
      const { port } = servers[scenario.origin].address();
      const url = `http://127.0.0.1:${port}/?main=${scenario.main}&worker=${scenario.worker}`;
      let reports;
      try {
        await page.goto(url, { waitUntil: "load", timeout: 20_000 });
        await page.waitForFunction(() => globalThis.__simdoptReports !== undefined, undefined, { timeout: 30_000 });
        reports = await page.evaluate(() => globalThis.__simdoptReports);
      } catch (error) {
        throw new Error(`${scenario.origin} page ${url} produced no report: ${error.message.split("\n")[0]}; ${problems.join("; ") || "no page errors"}`);
      }
      if (reports.error !== undefined) throw new Error(`${scenario.origin} page failed: ${reports.error}; ${problems.join("; ")}`);
      const crossOriginIsolated = await page.evaluate(() => globalThis.crossOriginIsolated);
      browserVersion ??= await page.evaluate(() => navigator.userAgent);
      for (const [context_, report] of Object.entries(reports)) {
        runs.push({ ...report, origin: scenario.origin, context: context_, crossOriginIsolated, problems });
      }
      await page.close();
    }
    emit({ runtime: "chromium", version: versionOf(CHROMIUM), browserVersion, runs });
  } finally {
    await context?.close().catch(() => {});
    for (const server of Object.values(servers)) server.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
}

// Errors are thrown inside main() so that its finally blocks close the browser / stop workerd;
// only then does the runner exit with the reason.
await main().catch((error) => fail("chromium", error.message));
