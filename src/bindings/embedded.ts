// The main entry's init/initSync: with no source they load the wasm embedded in the package.
// Only the main entry imports this module, so that the slim entry (and any bundle made from it)
// carries none of the embedded bytes.
//
// The embedding (scripts/embed-wasm.mjs): one string character per byte, mapped through
// `wasmAlphabet`, and the relaxed build as a patch against the simd build (they differ only in the
// functions that use relaxed madd).

import { features, init as initFrom, initSync as initSyncFrom, isInitialized, type InitOptions, type InitSource } from "./instance.js";
import { relaxedWasmPatch, simdWasm, wasmAlphabet } from "./wasm.js";

/** @internal The bytes of a string written in `alphabet` (character code of each byte value). */
export function decodeWasm(text: string, alphabet: string = wasmAlphabet): Uint8Array {
  const byteOf = new Uint8Array(0x200);
  for (let byte = 0; byte < 256; byte++) byteOf[alphabet.charCodeAt(byte)] = byte;
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = byteOf[text.charCodeAt(i)]!;
  return bytes;
}

/**
 * @internal
 * Rebuilds a module from `base` and a patch: its varuint total length, then records of varuint
 * copy offset and length in `base`, varuint literal length, and the literal bytes.
 */
export function applyPatch(base: Uint8Array, patch: Uint8Array): Uint8Array {
  let at = 0;
  const next = (): number => {
    let value = 0;
    for (let scale = 1; ; scale *= 128) {
      const byte = patch[at++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
    }
  };
  const out = new Uint8Array(next());
  let written = 0;
  while (at < patch.length) {
    const from = next();
    const length = next();
    out.set(base.subarray(from, from + length), written);
    written += length;
    const literal = next();
    out.set(patch.subarray(at, at + literal), written);
    written += literal;
    at += literal;
  }
  return out;
}

/** @internal The embedded build: the relaxed-SIMD one where the runtime accepts it, else the plain one. */
export function embeddedWasm(relaxed: boolean): Uint8Array {
  const simd = decodeWasm(simdWasm);
  return relaxed ? applyPatch(simd, decodeWasm(relaxedWasmPatch)) : simd;
}

/** The caller's source, or (with none, and nothing loaded yet) the embedded build. */
function sourceOrEmbedded<T>(source: T | undefined | null): T | Uint8Array | undefined | null {
  if ((source !== undefined && source !== null) || isInitialized()) return source;
  return embeddedWasm(features().relaxedSimd);
}

/**
 * Loads the WebAssembly module. Idempotent: later calls return at once. With no `source` the
 * module embedded in the package is used (the relaxed-SIMD build where the runtime accepts it).
 * Whatever the order and mix of `init`/`initSync` calls, the first one to finish loading decides
 * the module and its memory; every later or concurrent call keeps that one (its own source and
 * options are then ignored).
 */
export function init(source?: InitSource, options?: InitOptions): Promise<void> {
  return initFrom(sourceOrEmbedded(source) ?? undefined, options);
}

/** Synchronous `init` (Node, Deno, Bun, workers): a Module or bytes, or nothing for the embedded build. */
export function initSync(source?: WebAssembly.Module | BufferSource, options?: InitOptions): void {
  initSyncFrom(sourceOrEmbedded(source) ?? undefined, options);
}
