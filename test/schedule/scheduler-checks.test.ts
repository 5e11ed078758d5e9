// The scheduler base's own checks, message by message: what counts as an optimizer, and what
// loadStateDict accepts (known keys of the same kind, plain data only), leaving the scheduler as
// it was when it refuses; and Python's floor modulo behind PyTorch's cyclic formulas.
import { describe, expect, it } from "vitest";
import { StepLR } from "../../src/index.js";
import { floorMod } from "../../src/schedule/scheduler.js";
import { messageOf, sgdLike } from "./helpers.js";

describe("scheduler base checks", () => {
  it.each([
    ["null", null],
    ["a number", 3],
    ["no paramGroups array", { paramGroups: {} }],
    ["empty paramGroups", { paramGroups: [] }],
    ["a null group", { paramGroups: [{ lr: 0.1 }, null] }],
    ["a group without a numeric lr", { paramGroups: [{ lr: "0.1" }] }],
  ])("rejects %s as the optimizer", (_name, optimizer) => {
    expect(messageOf(() => new StepLR(optimizer as never, { stepSize: 2 }))).toMatchSnapshot();
  });

  it.each([
    ["an unknown key", { stepSizes: 3 }],
    ["a method name", { step: 3 }],
    ["a number as a string", { lastEpoch: "3" }],
    ["an array as a number", { gamma: [0.5] }],
    ["an object as an array", { baseLrs: { 0: 0.1 } }],
    ["an array as an object", { baseLrs: [[0.1], [0.1]] }],
    ["a function inside", { baseLrs: [0.1, () => 0.1] }],
    ["a negative stepCount", { stepCount: -1 }],
    ["a fractional stepCount", { stepCount: 1.5 }],
    ["lastEpoch below -1", { lastEpoch: -2 }],
    ["too few lastLr", { lastLr: [0.1] }],
  ])("loadStateDict rejects %s and changes nothing", (_name, patch) => {
    const scheduler = new StepLR(sgdLike(), { stepSize: 2, gamma: 0.5 });
    scheduler.step();
    const before = scheduler.stateDict();
    expect(messageOf(() => scheduler.loadStateDict({ ...before, ...patch }))).toMatchSnapshot();
    expect(scheduler.stateDict()).toEqual(before);
  });

  it("loadStateDict refuses an own __proto__ key (as JSON.parse makes) and functions, naming the path", () => {
    const scheduler = new StepLR(sgdLike(), { stepSize: 2 });
    const parsed = JSON.parse(`{"lastEpoch": 1, "baseLrs": [{"__proto__": {"x": 1}}, 0.1]}`) as Record<string, unknown>;
    expect(messageOf(() => scheduler.loadStateDict(parsed))).toBe(
      "TypeError: simdopt: baseLrs[0] has an own \"__proto__\" key, which is not scheduler state");
    expect(messageOf(() => scheduler.loadStateDict({ lastEpoch: 1, baseLrs: [{ a: { b: () => 1 } }, 0.1] }))).toBe(
      "TypeError: simdopt: baseLrs[0].a.b is a function and cannot be part of a state dict");
    expect(scheduler.lastEpoch).toBe(0);
  });

  it("floorMod follows the divisor's sign, as Python's %", () => {
    expect([floorMod(-1, 3), floorMod(4, 3), floorMod(3, 3), floorMod(1, -3), floorMod(-4, -3), floorMod(-3, 3)])
      .toEqual([2, 1, 0, -2, -1, -0]);
    expect([floorMod(-0.5, 2), floorMod(2.5, -2)]).toEqual([1.5, -1.5]);
  });
});
