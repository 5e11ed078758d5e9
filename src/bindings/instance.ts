// Loading the wasm module: init/initSync/features, runtime detection and the choice between the
// plain-SIMD and relaxed-SIMD builds. The only code besides memory.ts that touches WebAssembly.
//
// Why not @assemblyscript/loader or asc's `--bindings esm`: the loader is deprecated since
// AssemblyScript 0.20, and the generated ESM bindings copy typed arrays in and out of every call
// and load the .wasm by URL/fs, which is neither zero-copy nor possible on edge runtimes. The
// module instead exports raw kernels over pointers, and we make the views ourselves.

import type { Kernels } from "./kernels.js";
import { checkBounded, describe, readOptions } from "../checks.js";
import { attachMemory, setStepScalarsAt } from "./memory.js";
import { version } from "../version.js";

/** What `init()` accepts as the module: compiled, bytes, or where to fetch it from. */
export type InitSource =
  | WebAssembly.Module
  | BufferSource
  | URL
  | string
  | Response
  | PromiseLike<Response>;

/** Start-up options for `init` / `initSync`. */
export interface InitOptions {
  /**
   * Wasm memory to reserve at start, in MiB. Default 16. Memory grows on demand beyond it; set it
   * higher where shared memory is unavailable (see README) so that held views never detach.
   */
  initialMemoryMiB?: number;
  /** Upper bound the memory may grow to, in MiB (at most 4096). Default 4096. */
  maximumMemoryMiB?: number;
}

/** What the runtime supports (before init) or what the loaded module uses (after). */
export interface Features {
  /** Fixed-width 128-bit SIMD. simdopt requires it. */
  simd: boolean;
  /** Relaxed SIMD (fused multiply-add in the GEMM micro-kernel). */
  relaxedSimd: boolean;
  /** Shared WebAssembly memory (views survive memory growth). */
  threads: boolean;
  /** The simdopt package version. */
  version: string;
  /** Threads currently sharing work: 1 until `initThreads` starts workers (and after `terminateThreads`). */
  workers: number;
}

/** Exports checked before use, so that a foreign module is named as such. */
const REQUIRED_EXPORTS = ["heapBase", "relaxedBuild", "scalarsAt", "adamStep", "sgdStep", "matmulF32", "allFinite"] as const;
const PAGE_BYTES = 65536;
const MAX_PAGES = 65536;

// Smallest modules using one instruction of each feature (as in wasm-feature-detect).
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);
const RELAXED_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 15, 1, 13, 0, 65, 1, 253, 15, 65, 2, 253, 15, 253, 128, 2, 11]);

interface Loaded {
  kernels: Kernels;
  relaxed: boolean;
  shared: boolean;
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
}

let loaded: Loaded | null = null;
let threadCount = 1;
// While a step records its kernel calls for the worker threads (src/threads/step-batch.ts),
// kernels() hands out the recorder instead of the instance's exports.
let kernelOverride: Kernels | null = null;

/** @internal Set by the thread pool: threads now sharing work. */
export function setThreadCount(n: number): void {
  threadCount = n;
}

/** @internal The kernels every caller gets from kernels() (null: the module's own). */
export function setKernelOverride(override: Kernels | null): Kernels | null {
  const previous = kernelOverride;
  kernelOverride = override;
  return previous;
}

let pending: Promise<void> | null = null;
let probed: Omit<Features, "version" | "workers"> | null = null;

function probe(): Omit<Features, "version" | "workers"> {
  if (probed === null) {
    const validate = (bytes: BufferSource) => {
      try {
        return typeof WebAssembly === "object" && WebAssembly.validate(bytes);
      } catch {
        return false;
      }
    };
    probed = { simd: validate(SIMD_PROBE as BufferSource), relaxedSimd: validate(RELAXED_PROBE), threads: sharedMemoryWorks() };
  }
  return probed;
}

