// Loading paths of src/bindings/instance.ts that a normal init() never takes, each in a fresh copy
// of the library: exact messages of refused sources, options and runtimes, the memory sizes init
// asks for (and how it steps a refused maximum down), and the rewriting of a shared memory import
// for runtimes without shared memory.
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it, vi } from "vitest";

type Library = typeof import("../../src/index.js");
const wasmBytes = readFileSync(new URL("../../build/simdopt-simd.wasm", import.meta.url));

async function freshLibrary(): Promise<Library> {
  vi.resetModules();
  return (await import("../../src/index.js")) as Library;
}

/** Records the descriptors of every WebAssembly.Memory made, refusing those `refuse` picks. */
function spyMemory(refuse: (d: WebAssembly.MemoryDescriptor) => boolean = () => false): WebAssembly.MemoryDescriptor[] {
  const Original = WebAssembly.Memory;
  const made: WebAssembly.MemoryDescriptor[] = [];
  vi.spyOn(WebAssembly, "Memory").mockImplementation(function (descriptor: WebAssembly.MemoryDescriptor) {
    made.push({ ...descriptor });
    if (refuse(descriptor)) throw new RangeError("could not reserve");
    return new Original(descriptor);
  } as never);
  return made;
}

/** A module with the given import section entry (after the type section of one `() -> ()`). */
function moduleImporting(entry: number[]): Uint8Array {
  return new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 2, entry.length + 1, 1, ...entry]);
}
// env.memory, 1..65536 pages; flags 0x01 (not shared) or 0x03 (shared).
const memoryImport = (flags: number) => [3, 101, 110, 118, 6, 109, 101, 109, 111, 114, 121, 2, flags, 1, 0x80, 0x80, 0x04];

afterEach(() => {
  vi.restoreAllMocks();
});

describe("refusals by exact message, nothing loaded", () => {
  it("before init, and on a runtime without SIMD", async () => {
    const library = await freshLibrary();
    expect(() => library.parameter([2])).toThrow(new Error("simdopt: the WebAssembly module is not loaded; call `await init()` (or `initSync()`) first"));
    const validate = WebAssembly.validate;
    vi.spyOn(WebAssembly, "validate").mockImplementation((bytes) => ((bytes as Uint8Array).length < 64 ? false : validate(bytes)));
    const noSimd = "simdopt: this runtime does not support WebAssembly SIMD (the fixed-width 128-bit SIMD proposal), which simdopt requires. Use a current Node, Deno, Bun, Chrome, Firefox or Safari.";
    await expect(library.init()).rejects.toThrow(new Error(noSimd));
    expect(() => library.initSync(wasmBytes)).toThrow(new Error(noSimd));
    expect(library.features()).toMatchObject({ simd: false, relaxedSimd: false, workers: 1 });
  });

  it("start-up options", async () => {
    const library = await freshLibrary();
    await expect(library.init(undefined, { initialMemoryMiB: 0 })).rejects.toThrow(new RangeError("simdopt: init options.initialMemoryMiB must be a finite number > 0 and ≤ 4096, got 0"));
    await expect(library.init(undefined, { initialMemoryMiB: 8, maximumMemoryMiB: 4097 })).rejects.toThrow(new RangeError("simdopt: init options.maximumMemoryMiB must be a finite number ≥ 8 and ≤ 4096, got 4097"));
    expect(() => library.initSync(undefined, { maximumMemoryMiB: 0.5 })).toThrow(new RangeError("simdopt: init options.maximumMemoryMiB must be a finite number ≥ 16 and ≤ 4096, got 0.5"));
    expect(() => library.initSync(undefined, { initalMemoryMiB: 1 } as never)).toThrow(new TypeError('simdopt: init has no option "initalMemoryMiB"; did you mean "initialMemoryMiB"? (options: initialMemoryMiB, maximumMemoryMiB)'));
    expect(library.features().workers).toBe(1);
    expect(() => library.parameter([2])).toThrow(/not loaded/);
  });

  it("sources of the wrong kind, and an HTTP error", async () => {
    const library = await freshLibrary();
    await expect(library.init({} as never)).rejects.toThrow(new TypeError("simdopt: init(source) takes a WebAssembly.Module, bytes, a URL or a Response, got an object"));
    expect(() => library.initSync(new URL("file:///x.wasm") as never)).toThrow(/^simdopt: initSync\(source\) takes a WebAssembly\.Module or bytes \(use init\(\) for a URL or Response\), got /);
    await expect(library.init(new Response("nope", { status: 404, statusText: "Not Found" }))).rejects.toThrow(new Error("simdopt: fetching the wasm module failed: HTTP 404 Not Found"));
    await expect(library.init("relative.wasm")).rejects.toThrow(new TypeError(
      'simdopt: init(source): "relative.wasm" (string) is not a valid URL (a relative URL needs a page location to resolve against; pass a URL object, e.g. new URL("./simdopt.wasm", import.meta.url))'));
    expect(() => library.parameter([2])).toThrow(/not loaded/);
  });

  it("a module that does not take the memory it is given", async () => {
    const library = await freshLibrary();
    const unshared = moduleImporting(memoryImport(0x01));
    expect(() => library.initSync(unshared)).toThrow(/^simdopt: the given module does not accept a shared memory \(.+\); pass one of the \.wasm files that ship with this version of simdopt$/);
    expect(() => library.parameter([2])).toThrow(/not loaded/);
  });

  it("compiling refused by the embedder names the fix; other compile errors pass through", async () => {
    const library = await freshLibrary();
    const refusal = new Error("WebAssembly.Module(): Wasm code generation disallowed by embedder");
    vi.spyOn(WebAssembly, "compile").mockRejectedValueOnce(refusal);
    const expected = (entry: string, call: string) =>
      `simdopt: this runtime forbids compiling WebAssembly from bytes (${refusal.message}), so ${entry}() cannot load the wasm embedded in the package ` +
      "or given as bytes. Import the .wasm file as a module and pass the module instead: " +
      `\`import wasm from "simdopt/simdopt.wasm"; ${call};\` (Cloudflare Workers/wrangler import .wasm files as a WebAssembly.Module).`;
    const error = await library.init(wasmBytes).catch((e: unknown) => e as Error);
    expect(error).toEqual(new Error(expected("init", "await init(wasm)")));
    expect(error.cause).toBe(refusal);
    const original = WebAssembly.Module;
    vi.spyOn(WebAssembly, "Module").mockImplementationOnce(function () { throw new Error("Refused to compile: CSP does not allow 'unsafe-eval'"); } as never);
    expect(() => library.initSync(wasmBytes)).toThrow(new Error(expected("initSync", "initSync(wasm)").replace(refusal.message, "Refused to compile: CSP does not allow 'unsafe-eval'")));
    // Anything else is rethrown as it was; a thrown non-Error becomes an Error with its text.
    const other = new WebAssembly.CompileError("bad magic");
    vi.spyOn(WebAssembly, "compile").mockRejectedValueOnce(other);
    await expect(library.init(wasmBytes)).rejects.toBe(other);
    vi.spyOn(WebAssembly, "Module").mockImplementationOnce(function () { throw "nope"; } as never);
    expect(() => library.initSync(wasmBytes)).toThrow(new Error("nope"));
    expect(WebAssembly.Module).not.toBe(original);
    expect(() => library.parameter([2])).toThrow(/not loaded/);
  });
});

