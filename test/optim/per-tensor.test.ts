// What step() remembers between steps to skip per-tensor work: the bias corrections once β^t no
// longer matters, the groups' tables across a regrouping that keeps the parameters' order, and
// the per-parameter state across option changes and disposal.
import { beforeAll, describe, expect, it } from "vitest";
import { init, parameter, Adam, Adamax, NAdam, SGD, type Parameter } from "../../src/index.js";
import { biasCorrection, newCorrections } from "../../src/optim/bias.js";
import { randomArray, seededRandom } from "../reference/random.js";

beforeAll(async () => {
  await init();
});

describe("biasCorrection", () => {
  it("is exactly 1 - beta ** step for every step, past the point where it saturates, backwards and for a new beta", () => {
    const at = newCorrections();
    const betas = [0, 0.5, 0.9, 0.99, 0.999, 0.9999];
    let saturated = 0;
    const wrong: string[] = [];
    for (const beta of betas) {
      const pair = [beta, beta];
      // Up to well past the step from which 1 − β^t is 1 (≈ 416,000 for 0.9999).
      for (let step = 1; step <= 450_000; step += step < 1000 ? 1 : 7) {
        biasCorrection(at, pair, 1, step);
        if (!Object.is(at[5], 1 - beta ** step)) wrong.push(`beta ${beta} step ${step}`);
        if (at[5] === 1) saturated++;
      }
      // Back to early steps (a loaded state dict), then forward again.
      for (const step of [1, 2, 10, 400_000, 3, 449_999]) {
        biasCorrection(at, pair, 0, step);
        expect(at[2], `beta ${beta} step ${step}`).toBe(1 - beta ** step);
      }
    }
    expect(wrong).toEqual([]);
    expect(saturated).toBeGreaterThan(0);
  });

  it("remembers β and the first step at which β^t ≤ 2^-60 in its own three slots", () => {
    const at = newCorrections();
    const seen = (): number[] => Array.from(at);
    // 0.5^60 is exactly 2^-60: step 60 is the first.
    for (let step = 1; step < 60; step++) biasCorrection(at, [0.5, 0.9], 0, step);
    expect(seen()).toEqual([0.5, Infinity, 1 - 0.5 ** 59, NaN, Infinity, 0]);
    biasCorrection(at, [0.5, 0.9], 0, 60);
    expect(seen()).toEqual([0.5, 60, 1, NaN, Infinity, 0]);
    biasCorrection(at, [0.5, 0.9], 0, 59);
    expect(seen()).toEqual([0.5, 60, 1 - 0.5 ** 59, NaN, Infinity, 0]);
    // Out of order (tensors at different steps): a later step keeps the earlier first step.
    const other = newCorrections();
    for (const [step, first] of [[70, 70], [80, 70], [65, 65], [90, 65], [59, 65]] as const) {
      biasCorrection(other, [0.9, 0.5], 1, step);
      expect(Array.from(other), `step ${step}`).toEqual([NaN, Infinity, 0, 0.5, first, step === 59 ? 1 - 0.5 ** 59 : 1]);
    }
    // A new β (a scheduler's change) forgets the old first step.
    biasCorrection(other, [0.9, 0.25], 1, 2);
    expect(Array.from(other)).toEqual([NaN, Infinity, 0, 0.25, Infinity, 1 - 0.25 ** 2]);
  });
});

function makeParams(seed: number, sizes: number[]): Parameter[] {
  const random = seededRandom(seed);
  return sizes.map((size) => parameter([size], { init: Array.from(randomArray(random, size, 1)) }));
}

describe("remembered per-tensor work", () => {
  it.each([["Adam", (p: Parameter[]) => new Adam(p, { lr: 0.01 })], ["NAdam", (p: Parameter[]) => new NAdam(p, { lr: 0.01 })],
    ["Adamax", (p: Parameter[]) => new Adamax(p, { lr: 0.01 })]] as const)(
    "%s: regrouping the same parameters in the same order gives the bits of stepping each alone", (_, make) => {
      const sizes = [5, 64, 3, 17, 8];
      const grouped = makeParams(1, sizes);
      const alone = makeParams(1, sizes);
      const [a, b, c, d, e] = grouped as [Parameter, Parameter, Parameter, Parameter, Parameter];
      // [[a], [b, c], [d, e]], then [[a, b], [c, d], [e]]: the same order, and a group of the
      // same length over other parameters (its old table must not serve).
      const optimizer = make([a]);
      optimizer.addParamGroup({ params: [b, c] });
      optimizer.addParamGroup({ params: [d, e] });
      const singles = alone.map((p) => make([p]));
      const random = seededRandom(3);
      for (let step = 0; step < 8; step++) {
        if (step === 4) {
          optimizer.paramGroups[0]!.params = [a, b];
          optimizer.paramGroups[1]!.params = [c, d];
          optimizer.paramGroups[2]!.params = [e];
        }
        grouped.forEach((p, i) => {
          const grad = randomArray(random, p.size, 1);
          p.grad.set(grad);
          alone[i]!.grad.set(grad);
        });
        optimizer.step();
        singles.forEach((s) => s.step());
        grouped.forEach((p, i) => expect(Array.from(p.data), `tensor ${i} after step ${step}`).toEqual(Array.from(alone[i]!.data)));
      }
    });

  it("an option that adds a buffer to a lone tensor starts it fresh, as PyTorch does", () => {
    const [p] = makeParams(5, [9]);
    const optimizer = new SGD([p!], { lr: 0.1 });
    p!.grad.fill(1);
    optimizer.step();
    optimizer.step();
    expect(p!.data[0]).toBeCloseTo(makeParams(5, [9])[0]!.data[0]! - 0.2, 6);
    const before = p!.data[0]!;
    // Momentum now: a momentum buffer is made this step and starts as the gradient (no decay).
    optimizer.paramGroups[0]!.momentum = 0.9;
    optimizer.step();
    expect(p!.data[0]).toBe(Math.fround(before - Math.fround(0.1)));
    expect(optimizer.stateDict().state[0]!.step).toBe(3);
    // The buffer is the state's own (a step over the tensor's previous buffer list would keep none).
    expect(optimizer.stateDict().state[0]!.buffers).toEqual({ momentumBuffer: new Float32Array(9).fill(1) });
    optimizer.step();
    expect(optimizer.stateDict().state[0]!.buffers).toEqual({ momentumBuffer: new Float32Array(9).fill(Math.fround(Math.fround(0.9) + 1)) });
    optimizer.dispose();
    p!.dispose();
  });

  it("a parameter disposed after steps that passed its check makes the next step throw, changing nothing", () => {
    const params = makeParams(7, [4, 6]);
    const optimizer = new Adam(params, { lr: 0.01 });
    params.forEach((p) => p.grad.fill(0.5));
    optimizer.step();
    optimizer.step();
    const kept = Array.from(params[0]!.data);
    params[1]!.dispose();
    expect(() => optimizer.step()).toThrow(/parameter "param\d+" has been disposed/);
    expect(Array.from(params[0]!.data)).toEqual(kept);
  });
});
