// SGD, Adam and AdamW against float64 references of PyTorch's documented pseudo-code.
import { beforeAll, describe, expect, it } from "vitest";
import { Adam, AdamW, init, parameter, SGD, type Parameter } from "../../src/index.js";
import { AdamReference, SGDReference, type AdamReferenceOptions, type SGDReferenceOptions } from "../reference/sgd-adam.js";
import { maxRelativeError, randomArray, seededRandom } from "../reference/random.js";

beforeAll(async () => {
  await init();
});

const SIZES = [1, 3, 4, 5, 16, 17, 1037, 100003];
const STEPS = 100;

// Error bound. Both sides start from the same float32 parameters and see the same float32
// gradients, so the difference is float32 rounding in the kernel only. The update itself is
// computed to a few ulps (2^-24 ≈ 6e-8 relative) of a step of size ~lr, which is negligible; what
// dominates is storing the parameter back in float32 after each step: half an ulp of |p| ≤ 2,
// i.e. ≤ 1.2e-7 per step. Over 100 steps that accumulates as a random walk to ~1e-6 and at worst
// linearly to ~1e-5 of the parameter's scale. The parameters are O(1) (initialised in [-1, 1]),
// so the error is measured relative to max(|expected|, 1): relative for elements of size ≥ 1, on
// the parameter scale for elements near zero (where any float32 implementation has this
// absolute rounding). Measured here: ≤ 3e-6 over 100003 elements.
const TOLERANCE = 1e-5;
const FLOOR = 1;

function makeParam(random: () => number, size: number): { param: Parameter; reference: Float64Array } {
  const initial = Float32Array.from(randomArray(random, size));
  const param = parameter([size], { init: initial });
  return { param, reference: Float64Array.from(initial) };
}

/** Runs `STEPS` steps of the kernel and the reference with the same fresh float32 gradients. */
function runBoth(size: number, seed: number, makeOptimizer: (param: Parameter) => { step(): unknown }, reference: { step(g: ArrayLike<number>): void; param: Float64Array }, param: Parameter, random: () => number) {
  const optimizer = makeOptimizer(param);
  for (let t = 0; t < STEPS; t++) {
    const grad = Float32Array.from(randomArray(random, size));
    param.grad.set(grad);
    optimizer.step();
    reference.step(grad);
  }
  const { error, index } = maxRelativeError(param.data, reference.param, FLOOR);
  param.dispose();
  return { error, index, seed };
}

describe("SGD matches the float64 reference", () => {
  const combos: SGDReferenceOptions[] = [];
  for (const momentum of [0, 0.9]) {
    for (const dampening of [0, 0.5]) {
      for (const nesterov of [false, true]) {
        if (nesterov && (momentum === 0 || dampening !== 0)) continue;
        for (const weightDecay of [0, 0.05]) {
          for (const maximize of [false, true]) combos.push({ lr: 0.01, momentum, dampening, weightDecay, nesterov, maximize });
        }
      }
    }
  }
  it.each(combos)("%o", (options) => {
    for (const size of SIZES) {
      const random = seededRandom(size * 7919 + combos.indexOf(options));
      const { param, reference } = makeParam(random, size);
      const result = runBoth(size, 0, (p) => new SGD([p], options), new SGDReference(reference, options), param, random);
      expect(result.error, `size ${size} worst element ${result.index}`).toBeLessThan(TOLERANCE);
    }
  });
});

