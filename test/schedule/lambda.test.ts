// LambdaLR (lr = base·f(t)) and MultiplicativeLR (lr = base·Π f(k)), per-group functions,
// and their state dicts (functions are not serialised).
import { describe, expect, it } from "vitest";
import { LambdaLR, MultiplicativeLR } from "../../src/index.js";
import { checkRoundTrip, expectedRows, expectSequenceClose, runLrs, sgdLike } from "./helpers.js";

const BASES = [0.1, 0.025];

describe("LambdaLR", () => {
  it("one function for every group: base·f(t)", () => {
    const optimizer = sgdLike(BASES);
    const f = (e: number) => 0.95 ** e;
    const scheduler = new LambdaLR(optimizer, { lrLambda: f });
    expectSequenceClose(runLrs(scheduler, optimizer, 200), expectedRows(BASES, 200, (base, t) => base * f(t)));
  });

  it("one function per group", () => {
    const optimizer = sgdLike(BASES);
    const fs = [(e: number) => Math.floor(e / 30) + 1, (e: number) => 1 / (1 + e) ** 0.5];
    const scheduler = new LambdaLR(optimizer, { lrLambda: fs });
    expectSequenceClose(runLrs(scheduler, optimizer, 100), expectedRows(BASES, 100, (base, t, g) => base * fs[g]!(t)));
  });

  it("a warm-up lambda starting at 0 (lr exactly 0 at step 0)", () => {
    const optimizer = sgdLike(BASES);
    const scheduler = new LambdaLR(optimizer, { lrLambda: (e) => Math.min(1, e / 10) });
    expectSequenceClose(runLrs(scheduler, optimizer, 50), expectedRows(BASES, 50, (base, t) => base * Math.min(1, t / 10)));
    expect(optimizer.paramGroups[0]!.initialLr).toBe(0.1);
  });

  it("stateDict holds null in place of the functions; loading keeps the scheduler's own", () => {
    const optimizer = sgdLike(BASES);
    const scheduler = new LambdaLR(optimizer, { lrLambda: (e) => 0.9 ** e });
    scheduler.step();
    const sd = scheduler.stateDict();
    expect(sd.lrLambdas).toEqual([null, null]);
    expect(sd.lastEpoch).toBe(1);
    expect(structuredClone(sd)).toEqual(sd);
    checkRoundTrip(() => sgdLike(BASES), (o) => new LambdaLR(o, { lrLambda: [(e) => 0.9 ** e, (e) => 1 + e] }), 7, 30);
  });
});

describe("MultiplicativeLR", () => {
  it("one function for every group: base·Π_{k≤t} f(k)", () => {
    const optimizer = sgdLike(BASES);
    const scheduler = new MultiplicativeLR(optimizer, { lrLambda: () => 0.95 });
    expectSequenceClose(runLrs(scheduler, optimizer, 300), expectedRows(BASES, 300, (base, t) => base * 0.95 ** t));
  });

  it("one function per group, depending on the epoch", () => {
    const optimizer = sgdLike(BASES);
    const fs = [(e: number) => 1 - 1 / (e + 10), (e: number) => (e % 2 === 0 ? 0.5 : 2.1)];
    const scheduler = new MultiplicativeLR(optimizer, { lrLambda: fs });
    expectSequenceClose(runLrs(scheduler, optimizer, 100), expectedRows(BASES, 100, (base, t, g) => {
      let lr = base;
      for (let k = 1; k <= t; k++) lr *= fs[g]!(k);
      return lr;
    }));
  });

  it("round-trips its state mid-sequence", () => {
    checkRoundTrip(() => sgdLike(BASES), (o) => new MultiplicativeLR(o, { lrLambda: (e) => 1 - 0.01 * (e % 3) }), 13, 30);
    expect(new MultiplicativeLR(sgdLike(BASES), { lrLambda: () => 0.5 }).stateDict().lrLambdas).toEqual([null, null]);
  });
});

describe("lambda schedulers check their options", () => {
  for (const Scheduler of [LambdaLR, MultiplicativeLR]) {
    it(Scheduler.name, () => {
      expect(() => new Scheduler(sgdLike(), {} as never)).toThrow(TypeError);
      expect(() => new Scheduler(sgdLike(), {} as never)).toThrow(/lrLambda/);
      expect(() => new Scheduler(sgdLike(), { lrLambda: 0.5 } as never)).toThrow(/lrLambda must be a function/);
      expect(() => new Scheduler(sgdLike(), { lrLambda: [() => 1] })).toThrow(RangeError);
      expect(() => new Scheduler(sgdLike(), { lrLambda: [() => 1, "x"] } as never)).toThrow(/lrLambda\[1\]/);
      expect(() => new Scheduler(sgdLike(), { lr_lambda: () => 1 } as never)).toThrow(/lr_lambda/);
      // Every message names the scheduler; a missing lrLambda says so rather than "not a function".
      const owner = new RegExp(`^simdopt: ${Scheduler.name}\\b`);
      expect(() => new Scheduler(sgdLike(), {} as never)).toThrow(/requires the option lrLambda/);
      for (const bad of [{}, { lrLambda: 0.5 }, { lrLambda: [() => 1] }, { lr_lambda: () => 1 }]) {
        expect(() => new Scheduler(sgdLike(), bad as never)).toThrow(owner);
      }
      expect(() => new Scheduler({} as never, { lrLambda: () => 1 })).toThrow(owner);
      expect(() => new Scheduler(sgdLike(), { lrLambda: () => 1, lastEpoch: -2 })).toThrow(new RegExp(`^simdopt: ${Scheduler.name} lastEpoch must be`));
    });

    it(`${Scheduler.name} resumes with lastEpoch (initialLr recorded)`, () => {
      const optimizer = { paramGroups: BASES.map((base) => ({ lr: base * 0.5, initialLr: base })) };
      const scheduler = new Scheduler(optimizer, { lrLambda: (epoch: number) => 0.9 ** epoch, lastEpoch: 4 });
      expect(scheduler.lastEpoch).toBe(5);
      // LambdaLR: base·f(5); MultiplicativeLR keeps the resumed lr at its initial step.
      const expected = Scheduler === LambdaLR ? BASES.map((base) => base * 0.9 ** 5) : BASES.map((base) => base * 0.5);
      expectSequenceClose([optimizer.paramGroups.map((g) => g.lr)], [expected]);
    });
  }
});
