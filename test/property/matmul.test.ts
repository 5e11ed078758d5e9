// Property: matmul for random shapes (each operand 1–5000 elements), both transposes, random
// alpha/beta, with and without `out`, and entries mixing zeros, denormals, tiny, ordinary and huge
// magnitudes, stays within the float32 summation bound of the float64 reference
// (test/reference/matmul.mjs: γ_{k+3}·(|alpha|·Σ|a·b| + |beta·c|), plus 1e-37 for underflow, which
// covers k products each underflowing by at most 2^-150). Huge entries stop at 1e15 so that k
// products of two of them (≤ 5000·1e30) stay finite in float32.

import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { init, matmul } from "../../src/index.js";
import { matmulReference, worstErrorRatio } from "../reference/matmul.mjs";
import { fillMixed, logUniform, mixArbitrary, params } from "./support.js";

beforeAll(async () => {
  await init();
});

const dims = fc.oneof(
  fc.tuple(fc.integer({ min: 1, max: 24 }), fc.integer({ min: 1, max: 24 }), fc.integer({ min: 1, max: 24 })),
  fc.tuple(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 1, max: 80 }), fc.integer({ min: 1, max: 80 })),
  fc.tuple(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
  fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 3 })),
).filter(([m, k, n]) => m * k <= 5000 && k * n <= 5000 && m * n <= 5000);

const scalar = fc.oneof(fc.constant(1), fc.constant(0), fc.constant(-1), logUniform(1e-3, 4).chain((x) => fc.constantFrom(x, -x))).map(Math.fround);

describe("matmul against float64", () => {
  it("stays within the float32 summation bound for every shape, transpose, alpha, beta and magnitude", () => {
    fc.assert(fc.property(
      dims, fc.boolean(), fc.boolean(), scalar, scalar, fc.constantFrom("none", "out", "out+beta"), mixArbitrary(1e15), fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      ([m, k, n], transA, transB, alpha, beta, outMode, mix, seed) => {
        const a = fillMixed(new Float32Array(m * k), seed, mix);
        const b = fillMixed(new Float32Array(k * n), seed + 1, mix);
        const c = fillMixed(new Float32Array(m * n), seed + 2, mix);
        const out = outMode === "none" ? undefined : c.slice();
        const usedBeta = outMode === "out+beta" ? beta : 0;
        const result = matmul(a, b, { m, k, n, transA, transB, alpha, ...(out === undefined ? {} : { out, beta: usedBeta }) });
        if (out !== undefined) expect(result).toBe(out);
        const expected = matmulReference(a, b, { m, k, n, transA, transB, alpha, beta: usedBeta, c });
        const worst = worstErrorRatio(result, expected);
        if (!(worst <= 1)) throw new Error(`error ${worst}× the bound for m ${m}, k ${k}, n ${n}`);
      },
    ), params(0.15));
  });
});
