// ReduceLROnPlateau edge cases: strict comparisons at the threshold and eps boundaries, param
// groups added after construction (scalar vs per-group minLr), step(metric, epoch), and that
// its errors name the class and the option.
import { describe, expect, it } from "vitest";
import { ReduceLROnPlateau } from "../../src/index.js";
import { sgdLike } from "./helpers.js";

function lrs(optimizer: { paramGroups: { lr: number }[] }): number[] {
  return optimizer.paramGroups.map((g) => g.lr);
}

describe("ReduceLROnPlateau boundaries", () => {
  it("abs mode: a metric exactly threshold better is not an improvement (strict), in min and max", () => {
    const min = sgdLike([1, 1]);
    const minSched = new ReduceLROnPlateau(min, { patience: 0, factor: 0.5, threshold: 0.5, thresholdMode: "abs" });
    minSched.step(10);
    minSched.step(9.5); // 9.5 < 10 − 0.5 is false
    expect(lrs(min)).toEqual([0.5, 0.5]);
    const max = sgdLike([1, 1]);
    const maxSched = new ReduceLROnPlateau(max, { mode: "max", patience: 0, factor: 0.5, threshold: 0.5, thresholdMode: "abs" });
    maxSched.step(1);
    maxSched.step(1.5); // 1.5 > 1 + 0.5 is false
    expect(lrs(max)).toEqual([0.5, 0.5]);
  });

  it("a reduction of exactly eps is skipped (only a larger one applies)", () => {
    const optimizer = sgdLike([1, 0.25]);
    const scheduler = new ReduceLROnPlateau(optimizer, { patience: 0, factor: 0.5, eps: 0.5 });
    scheduler.step(1);
    scheduler.step(2); // 1 − 0.5 = eps: skipped; 0.25 − 0.125 < eps: skipped
    expect(lrs(optimizer)).toEqual([1, 0.25]);
    const wider = sgdLike([1.5, 1]);
    const next = new ReduceLROnPlateau(wider, { patience: 0, factor: 0.5, eps: 0.5 });
    next.step(1);
    next.step(2); // 1.5 − 0.75 > eps: applied
    expect(lrs(wider)).toEqual([0.75, 1]);
  });
});

describe("ReduceLROnPlateau with param groups added later", () => {
  it("a scalar minLr extends to the new group", () => {
    const optimizer = sgdLike([1, 1]);
    const scheduler = new ReduceLROnPlateau(optimizer, { patience: 0, factor: 0.1, minLr: 0.5 });
    optimizer.paramGroups.push({ lr: 2 });
    scheduler.step(1);
    scheduler.step(2);
    expect(lrs(optimizer)).toEqual([0.5, 0.5, 0.5]);
    expect(scheduler.getLastLr()).toEqual([0.5, 0.5, 0.5]);
  });

  it("per-group minLr of the wrong length throws only when a reduction is due, and changes nothing", () => {
    const optimizer = sgdLike([1, 1]);
    const scheduler = new ReduceLROnPlateau(optimizer, { patience: 1, factor: 0.5, minLr: [0, 0] });
    optimizer.paramGroups.push({ lr: 1 });
    scheduler.step(3); // improvement: no reduction due
    scheduler.step(4); // first bad step: patience 1 tolerates it
    const before = scheduler.stateDict();
    expect(() => scheduler.step(5)).toThrow(RangeError);
    expect(() => scheduler.step(5)).toThrow(/^simdopt: ReduceLROnPlateau: the optimizer has 3 param groups but minLr was given for 2/);
    expect(scheduler.stateDict()).toEqual(before);
    expect(lrs(optimizer)).toEqual([1, 1, 1]);
    scheduler.step(2); // an improvement is not a reduction: fine
    expect(scheduler.lastEpoch).toBe(3);
  });

  it("during the cooldown no reduction is due, so the length is not checked", () => {
    const optimizer = sgdLike([1, 1]);
    const scheduler = new ReduceLROnPlateau(optimizer, { patience: 0, factor: 0.5, cooldown: 2, minLr: [0, 0] });
    scheduler.step(1);
    scheduler.step(2); // reduces, cooldown 2 starts
    optimizer.paramGroups.push({ lr: 1 });
    expect(() => scheduler.step(3)).not.toThrow();
    expect(lrs(optimizer)).toEqual([0.5, 0.5, 1]);
  });
});

describe("ReduceLROnPlateau step(metric, epoch) and errors", () => {
  it("step(metric, epoch) sets lastEpoch; a non-finite epoch throws TypeError before any change", () => {
    const scheduler = new ReduceLROnPlateau(sgdLike());
    scheduler.step(1, 7);
    expect(scheduler.lastEpoch).toBe(7);
    for (const bad of [NaN, Infinity, "8"]) {
      expect(() => scheduler.step(1, bad as number)).toThrow(TypeError);
      expect(() => scheduler.step(1, bad as number)).toThrow(/^simdopt: ReduceLROnPlateau\.step\(metric, epoch\): epoch must be a finite number/);
    }
    expect(scheduler.lastEpoch).toBe(7);
  });

  it.each([
    [{ factor: 1 }, /^simdopt: ReduceLROnPlateau factor/],
    [{ patience: 1.5 }, /^simdopt: ReduceLROnPlateau patience must be a finite integer/],
    [{ cooldown: -1 }, /^simdopt: ReduceLROnPlateau cooldown/],
    [{ mode: "up" }, /^simdopt: ReduceLROnPlateau mode/],
    [{ min_lr: 0 }, /^simdopt: ReduceLROnPlateau has no option "min_lr"/],
  ])("%o: the error names the class and the option", (options, message) => {
    expect(() => new ReduceLROnPlateau(sgdLike(), options as never)).toThrow(message);
  });

  it("loadStateDict names itself and the bad mode or thresholdMode", () => {
    const scheduler = new ReduceLROnPlateau(sgdLike());
    const sd = scheduler.stateDict();
    expect(() => scheduler.loadStateDict({ ...sd, mode: "median" })).toThrow(/^simdopt: ReduceLROnPlateau\.loadStateDict: mode must be one of "min", "max"/);
    expect(() => scheduler.loadStateDict({ ...sd, thresholdMode: "relative" })).toThrow(/^simdopt: ReduceLROnPlateau\.loadStateDict: thresholdMode must be one of "rel", "abs"/);
    expect(() => scheduler.loadStateDict(null as never)).toThrow(/loadStateDict expects an object made by stateDict\(\)/);
    expect(scheduler.stateDict()).toEqual(sd);
  });
});
