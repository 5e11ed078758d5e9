// More loading paths of src/bindings/instance.ts, each in a fresh copy of the library: the forms of
// bytes and fetchable sources init() takes, URL resolution against a page location, file: URLs on
// runtimes other than Node, the runtime probes (cached, and without WebAssembly, shared memory or
// a working validate), what features() and the thread hooks report once loaded, and the messages
// of the slim entry's init()/initSync() without a source.
import { readFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { afterEach, describe, expect, it, vi } from "vitest";

type Library = typeof import("../../src/index.js");
type Instance = typeof import("../../src/bindings/instance.js");
const wasmUrl = new URL("../../build/simdopt-simd.wasm", import.meta.url);
const wasmBytes = new Uint8Array(readFileSync(wasmUrl));
const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

async function fresh(): Promise<{ library: Library; instance: Instance }> {
  vi.resetModules();
  const library = (await import("../../src/index.js")) as Library;
  const instance = (await import("../../src/bindings/instance.js")) as Instance;
  return { library, instance };
}

/** One SGD step: proves the loaded module computes. */
function works(library: Library): void {
  const w = library.parameter([3], { init: [1, 2, 3] });
  w.grad.fill(2);
  new library.SGD([w], { lr: 0.5 }).step();
  expect(Array.from(w.data)).toEqual([0, 1, 2]);
}

/** A fetch stand-in serving the simd build, recording the URLs asked for. */
function serveWasm(): URL[] {
  const asked: URL[] = [];
  vi.stubGlobal("fetch", async (url: URL) => {
    asked.push(url);
    return new Response(wasmBytes.slice());
  });
  return asked;
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe("bytes in every form", () => {
  it("a SharedArrayBuffer, a DataView and an Int8Array at an offset into a larger buffer", async () => {
    let { library } = await fresh();
    const shared = new SharedArrayBuffer(wasmBytes.length);
    new Uint8Array(shared).set(wasmBytes);
    library.initSync(shared);
    works(library);
    const padded = new Uint8Array(wasmBytes.length + 24);
    padded.set(wasmBytes, 8);
    ({ library } = await fresh());
    library.initSync(new DataView(padded.buffer, 8, wasmBytes.length));
    works(library);
    ({ library } = await fresh());
    await library.init(new Int8Array(padded.buffer, 8, wasmBytes.length));
    works(library);
  });
});

describe("fetchable sources", () => {
  it("an http URL and a string URL are fetched; a relative string resolves against the page's location", async () => {
    const asked = serveWasm();
    let { library } = await fresh();
    await library.init(new URL("https://example.com/simdopt.wasm"));
    works(library);
    vi.stubGlobal("location", { href: "https://example.com/app/index.html" });
    ({ library } = await fresh());
    await library.init("lib/simdopt.wasm");
    works(library);
    expect(asked.map(String)).toEqual(["https://example.com/simdopt.wasm", "https://example.com/app/lib/simdopt.wasm"]);
    // With a location there is no hint about relative URLs.
    ({ library } = await fresh());
    await expect(library.init("http://[::1")).rejects.toThrow(new TypeError('simdopt: init(source): "http://[::1" (string) is not a valid URL'));
  });

  it("a file: URL is read from disk on Node only; Deno and Bun fetch it", async () => {
    const asked = serveWasm();
    let { library } = await fresh();
    await library.init(wasmUrl.href);
    works(library);
    expect(asked).toEqual([]);
    for (const runtime of ["Deno", "Bun"]) {
      vi.stubGlobal(runtime, {});
      ({ library } = await fresh());
      await library.init(wasmUrl);
      works(library);
      expect(asked.map(String)).toEqual([wasmUrl.href]);
      asked.length = 0;
      vi.stubGlobal(runtime, undefined);
    }
  });

  it("a runtime with a process object but no Node version (a browser polyfill) fetches file: URLs too", async () => {
    const asked = serveWasm();
    const { library } = await fresh();
    const versions = Object.getOwnPropertyDescriptor(process, "versions")!;
    Object.defineProperty(process, "versions", { ...versions, value: { ...process.versions, node: undefined } });
    try {
      await library.init(wasmUrl);
    } finally {
      Object.defineProperty(process, "versions", versions);
    }
    works(library);
    expect(asked.map(String)).toEqual([wasmUrl.href]);
  });

  it("any thenable resolving to a Response; an object whose then is not a function is not a source", async () => {
    let { library } = await fresh();
    const thenable = { then: (resolve: (r: Response) => void) => resolve(new Response(wasmBytes.slice())) };
    await library.init(thenable as never);
    works(library);
    ({ library } = await fresh());
    await expect(library.init({ then: 1 } as never)).rejects.toThrow(new TypeError("simdopt: init(source) takes a WebAssembly.Module, bytes, a URL or a Response, got an object"));
    await expect(library.init(null as never, { initialMemoryMiB: 1 })).resolves.toBeUndefined(); // the embedded build
    works(library);
  });

  it("a function, even with a then, is not a source; without Response and SharedArrayBuffer classes a plain object is still named", async () => {
    const { library } = await fresh();
    await expect(library.init(Object.assign(() => undefined, { then: (resolve: (r: Response) => void) => resolve(new Response("", { status: 404 })) }) as never)).rejects.toThrow(
      new TypeError("simdopt: init(source) takes a WebAssembly.Module, bytes, a URL or a Response, got a function"));
    vi.stubGlobal("Response", undefined);
    vi.stubGlobal("SharedArrayBuffer", undefined);
    await expect(library.init({} as never)).rejects.toThrow(
      new TypeError("simdopt: init(source) takes a WebAssembly.Module, bytes, a URL or a Response, got an object"));
  });

  it("concurrent calls share one pending promise; a failed load leaves the next call free to load", async () => {
    const { library, instance } = await fresh();
    const first = library.init(new Response("missing", { status: 500, statusText: "Server Error" }));
    expect(library.init()).toBe(first);
    await expect(first).rejects.toThrow(new Error("simdopt: fetching the wasm module failed: HTTP 500 Server Error"));
    expect(instance.isInitialized()).toBe(false);
    const second = library.init();
    expect(second).not.toBe(first);
    await second;
    expect(instance.isInitialized()).toBe(true);
    // Loaded: options are still checked, then nothing happens.
    await expect(library.init(undefined, { initialMemoryMiB: -1 })).rejects.toThrow(/initialMemoryMiB must be/);
    expect(() => library.initSync(undefined, { maximumMemoryMiB: 5000 })).toThrow(/maximumMemoryMiB must be/);
    works(library);
  });
});

describe("runtime probes", () => {
  it("run once per copy of the library", async () => {
    const { library } = await fresh();
    const validate = vi.spyOn(WebAssembly, "validate");
    const memory = vi.spyOn(WebAssembly, "Memory");
    library.features();
    library.features();
    expect(validate).toHaveBeenCalledTimes(2);
    expect(memory).toHaveBeenCalledTimes(1);
  });

  it("a validate that throws, no WebAssembly at all, no SharedArrayBuffer, or a memory that is not shared after all", async () => {
    let { library } = await fresh();
    vi.spyOn(WebAssembly, "validate").mockImplementation(() => { throw new Error("no"); });
    expect(library.features()).toEqual({ simd: false, relaxedSimd: false, threads: true, version, workers: 1 });
    vi.restoreAllMocks();
    ({ library } = await fresh());
    vi.stubGlobal("WebAssembly", undefined);
    expect(library.features()).toEqual({ simd: false, relaxedSimd: false, threads: false, version, workers: 1 });
    vi.unstubAllGlobals();
    ({ library } = await fresh());
    vi.stubGlobal("SharedArrayBuffer", undefined);
    expect(library.features().threads).toBe(false);
    vi.unstubAllGlobals();
    ({ library } = await fresh());
    const Original = WebAssembly.Memory;
    vi.spyOn(WebAssembly, "Memory").mockImplementation(function (descriptor: WebAssembly.MemoryDescriptor) {
      return new Original({ ...descriptor, shared: false });
    } as never);
    expect(library.features().threads).toBe(false);
  });

  it("relaxed SIMD, where the runtime has it: init() with no source loads the relaxed build", async () => {
    setFlagsFromString("--experimental-wasm-relaxed-simd");
    try {
      const { library, instance } = await fresh();
      expect(library.features().relaxedSimd).toBe(true);
      await library.init();
      expect(library.features().relaxedSimd).toBe(true);
      expect(instance.kernels().relaxedBuild()).toBe(1);
      // 6×8 tiles of small integers: exact with or without fused multiply-add.
      const a = Float32Array.from({ length: 12 * 5 }, (_, i) => (i % 7) - 3);
      const b = Float32Array.from({ length: 5 * 16 }, (_, i) => (i % 5) - 2);
      const expected = Array.from({ length: 12 * 16 }, (_, at) => {
        let sum = 0;
        for (let p = 0; p < 5; p++) sum += a[Math.floor(at / 16) * 5 + p]! * b[p * 16 + (at % 16)]!;
        return sum;
      });
      expect(Array.from(library.matmul(a, b, { m: 12, k: 5, n: 16 }))).toEqual(expected);
    } finally {
      setFlagsFromString("--no-experimental-wasm-relaxed-simd");
    }
  });
});

describe("once loaded", () => {
  it("features() reports the module and the thread count; the kernels and the module for threads are handed out", async () => {
    const { library, instance } = await fresh();
    expect(instance.moduleForThreads()).toBeNull();
    expect(instance.isInitialized()).toBe(false);
    const module = new WebAssembly.Module(wasmBytes);
    await library.init(module, { initialMemoryMiB: 1 });
    expect(instance.isInitialized()).toBe(true);
    expect(library.features()).toEqual({ simd: true, relaxedSimd: false, threads: true, version, workers: 1 });
    const forThreads = instance.moduleForThreads()!;
    expect(forThreads.module).toBe(module);
    expect(forThreads.memory.buffer.byteLength).toBe(16 * 65536);
    instance.setThreadCount(3);
    expect(library.features().workers).toBe(3);
    instance.setThreadCount(1);
    const own = instance.kernels();
    const recorder = { ...own };
    expect(instance.setKernelOverride(recorder)).toBeNull();
    expect(instance.kernels()).toBe(recorder);
    expect(instance.setKernelOverride(null)).toBe(recorder);
    expect(instance.kernels()).toBe(own);
  });

  it("a plain memory gives the threads nothing; before init an override is still handed out", async () => {
    const { library, instance } = await fresh();
    const recorder = {} as ReturnType<Instance["kernels"]>;
    instance.setKernelOverride(recorder);
    expect(instance.kernels()).toBe(recorder);
    instance.setKernelOverride(null);
    expect(() => instance.kernels()).toThrow(new Error("simdopt: the WebAssembly module is not loaded; call `await init()` (or `initSync()`) first"));
    const Original = WebAssembly.Memory;
    vi.spyOn(WebAssembly, "Memory").mockImplementation(function (descriptor: WebAssembly.MemoryDescriptor) {
      if (descriptor.shared) throw new TypeError("shared memory is not available");
      return new Original(descriptor);
    } as never);
    library.initSync(wasmBytes, { initialMemoryMiB: 1 });
    expect(library.features()).toMatchObject({ threads: false, relaxedSimd: false });
    expect(instance.moduleForThreads()).toBeNull();
    works(library);
  });
});

describe("simdopt/slim without a source", () => {
  it("init() and initSync() name what to pass, exactly", async () => {
    vi.resetModules();
    const slim = await import("../../src/slim.js");
    await expect(slim.init()).rejects.toThrow(new Error(
      "simdopt/slim: init() needs the wasm module, as simdopt/slim embeds none: pass the .wasm file " +
        '(`await init(new URL(import.meta.resolve("simdopt/simdopt.wasm")))`), its bytes or a WebAssembly.Module, ' +
        'or import from "simdopt", which embeds it (with its relaxed-SIMD build)'));
    expect(() => slim.initSync()).toThrow(new Error(
      'simdopt/slim: initSync() needs the wasm module, as simdopt/slim embeds none: pass the bytes of the .wasm file ("simdopt/simdopt.wasm") ' +
        'or a WebAssembly.Module, or import from "simdopt", which embeds it (with its relaxed-SIMD build)'));
  });
});
