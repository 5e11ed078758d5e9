// Every way of handing the module to init()/initSync(), each in a fresh copy of the library.
import { readFileSync } from "node:fs";
import { beforeEach, describe, expect, it, vi } from "vitest";

type Library = typeof import("../src/index.js");
const wasmUrl = new URL("../build/simdopt-simd.wasm", import.meta.url);

async function freshLibrary(): Promise<Library> {
  vi.resetModules();
  return (await import("../src/index.js")) as Library;
}

/** A few Adam steps: proves the loaded module computes. */
function works(library: Library): void {
  const p = library.parameter([6], { init: [1, 2, 3, 4, 5, 6] });
  p.grad.fill(1);
  new library.Adam([p], { lr: 0.25 }).step();
  expect(p.data[5]).toBeCloseTo(5.75, 5);
}

describe("init sources", () => {
  beforeEach(() => {
    vi.restoreAllMocks();
  });

  it("init(URL) of the .wasm file (file: URL on Node)", async () => {
    const library = await freshLibrary();
    await library.init(wasmUrl);
    works(library);
  });

  it("init(bytes) and init(ArrayBuffer)", async () => {
    let library = await freshLibrary();
    await library.init(readFileSync(wasmUrl));
    works(library);
    library = await freshLibrary();
    const bytes = readFileSync(wasmUrl);
    await library.init(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    works(library);
  });

  it("init(WebAssembly.Module)", async () => {
    const library = await freshLibrary();
    await library.init(await WebAssembly.compile(readFileSync(wasmUrl)));
    works(library);
  });

  it("init(Response) and init(Promise<Response>)", async () => {
    let library = await freshLibrary();
    await library.init(new Response(readFileSync(wasmUrl), { headers: { "content-type": "application/wasm" } }));
    works(library);
    library = await freshLibrary();
    await library.init(Promise.resolve(new Response(readFileSync(wasmUrl))));
    works(library);
    library = await freshLibrary();
    await expect(library.init(new Response("nope", { status: 404 }))).rejects.toThrow(/404/);
  });

  it("initSync() with the embedded module, bytes or a Module", async () => {
    let library = await freshLibrary();
    library.initSync();
    works(library);
    library = await freshLibrary();
    library.initSync(readFileSync(wasmUrl));
    works(library);
    library = await freshLibrary();
    library.initSync(new WebAssembly.Module(readFileSync(wasmUrl)));
    works(library);
    library = await freshLibrary();
    expect(() => library.initSync("x" as never)).toThrow(TypeError);
  });

  it("concurrent init() calls share one load", async () => {
    const library = await freshLibrary();
    await Promise.all([library.init(), library.init(), library.init()]);
    works(library);
  });

  it("falls back to a plain memory where shared memory is unavailable", async () => {
    const library = await freshLibrary();
    const Original = WebAssembly.Memory;
    // A runtime without shared memory: constructing one throws (as in a non-isolated page).
    vi.spyOn(WebAssembly, "Memory").mockImplementation(function (descriptor: WebAssembly.MemoryDescriptor) {
      if (descriptor.shared) throw new TypeError("shared memory is not available");
      return new Original(descriptor);
    } as never);
    expect(library.features().threads).toBe(false);
    await library.init(undefined, { initialMemoryMiB: 1 });
    expect(library.features().threads).toBe(false);
    works(library);
    // Getters re-view after growth (held views may detach on a plain memory, as documented).
    const p = library.parameter([4], { init: [1, 2, 3, 4] });
    const big = library.parameter([1 << 20]);
    expect([...p.data]).toEqual([1, 2, 3, 4]);
    expect(p.data.buffer).toBeInstanceOf(ArrayBuffer);
    big.dispose();
  });

  it("a runtime without SIMD gets an error naming the missing feature", async () => {
    const library = await freshLibrary();
    const validate = WebAssembly.validate;
    vi.spyOn(WebAssembly, "validate").mockImplementation((bytes) => {
      const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes as ArrayBuffer);
      return view.length < 64 ? false : validate(bytes);
    });
    expect(library.features().simd).toBe(false);
    await expect(library.init()).rejects.toThrow(/SIMD/);
    expect(() => library.parameter([2])).toThrow(/init\(\)/);
  });
});
