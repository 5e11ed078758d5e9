// ReduceLROnPlateau's state checks and step() argument checks, message by message: every loaded
// field is held to what the constructor and step() could have made, and a refused state or
// argument changes nothing.
import { describe, expect, it } from "vitest";
import { ReduceLROnPlateau } from "../../src/index.js";
import { messageOf, sgdLike } from "./helpers.js";

const W = "ReduceLROnPlateau.loadStateDict:";

describe("ReduceLROnPlateau state", () => {
  it.each([
    [{ factor: 1 }, `RangeError: simdopt: ${W} factor must be a finite number ≥ 0 and < 1, got 1`],
    [{ factor: -0.5 }, `RangeError: simdopt: ${W} factor must be a finite number ≥ 0 and < 1, got -0.5`],
    [{ patience: 1.5 }, `RangeError: simdopt: ${W} patience must be a finite integer ≥ 0, got 1.5`],
    [{ patience: -1 }, `RangeError: simdopt: ${W} patience must be a finite integer ≥ 0, got -1`],
    [{ threshold: -1e-4 }, `RangeError: simdopt: ${W} threshold must be a finite number ≥ 0, got -0.0001`],
    [{ cooldown: 0.5 }, `RangeError: simdopt: ${W} cooldown must be a finite integer ≥ 0, got 0.5`],
    [{ cooldown: -2 }, `RangeError: simdopt: ${W} cooldown must be a finite integer ≥ 0, got -2`],
    [{ minLrs: [0, -1e-3] }, `RangeError: simdopt: ${W} minLrs[1] must be a finite number ≥ 0, got -0.001`],
    [{ minLrs: 0 }, `TypeError: simdopt: ${W} "minLrs" must be array, got number`],
    [{ defaultMinLr: -1 }, `RangeError: simdopt: ${W} defaultMinLr must be a finite number ≥ 0, got -1`],
    [{ eps: -1e-8 }, `RangeError: simdopt: ${W} eps must be a finite number ≥ 0, got -1e-8`],
    [{ modeWorse: -Infinity }, `RangeError: simdopt: ${W} modeWorse must be Infinity in mode "min", got -Infinity`],
    [{ mode: "max" }, `RangeError: simdopt: ${W} modeWorse must be -Infinity in mode "max", got Infinity`],
    [{ best: NaN }, `TypeError: simdopt: ${W} best must be a number, got NaN`],
    [{ best: null }, `TypeError: simdopt: ${W} best must be a number, got null`],
    [{ minLrs: null }, `TypeError: simdopt: ${W} minLrs must be an array of numbers, got null`],
    [{ numBadEpochs: -1 }, `RangeError: simdopt: ${W} numBadEpochs must be a finite integer ≥ 0, got -1`],
    [{ numBadEpochs: 1.5 }, `RangeError: simdopt: ${W} numBadEpochs must be a finite integer ≥ 0, got 1.5`],
    [{ cooldownCounter: -1 }, `RangeError: simdopt: ${W} cooldownCounter must be a finite integer ≥ 0, got -1`],
    [{ cooldownCounter: 0.5 }, `RangeError: simdopt: ${W} cooldownCounter must be a finite integer ≥ 0, got 0.5`],
  ])("refuses %o", (patch, message) => {
    const scheduler = new ReduceLROnPlateau(sgdLike(), { patience: 1, cooldown: 1 });
    scheduler.step(1);
    const before = scheduler.stateDict();
    expect(messageOf(() => scheduler.loadStateDict({ ...before, ...patch }))).toBe(message);
    expect(scheduler.stateDict()).toEqual(before);
  });

  it("accepts a per-group minLr state (defaultMinLr null), the bounds, and mode max with best −Infinity", () => {
    const source = new ReduceLROnPlateau(sgdLike(), { minLr: [0.01, 0.002] });
    const state = source.stateDict();
    expect(state.defaultMinLr).toBe(null);
    const target = new ReduceLROnPlateau(sgdLike(), { minLr: 0.5 });
    target.loadStateDict(state);
    expect(target.stateDict()).toEqual(state);
    const bounds = { factor: 0, patience: 0, threshold: 0, cooldown: 0, eps: 0, defaultMinLr: 0, minLrs: [0, 0], numBadEpochs: 0, cooldownCounter: 0 };
    target.loadStateDict({ ...state, ...bounds });
    expect(target.stateDict()).toMatchObject(bounds);
    target.loadStateDict({ ...state, mode: "max", modeWorse: -Infinity, best: -Infinity });
    expect(target.mode).toBe("max");
  });

  it("a loaded per-group minLr bounds each group's reduction", () => {
    const optimizer = sgdLike([0.1, 0.1]);
    const scheduler = new ReduceLROnPlateau(optimizer, { patience: 0, factor: 0.5 });
    scheduler.loadStateDict({ ...scheduler.stateDict(), minLrs: [0.08, 0.01], defaultMinLr: null });
    scheduler.step(1);
    scheduler.step(2);
    expect(optimizer.paramGroups.map((g) => g.lr)).toEqual([0.08, 0.05]);
  });
});

describe("ReduceLROnPlateau step() arguments", () => {
  it.each([
    [[], "TypeError: simdopt: ReduceLROnPlateau.step(metric): metric must be a number, got undefined"],
    [["0.5"], "TypeError: simdopt: ReduceLROnPlateau.step(metric): metric must be a number, got \"0.5\" (string)"],
    [[0.5, Infinity], "TypeError: simdopt: ReduceLROnPlateau.step(metric, epoch): epoch must be a finite number, got Infinity"],
    [[0.5, "3"], "TypeError: simdopt: ReduceLROnPlateau.step(metric, epoch): epoch must be a finite number, got \"3\" (string)"],
  ])("refuses %o", (args, message) => {
    const optimizer = sgdLike();
    const scheduler = new ReduceLROnPlateau(optimizer, { patience: 0 });
    scheduler.step(1);
    const before = scheduler.stateDict();
    expect(messageOf(() => (scheduler.step as (...a: unknown[]) => void)(...args))).toBe(message);
    expect(scheduler.stateDict()).toEqual(before);
    expect(optimizer.paramGroups.map((g) => g.lr)).toEqual([0.1, 0.025]);
  });
});