function sharedMemoryWorks(): boolean {
  if (typeof SharedArrayBuffer !== "function" || typeof WebAssembly !== "object") return false;
  try {
    const probe = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    return probe.buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/** What the runtime supports; after init, `relaxedSimd`/`threads` say what the loaded module uses. */
export function features(): Features {
  const supported = probe();
  if (loaded === null) return { ...supported, version, workers: 1 };
  return { simd: true, relaxedSimd: loaded.relaxed, threads: loaded.shared, version, workers: threadCount };
}

/** @internal The kernels of the loaded module; throws the "call init() first" error before init. */
export function kernels(): Kernels {
  if (kernelOverride !== null) return kernelOverride;
  if (loaded === null) throw notInitialized();
  return loaded.kernels;
}

/**
 * @internal The compiled module and its memory, for worker threads to instantiate over the same
 * memory; null before init or when the memory is not shared (threads need it shared).
 */
export function moduleForThreads(): { module: WebAssembly.Module; memory: WebAssembly.Memory } | null {
  if (loaded === null || !loaded.shared) return null;
  return { module: loaded.module, memory: loaded.memory };
}

/** True once init/initSync has completed. */
export function isInitialized(): boolean {
  return loaded !== null;
}

export function notInitialized(): Error {
  return new Error("simdopt: the WebAssembly module is not loaded; call `await init()` (or `initSync()`) first");
}

function requireSimd(): void {
  if (!probe().simd) {
    throw new Error(
      "simdopt: this runtime does not support WebAssembly SIMD (the fixed-width 128-bit SIMD " +
        "proposal), which simdopt requires. Use a current Node, Deno, Bun, Chrome, Firefox or Safari.",
    );
  }
}

const INIT_OPTION_KEYS = ["initialMemoryMiB", "maximumMemoryMiB"] as const;

function checkOptions(options: InitOptions | undefined): { initialPages: number; maximumPages: number } {
  const o = readOptions("init", options, INIT_OPTION_KEYS);
  const initialMiB = checkBounded("init options.", "initialMemoryMiB", o.initialMemoryMiB, { min: 0, minExclusive: true, max: 4096 }, 16);
  const maximumMiB = checkBounded("init options.", "maximumMemoryMiB", o.maximumMemoryMiB, { min: initialMiB, max: 4096 }, 4096);
  const toPages = (mib: number) => Math.min(MAX_PAGES, Math.ceil((mib * 2 ** 20) / PAGE_BYTES));
  return { initialPages: toPages(initialMiB), maximumPages: toPages(maximumMiB) };
}

/**
 * The module declares its memory import shared. For a runtime without shared memory we clear the
 * "shared" bit of that import (limits flag 0x03 → 0x01) in a copy of the bytes: the kernels use no
 * atomics, so the module is otherwise unchanged.
 */
function unshareMemoryImport(bytes: Uint8Array): Uint8Array {
  // Not bytes.slice(): a Node Buffer's slice() is a view of the caller's bytes.
  const copy = new Uint8Array(bytes);
  let at = 8;
  const readU32 = () => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = copy[at++]!;
      result |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result >>> 0;
      shift += 7;
    }
  };
  while (at < copy.length) {
    const id = copy[at++]!;
    const size = readU32();
    const end = at + size;
    if (id === 2) {
      const count = readU32();
      for (let i = 0; i < count; i++) {
        const moduleNameLength = readU32();
        at += moduleNameLength;
        const fieldNameLength = readU32();
        at += fieldNameLength;
        const kind = copy[at++]!;
        if (kind === 0x02) {
          if (copy[at] === 0x03) copy[at] = 0x01;
          return copy;
        }
        // Our module imports nothing but its memory; other kinds are not expected here.
        throw new Error("simdopt: internal error: unexpected import in the wasm module");
      }
    }
    at = end;
  }
  return copy;
}

function createMemory(initialPages: number, maximumPages: number, shared: boolean): WebAssembly.Memory {
  // Large shared maxima reserve address space up front; a 32-bit host may refuse, so step down.
  let maximum = maximumPages;
  for (;;) {
    try {
      return new WebAssembly.Memory({ initial: Math.min(initialPages, maximum), maximum, shared });
    } catch (error) {
      if (maximum <= initialPages || maximum <= 4096) throw error;
      maximum = Math.max(initialPages, maximum >> 1);
    }
  }
}

function isBufferSource(value: unknown): value is BufferSource {
  return value instanceof ArrayBuffer || ArrayBuffer.isView(value) ||
    (typeof SharedArrayBuffer === "function" && value instanceof SharedArrayBuffer);
}

