// Runs everywhere: the conformance suite (test/runtimes/conformance.mjs) in Node, Deno, Bun and
// workerd (Chromium: test/browser/, `npm run test:browser`), each
// against the packed package imported by its name; feature detection with stubbed
// WebAssembly; and the hygiene of what `npm pack` ships.
//
// Each runtime runs as a child process (test/runtimes/run-*.mjs) that prints one JSON report.
// A runtime that cannot start fails its test with the runner's message (which runtime, why).

import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { pathToFileURL } from "node:url";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
// @ts-expect-error -- plain ESM helpers shared with the runners (no declarations)
import { repoRoot, runtimesDir } from "./runtimes/pack.mjs";
// @ts-expect-error -- plain ESM, see above
import { format, generate } from "./runtimes/generate-expected.mjs";
import { expectReport, record, type Report, runRuntime, supportedCases, usePackedPackage } from "./runtimes/harness.js";

const packed = usePackedPackage();

describe("conformance in every runtime, from the packed package", () => {
  it("expected.json is exactly what generate-expected.mjs computes", () => {
    const stored = readFileSync(join(runtimesDir, "expected.json"), "utf8");
    expect(stored, "run `node test/runtimes/generate-expected.mjs`").toBe(format(generate()));
  });

  it("the conformance table covers at least init, parameter, SGD, Adam, AdamW and the growth probe", () => {
    expect(supportedCases()).toEqual(expect.arrayContaining(["SGD", "Adam", "AdamW"]));
  });

  it("Node: init(), initSync() with --experimental-wasm-relaxed-simd, init(URL), initSync(bytes); simdopt/slim with init(URL) and initSync(bytes)", async () => {
    const output = await runRuntime("node", 90_000);
    expect(output.runs.map((r) => r.mode)).toEqual(["init", "initSync", "url", "bytes", "slim-url", "slim-bytes"]);
    const [plain, relaxedSync, url, bytes, slimUrl, slimBytes] = output.runs as [Report, Report, Report, Report, Report, Report];
    expectReport(plain, "node init", { relaxedSupported: false, threads: true, loadsRelaxed: true });
    expect((plain as { threadsProbe?: unknown }).threadsProbe).toEqual({ threads: 2, workers: 2, identical: true });
    expectReport(relaxedSync, "node --experimental-wasm-relaxed-simd initSync", { relaxedSupported: true, threads: true, loadsRelaxed: true });
    expectReport(url, "node init(URL)", { relaxedSupported: false, threads: true, loadsRelaxed: false });
    expectReport(bytes, "node --experimental-wasm-relaxed-simd initSync(bytes)", { relaxedSupported: true, threads: true, loadsRelaxed: false });
    expectReport(slimUrl, "node simdopt/slim init(URL)", { relaxedSupported: false, threads: true, loadsRelaxed: false });
    expectReport(slimBytes, "node --experimental-wasm-relaxed-simd simdopt/slim initSync(bytes)", { relaxedSupported: true, threads: true, loadsRelaxed: false });
    // Without a source the slim entry has nothing to load: both calls throw and name the fix.
    for (const report of [slimUrl, slimBytes]) {
      expect(Object.keys(report.refusals ?? {})).toEqual(["init()", "initSync()"]);
      for (const [call, outcome] of Object.entries(report.refusals ?? {})) {
        expect(outcome.threw, `simdopt/slim ${call} without a source must throw`).toBe(true);
        expect(outcome.message).toMatch(/^simdopt\/slim: init(Sync)?\(\) needs the wasm module/);
        expect(outcome.message).toMatch(/"simdopt\/simdopt\.wasm"/);
        expect(outcome.message).toMatch(/import from "simdopt", which embeds it/);
      }
    }
    record(output, "init, initSync, init(URL), initSync(bytes); simdopt/slim init(URL), initSync(bytes); relaxed SIMD only with the flag");
  });

  for (const runtime of ["deno", "bun"] as const) {
    it(`${runtime === "deno" ? "Deno" : "Bun"}: init(), initSync(), init(URL), initSync(bytes)`, async () => {
      const output = await runRuntime(runtime);
      expect(output.runs.map((r) => r.mode)).toEqual(["init", "initSync", "url", "bytes"]);
      for (const report of output.runs) {
        expect(report.runtime.name).toBe(runtime);
        expectReport(report, `${runtime} ${report.mode}`, { relaxedSupported: true, threads: true, loadsRelaxed: report.mode === "init" || report.mode === "initSync" });
      }
      // Two threads from the installed package, bit-identical to one.
      expect((output.runs[0] as { threadsProbe?: unknown }).threadsProbe).toEqual({ threads: 2, workers: 2, identical: true });
      record(output, "init, initSync, init(URL), initSync(bytes); relaxed SIMD, shared memory");
    });
  }

  it("workerd: init(imported .wasm module) in the request handler; bytes are refused with a message naming the fix", async () => {
    const output = await runRuntime("workerd");
    expect(output.runs.map((r) => r.service)).toEqual(["simd"]);
    for (const report of output.runs) {
      expect(report.runtime.name).toBe("workerd");
      expectReport(report, `workerd ${report.service}`, { relaxedSupported: true, threads: true, loadsRelaxed: false });
      for (const [call, outcome] of Object.entries(report.refusals ?? {})) {
        expect(outcome.threw, `${call} must fail where code generation is disallowed`).toBe(true);
        expect(outcome.message).toMatch(/forbids compiling WebAssembly from bytes/);
        expect(outcome.message).toMatch(/import wasm from "simdopt\/simdopt\.wasm"/);
        expect(outcome.message).toMatch(call.startsWith("initSync") ? /initSync\(wasm\)/ : /await init\(wasm\)/);
      }
      expect(Object.keys(report.refusals ?? {})).toEqual(["init()", "init(bytes)", "initSync()", "initSync(bytes)"]);
    }
    record(output, "init(module) with simdopt.wasm imported as a wasm module; init()/bytes refused with the fix in the message");
  });
});

