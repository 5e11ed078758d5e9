// matmul against a float64 reference (test/reference/matmul.mjs explains the k-scaled bound).
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { init, matmul, parameter, type MatmulOptions } from "../../src/index.js";
import { randomArray, seededRandom } from "../reference/random.js";
import { matmulReference, worstErrorRatio } from "../reference/matmul.mjs";

beforeAll(async () => {
  await init();
});

const TRANSPOSES: Array<[boolean, boolean]> = [[false, false], [false, true], [true, false], [true, true]];

// Shapes [m, k, n]. Block sizes of the kernel (assembly/ops/matmul.ts): register block MR×NR =
// 5×8 (simd build) or 6×8 (relaxed), with a 4-column kernel for a last sliver of ≤ 4 columns;
// cache blocks KC = 256 (k), MC = 50 (simd) / 48 (relaxed) (m), NC = 1024 (n). Every one is hit at block−1, block
// and block+1 (and around 2·MC, 2·KC), plus 1s and primes.
const SHAPES: Array<[number, number, number]> = [
  [1, 1, 1], [1, 37, 1], [1, 1, 37], [37, 1, 1], [37, 53, 29], [2, 3, 5],
  [3, 5, 4], [4, 4, 4], [5, 6, 3], [6, 8, 8], [7, 9, 7], [8, 2, 9], [13, 17, 12], [11, 19, 13],
  [49, 31, 33], [50, 31, 33], [51, 31, 33], [99, 23, 17], [100, 23, 17], [101, 23, 17], [193, 41, 21],
  [10, 3, 16], [15, 12, 20],
  [9, 255, 11], [9, 256, 11], [9, 257, 11], [10, 513, 6], [5, 771, 3],
  [3, 7, 1023], [3, 7, 1024], [3, 7, 1025], [7, 300, 1031],
];

function floats(seed: number, length: number): Float32Array {
  return Float32Array.from(randomArray(seededRandom(seed), length));
}

function check(actual: Float32Array, a: Float32Array, b: Float32Array, options: MatmulOptions, before?: Float32Array): void {
  const expected = matmulReference(a, b, { ...options, c: before });
  const worst = worstErrorRatio(actual, expected);
  const { m, k, n, transA, transB, alpha, beta } = options;
  expect(worst, `m=${m} k=${k} n=${n} transA=${transA} transB=${transB} alpha=${alpha} beta=${beta}`).toBeLessThanOrEqual(1);
}

describe("matmul: every transpose combination on awkward shapes", () => {
  for (const [transA, transB] of TRANSPOSES) {
    it(`transA=${transA} transB=${transB}`, () => {
      let seed = 1;
      for (const [m, k, n] of SHAPES) {
        const a = floats(seed++, m * k);
        const b = floats(seed++, k * n);
        const out = new Float32Array(m * n).fill(NaN); // beta = 0 must not read it
        const options = { m, k, n, transA, transB, out };
        const result = matmul(a, b, options);
        expect(result).toBe(out);
        check(result, a, b, options);
        // Without `out`: a fresh array with the same values.
        const fresh = matmul(a, b, { m, k, n, transA, transB });
        expect(fresh).not.toBe(out);
        expect(fresh.length).toBe(m * n);
        expect(Array.from(fresh)).toEqual(Array.from(out));
      }
    });
  }
});

