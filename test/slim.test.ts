// simdopt/slim: the main entry's surface without the embedded wasm. init()/initSync() need the
// module and say how to pass it; with it, the library works exactly as from the main entry.
import { readFileSync } from "node:fs";
import { beforeEach, describe, expect, it, vi } from "vitest";

type Slim = typeof import("../src/slim.js");
const wasmUrl = new URL("../build/simdopt-simd.wasm", import.meta.url);
const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };

async function freshSlim(): Promise<Slim> {
  vi.resetModules();
  return (await import("../src/slim.js")) as Slim;
}

/** One SGD step: proves the loaded module computes. */
function works(library: Slim): void {
  const w = library.parameter([3], { init: [1, 2, 3] });
  w.grad.fill(2);
  new library.SGD([w], { lr: 0.5 }).step();
  expect(Array.from(w.data)).toEqual([0, 1, 2]);
}

describe("simdopt/slim", () => {
  beforeEach(() => vi.resetModules());

  it("exports exactly what the main entry exports", async () => {
    const slim = await freshSlim();
    const main = await import("../src/index.js");
    expect(Object.keys(slim).sort()).toEqual(Object.keys(main).sort());
  });

  it("init() and initSync() without a source say to pass the .wasm or use the main entry, and load nothing", async () => {
    const slim = await freshSlim();
    await expect(slim.init()).rejects.toThrow(/simdopt\/slim: init\(\) needs the wasm module/);
    await expect(slim.init()).rejects.toThrow('await init(new URL(import.meta.resolve("simdopt/simdopt.wasm")))');
    await expect(slim.init(null as never)).rejects.toThrow(/import from "simdopt", which embeds it/);
    expect(() => slim.initSync()).toThrow(/simdopt\/slim: initSync\(\) needs the wasm module.*"simdopt\/simdopt\.wasm"/);
    expect(() => slim.parameter([2])).toThrow(/init\(\)/);
    // A failed call leaves nothing behind: the next one with a source loads normally.
    await slim.init(wasmUrl);
    works(slim);
  });

  it("initSync(bytes) and init(Module) load the given build; features() reports the package version", async () => {
    let slim = await freshSlim();
    expect(slim.features().version).toBe(version);
    slim.initSync(readFileSync(wasmUrl));
    works(slim);
    expect(slim.features()).toMatchObject({ simd: true, relaxedSimd: false, version });
    slim = await freshSlim();
    await slim.init(await WebAssembly.compile(readFileSync(wasmUrl)));
    works(slim);
  });
});