// ---------------------------------------------------------------------------------------------
// Feature detection in Node with WebAssembly stubbed, on a fresh instance of the source modules.

/** Any SIMD instruction: the 0xfd prefix. Relaxed SIMD: opcodes 0x100–0x113, LEB128 (0x80–0x93, 0x02). */
function usesSimd(bytes: Uint8Array): boolean {
  return bytes.includes(0xfd);
}
function usesRelaxedSimd(bytes: Uint8Array): boolean {
  for (let i = 0; i + 2 < bytes.length; i++) {
    if (bytes[i] === 0xfd && bytes[i + 1]! >= 0x80 && bytes[i + 1]! <= 0x93 && bytes[i + 2] === 0x02) return true;
  }
  return false;
}
function asBytes(source: BufferSource): Uint8Array {
  return ArrayBuffer.isView(source) ? new Uint8Array(source.buffer, source.byteOffset, source.byteLength) : new Uint8Array(source);
}

type Library = typeof import("../src/index.js");
async function freshLibrary(): Promise<Library> {
  vi.resetModules();
  return import("../src/index.js");
}

describe("feature detection (Node, stubbed WebAssembly)", () => {
  const validate = WebAssembly.validate;
  afterEach(() => {
    vi.restoreAllMocks();
    vi.resetModules();
  });

  it("a runtime without wasm SIMD gets an error from init() and initSync() naming the missing feature", async () => {
    vi.spyOn(WebAssembly, "validate").mockImplementation((bytes) => !usesSimd(asBytes(bytes)) && validate(bytes));
    const lib = await freshLibrary();
    expect(lib.features()).toMatchObject({ simd: false, relaxedSimd: false });
    await expect(lib.init()).rejects.toThrow(/does not support WebAssembly SIMD/);
    expect(() => lib.initSync()).toThrow(/does not support WebAssembly SIMD/);
    expect(() => lib.parameter([3])).toThrow(/init\(\)/);
  });

  it("without relaxed SIMD, init() loads the plain SIMD build and features() says so", async () => {
    vi.spyOn(WebAssembly, "validate").mockImplementation((bytes) => !usesRelaxedSimd(asBytes(bytes)) && validate(bytes));
    const lib = await freshLibrary();
    expect(lib.features()).toMatchObject({ simd: true, relaxedSimd: false });
    await lib.init();
    expect(lib.features()).toMatchObject({ simd: true, relaxedSimd: false });
    const w = lib.parameter([5], { init: [1, 2, 3, 4, 5] });
    w.grad.set([1, 1, 1, 1, 1]);
    new lib.SGD([w], { lr: 0.5 }).step();
    expect(Array.from(w.data)).toEqual([0.5, 1.5, 2.5, 3.5, 4.5]);
  });

  it("without shared memory (a page that is not cross-origin isolated), init() falls back to a plain memory", async () => {
    const Memory = WebAssembly.Memory;
    vi.spyOn(WebAssembly, "Memory").mockImplementation(function (descriptor: WebAssembly.MemoryDescriptor) {
      if (descriptor.shared === true) throw new TypeError("shared memory is not available (stub)");
      return new Memory(descriptor);
    } as unknown as (descriptor: WebAssembly.MemoryDescriptor) => WebAssembly.Memory);
    const lib = await freshLibrary();
    expect(lib.features()).toMatchObject({ simd: true, threads: false });
    await lib.init();
    expect(lib.features().threads).toBe(false);
    const w = lib.parameter([7], { init: [1, 2, 3, 4, 5, 6, 7] });
    const big = lib.parameter([8 * 1024 * 1024]); // grows the plain memory past its 16 MiB start
    w.grad.fill(2);
    new lib.SGD([w], { lr: 0.25 }).step();
    expect(Array.from(w.data)).toEqual([0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5]);
    big.dispose();
    w.dispose();
  });
});