describe("Adam and AdamW match the float64 reference", () => {
  const combos: Array<AdamReferenceOptions & { decoupled: boolean }> = [];
  for (const decoupled of [false, true]) {
    for (const amsgrad of [false, true]) {
      for (const weightDecay of decoupled ? [0, 1e-2, 0.1] : [0, 0.1]) {
        for (const maximize of [false, true]) {
          combos.push({ lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay, amsgrad, maximize, decoupled });
        }
      }
    }
  }
  // Different betas and a large eps change which terms dominate; one extra set each.
  combos.push({ lr: 0.003, betas: [0.5, 0.9], eps: 1e-3, weightDecay: 0.01, amsgrad: true, maximize: false, decoupled: false });
  combos.push({ lr: 0.003, betas: [0, 0.5], eps: 1e-4, weightDecay: 0.01, amsgrad: false, maximize: true, decoupled: true });

  it.each(combos)("%o", ({ decoupled, ...options }) => {
    for (const size of SIZES) {
      const random = seededRandom(size * 104729 + combos.length);
      const { param, reference } = makeParam(random, size);
      const make = (p: Parameter) => (decoupled ? new AdamW([p], options) : new Adam([p], options));
      const result = runBoth(size, 0, make, new AdamReference(reference, options, decoupled), param, random);
      expect(result.error, `size ${size} worst element ${result.index}`).toBeLessThan(TOLERANCE);
    }
  });

  it("fails on the classic mistakes (the comparison has teeth)", () => {
    // The same comparison against deliberately wrong references must fail: eps inside the
    // square root, missing bias correction, L2 instead of decoupled decay.
    const size = 1037;
    const options: AdamReferenceOptions = { lr: 0.01, betas: [0.9, 0.999], eps: 1e-3, weightDecay: 0.1, amsgrad: false, maximize: false };
    class EpsInsideSqrt extends AdamReference {
      override step(grad: ArrayLike<number>): void {
        const { lr, betas: [beta1, beta2], eps } = this.options;
        const t = ++this.step_;
        for (let i = 0; i < this.param.length; i++) {
          const g = grad[i]! + this.options.weightDecay * this.param[i]!;
          const m = (this.firstMoment[i] = beta1 * this.firstMoment[i]! + (1 - beta1) * g);
          const v = (this.secondMoment[i] = beta2 * this.secondMoment[i]! + (1 - beta2) * g * g);
          this.param[i] = this.param[i]! - (lr * m) / (1 - beta1 ** t) / Math.sqrt(v / (1 - beta2 ** t) + eps);
        }
      }
    }
    class NoBiasCorrection extends AdamReference {
      override step(grad: ArrayLike<number>): void {
        const { lr, betas: [beta1, beta2], eps } = this.options;
        for (let i = 0; i < this.param.length; i++) {
          const g = grad[i]! + this.options.weightDecay * this.param[i]!;
          const m = (this.firstMoment[i] = beta1 * this.firstMoment[i]! + (1 - beta1) * g);
          const v = (this.secondMoment[i] = beta2 * this.secondMoment[i]! + (1 - beta2) * g * g);
          this.param[i] = this.param[i]! - (lr * m) / (Math.sqrt(v) + eps);
        }
      }
    }
    const wrongs = [
      (p: Float64Array) => new EpsInsideSqrt(p, options, false),
      (p: Float64Array) => new NoBiasCorrection(p, options, false),
      (p: Float64Array) => new AdamReference(p, options, true), // decoupled where Adam is L2
    ];
    for (const wrong of wrongs) {
      const random = seededRandom(5);
      const { param, reference } = makeParam(random, size);
      const result = runBoth(size, 0, (p) => new Adam([p], options), wrong(reference), param, random);
      expect(result.error).toBeGreaterThan(TOLERANCE * 10);
    }
    // SGD: Nesterov's look-ahead form vs plain momentum must be told apart too.
    const sgdOptions: SGDReferenceOptions = { lr: 0.01, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: true, maximize: false };
    const random = seededRandom(6);
    const { param, reference } = makeParam(random, size);
    const result = runBoth(size, 0, (p) => new SGD([p], sgdOptions), new SGDReference(reference, { ...sgdOptions, nesterov: false }), param, random);
    expect(result.error).toBeGreaterThan(TOLERANCE * 10);
  });
});

