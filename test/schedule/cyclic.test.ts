// CyclicLR against a generator that walks the triangle by position in the cycle (PyTorch works
// through x = 1 + t/total − cycle), with momentum cycling, custom scale functions and checks.
import { describe, expect, it } from "vitest";
import { CyclicLR, type CyclicLROptions } from "../../src/index.js";
import { adamLike, checkRoundTrip, expectSequenceClose, sgdLike, type FakeOptimizer } from "./helpers.js";

function perGroup(value: number | readonly number[] | undefined, fallback: number, groups: number): number[] {
  return Array.isArray(value) ? [...value] : new Array<number>(groups).fill((value as number | undefined) ?? fallback);
}

/** lr and momentum of every group at steps 0..steps. */
function cyclicReference(groups: number, options: CyclicLROptions, steps: number): { lr: number[][]; momentum: number[][] } {
  const base = perGroup(options.baseLr, 0, groups);
  const peak = perGroup(options.maxLr, 0, groups);
  const baseMomentum = perGroup(options.baseMomentum, 0.8, groups);
  const maxMomentum = perGroup(options.maxMomentum, 0.9, groups);
  const up = options.stepSizeUp ?? 2000;
  const down = options.stepSizeDown ?? up;
  const total = up + down;
  const mode = options.mode ?? "triangular";
  const gamma = options.gamma ?? 1;
  const lr: number[][] = [];
  const momentum: number[][] = [];
  for (let t = 0; t <= steps; t++) {
    const cycleIndex = Math.floor(t / total);
    const position = t - cycleIndex * total;
    const height = position <= up ? position / up : (total - position) / down;
    let scale: number;
    if (options.scaleFn) {
      const mode2 = options.scaleMode ?? "cycle";
      scale = options.scaleFn(mode2 === "cycle" ? cycleIndex + 1 : t);
    } else if (mode === "triangular") scale = 1;
    else if (mode === "triangular2") scale = 0.5 ** cycleIndex;
    else scale = gamma ** t;
    lr.push(base.map((b, g) => b + (peak[g]! - b) * height * scale));
    momentum.push(maxMomentum.map((m, g) => m - (m - baseMomentum[g]!) * height * scale));
  }
  return { lr, momentum };
}

function readMomentum(optimizer: FakeOptimizer): number[] {
  return optimizer.paramGroups.map((g) => (Array.isArray(g.betas) ? (g.betas as number[])[0]! : (g.momentum as number)));
}

const CASES: Array<CyclicLROptions & { steps: number }> = [
  { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 10, steps: 100 },
  { baseLr: [0.001, 0.01], maxLr: [0.006, 0.05], stepSizeUp: 7, stepSizeDown: 13, steps: 150 },
  { baseLr: 0.001, maxLr: 0.1, stepSizeUp: 20, mode: "triangular2", steps: 200 },
  { baseLr: 0.001, maxLr: 0.1, stepSizeUp: 15, mode: "exp_range", gamma: 0.99, steps: 200 },
  { baseLr: 0.002, maxLr: 0.02, stepSizeUp: 9, scaleFn: (x) => 1 / (1 + 0.1 * x), steps: 120 },
  { baseLr: 0.002, maxLr: 0.02, stepSizeUp: 9, scaleFn: (x) => 0.999 ** x, scaleMode: "iterations", steps: 120 },
  { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 2.5, stepSizeDown: 4, baseMomentum: [0.7, 0.8], maxMomentum: 0.95, steps: 60 },
];