// ---------------------------------------------------------------------------------------------
// What `npm pack` ships.

function runTool(bin: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(join(repoRoot, "node_modules", ".bin", bin), args, { cwd: repoRoot, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, output: `${stdout}${stderr}` });
    });
  });
}

/**
 * The modules `entry` reaches through static imports (`import … from "./x.js"`, `export … from`,
 * `import "./x.js"`), itself first: what a bundler includes before tree shaking.
 */
function staticGraph(entry: string, dynamic = false): string[] {
  const seen = [entry];
  // With `dynamic`, also import("./x.js") and new URL("./x.js", import.meta.url) (the thread pool and its worker script).
  // Only .js targets: an error message names new URL("./simdopt.wasm", import.meta.url) as an example.
  const pattern = dynamic ? /(?:\bfrom|\bimport|\bimport\(|new URL\()\s*["'](\.{1,2}\/[^"']+\.js)["']/g : /(?:\bfrom|\bimport)\s*["'](\.{1,2}\/[^"']+)["']/g;
  for (let i = 0; i < seen.length; i++) {
    const code = readFileSync(seen[i]!, "utf8");
    for (const match of code.matchAll(pattern)) {
      const file = join(dirname(seen[i]!), match[1]!);
      if (!seen.includes(file)) seen.push(file);
    }
  }
  return seen;
}

describe("package hygiene", () => {
  let pack: ReturnType<typeof packed>;
  beforeAll(() => { pack = packed(); });
  const ALLOWED = [/^package\.json$/, /^README\.md$/, /^LICENSE$/, /^dist\/.+\.js$/, /^dist\/.+\.d\.ts$/, /^dist\/simdopt-(simd|relaxed)\.wasm$/];

  it("npm pack ships only dist (JS, types, both wasm builds), README, LICENSE and package.json", () => {
    const unexpected = pack.files.filter((file) => !ALLOWED.some((pattern) => pattern.test(file)));
    expect(unexpected).toEqual([]);
    expect(pack.files).toEqual(expect.arrayContaining([
      "package.json", "README.md", "LICENSE", "dist/index.js", "dist/index.d.ts", "dist/slim.js", "dist/slim.d.ts",
      "dist/interop/tfjs.js", "dist/interop/tfjs.d.ts", "dist/simdopt-simd.wasm",
    ]));
    // The JS is bundled per entry: every "exports" entry with JS has its types, and every JS file
    // that ships is an entry or a chunk an entry imports (nothing stray).
    const manifest = JSON.parse(readFileSync(join(pack.dir, "node_modules", "simdopt", "package.json"), "utf8")) as {
      exports: Record<string, string | { types?: string; default: string }>;
    };
    const entries = Object.values(manifest.exports).filter((target) => typeof target === "object");
    expect(entries.length).toBe(3);
    for (const { types, default: js } of entries) {
      expect(types, `types of ${js}`).toBeDefined();
      expect(pack.files).toContain(types!.replace(/^\.\//, ""));
      expect(pack.files).toContain(js.replace(/^\.\//, ""));
    }
    const dist = join(pack.dir, "node_modules", "simdopt", "dist");
    const reached = new Set(entries.flatMap(({ default: js }) => staticGraph(join(pack.dir, "node_modules", "simdopt", js), true)));
    const stray = pack.files.filter((file) => file.endsWith(".js") && !reached.has(join(dist, file.slice("dist/".length))));
    expect(stray).toEqual([]);
  });

  it("the packed package, every wasm build included, stays under 128 KB gzipped", () => {
    console.info(`npm pack: ${(pack.packedBytes / 1024).toFixed(1)} KiB gzipped, ${(pack.unpackedBytes / 1024).toFixed(1)} KiB unpacked, ${pack.files.length} files`);
    // 100 KB held 0.1.0 (ten optimizers, one thread). Threads (worker pool, per-thread scratch,
    // multi-tensor tables: ~11 KB), seven more optimizers, EMA, accumulate and 8/16-bit state
    // (~16 KB) do not fit in it even after the relaxed build stopped shipping as a second file
    // (-12 KB); `node scripts/size-report.mjs` shows where the bytes are.
    expect(pack.packedBytes).toBeLessThan(128 * 1024);
  });

  it("simdopt/slim reaches no embedded wasm, and its JS stays under 36 KB gzipped", async () => {
    const dist = join(pack.dir, "node_modules", "simdopt", "dist");
    const slim = staticGraph(join(dist, "slim.js"));
    const main = staticGraph(join(dist, "index.js"));
    // The slim entry shares its code with the main entry (one chunk), and the main entry imports
    // one more chunk: the one that holds the embedded builds.
    expect(main.length).toBeGreaterThan(slim.length);
    expect(slim.slice(1).every((file) => main.includes(file))).toBe(true);
    // The embedded builds, in the embedded alphabet: the main entry's graph holds them (so the
    // check itself is sound), the slim entry's holds none of their bytes, nor any in base64.
    const { wasmAlphabet } = await import("../src/bindings/wasm.js");
    const head = readFileSync(join(dist, "simdopt-simd.wasm")).subarray(0, 24);
    const signatures = [Array.from(head, (byte) => wasmAlphabet[byte]).join(""), head.toString("base64").slice(0, 24)];
    const read = (files: string[]): string => files.map((file) => readFileSync(file, "utf8")).join("\n");
    expect(read(main).includes(signatures[0]!), "the main entry's graph holds the embedded simd build").toBe(true);
    const code = read(slim);
    for (const signature of signatures) expect(code.includes(signature), `slim JS holds wasm bytes (${signature})`).toBe(false);
    // What a bundle of the slim entry costs before any tree shaking, as one gzip stream.
    const gzipped = gzipSync(code, { level: 9 }).length;
    console.info(`simdopt/slim: ${slim.length} modules, ${(code.length / 1024).toFixed(1)} KiB, ${(gzipped / 1024).toFixed(1)} KiB gzipped`);
    // 30 KB before Ftrl, the l1 option and the scalers (+1.4 KB together); 33.0 KiB with the
    // worker pool, multi-tensor tables, seven more optimizers, EMA, accumulate and 8/16-bit state.
    expect(gzipped).toBeLessThan(36 * 1024);
  });

  it("the minified JS keeps class names, which messages and state dicts use", async () => {
    const lib = await import(/* @vite-ignore */ pathToFileURL(join(pack.dir, "node_modules", "simdopt", "dist", "index.js")).href) as Library;
    await lib.init();
    const w = lib.parameter([2], { init: [1, 2] });
    const optimizer = new lib.AdamW([w], { lr: 0.1 });
    expect(optimizer.stateDict().optimizer).toBe("AdamW");
    expect(() => new lib.RMSprop([w], { nope: 1 } as never)).toThrow('simdopt: RMSprop options has no option "nope"');
    const scheduler = new lib.StepLR(optimizer, { stepSize: 2 });
    expect(() => scheduler.step(Number.NaN)).toThrow(/^simdopt: StepLR\.step\(epoch\)/);
    optimizer.dispose();
    expect(() => optimizer.step()).toThrow(/^simdopt: AdamW\.step\(\) after dispose\(\)/);
    w.dispose();
  });

  it("the published declarations compile for a strict consumer without skipLibCheck", async () => {
    // Declarations tsc strips (@internal) must not be named by those that ship, nor may a pruned
    // declaration file be imported by one that ships: only a full check of the files shows it.
    const consumer = join(pack.dir, "types-consumer");
    mkdirSync(consumer, { recursive: true });
    writeFileSync(join(consumer, "use.ts"), [
      'import { AdamW, BatchNorm, CyclicLR, LRScheduler, matmul, OneCycleLR, Optimizer, parameter, SGD, StepLR, type OptimizerStateDict } from "simdopt";',
      'import * as slim from "simdopt/slim";',
      'import { tfOptimizer } from "simdopt/tfjs";',
      "const w = parameter([2]);",
      "const optimizer = new AdamW([w], { lr: 0.1 });",
      "const base: Optimizer<object> = optimizer;",
      "const state: OptimizerStateDict = base.stateDict();",
      "const scheduler: LRScheduler = new StepLR(optimizer, { stepSize: 2 });",
      "const cycled = [new OneCycleLR(optimizer, { maxLr: 0.1, totalSteps: 10 }), new CyclicLR(new SGD([parameter([3])], { momentum: 0.9 }), { baseLr: 0.01, maxLr: 0.1 })];",
      "const product: Float32Array = matmul(w.data, w.data, { m: 2, k: 1, n: 2, transB: true });",
      "const layer = new BatchNorm(2, { layout: \"NHWC\" });",
      "export const used = [state, scheduler, cycled, product, layer.runningMean, slim.init, tfOptimizer];",
      "",
    ].join("\n"));
    writeFileSync(join(consumer, "tsconfig.json"), JSON.stringify({
      compilerOptions: {
        target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", lib: ["ES2022", "DOM"],
        strict: true, exactOptionalPropertyTypes: true, skipLibCheck: false, noEmit: true, types: [],
      },
      files: ["use.ts"],
    }));
    const { code, output } = await runTool("tsc", ["-p", join(consumer, "tsconfig.json")]);
    expect(output).toBe("");
    expect(code).toBe(0);
  });

  it("publint --strict finds nothing", async () => {
    const { code, output } = await runTool("publint", ["run", pack.tarball, "--strict"]);
    expect(output).toMatch(/All good/);
    expect(code, output).toBe(0);
  });

  it("are-the-types-wrong (ESM-only profile) finds nothing for the entry points \".\", \"./slim\" and \"./tfjs\"", async () => {
    // The .wasm subpaths carry no declarations (edge toolchains type `*.wasm` imports themselves),
    // so attw would report them as unresolvable types; they are checked by the workerd run.
    const { code, output } = await runTool("attw", [pack.tarball, "--profile", "esm-only", "--entrypoints", ".", "./slim", "./tfjs", "--format", "json"]);
    expect(code, output).toBe(0);
    // The JSON lists problems of every resolution mode; the ESM-only profile ignores CommonJS
    // (node16-cjs) and node10 resolution, as the package is ESM-only by design.
    const result = JSON.parse(output) as { analysis: { problems: Array<{ resolutionKind?: string }> } };
    const ignored = new Set(["node10", "node16-cjs"]);
    expect(result.analysis.problems.filter((problem) => !ignored.has(problem.resolutionKind ?? ""))).toEqual([]);
  });
});