describe("defaults are the contract's (PyTorch's)", () => {
  // PyTorch's table (torch.optim.SGD / Adam / AdamW), written out independently of the sources; SGD adds
  // the proximal l1 option (TensorFlow's ProximalGradientDescent), off by default; Adam and AdamW
  // add stateDtype (moments in float32 unless asked otherwise).
  const adam: AdamReferenceOptions & { stateDtype: string } = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, stateDtype: "float32" };
  const table = [
    ["SGD", (p: Parameter) => new SGD([p]), { lr: 1e-3, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false, l1: 0 }],
    ["Adam", (p: Parameter) => new Adam([p]), adam],
    ["AdamW", (p: Parameter) => new AdamW([p]), { ...adam, weightDecay: 1e-2 }],
  ] as const;
  it.each(table)("%s", (_name, make, expected) => {
    const p = parameter([3]);
    const optimizer = make(p);
    expect({ ...optimizer.defaults }).toEqual(expected);
    expect(optimizer.paramGroups[0]).toMatchObject(expected);
    optimizer.dispose();
    p.dispose();
  });

  it("new AdamW(params) steps as the reference with those defaults, decay decoupled", () => {
    const random = seededRandom(17);
    const { param, reference } = makeParam(random, 1037);
    const result = runBoth(1037, 0, (p) => new AdamW([p]), new AdamReference(reference, { ...adam, weightDecay: 1e-2 }, true), param, random);
    expect(result.error, `worst element ${result.index}`).toBeLessThan(TOLERANCE);
  });
});

describe("param groups and live options", () => {
  it("applies per-group options and defaults", () => {
    const random = seededRandom(11);
    const a = makeParam(random, 37);
    const b = makeParam(random, 5);
    const optimizer = new SGD([{ params: [a.param], weightDecay: 0.1 }, { params: [b.param] }], { lr: 0.05, momentum: 0.9 });
    expect(optimizer.paramGroups[0]!.weightDecay).toBe(0.1);
    expect(optimizer.paramGroups[1]!.weightDecay).toBe(0);
    expect(optimizer.paramGroups[1]!.momentum).toBe(0.9);
    const refA = new SGDReference(a.reference, { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 0.1, nesterov: false, maximize: false });
    const refB = new SGDReference(b.reference, { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false, maximize: false });
    for (let t = 0; t < 20; t++) {
      const gA = Float32Array.from(randomArray(random, 37));
      const gB = Float32Array.from(randomArray(random, 5));
      a.param.grad.set(gA);
      b.param.grad.set(gB);
      if (t === 10) {
        // Live options: changed between steps, used by the next step.
        optimizer.paramGroups[0]!.lr = 0.01;
        optimizer.paramGroups[1]!.momentum = 0.5;
        refA.options.lr = 0.01;
        refB.options.momentum = 0.5;
      }
      optimizer.step();
      refA.step(gA);
      refB.step(gB);
    }
    expect(maxRelativeError(a.param.data, a.reference, FLOOR).error).toBeLessThan(TOLERANCE);
    expect(maxRelativeError(b.param.data, b.reference, FLOOR).error).toBeLessThan(TOLERANCE);
  });

  it("live betas, weightDecay and amsgrad take effect on the next step", () => {
    const random = seededRandom(12);
    const { param, reference } = makeParam(random, 21);
    const options: AdamReferenceOptions = { lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false };
    const optimizer = new AdamW([param], { ...options });
    const ref = new AdamReference(reference, { ...options }, true);
    for (let t = 0; t < 30; t++) {
      const g = Float32Array.from(randomArray(random, 21));
      param.grad.set(g);
      if (t === 15) {
        optimizer.paramGroups[0]!.betas = [0.8, 0.99];
        optimizer.paramGroups[0]!.weightDecay = 0.2;
        ref.options.betas = [0.8, 0.99];
        ref.options.weightDecay = 0.2;
      }
      optimizer.step();
      ref.step(g);
    }
    expect(maxRelativeError(param.data, reference, FLOOR).error).toBeLessThan(TOLERANCE);
  });

  it("zeroGrad zeroes every gradient of every group", () => {
    const a = parameter([3, 5]);
    const b = parameter([7]);
    a.grad.fill(2);
    b.grad.fill(-1);
    const optimizer = new Adam([{ params: [a] }, { params: [b], lr: 0.1 }]);
    optimizer.zeroGrad();
    expect([...a.grad, ...b.grad].every((x) => x === 0)).toBe(true);
  });

  it("step() returns true", () => {
    const p = parameter([4]);
    expect(new SGD([p]).step()).toBe(true);
  });
});

