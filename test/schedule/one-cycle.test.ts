// OneCycleLR against a piecewise float64 generator of PyTorch's phases, with momentum / beta1
// cycling, the totalSteps limit and per-group maxLr.
import { describe, expect, it } from "vitest";
import { OneCycleLR, type OneCycleLROptions } from "../../src/index.js";
import { adamLike, checkRoundTrip, expectSequenceClose, sgdLike, type FakeOptimizer } from "./helpers.js";

interface Expected { lr: number[]; momentum: number[] }

/** lr and momentum of every group at steps 0..totalSteps, phase by phase. */
function oneCycleReference(groups: number, options: OneCycleLROptions): Expected[] {
  const total = options.totalSteps ?? options.epochs! * options.stepsPerEpoch!;
  const maxLr = typeof options.maxLr === "number" ? new Array<number>(groups).fill(options.maxLr) : [...options.maxLr];
  const perGroup = (value: number | readonly number[] | undefined, fallback: number) =>
    Array.isArray(value) ? value : new Array<number>(groups).fill((value as number | undefined) ?? fallback);
  const baseMomentum = perGroup(options.baseMomentum, 0.85);
  const maxMomentum = perGroup(options.maxMomentum, 0.95);
  const pctStart = options.pctStart ?? 0.3;
  const div = options.divFactor ?? 25;
  const finalDiv = options.finalDivFactor ?? 1e4;
  const linear = options.annealStrategy === "linear";
  const anneal = (from: number, to: number, p: number) => (linear ? from + (to - from) * p : to + (from - to) * (1 + Math.cos(Math.PI * p)) / 2);
  const rows: Expected[] = [];
  for (let s = 0; s <= total; s++) {
    const lr: number[] = [];
    const momentum: number[] = [];
    for (let g = 0; g < groups; g++) {
      const initial = maxLr[g]! / div;
      const min = initial / finalDiv;
      const peak = maxLr[g]!;
      const up = pctStart * total - 1;
      if (!options.threePhase) {
        if (s <= up) {
          lr.push(anneal(initial, peak, s / up));
          momentum.push(anneal(maxMomentum[g]!, baseMomentum[g]!, s / up));
        } else {
          const p = (s - up) / (total - 1 - up);
          lr.push(anneal(peak, min, p));
          momentum.push(anneal(baseMomentum[g]!, maxMomentum[g]!, p));
        }
      } else {
        const down = 2 * pctStart * total - 2;
        if (s <= up) {
          lr.push(anneal(initial, peak, s / up));
          momentum.push(anneal(maxMomentum[g]!, baseMomentum[g]!, s / up));
        } else if (s <= down) {
          const p = (s - up) / (down - up);
          lr.push(anneal(peak, initial, p));
          momentum.push(anneal(baseMomentum[g]!, maxMomentum[g]!, p));
        } else {
          const p = (s - down) / (total - 1 - down);
          lr.push(anneal(initial, min, p));
          momentum.push(maxMomentum[g]!);
        }
      }
    }
    rows.push({ lr, momentum });
  }
  return rows;
}

function readMomentum(optimizer: FakeOptimizer): number[] {
  return optimizer.paramGroups.map((g) => (Array.isArray(g.betas) ? (g.betas as number[])[0]! : (g.momentum as number)));
}

const CASES: OneCycleLROptions[] = [
  { maxLr: 0.1, totalSteps: 100 },
  { maxLr: [0.1, 0.02], epochs: 10, stepsPerEpoch: 30, annealStrategy: "linear", pctStart: 0.25 },
  { maxLr: 0.05, totalSteps: 200, threePhase: true, divFactor: 10, finalDivFactor: 100 },
  { maxLr: [0.3, 0.01], totalSteps: 77, threePhase: true, annealStrategy: "linear", pctStart: 0.4 },
  { maxLr: 1, totalSteps: 300, pctStart: 0.1, baseMomentum: [0.8, 0.85], maxMomentum: [0.9, 0.99] },
  { maxLr: 0.02, totalSteps: 50, pctStart: 0 },
];

