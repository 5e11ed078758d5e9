// Ftrl's scalar path for powers the kernel does not take repeats the kernel's operations in its
// order and rounding: run on a power the kernel does take (−0.5, 0, −1), it must give the
// kernel's bits, with every term (l1, l2, shrinkage, beta) and z on both sides of ±l1.
import { beforeAll, describe, expect, it } from "vitest";
import { init, parameter } from "../../src/index.js";
import { kernels } from "../../src/bindings/instance.js";
import { stepScalars } from "../../src/bindings/memory.js";
import { ftrlGeneralPower } from "../../src/optim/ftrl-power.js";
import { randomArray, seededRandom } from "../reference/random.js";
import { bits } from "./factories.js";

beforeAll(async () => {
  await init();
});

describe("ftrlGeneralPower", () => {
  it.each([[-0.5, 0.1, 0.01, 0.02, 0.3], [0, 0.05, 0, 0, 0], [-1, 0.2, 0.5, 0, 1], [-0.5, 0, 0.3, 0.1, 0]])(
    "lrPower %s, l1 %s, l2 %s, l2Shrinkage %s, beta %s: the kernel's bits", (lrPower, l1, l2, l2Shrinkage, beta) => {
      const n = 37;
      const random = seededRandom(11);
      const init0 = { p: randomArray(random, n, 1), g: randomArray(random, n, 1), acc: randomArray(random, n, 1).map((x) => 0.1 + Math.abs(x)), z: randomArray(random, n, 0.6) };
      const run = (step: (p: number, g: number, a: number, z: number, n: number) => void) => {
        const p = parameter([n], { init: Array.from(init0.p) });
        const acc = parameter([n], { init: Array.from(init0.acc) });
        const z = parameter([n], { init: Array.from(init0.z) });
        p.grad.set(init0.g);
        for (let t = 0; t < 3; t++) {
          const s = stepScalars();
          s[0] = 0.05; s[1] = lrPower; s[2] = l1; s[3] = l2; s[4] = l2Shrinkage; s[5] = beta;
          step(p.dataPtr, p.gradPtr, acc.dataPtr, z.dataPtr, n);
        }
        const out = [bits(p.data), bits(acc.data), bits(z.data)].map((b) => Array.from(b));
        p.dispose(); acc.dispose(); z.dispose();
        return out;
      };
      expect(run(ftrlGeneralPower)).toEqual(run((...args) => kernels().ftrlStep(...args)));
    });

  // Signed zeros and infinities, where a reordered comparison or an always-taken shrinkage term
  // would still agree on ordinary values: z exactly 0 with l1 = ±0 (clipping to [∓0, ±0] keeps +0),
  // and an infinite parameter without shrinkage (0·∞ would turn it into NaN).
  it.each([[-0.5, 0], [0, 0], [-1, 0], [-0.5, -0], [-1, -0]])("lrPower %s, l1 %s, zero and infinite entries: the kernel's bits", (lrPower, l1) => {
    const p0 = [0, 0, Infinity, -Infinity, 0.5, -0.25];
    const g0 = [0, -0, 0.75, -0.5, 0, 0];
    const run = (step: (p: number, g: number, a: number, z: number, n: number) => void) => {
      const n = p0.length;
      const p = parameter([n], { init: p0 });
      const acc = parameter([n], { init: new Array<number>(n).fill(0.1) });
      const z = parameter([n], { init: new Array<number>(n).fill(0) });
      p.grad.set(g0);
      for (let t = 0; t < 2; t++) {
        const s = stepScalars();
        s[0] = 0.05; s[1] = lrPower; s[2] = l1; s[3] = 0; s[4] = 0; s[5] = 0;
        step(p.dataPtr, p.gradPtr, acc.dataPtr, z.dataPtr, n);
      }
      const out = [bits(p.data), bits(acc.data), bits(z.data)].map((b) => Array.from(b));
      p.dispose(); acc.dispose(); z.dispose();
      return out;
    };
    const kernel = run((...args) => kernels().ftrlStep(...args));
    // The expectations themselves: +0 where z stayed 0; ±∞ kept where σ > 0 (with lrPower 0, σ is
    // 0 and 0·∞ is NaN, on both paths alike).
    expect(kernel[0]!.slice(0, 2)).toEqual([0, 0]);
    if (lrPower !== 0) expect(kernel[0]!.slice(2, 4)).toEqual(Array.from(bits(new Float32Array([Infinity, -Infinity]))));
    expect(run(ftrlGeneralPower)).toEqual(kernel);
  });

  it("writes `length` elements and nothing after them", () => {
    const n = 9, length = 6;
    const p = parameter([n], { init: Array.from({ length: n }, (_, i) => (i - 4) / 3) });
    const acc = parameter([n], { init: new Array<number>(n).fill(0.1) });
    const z = parameter([n], { init: Array.from({ length: n }, (_, i) => (4 - i) / 5) });
    p.grad.fill(0.5);
    const before = [bits(p.data), bits(acc.data), bits(z.data)].map((b) => Array.from(b.subarray(length)));
    const s = stepScalars();
    s[0] = 0.05; s[1] = -0.7; s[2] = 0.01; s[3] = 0.1; s[4] = 0; s[5] = 0;
    ftrlGeneralPower(p.dataPtr, p.gradPtr, acc.dataPtr, z.dataPtr, length);
    expect([bits(p.data), bits(acc.data), bits(z.data)].map((b) => Array.from(b.subarray(length)))).toEqual(before);
    expect(Array.from(acc.data.subarray(0, length))).toEqual(new Array<number>(length).fill(Math.fround(0.1 + 0.25)));
    p.dispose(); acc.dispose(); z.dispose();
  });
});