describe("bad input", () => {
  const cases: Array<[string, () => unknown, RegExp, typeof RangeError | typeof TypeError]> = [];
  const p = () => parameter([3]);
  for (const [name, options, errorType] of [
    ["lr", { lr: -1 }, RangeError],
    ["lr", { lr: Number.NaN }, TypeError],
    ["momentum", { momentum: -0.1 }, RangeError],
    ["dampening", { dampening: -1 }, RangeError],
    ["weightDecay", { weightDecay: -1e-4 }, RangeError],
    ["nesterov", { nesterov: true }, RangeError],
    ["nesterov", { nesterov: true, momentum: 0.9, dampening: 0.1 }, RangeError],
    ["maximize", { maximize: "yes" }, TypeError],
    ["momentun", { momentun: 0.9 }, TypeError],
  ] as const) {
    cases.push([`SGD ${name}`, () => new SGD([p()], options as never), new RegExp(name), errorType]);
  }
  for (const [Optim, label] of [[Adam, "Adam"], [AdamW, "AdamW"]] as const) {
    for (const [name, options, errorType] of [
      ["lr", { lr: -1e-3 }, RangeError],
      ["betas\\[0\\]", { betas: [1, 0.999] }, RangeError],
      ["betas\\[1\\]", { betas: [0.9, -0.5] }, RangeError],
      ["betas", { betas: 0.9 }, TypeError],
      ["eps", { eps: -1e-8 }, RangeError],
      ["weightDecay", { weightDecay: -1 }, RangeError],
      ["amsgrad", { amsgrad: 1 }, TypeError],
      ["maximize", { maximize: null }, TypeError],
    ] as const) {
      cases.push([`${label} ${name}`, () => new Optim([p()], options as never), new RegExp(name), errorType]);
    }
  }
  it.each(cases)("%s", (_label, make, pattern, errorType) => {
    expect(make).toThrow(errorType);
    expect(make).toThrow(pattern);
  });

  it("rejects empty, duplicated and non-parameter inputs", () => {
    const a = parameter([2]);
    expect(() => new SGD([])).toThrow(TypeError);
    expect(() => new SGD([{ params: [a] }, { params: [a] }])).toThrow(/more than one group/);
    expect(() => new SGD([{ params: [a, a] }])).toThrow(RangeError);
    expect(() => new SGD([{ params: [new Float32Array(2) as never] }])).toThrow(TypeError);
  });

  it("a disposed parameter throws at construction and at step, and nothing changes", () => {
    const a = parameter([5], { init: [1, 2, 3, 4, 5] });
    const b = parameter([5]);
    b.dispose();
    expect(() => new Adam([a, b])).toThrow(/disposed/);
    const c = parameter([5]);
    const optimizer = new SGD([a, c], { lr: 0.1 });
    a.grad.fill(1);
    c.dispose();
    expect(() => optimizer.step()).toThrow(/disposed/);
    expect([...a.data]).toEqual([1, 2, 3, 4, 5]);
    expect(() => c.data).toThrow(/disposed/);
    expect(() => c.grad).toThrow(/disposed/);
  });

  it("an option made invalid between steps throws on step() before any parameter changes", () => {
    const a = parameter([5], { init: [1, 2, 3, 4, 5] });
    const b = parameter([5], { init: [1, 2, 3, 4, 5] });
    a.grad.fill(1);
    b.grad.fill(1);
    const optimizer = new Adam([{ params: [a] }, { params: [b] }]);
    optimizer.paramGroups[1]!.lr = -1;
    expect(() => optimizer.step()).toThrow(/paramGroups\[1\]\.lr/);
    expect([...a.data]).toEqual([1, 2, 3, 4, 5]);
    expect(optimizer.stateDict().state.every((entry) => entry === null)).toBe(true);
  });
});