describe("OneCycleLR", () => {
  it.each(CASES)("%o: lr and SGD momentum follow the phases for totalSteps steps", (options) => {
    const optimizer = sgdLike([0.5, 0.5]);
    const scheduler = new OneCycleLR(optimizer, options);
    const expected = oneCycleReference(2, options);
    const lrs: number[][] = [optimizer.paramGroups.map((g) => g.lr)];
    const momenta: number[][] = [readMomentum(optimizer)];
    for (let s = 1; s < expected.length; s++) {
      scheduler.step();
      lrs.push(optimizer.paramGroups.map((g) => g.lr));
      momenta.push(readMomentum(optimizer));
    }
    expectSequenceClose(lrs, expected.map((row) => row.lr));
    expectSequenceClose(momenta, expected.map((row) => row.momentum));
    expect(scheduler.lastEpoch).toBe(expected.length - 1);
  });

  it.each(CASES)("%o: beta1 of an Adam-like optimizer cycles in a new betas array, beta2 untouched", (options) => {
    const optimizer = adamLike([0.5, 0.5]);
    const scheduler = new OneCycleLR(optimizer, options);
    const expected = oneCycleReference(2, options);
    const momenta: number[][] = [readMomentum(optimizer)];
    for (let s = 1; s < expected.length; s++) {
      const before = optimizer.paramGroups[0]!.betas;
      scheduler.step();
      expect(optimizer.paramGroups[0]!.betas).not.toBe(before);
      expect(optimizer.paramGroups.map((g) => (g.betas as number[])[1])).toEqual([0.999, 0.999]);
      momenta.push(readMomentum(optimizer));
    }
    expectSequenceClose(momenta, expected.map((row) => row.momentum));
  });

  it("writes initialLr, maxLr, minLr and the momentum bounds into every group", () => {
    const optimizer = sgdLike([0.5, 0.5]);
    new OneCycleLR(optimizer, { maxLr: [0.1, 0.2], totalSteps: 10, divFactor: 20, finalDivFactor: 50 });
    const [a, b] = optimizer.paramGroups;
    expect([a!.initialLr, a!.maxLr, a!.minLr]).toEqual([0.1 / 20, 0.1, 0.1 / 20 / 50]);
    expect([b!.initialLr, b!.maxLr, b!.minLr]).toEqual([0.2 / 20, 0.2, 0.2 / 20 / 50]);
    expect([a!.maxMomentum, a!.baseMomentum, a!.momentum]).toEqual([0.95, 0.85, 0.95]);
  });

  it("allows totalSteps steps after construction; the next one throws and changes nothing", () => {
    const optimizer = sgdLike();
    const scheduler = new OneCycleLR(optimizer, { maxLr: 0.1, totalSteps: 20 });
    for (let s = 1; s <= 20; s++) scheduler.step();
    expect(scheduler.lastEpoch).toBe(20);
    const lrs = optimizer.paramGroups.map((g) => g.lr);
    const momenta = readMomentum(optimizer);
    expect(() => scheduler.step()).toThrow(RangeError);
    expect(() => scheduler.step()).toThrow(/totalSteps/);
    expect(scheduler.lastEpoch).toBe(20);
    expect(optimizer.paramGroups.map((g) => g.lr)).toEqual(lrs);
    expect(readMomentum(optimizer)).toEqual(momenta);
  });

  it("cycleMomentum: false leaves momentum alone and works without momentum", () => {
    const optimizer = { paramGroups: [{ lr: 0.1 }, { lr: 0.2 }] };
    const scheduler = new OneCycleLR(optimizer, { maxLr: 0.1, totalSteps: 30, cycleMomentum: false });
    for (let s = 1; s <= 30; s++) scheduler.step();
    expect(optimizer.paramGroups.every((g) => !("momentum" in g))).toBe(true);
  });

  it("round-trips its state mid-sequence", () => {
    checkRoundTrip(() => sgdLike(), (o) => new OneCycleLR(o, { maxLr: [0.1, 0.05], totalSteps: 60, threePhase: true }), 25, 35);
    checkRoundTrip(() => adamLike(), (o) => new OneCycleLR(o, { maxLr: 0.01, totalSteps: 60, annealStrategy: "linear" }), 10, 50);
  });

  it.each([
    ["maxLr missing", { totalSteps: 10 }, TypeError, /maxLr/],
    ["maxLr negative", { maxLr: -1, totalSteps: 10 }, RangeError, /maxLr/],
    ["maxLr array of wrong length", { maxLr: [0.1, 0.2, 0.3], totalSteps: 10 }, RangeError, /maxLr/],
    ["no totalSteps nor epochs", { maxLr: 0.1 }, TypeError, /totalSteps/],
    ["epochs without stepsPerEpoch", { maxLr: 0.1, epochs: 3 }, TypeError, /stepsPerEpoch/],
    ["totalSteps 0", { maxLr: 0.1, totalSteps: 0 }, RangeError, /totalSteps/],
    ["totalSteps fractional", { maxLr: 0.1, totalSteps: 10.5 }, RangeError, /totalSteps/],
    ["epochs 0", { maxLr: 0.1, epochs: 0, stepsPerEpoch: 4 }, RangeError, /epochs/],
    ["pctStart > 1", { maxLr: 0.1, totalSteps: 10, pctStart: 1.5 }, RangeError, /pctStart/],
    ["pctStart·totalSteps = 1", { maxLr: 0.1, totalSteps: 10, pctStart: 0.1 }, RangeError, /pctStart/],
    ["unknown annealStrategy", { maxLr: 0.1, totalSteps: 10, annealStrategy: "cosine" }, RangeError, /annealStrategy/],
    ["divFactor 0", { maxLr: 0.1, totalSteps: 10, divFactor: 0 }, RangeError, /divFactor/],
    ["finalDivFactor negative", { maxLr: 0.1, totalSteps: 10, finalDivFactor: -3 }, RangeError, /finalDivFactor/],
    ["threePhase not boolean", { maxLr: 0.1, totalSteps: 10, threePhase: 1 }, TypeError, /threePhase/],
    ["baseMomentum negative", { maxLr: 0.1, totalSteps: 10, baseMomentum: -0.1 }, RangeError, /baseMomentum/],
    ["snake_case option", { max_lr: 0.1, totalSteps: 10 }, TypeError, /max_lr/],
  ] as const)("rejects %s", (_name, options, errorClass, pattern) => {
    const optimizer = sgdLike();
    const make = () => new OneCycleLR(optimizer, options as never);
    expect(make).toThrow(errorClass);
    expect(make).toThrow(pattern);
    expect(optimizer.paramGroups.every((g) => !("initialLr" in g) && g.momentum === 0.9)).toBe(true);
  });

  it("rejects momentum cycling on an optimizer with neither momentum nor betas", () => {
    const optimizer = { paramGroups: [{ lr: 0.1 }], defaults: { lr: 0.01, lrDecay: 0 } };
    expect(() => new OneCycleLR(optimizer, { maxLr: 0.1, totalSteps: 10 })).toThrow(TypeError);
    expect(() => new OneCycleLR(optimizer, { maxLr: 0.1, totalSteps: 10 })).toThrow(/cycleMomentum/);
    expect(optimizer.paramGroups[0]).toEqual({ lr: 0.1 });
  });
});