describe("matmul: alpha and beta", () => {
  const cases: Array<[number, number]> = [[0.5, 0], [-2, 0.75], [1, 1], [1.25, -1], [0, 0.5], [3, 0]];
  for (const [alpha, beta] of cases) {
    it(`alpha=${alpha} beta=${beta}`, () => {
      let seed = 100;
      for (const [transA, transB] of TRANSPOSES) {
        for (const [m, k, n] of [[37, 53, 29], [97, 257, 13], [6, 513, 9], [1, 1, 1]] as const) {
          const a = floats(seed++, m * k);
          const b = floats(seed++, k * n);
          const before = beta === 0 ? new Float32Array(m * n).fill(NaN) : floats(seed++, m * n);
          const out = before.slice();
          const options = { m, k, n, transA, transB, alpha, beta, out };
          matmul(a, b, options);
          check(out, a, b, options, before);
        }
      }
    });
  }

  it("beta has no effect without out", () => {
    const a = floats(7, 12), b = floats(8, 20);
    const plain = matmul(a, b, { m: 3, k: 4, n: 5, alpha: 2 });
    const withBeta = matmul(a, b, { m: 3, k: 4, n: 5, alpha: 2, beta: 5 });
    expect(Array.from(withBeta)).toEqual(Array.from(plain));
    check(plain, a, b, { m: 3, k: 4, n: 5, alpha: 2 });
  });

  it("beta = 0 overwrites NaN and Infinity in out, beta ≠ 0 propagates them (BLAS)", () => {
    const a = floats(9, 6 * 10), b = floats(10, 10 * 7);
    const out = new Float32Array(42).fill(Infinity);
    out[3] = NaN;
    matmul(a, b, { m: 6, k: 10, n: 7, out });
    expect(out.every(Number.isFinite)).toBe(true);
    out[3] = NaN;
    matmul(a, b, { m: 6, k: 10, n: 7, out, beta: 1 });
    expect(Number.isNaN(out[3])).toBe(true);
    expect(Number.isFinite(out[4])).toBe(true);
  });
});

describe("matmul: large", () => {
  it("1024×1024×1024", () => {
    const m = 1024, k = 1024, n = 1024;
    const a = floats(21, m * k), b = floats(22, k * n);
    const before = floats(23, m * n);
    const out = before.slice();
    const options = { m, k, n, alpha: 0.5, beta: -1, out };
    matmul(a, b, options);
    check(out, a, b, options, before);
  });

  it("the MLP shapes of a 784-256-10 network, forward and backward", () => {
    const batch = 256;
    const x = floats(31, batch * 784), w1 = floats(32, 256 * 784), h = floats(33, batch * 256);
    const w2 = floats(34, 10 * 256), dy = floats(35, batch * 10), dh = floats(36, batch * 256);
    const cases: Array<[Float32Array, Float32Array, MatmulOptions]> = [
      [x, w1, { m: batch, k: 784, n: 256, transB: true }],  // h = x·W1ᵀ
      [h, w2, { m: batch, k: 256, n: 10, transB: true }],   // y = h·W2ᵀ
      [dy, h, { m: 10, k: batch, n: 256, transA: true }],   // dW2 = dyᵀ·h
      [dy, w2, { m: batch, k: 10, n: 256 }],                // dh = dy·W2
      [dh, x, { m: 256, k: batch, n: 784, transA: true }],  // dW1 = dhᵀ·x
    ];
    for (const [a, b, options] of cases) check(matmul(a, b, options), a, b, options);
  });
});

