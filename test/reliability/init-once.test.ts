// Exactly one module and one memory per copy of the library, whatever the order and mix of
// init()/initSync() calls: parameters made before and after a racing load never share bytes.
import { readFileSync } from "node:fs";
import { describe, expect, it, vi } from "vitest";

type Library = typeof import("../../src/index.js");
type Memory = typeof import("../../src/bindings/memory.js");
const wasmUrl = new URL("../../build/simdopt-simd.wasm", import.meta.url);

/** A fresh copy of the library and of its memory module (the same instance the library uses). */
async function fresh(): Promise<{ library: Library; memory: Memory }> {
  vi.resetModules();
  const library = (await import("../../src/index.js")) as Library;
  const memory = (await import("../../src/bindings/memory.js")) as Memory;
  return { library, memory };
}

/** Steps `late` many times and checks `early` (made under the first load) is untouched. */
function independent(library: Library, memory: Memory, early: InstanceType<Library["Parameter"]>, buffer: ArrayBufferLike): void {
  const late = library.parameter([64], { init: new Array(64).fill(5) });
  late.grad.fill(1);
  const optimizer = new library.SGD([late], { lr: 1 });
  for (let i = 0; i < 3; i++) optimizer.step();
  expect([...early.data]).toEqual(new Array(64).fill(7));
  expect([...late.data]).toEqual(new Array(64).fill(2));
  expect(late.dataPtr).not.toBe(early.dataPtr);
  expect(late.gradPtr).not.toBe(early.dataPtr);
  // Still the memory the first load attached (a shared memory keeps one buffer until it grows).
  expect(memory.currentBuffer()).toBe(buffer);
}

describe("one module and one memory per realm", () => {
  it("initSync() while init() is still pending: the pending init() does not swap in a second memory", async () => {
    const { library, memory } = await fresh();
    const pending = library.init();
    library.initSync();
    const buffer = memory.currentBuffer();
    const early = library.parameter([64], { init: new Array(64).fill(7) });
    await pending;
    independent(library, memory, early, buffer);
  });

  it("initSync() with other bytes while init(URL) is pending; then init() again", async () => {
    const { library, memory } = await fresh();
    const pending = library.init(wasmUrl, { initialMemoryMiB: 64 });
    library.initSync(readFileSync(wasmUrl), { initialMemoryMiB: 2 });
    const buffer = memory.currentBuffer();
    expect(buffer.byteLength).toBe(2 * 2 ** 20);
    const early = library.parameter([64], { init: new Array(64).fill(7) });
    await pending;
    await library.init();
    library.initSync();
    independent(library, memory, early, buffer);
  });

  it("concurrent init() calls with different sources load once", async () => {
    const { library, memory } = await fresh();
    const compiled = await WebAssembly.compile(readFileSync(wasmUrl));
    const calls = [library.init(), library.init(wasmUrl), library.init(compiled)];
    await Promise.all(calls);
    const buffer = memory.currentBuffer();
    const early = library.parameter([64], { init: new Array(64).fill(7) });
    await library.init(readFileSync(wasmUrl));
    independent(library, memory, early, buffer);
  });

  it("init() after initSync() resolves at once without loading", async () => {
    const { library, memory } = await fresh();
    library.initSync();
    const buffer = memory.currentBuffer();
    const early = library.parameter([64], { init: new Array(64).fill(7) });
    const compile = vi.spyOn(WebAssembly, "compile");
    await library.init(wasmUrl);
    expect(compile).not.toHaveBeenCalled();
    compile.mockRestore();
    independent(library, memory, early, buffer);
  });

  it("a pending init() whose fetch fails still resolves when initSync() loaded meanwhile", async () => {
    const { library, memory } = await fresh();
    const pending = library.init(Promise.resolve(new Response("missing", { status: 404 })));
    library.initSync();
    await expect(pending).resolves.toBeUndefined();
    const early = library.parameter([64], { init: new Array(64).fill(7) });
    independent(library, memory, early, memory.currentBuffer());
  });
});
