// The wasm embedded in the main entry: the simd build and the relaxed build (a patch against the
// simd one) decode to exactly the files asc wrote, and init() loads the relaxed one where the
// runtime supports relaxed SIMD.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { applyPatch, decodeWasm, embeddedWasm } from "../src/bindings/embedded.js";
import { relaxedWasmPatch, simdWasm, wasmAlphabet } from "../src/bindings/wasm.js";

const simdFile = new Uint8Array(readFileSync(new URL("../build/simdopt-simd.wasm", import.meta.url)));
const relaxedFile = new Uint8Array(readFileSync(new URL("../build/simdopt-relaxed.wasm", import.meta.url)));

describe("the embedded wasm", () => {
  it("the simd build decodes byte for byte to build/simdopt-simd.wasm", () => {
    expect(embeddedWasm(false)).toEqual(simdFile);
    expect(decodeWasm(simdWasm)).toEqual(simdFile);
  });

  it("the relaxed build, rebuilt from the simd build and its patch, is byte for byte build/simdopt-relaxed.wasm", () => {
    expect(embeddedWasm(true)).toEqual(relaxedFile);
    // The patch really is smaller than the build it stands for (differing function bodies only).
    expect(relaxedWasmPatch.length).toBeLessThan(relaxedFile.length * 0.75);
  });

  it("the alphabet gives each byte value its own character, none needing an escape in a string literal", () => {
    const codes = Array.from(wasmAlphabet, (char) => char.charCodeAt(0));
    expect(new Set(codes).size).toBe(256);
    for (const code of codes) {
      expect(code === 0x22 || code === 0x5c || code < 0x20 || (code >= 0x7f && code < 0xa0) || code > 0x7ff, `U+${code.toString(16)}`).toBe(false);
    }
  });

  it("applyPatch copies ranges of the base and inserts literals, with multi-byte varuints", () => {
    const base = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    // total 7; copy base[200..203); literal [9, 8]; copy base[290..292) (offset 290 = 0xa2 0x02); no literal
    const patch = Uint8Array.from([7, 0xc8, 0x01, 3, 2, 9, 8, 0xa2, 0x02, 2, 0]);
    expect(Array.from(applyPatch(base, patch))).toEqual([200, 201, 202, 9, 8, 34, 35]);
    // A varuint whose low byte is exactly 0x80 (128 = 0x80 0x01) and a record of literals only.
    const literalOnly = Uint8Array.from([4, 0x80, 0x01, 1, 1, 7, 0, 0, 2, 5, 6]);
    expect(Array.from(applyPatch(base, literalOnly))).toEqual([128, 7, 5, 6]);
  });

  it("decodeWasm maps each character through the alphabet given", () => {
    const alphabet = String.fromCharCode(...Array.from({ length: 256 }, (_, byte) => 0x100 + ((byte * 7) & 0xff)));
    const text = String.fromCharCode(0x100, 0x107, 0x1ff, 0x100 + ((255 * 7) & 0xff));
    expect(Array.from(decodeWasm(text, alphabet))).toEqual([0, 1, (0xff * 183) & 0xff, 255]);
  });

  it("init() loads the relaxed build where relaxed SIMD is supported, the plain one where not", () => {
    const script = `
      import { init, features, matmul } from ${JSON.stringify(new URL("../dist/index.js", import.meta.url).href)};
      await init();
      const a = Float32Array.from({ length: 64 }, (_, i) => (i % 7) - 3);
      const b = Float32Array.from({ length: 64 }, (_, i) => (i % 5) - 2);
      const c = matmul(a, b, { m: 8, k: 8, n: 8 });
      console.log(JSON.stringify({ relaxed: features().relaxedSimd, c: Array.from(c) }));`;
    // Small integers: every product and sum is exact, fused or not, so both builds match exactly.
    const a = Array.from({ length: 64 }, (_, i) => (i % 7) - 3);
    const b = Array.from({ length: 64 }, (_, i) => (i % 5) - 2);
    const c = Array.from({ length: 64 }, (_, at) => {
      let sum = 0;
      for (let p = 0; p < 8; p++) sum += a[Math.floor(at / 8) * 8 + p]! * b[p * 8 + (at % 8)]!;
      return sum;
    });
    const run = (flags: string[]) => JSON.parse(execFileSync(process.execPath, [...flags, "--input-type=module", "-e", script], { encoding: "utf8" }));
    expect(run(["--experimental-wasm-relaxed-simd"])).toEqual({ relaxed: true, c });
    expect(run([])).toEqual({ relaxed: false, c });
  });
});