describe("matmul: zero-copy library views", () => {
  it("Parameter views as a, b and out are used in place", () => {
    const m = 37, k = 53, n = 29;
    const pa = parameter([m, k], { init: floats(41, m * k) });
    const pb = parameter([k, n], { init: floats(42, k * n) });
    const pc = parameter([m, n], { init: floats(43, m * n) });
    const before = pc.data.slice();
    const out = pc.data;
    const options = { m, k, n, alpha: 2, beta: 0.5, out };
    const result = matmul(pa.data, pb.data, options);
    expect(result).toBe(out);
    check(pc.data, pa.data, pb.data, options, before);
    // A view taken before a memory growth still works (and still points at the parameter).
    const heldOut = pc.data;
    const big = parameter([8, 1 << 20]); // 32 MiB: grows the memory
    matmul(pa.data, pb.data, { m, k, n, out: heldOut });
    check(pc.data, pa.data, pb.data, { m, k, n });
    big.dispose();
    for (const p of [pa, pb, pc]) p.dispose();
  });

  it("out overlapping a or b (same wasm memory) gives the result for the old inputs", () => {
    const s = 19;
    const pa = parameter([s, s], { init: floats(51, s * s) });
    const pb = parameter([s, s], { init: floats(52, s * s) });
    const a0 = pa.data.slice(), b0 = pb.data.slice();
    matmul(pa.data, pb.data, { m: s, k: s, n: s, out: pa.data }); // A ← A·B
    check(pa.data, a0, b0, { m: s, k: s, n: s });
    pa.data.set(a0);
    matmul(pa.data, pb.data, { m: s, k: s, n: s, transB: true, out: pb.data }); // B ← A·Bᵀ
    check(pb.data, a0, b0, { m: s, k: s, n: s, transB: true });
    pa.dispose();
    pb.dispose();
  });

  it("out partially overlapping a (+1 and +4 floats) or b (either end) gives the result for the old inputs", () => {
    // Views into one parameter's memory at chosen float offsets. k = 300 > KC: B is packed once
    // per k-block, so the part of b read by the second block is read after C was first written.
    const m = 37, k = 300, n = 29;
    for (const [transA, transB] of TRANSPOSES) {
      const label = `transA=${transA} transB=${transB}`;
      for (const shift of [1, 4]) {
        const store = parameter([m * k + shift + m * n + k * n], { init: floats(81 + shift, m * k + shift + m * n + k * n) });
        const a = store.data.subarray(0, m * k);
        const out = store.data.subarray(shift, shift + m * n); // starts `shift` floats into a
        const b = store.data.subarray(m * k + shift + m * n);
        const a0 = a.slice(), b0 = b.slice();
        matmul(a, b, { m, k, n, transA, transB, out });
        expect(worstErrorRatio(out, matmulReference(a0, b0, { m, k, n, transA, transB })), `out = a + ${shift}, ${label}`).toBeLessThanOrEqual(1);
        store.dispose();
      }
      // b across the end of out (b starts 400 floats before out ends), and out across the end
      // of b (out starts 400 floats before b ends, where the second k-block of B is read).
      const overlap = 400;
      for (const outFirst of [true, false]) {
        const store = parameter([m * k + m * n + k * n - overlap], { init: floats(outFirst ? 91 : 92, m * k + m * n + k * n - overlap) });
        const a = store.data.subarray(0, m * k);
        const outStart = outFirst ? m * k : m * k + k * n - overlap;
        const bStart = outFirst ? m * k + m * n - overlap : m * k;
        const out = store.data.subarray(outStart, outStart + m * n);
        const b = store.data.subarray(bStart, bStart + k * n);
        const a0 = a.slice(), b0 = b.slice(), before = out.slice();
        matmul(a, b, { m, k, n, transA, transB, alpha: 0.5, beta: 2, out });
        const expected = matmulReference(a0, b0, { m, k, n, transA, transB, alpha: 0.5, beta: 2, c: before });
        expect(worstErrorRatio(out, expected), `${outFirst ? "b across the end of out" : "out across the end of b"}, ${label}`).toBeLessThanOrEqual(1);
        store.dispose();
      }
    }
  });

  it("plain Float32Arrays at an offset in a larger buffer", () => {
    const m = 5, k = 7, n = 9;
    const backing = floats(61, 1000);
    const a = backing.subarray(3, 3 + m * k), b = backing.subarray(100, 100 + k * n);
    const outBacking = new Float32Array(200).fill(NaN);
    const out = outBacking.subarray(17, 17 + m * n);
    matmul(a, b, { m, k, n, out });
    check(out, a, b, { m, k, n });
    // Only the window was written.
    expect(Number.isNaN(outBacking[16])).toBe(true);
    expect(Number.isNaN(outBacking[17 + m * n])).toBe(true);
  });
});