describe("the memory init asks for", () => {
  it("initialMemoryMiB and maximumMemoryMiB in whole 64 KiB pages", async () => {
    const library = await freshLibrary();
    const made = spyMemory();
    library.initSync(wasmBytes, { initialMemoryMiB: 0.01, maximumMemoryMiB: 100.01 });
    const memory = made.filter((d) => d.maximum !== 1);
    expect(memory).toEqual([{ initial: 1, maximum: 1601, shared: true }]);
    expect(library.features().threads).toBe(true);
  });

  it("defaults: 16 MiB, growing to 4 GiB", async () => {
    const library = await freshLibrary();
    const made = spyMemory();
    library.initSync(wasmBytes);
    expect(made.filter((d) => d.maximum !== 1)).toEqual([{ initial: 256, maximum: 65536, shared: true }]);
  });

  it("a refused maximum is halved until the host accepts it, never below the initial size or 4096 pages", async () => {
    const library = await freshLibrary();
    const made = spyMemory((d) => d.maximum !== 1 && d.maximum! > 10000);
    library.initSync(wasmBytes, { initialMemoryMiB: 2 });
    expect(made.filter((d) => d.maximum !== 1).map((d) => [d.initial, d.maximum])).toEqual([[32, 65536], [32, 32768], [32, 16384], [32, 8192]]);
    const p = library.parameter([4], { init: [1, 2, 3, 4] });
    expect(Array.from(p.data)).toEqual([1, 2, 3, 4]);

    const again = await freshLibrary();
    const refused = spyMemory((d) => d.maximum !== 1);
    expect(() => again.initSync(wasmBytes, { initialMemoryMiB: 1 })).toThrow(new RangeError("could not reserve"));
    expect(refused.filter((d) => d.maximum !== 1).map((d) => d.maximum)).toEqual([65536, 32768, 16384, 8192, 4096]);

    const large = await freshLibrary();
    const steps = spyMemory((d) => d.maximum !== 1);
    expect(() => large.initSync(wasmBytes, { initialMemoryMiB: 1024 })).toThrow(new RangeError("could not reserve"));
    expect(steps.filter((d) => d.maximum !== 1).map((d) => [d.initial, d.maximum])).toEqual([[16384, 65536], [16384, 32768], [16384, 16384]]);
  });
});