function toBytes(source: BufferSource): Uint8Array {
  if (source instanceof Uint8Array) return source;
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  return new Uint8Array(source as ArrayBuffer);
}

/**
 * Edge runtimes (Cloudflare Workers/workerd: "Wasm code generation disallowed by embedder") and
 * pages whose CSP lacks 'wasm-unsafe-eval' refuse to compile bytes — which is what init() does
 * with the embedded wasm. The message names the fix: import the .wasm as a module and pass it.
 */
function explainCompileError(error: unknown, entry: "init" | "initSync"): Error {
  const message = error instanceof Error ? error.message : String(error);
  if (/code generation|disallowed|not allowed|CSP|unsafe-eval/i.test(message)) {
    const call = entry === "init" ? "await init(wasm)" : "initSync(wasm)";
    return new Error(
      `simdopt: this runtime forbids compiling WebAssembly from bytes (${message}), so ${entry}() cannot ` +
        "load the wasm embedded in the package or given as bytes. Import the .wasm file as a module " +
        `and pass the module instead: \`import wasm from "simdopt/simdopt.wasm"; ${call};\` ` +
        "(Cloudflare Workers/wrangler import .wasm files as a WebAssembly.Module).",
      { cause: error },
    );
  }
  return error instanceof Error ? error : new Error(message);
}

function instantiateSync(module: WebAssembly.Module, options: InitOptions | undefined, shared: boolean): void {
  // One module and one memory per realm: an init() that was still compiling when initSync()
  // loaded the module must not swap in a second memory under the parameters made since.
  if (loaded !== null) return;
  const { initialPages, maximumPages } = checkOptions(options);
  const memory = createMemory(initialPages, maximumPages, shared);
  let instance: WebAssembly.Instance;
  try {
    instance = new WebAssembly.Instance(module, { env: { memory } });
  } catch (error) {
    if (error instanceof WebAssembly.LinkError) {
      throw new Error(
        `simdopt: the given module does not accept a ${shared ? "shared" : "non-shared"} memory (${error.message}); ` +
          "pass one of the .wasm files that ship with this version of simdopt",
      );
    }
    throw error;
  }
  const exports = instance.exports as unknown as Kernels;
  for (const name of REQUIRED_EXPORTS) {
    if (typeof (exports as unknown as Record<string, unknown>)[name] !== "function") {
      throw new TypeError(
        `simdopt: the given WebAssembly module is not simdopt's (it has no "${name}" export); ` +
          "pass the .wasm file that ships with this version of simdopt (simdopt/simdopt.wasm), or nothing for the embedded one",
      );
    }
  }
  attachMemory(memory, shared, exports.heapBase());
  setStepScalarsAt(exports.scalarsAt());
  loaded = { kernels: exports, relaxed: exports.relaxedBuild() === 1, shared, module, memory };
}

function prepareBytes(bytes: Uint8Array, shared: boolean): Uint8Array {
  return shared ? bytes : unshareMemoryImport(bytes);
}

async function fetchBytesOrModule(source: URL | string | Response | PromiseLike<Response>): Promise<Uint8Array> {
  if (typeof source === "string" || source instanceof URL) {
    const url = source instanceof URL ? source : parseUrl(source);
    const runtime = globalThis as { Deno?: unknown; Bun?: unknown; process?: { versions?: { node?: string } } };
    if (url.protocol === "file:" && runtime.process?.versions?.node !== undefined && runtime.Deno === undefined && runtime.Bun === undefined) {
      // Node's fetch has no file: support.
      const fs = "node:fs/promises";
      const { readFile } = (await import(/* @vite-ignore */ fs)) as { readFile(url: URL): Promise<Uint8Array> };
      return new Uint8Array(await readFile(url));
    }
    source = fetch(url);
  }
  const response = await source;
  if (!response.ok) throw new Error(`simdopt: fetching the wasm module failed: HTTP ${response.status} ${response.statusText}`);
  return new Uint8Array(await response.arrayBuffer());
}