describe("CyclicLR", () => {
  it.each(CASES)("%o: lr and SGD momentum follow the triangle", ({ steps, ...options }) => {
    const optimizer = sgdLike([0.5, 0.5]);
    const scheduler = new CyclicLR(optimizer, options);
    const expected = cyclicReference(2, options, steps);
    const lrs: number[][] = [optimizer.paramGroups.map((g) => g.lr)];
    const momenta: number[][] = [readMomentum(optimizer)];
    for (let t = 1; t <= steps; t++) {
      scheduler.step();
      lrs.push(optimizer.paramGroups.map((g) => g.lr));
      momenta.push(readMomentum(optimizer));
    }
    expectSequenceClose(lrs, expected.lr);
    expectSequenceClose(momenta, expected.momentum);
  });

  it("cycles beta1 of an Adam-like optimizer in a new betas array", () => {
    const optimizer = adamLike();
    const options: CyclicLROptions = { baseLr: 1e-4, maxLr: 1e-3, stepSizeUp: 5, baseMomentum: 0.85, maxMomentum: 0.95 };
    const scheduler = new CyclicLR(optimizer, options);
    const expected = cyclicReference(2, options, 40);
    const momenta: number[][] = [readMomentum(optimizer)];
    for (let t = 1; t <= 40; t++) {
      const before = optimizer.paramGroups[1]!.betas;
      scheduler.step();
      expect(optimizer.paramGroups[1]!.betas).not.toBe(before);
      expect((optimizer.paramGroups[1]!.betas as number[])[1]).toBe(0.999);
      momenta.push(readMomentum(optimizer));
    }
    expectSequenceClose(momenta, expected.momentum);
  });

  it("sets the groups' lr to baseLr (and initialLr), momentum to maxMomentum, on construction", () => {
    const optimizer = sgdLike([0.5, 0.5]);
    new CyclicLR(optimizer, { baseLr: [0.01, 0.02], maxLr: 0.1 });
    expect(optimizer.paramGroups.map((g) => [g.lr, g.initialLr, g.momentum, g.maxMomentum, g.baseMomentum])).toEqual([
      [0.01, 0.01, 0.9, 0.9, 0.8],
      [0.02, 0.02, 0.9, 0.9, 0.8],
    ]);
  });

  it("cycleMomentum: false works on an optimizer without momentum", () => {
    const optimizer = { paramGroups: [{ lr: 0.1 }] };
    const scheduler = new CyclicLR(optimizer, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 4, cycleMomentum: false });
    for (let t = 1; t <= 10; t++) scheduler.step();
    expect(optimizer.paramGroups[0]).not.toHaveProperty("momentum");
    expectSequenceClose([scheduler.getLastLr()], [[0.01 + 0.09 * 0.5]]);
  });

  it("round-trips its state mid-sequence (a custom scaleFn is kept, not serialised)", () => {
    checkRoundTrip(() => sgdLike(), (o) => new CyclicLR(o, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 6, mode: "exp_range", gamma: 0.98 }), 17, 40);
    checkRoundTrip(() => adamLike(), (o) => new CyclicLR(o, { baseLr: 0.001, maxLr: 0.01, stepSizeUp: 5, scaleFn: (x) => 1 / x }), 12, 30);
    const sd = new CyclicLR(sgdLike(), { baseLr: 0.01, maxLr: 0.1, scaleFn: (x) => x }).stateDict();
    expect(Object.values(sd).some((v) => typeof v === "function")).toBe(false);
  });

  it.each([
    ["baseLr missing", { maxLr: 0.1 }, TypeError, /baseLr/],
    ["maxLr missing", { baseLr: 0.1 }, TypeError, /maxLr/],
    ["negative baseLr", { baseLr: -0.1, maxLr: 0.1 }, RangeError, /baseLr/],
    ["maxLr array of wrong length", { baseLr: 0.01, maxLr: [0.1] }, RangeError, /maxLr/],
    ["stepSizeUp 0", { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 0 }, RangeError, /stepSizeUp/],
    ["stepSizeDown negative", { baseLr: 0.01, maxLr: 0.1, stepSizeDown: -4 }, RangeError, /stepSizeDown/],
    ["unknown mode", { baseLr: 0.01, maxLr: 0.1, mode: "sawtooth" }, RangeError, /mode/],
    ["negative gamma", { baseLr: 0.01, maxLr: 0.1, mode: "exp_range", gamma: -0.5 }, RangeError, /gamma/],
    ["unknown scaleMode", { baseLr: 0.01, maxLr: 0.1, scaleMode: "epochs" }, RangeError, /scaleMode/],
    ["scaleFn not a function", { baseLr: 0.01, maxLr: 0.1, scaleFn: 3 }, TypeError, /scaleFn/],
    ["cycleMomentum not boolean", { baseLr: 0.01, maxLr: 0.1, cycleMomentum: "yes" }, TypeError, /cycleMomentum/],
    ["snake_case option", { baseLr: 0.01, maxLr: 0.1, step_size_up: 4 }, TypeError, /step_size_up/],
  ] as const)("rejects %s before writing anything", (_name, options, errorClass, pattern) => {
    const optimizer = sgdLike([0.5, 0.5]);
    const make = () => new CyclicLR(optimizer, options as never);
    expect(make).toThrow(errorClass);
    expect(make).toThrow(pattern);
    expect(optimizer.paramGroups.map((g) => [g.lr, g.momentum, "initialLr" in g])).toEqual([[0.5, 0.9, false], [0.5, 0.9, false]]);
  });

  it("rejects momentum cycling (the default) on an optimizer with neither momentum nor betas", () => {
    const optimizer = { paramGroups: [{ lr: 0.1 }], defaults: { lr: 1, rho: 0.9 } };
    expect(() => new CyclicLR(optimizer, { baseLr: 0.01, maxLr: 0.1 })).toThrow(TypeError);
    expect(() => new CyclicLR(optimizer, { baseLr: 0.01, maxLr: 0.1 })).toThrow(/cycleMomentum/);
    expect(optimizer.paramGroups[0]).toEqual({ lr: 0.1 });
  });
});
