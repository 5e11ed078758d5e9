// CosineAnnealingLR (recursive form) against the closed cosine, and CosineAnnealingWarmRestarts
// against periods found by subtraction (not PyTorch's logarithm), including fractional epochs.
import { describe, expect, it } from "vitest";
import { CosineAnnealingLR, CosineAnnealingWarmRestarts, ExponentialLR, ChainedScheduler, StepLR } from "../../src/index.js";
import { checkRoundTrip, expectedRows, expectSequenceClose, runLrs, sgdLike } from "./helpers.js";

const BASES = [0.1, 0.025];

function cosine(base: number, etaMin: number, tCur: number, period: number): number {
  return etaMin + (base - etaMin) * (1 + Math.cos(Math.PI * tCur / period)) / 2;
}

describe("CosineAnnealingLR", () => {
  it.each([
    { tMax: 100, steps: 100 },
    { tMax: 100, etaMin: 1e-3, steps: 100 },
    { tMax: 50, steps: 300 }, // past tMax the cosine goes back up, period 2·tMax
    { tMax: 7, etaMin: 0.005, steps: 60 },
    { tMax: 1, steps: 10 },
    { tMax: 250, etaMin: 0.01, steps: 300 },
  ])("%o: the recursion equals etaMin + (base − etaMin)(1 + cos(πt/tMax))/2", ({ steps, ...options }) => {
    const optimizer = sgdLike(BASES);
    const scheduler = new CosineAnnealingLR(optimizer, options);
    const etaMin = options.etaMin ?? 0;
    const actual = runLrs(scheduler, optimizer, steps);
    expectSequenceClose(actual, expectedRows(BASES, steps, (base, t) => cosine(base, etaMin, t, options.tMax)));
  });

  it("composes with an external lr change as PyTorch's recursion does", () => {
    // After the change, lr_t − etaMin keeps the cosine's ratio, so it is the cosine scaled from there.
    const optimizer = sgdLike(BASES);
    const scheduler = new CosineAnnealingLR(optimizer, { tMax: 80 });
    for (let t = 1; t <= 20; t++) scheduler.step();
    for (const group of optimizer.paramGroups) group.lr *= 0.5;
    const actual = runLrs(scheduler, optimizer, 50);
    expectSequenceClose(actual, expectedRows(BASES, 50, (base, k) => 0.5 * cosine(base, 0, 20 + k, 80)));
  });

  it("chained with ExponentialLR: the factors compound (through the restart at tMax)", () => {
    const optimizer = sgdLike(BASES);
    const gamma = 0.99;
    const tMax = 40;
    const chained = new ChainedScheduler([new CosineAnnealingLR(optimizer, { tMax }), new ExponentialLR(optimizer, { gamma })]);
    const steps = 120;
    const actual = runLrs(chained, optimizer, steps);
    // Up to tMax the product of both closed forms; at tMax + 1 the cosine restarts from 0 by
    // adding (base − etaMin)(1 − cos(π/tMax))/2, which ExponentialLR then scales by gamma once.
    expectSequenceClose(actual, expectedRows(BASES, steps, (base, t) => (t <= tMax ? cosine(base, 0, t, tMax) * gamma ** t : cosine(base, 0, t, tMax) * gamma ** (t - tMax))));
    expect(chained.lastEpoch).toBe(steps);
  });

  it("step(epoch) uses the closed form", () => {
    const optimizer = sgdLike(BASES);
    const scheduler = new CosineAnnealingLR(optimizer, { tMax: 30, etaMin: 0.001 });
    scheduler.step(12);
    expectSequenceClose([scheduler.getLastLr()], [BASES.map((b) => cosine(b, 0.001, 12, 30))]);
    scheduler.step();
    expectSequenceClose([scheduler.getLastLr()], [BASES.map((b) => cosine(b, 0.001, 13, 30))]);
  });

  it("a resumed scheduler continues recursively from the lr its groups hold", () => {
    // Built with lastEpoch k, the initial step keeps the lr; PyTorch then uses the closed form
    // only when _step_count is 1, which the initial step has already used up. So the next
    // step is recursive, from whatever lr the group has.
    const optimizer = sgdLike(BASES);
    for (const group of optimizer.paramGroups) {
      group.initialLr = group.lr;
      group.lr = cosine(group.lr, 0, 10, 50);
    }
    const scheduler = new CosineAnnealingLR(optimizer, { tMax: 50, lastEpoch: 9 });
    expect(scheduler.lastEpoch).toBe(10);
    const actual = runLrs(scheduler, optimizer, 30);
    expectSequenceClose(actual, expectedRows(BASES, 30, (base, k) => cosine(base, 0, 10 + k, 50)));
  });

  it("round-trips its state mid-sequence (also across the bottom of the cosine)", () => {
    checkRoundTrip(() => sgdLike(BASES), (o) => new CosineAnnealingLR(o, { tMax: 25, etaMin: 1e-4 }), 22, 60);
  });

  it("checks its options", () => {
    expect(() => new CosineAnnealingLR(sgdLike(), {} as never)).toThrow(/tMax/);
    expect(() => new CosineAnnealingLR(sgdLike(), { tMax: 0 })).toThrow(RangeError);
    expect(() => new CosineAnnealingLR(sgdLike(), { tMax: -5 })).toThrow(/tMax/);
    expect(() => new CosineAnnealingLR(sgdLike(), { tMax: 10, etaMin: -1 })).toThrow(RangeError);
    expect(() => new CosineAnnealingLR(sgdLike(), { tMax: 10, etaMin: -1 })).toThrow(/etaMin/);
    expect(() => new CosineAnnealingLR(sgdLike(), { T_max: 10 } as never)).toThrow(TypeError);
    expect(() => new CosineAnnealingLR(sgdLike(), { tMax: "10" } as never)).toThrow(TypeError);
  });
});