describe("matmul: argument checking", () => {
  const a = floats(71, 12), b = floats(72, 20);

  function expectUntouched(run: (out: Float32Array) => void, error: typeof RangeError | typeof TypeError, name: RegExp): void {
    const out = new Float32Array(15).fill(7);
    expect(() => run(out)).toThrow(error);
    expect(() => run(out)).toThrow(name);
    expect(out.every((value) => value === 7)).toBe(true);
  }

  it("a, b, out lengths that do not match m, k, n throw RangeError naming the argument", () => {
    expectUntouched((out) => matmul(a.subarray(1), b, { m: 3, k: 4, n: 5, out }), RangeError, /\ba\b/);
    expectUntouched((out) => matmul(a, b.subarray(1), { m: 3, k: 4, n: 5, out }), RangeError, /\bb\b/);
    expectUntouched((out) => matmul(a, b, { m: 3, k: 4, n: 5, out: out.subarray(1) }), RangeError, /\bout\b/);
    expectUntouched((out) => matmul(a, b, { m: 4, k: 3, n: 5, out }), RangeError, /\bb\b/);
  });

  it("sizes that are not positive integers throw RangeError", () => {
    for (const bad of [0, -1, 1.5, NaN, Infinity, undefined, "3"]) {
      expectUntouched((out) => matmul(a, b, { m: bad as number, k: 4, n: 5, out }), RangeError, /\bm\b/);
      // k = 0 is a valid (empty) product: see test/reliability/parity.test.ts.
      if (bad !== 0) expectUntouched((out) => matmul(a, b, { m: 3, k: bad as number, n: 5, out }), RangeError, /\bk\b/);
      expectUntouched((out) => matmul(a, b, { m: 3, k: 4, n: bad as number, out }), RangeError, /\bn\b/);
    }
  });

  it("non-Float32Array arguments throw TypeError", () => {
    expectUntouched((out) => matmul(Float64Array.from(a) as unknown as Float32Array, b, { m: 3, k: 4, n: 5, out }), TypeError, /\ba\b/);
    expectUntouched((out) => matmul(a, Array.from(b) as unknown as Float32Array, { m: 3, k: 4, n: 5, out }), TypeError, /\bb\b/);
    expect(() => matmul(a, b, { m: 3, k: 4, n: 5, out: new Float64Array(15) as unknown as Float32Array })).toThrow(TypeError);
    expectUntouched((out) => matmul(a, b, { m: 3, k: 4, n: 5, out, transA: 1 as unknown as boolean }), TypeError, /transA/);
    expectUntouched((out) => matmul(a, b, { m: 3, k: 4, n: 5, out, alpha: "2" as unknown as number }), TypeError, /alpha/);
    expect(() => matmul(a, b, undefined as unknown as MatmulOptions)).toThrow(TypeError);
  });
});

describe("matmul: relaxed-SIMD build", () => {
  // The relaxed build (6×8 fused kernel) runs in a child process on the built package (dist/,
  // made by `npm test`'s pretest build): in Node 20 behind --experimental-wasm-relaxed-simd, and
  // in Deno and Bun (the devDependencies), where relaxed SIMD is on by default. Each child runs
  // the same reference cases and reports which build init() loaded.
  const bin = (name: string) => fileURLToPath(new URL(`../../node_modules/.bin/${name}`, import.meta.url));
  const child = fileURLToPath(new URL("../support/matmul-relaxed-child.mjs", import.meta.url));
  const runners: Array<[string, string, string[]]> = [
    ["node --experimental-wasm-relaxed-simd", process.execPath, ["--experimental-wasm-relaxed-simd", child]],
    ["deno", bin("deno"), ["run", "--no-prompt", child]],
    ["bun", bin("bun"), [child]],
  ];
  it.each(runners)("%s runs the relaxed build and matches the reference", (_name, command, args) => {
    const dist = fileURLToPath(new URL("../../dist/index.js", import.meta.url));
    expect(existsSync(dist), "dist/ is missing: run `npm run build` first").toBe(true);
    expect(existsSync(command), `${command} is missing: run npm ci`).toBe(true);
    const output = execFileSync(command, args, { encoding: "utf8", env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" } });
    const report = JSON.parse(output) as { relaxedSimd: boolean; cases: Array<{ label: string; worst: number }> };
    expect(report.relaxedSimd, "features().relaxedSimd after init(): the relaxed build was loaded").toBe(true);
    expect(report.cases.length).toBeGreaterThan(100);
    for (const { label, worst } of report.cases) expect(worst, label).toBeLessThanOrEqual(1);
  });
});