describe("runtimes without shared memory", () => {
  it("the module's shared memory import is rewritten to a plain one; a module importing anything else first is refused", async () => {
    const library = await freshLibrary();
    const made = spyMemory((d) => d.shared === true);
    expect(library.features().threads).toBe(false);
    const bytes = Uint8Array.from(wasmBytes);
    library.initSync(bytes, { initialMemoryMiB: 1 });
    // The caller's bytes are not changed: the rewrite works on a copy.
    expect(Buffer.from(bytes).equals(wasmBytes)).toBe(true);
    expect(made.at(-1)).toEqual({ initial: 16, maximum: 65536, shared: false });
    const p = library.parameter([3], { init: [1, 2, 3] });
    expect(p.data.buffer).toBeInstanceOf(ArrayBuffer);

    // (The spy above still refuses shared memories.)
    const other = await freshLibrary();
    expect(other.features().threads).toBe(false);
    // import "a" "b" (a function) before any memory.
    expect(() => other.initSync(moduleImporting([1, 97, 1, 98, 0, 0]))).toThrow(new Error("simdopt: internal error: unexpected import in the wasm module"));
    // A plain memory import is left as it is (and then accepted).
    expect(() => other.initSync(moduleImporting(memoryImport(0x01)))).toThrow(/^simdopt: the given WebAssembly module is not simdopt's \(it has no "heapBase" export\)/);
  });
});

describe("more refusals and rewrites", () => {
  it("without shared memory: a memory import without a maximum is left alone; a module with no imports compiles as it is", async () => {
    const library = await freshLibrary();
    spyMemory((d) => d.shared === true);
    // env.memory with flags 0x00 (plain, no maximum): rewriting it would break the module.
    const noMaximum = [3, 101, 110, 118, 6, 109, 101, 109, 111, 114, 121, 2, 0x00, 1];
    expect(() => library.initSync(moduleImporting(noMaximum))).toThrow(/^simdopt: the given WebAssembly module is not simdopt's \(it has no "heapBase" export\)/);
    // An import section with no entries, last in the module: nothing to rewrite.
    expect(() => library.initSync(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 2, 1, 0]))).toThrow(/^simdopt: the given WebAssembly module is not simdopt's \(it has no "heapBase" export\)/);
    // Only the type section: nothing to rewrite, nothing imported.
    expect(() => library.initSync(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0]))).toThrow(/^simdopt: the given WebAssembly module is not simdopt's \(it has no "heapBase" export\)/);
  });

  it("a compiled module that needs a shared memory, on a runtime without one; an instantiation error that is not a link error passes through", async () => {
    const library = await freshLibrary();
    const module = new WebAssembly.Module(wasmBytes);
    spyMemory((d) => d.shared === true);
    expect(() => library.initSync(module)).toThrow(/^simdopt: the given module does not accept a non-shared memory \(.+\); pass one of the \.wasm files that ship with this version of simdopt$/);
    vi.restoreAllMocks();
    const other = await freshLibrary();
    const failure = new RangeError("out of memory while instantiating");
    vi.spyOn(WebAssembly, "Instance").mockImplementationOnce(function () { throw failure; } as never);
    expect(() => other.initSync(module)).toThrow(failure);
    vi.restoreAllMocks();
    other.initSync(module);
    expect(Array.from(other.parameter([2], { init: [1, 2] }).data)).toEqual([1, 2]);
  });

  it("a Node Buffer given on a runtime without shared memory is not changed (its slice() shares its bytes)", async () => {
    const library = await freshLibrary();
    spyMemory((d) => d.shared === true);
    const original = readFileSync(new URL("../../build/simdopt-simd.wasm", import.meta.url));
    const given = Buffer.from(original);
    library.initSync(given, { initialMemoryMiB: 1 });
    expect(given.equals(original)).toBe(true);
    expect(library.features().threads).toBe(false);
  });

  it("every wording of a compile refusal by the embedder names the fix", async () => {
    const library = await freshLibrary();
    for (const reason of ["Wasm code generation disallowed", "WebAssembly compilation DISALLOWED", "Compiling is not allowed here", "blocked by CSP", "needs 'wasm-unsafe-eval'"]) {
      vi.spyOn(WebAssembly, "Module").mockImplementationOnce(function () { throw new Error(reason); } as never);
      expect(() => library.initSync(wasmBytes)).toThrow(`simdopt: this runtime forbids compiling WebAssembly from bytes (${reason}), so initSync() cannot load`);
    }
    vi.spyOn(WebAssembly, "Module").mockImplementationOnce(function () { throw new Error("unexpected end of section"); } as never);
    expect(() => library.initSync(wasmBytes)).toThrow(new Error("unexpected end of section"));
  });
});