function parseUrl(source: string): URL {
  const base = (globalThis as { location?: { href: string } }).location?.href;
  try {
    return new URL(source, base);
  } catch {
    throw new TypeError(
      `simdopt: init(source): ${describe(source)} is not a valid URL${base === undefined ? " (a relative URL needs a page location to resolve against; pass a URL object, e.g. new URL(\"./simdopt.wasm\", import.meta.url))" : ""}`,
    );
  }
}

/**
 * The bytes of a source that needs no fetching (the caller's bytes), else null. No source is an
 * error here: the main entry (bindings/embedded.ts) puts the embedded build in its place, and the
 * slim entry has none.
 */
function bytesAtHand(source: unknown, entry: "init" | "initSync"): Uint8Array | null {
  if (source === undefined || source === null) {
    const how = entry === "init"
      ? 'the .wasm file (`await init(new URL(import.meta.resolve("simdopt/simdopt.wasm")))`), its bytes'
      : 'the bytes of the .wasm file ("simdopt/simdopt.wasm")';
    throw new Error(
      `simdopt/slim: ${entry}() needs the wasm module, as simdopt/slim embeds none: pass ${how} or a ` +
        'WebAssembly.Module, or import from "simdopt", which embeds it (with its relaxed-SIMD build)',
    );
  }
  if (isBufferSource(source)) return toBytes(source);
  return null;
}

function isFetchable(source: unknown): source is URL | string | Response | PromiseLike<Response> {
  return typeof source === "string" || source instanceof URL ||
    (typeof Response === "function" && source instanceof Response) ||
    (typeof source === "object" && source !== null && typeof (source as PromiseLike<Response>).then === "function");
}

/** Common start of init/initSync: checks, and whether the memory will be shared. */
function begin(options: InitOptions | undefined): boolean {
  requireSimd();
  checkOptions(options);
  return probe().threads;
}

/**
 * Loads the WebAssembly module. Idempotent: later calls return at once. `source` is required
 * here (simdopt/slim embeds no wasm): the .wasm file's URL, its bytes, a Response or a Module.
 * Whatever the order and mix of `init`/`initSync` calls, the first one to finish loading decides
 * the module and its memory; every later or concurrent call keeps that one (its own source and
 * options are then ignored).
 */
export function init(source?: InitSource, options?: InitOptions): Promise<void> {
  // Options are checked even when already loaded: a typo must not pass silently on a later call.
  try {
    checkOptions(options);
  } catch (error) {
    return Promise.reject(error);
  }
  if (loaded !== null) return Promise.resolve();
  if (pending !== null) return pending;
  pending = (async () => {
    const shared = begin(options);
    let module: WebAssembly.Module;
    if (source instanceof WebAssembly.Module) {
      module = source;
    } else {
      let bytes = bytesAtHand(source, "init");
      if (bytes === null) {
        if (!isFetchable(source)) throw new TypeError(`simdopt: init(source) takes a WebAssembly.Module, bytes, a URL or a Response, got ${describe(source)}`);
        bytes = await fetchBytesOrModule(source);
      }
      try {
        module = await WebAssembly.compile(prepareBytes(bytes, shared) as BufferSource);
      } catch (error) {
        throw explainCompileError(error, "init");
      }
    }
    instantiateSync(module, options, shared);
  })().catch((error: unknown) => {
    // initSync() may have loaded the module meanwhile: then this init() has what it waited for.
    if (loaded === null) throw error;
  });
  pending.catch(() => { pending = null; });
  return pending;
}

/** Synchronous `init` (Node, Deno, Bun, workers): a Module or bytes (required in simdopt/slim). */
export function initSync(source?: WebAssembly.Module | BufferSource, options?: InitOptions): void {
  checkOptions(options);
  if (loaded !== null) return;
  const shared = begin(options);
  let module: WebAssembly.Module;
  if (source instanceof WebAssembly.Module) {
    module = source;
  } else {
    const bytes = bytesAtHand(source, "initSync");
    if (bytes === null) throw new TypeError(`simdopt: initSync(source) takes a WebAssembly.Module or bytes (use init() for a URL or Response), got ${describe(source)}`);
    try {
      module = new WebAssembly.Module(prepareBytes(bytes, shared) as BufferSource);
    } catch (error) {
      throw explainCompileError(error, "initSync");
    }
  }
  instantiateSync(module, options, shared);
}