/** Period and position of (possibly fractional) epoch e in SGDR, by subtracting whole periods. */
function sgdrPosition(epoch: number, t0: number, tMult: number): { tCur: number; period: number } {
  let period = t0;
  let start = 0;
  while (epoch >= start + period) {
    start += period;
    period *= tMult;
  }
  return { tCur: epoch - start, period };
}

describe("CosineAnnealingWarmRestarts", () => {
  it.each([
    { t0: 10, steps: 100 },
    { t0: 10, tMult: 2, steps: 300 },
    { t0: 1, tMult: 3, etaMin: 0.001, steps: 150 },
    { t0: 7, etaMin: 0.002, steps: 60 },
    { t0: 5, tMult: 2, etaMin: 1e-4, steps: 200 },
  ])("%o restarts at the base lr after each period", ({ steps, ...options }) => {
    const optimizer = sgdLike(BASES);
    const scheduler = new CosineAnnealingWarmRestarts(optimizer, options);
    const etaMin = options.etaMin ?? 0;
    const tMult = options.tMult ?? 1;
    const actual = runLrs(scheduler, optimizer, steps);
    expectSequenceClose(actual, expectedRows(BASES, steps, (base, t) => {
      const { tCur, period } = sgdrPosition(t, options.t0, tMult);
      return cosine(base, etaMin, tCur, period);
    }));
  });

  it.each([2, 3])("accepts fractional epochs in step(epoch) (stepping after every batch), tMult %d", (tMult) => {
    const optimizer = sgdLike(BASES);
    const t0 = 3;
    const scheduler = new CosineAnnealingWarmRestarts(optimizer, { t0, tMult, etaMin: 1e-3 });
    const iters = 7;
    const rows: number[][] = [];
    const expected: number[][] = [];
    for (let epoch = 0; epoch < 20; epoch++) {
      for (let i = 0; i < iters; i++) {
        const e = epoch + i / iters;
        scheduler.step(e);
        rows.push(optimizer.paramGroups.map((g) => g.lr));
        const { tCur, period } = sgdrPosition(e, t0, tMult);
        expected.push(BASES.map((b) => cosine(b, 1e-3, tCur, period)));
        expect(scheduler.lastEpoch).toBe(epoch);
      }
    }
    expectSequenceClose(rows, expected);
  });

  it("step() after step(26) continues from 27 (interleaved calls)", () => {
    const optimizer = sgdLike(BASES);
    const scheduler = new CosineAnnealingWarmRestarts(optimizer, { t0: 10 });
    for (let t = 1; t <= 20; t++) scheduler.step();
    scheduler.step(26);
    expectSequenceClose([scheduler.getLastLr()], [BASES.map((b) => cosine(b, 0, 6, 10))]);
    scheduler.step();
    expect(scheduler.lastEpoch).toBe(27);
    expectSequenceClose([scheduler.getLastLr()], [BASES.map((b) => cosine(b, 0, 7, 10))]);
  });

  it("rejects a negative or non-numeric epoch before changing anything", () => {
    const optimizer = sgdLike(BASES);
    const scheduler = new CosineAnnealingWarmRestarts(optimizer, { t0: 10 });
    scheduler.step();
    const before = scheduler.stateDict();
    expect(() => scheduler.step(-1)).toThrow(RangeError);
    expect(() => scheduler.step("3" as never)).toThrow(TypeError);
    expect(() => scheduler.step(-1)).toThrow(/^simdopt: CosineAnnealingWarmRestarts\.step\(epoch\): epoch must be a finite number ≥ 0, got -1$/);
    expect(() => scheduler.step("3" as never)).toThrow(/^simdopt: CosineAnnealingWarmRestarts\.step\(epoch\): epoch must be a finite number ≥ 0, got "3" \(string\)$/);
    expect(scheduler.stateDict()).toEqual(before);
  });

  it("round-trips its state mid-sequence (fractional position included)", () => {
    checkRoundTrip(() => sgdLike(BASES), (o) => new CosineAnnealingWarmRestarts(o, { t0: 4, tMult: 2, etaMin: 1e-4 }), 9, 40);
    checkRoundTrip(
      () => sgdLike(BASES),
      (o) => new CosineAnnealingWarmRestarts(o, { t0: 4, tMult: 2 }),
      30, 30,
      (s, t) => s.step(t / 5),
    );
  });

  it("checks its options", () => {
    expect(() => new CosineAnnealingWarmRestarts(sgdLike(), {} as never)).toThrow(/t0/);
    expect(() => new CosineAnnealingWarmRestarts(sgdLike(), { t0: 0 })).toThrow(RangeError);
    expect(() => new CosineAnnealingWarmRestarts(sgdLike(), { t0: 2.5 })).toThrow(/t0/);
    expect(() => new CosineAnnealingWarmRestarts(sgdLike(), { t0: 5, tMult: 0 })).toThrow(/tMult/);
    expect(() => new CosineAnnealingWarmRestarts(sgdLike(), { t0: 5, tMult: 1.5 })).toThrow(RangeError);
    expect(() => new CosineAnnealingWarmRestarts(sgdLike(), { t0: 5, etaMin: -0.1 })).toThrow(/etaMin/);
    expect(() => new CosineAnnealingWarmRestarts(sgdLike(), { t0: 5, T_mult: 2 } as never)).toThrow(TypeError);
    for (const bad of [{ t0: 0 }, { t0: 5, tMult: 0 }, { t0: 5, etaMin: -1 }, { t0: 5, t_0: 5 }]) {
      expect(() => new CosineAnnealingWarmRestarts(sgdLike(), bad as never)).toThrow(/^simdopt: CosineAnnealingWarmRestarts\b/);
    }
    expect(() => new CosineAnnealingWarmRestarts({} as never, { t0: 5 })).toThrow(/^simdopt: CosineAnnealingWarmRestarts\b.*optimizer/);
    expect(() => new CosineAnnealingWarmRestarts(sgdLike(), { t0: 5, lastEpoch: -2 })).toThrow(/^simdopt: CosineAnnealingWarmRestarts lastEpoch must be/);
  });
});

describe("schedulers on one optimizer interact as in PyTorch", () => {
  it("StepLR + CosineAnnealingLR stepped together compound their factors", () => {
    const optimizer = sgdLike(BASES);
    const cosineSched = new CosineAnnealingLR(optimizer, { tMax: 60 });
    const stepSched = new StepLR(optimizer, { stepSize: 15, gamma: 0.5 });
    const actual = runLrs(cosineSched, optimizer, 55, () => {
      cosineSched.step();
      stepSched.step();
    });
    expectSequenceClose(actual, expectedRows(BASES, 55, (base, t) => cosine(base, 0, t, 60) * 0.5 ** Math.floor(t / 15)));
  });
});
