// The scheduler base's own checks, message by message: what counts as an optimizer, and what
// loadStateDict accepts (known keys of the same kind, plain data only), leaving the scheduler as
// it was when it refuses; and Python's floor modulo behind PyTorch's cyclic formulas.
import { describe, expect, it } from "vitest";
import { ChainedScheduler, LambdaLR, LRScheduler, StepLR, type SchedulableOptimizer } from "../../src/index.js";
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

  it("names what it refuses exactly: a missing options object, a function as the optimizer, a null group, a bad epoch", () => {
    const optimizer = sgdLike();
    expect(messageOf(() => new StepLR(optimizer, undefined as never))).toBe(
      "TypeError: simdopt: StepLR options must be an object, got undefined");
    const callable = Object.assign(() => 0, { paramGroups: [{ lr: 0.1 }] });
    expect(messageOf(() => new StepLR(callable as never, { stepSize: 2 }))).toBe(
      "TypeError: simdopt: StepLR optimizer must be an optimizer (an object with paramGroups), got a function");
    expect(messageOf(() => new StepLR({ paramGroups: [{ lr: 0.1 }, null] } as never, { stepSize: 2 }))).toBe(
      "TypeError: simdopt: StepLR optimizer.paramGroups[1].lr must be a number");
    const callableGroup = Object.assign(() => 0, { lr: 0.1 });
    expect(messageOf(() => new StepLR({ paramGroups: [{ lr: 0.1 }, callableGroup] } as never, { stepSize: 2 }))).toBe(
      "TypeError: simdopt: StepLR optimizer.paramGroups[1].lr must be a number");
    const scheduler = new StepLR(optimizer, { stepSize: 2 });
    expect(messageOf(() => scheduler.step(NaN))).toBe("TypeError: simdopt: StepLR.step(epoch): epoch must be a finite number, got NaN");
    expect(messageOf(() => scheduler.step(-Infinity))).toBe("TypeError: simdopt: StepLR.step(epoch): epoch must be a finite number, got -Infinity");
    expect(scheduler.lastEpoch).toBe(0);
  });

  it("writes only the groups it has lrs for (as Python's zip), leaving a group added later alone", () => {
    // LambdaLR computes one lr per base lr, so a group added after it was built gets none.
    const optimizer = sgdLike();
    const scheduler = new LambdaLR(optimizer, { lrLambda: (t) => 0.5 ** t });
    optimizer.paramGroups.push({ lr: 0.3 });
    scheduler.step();
    expect(optimizer.paramGroups.map((g) => g.lr)).toEqual([0.05, 0.0125, 0.3]);
    expect(scheduler.getLastLr()).toEqual([0.05, 0.0125, 0.3]);
  });

  it("a subclass's own function fields are not state, and its undefined fields can be loaded", () => {
    class Halving extends LRScheduler {
      readonly rule = (lr: number): number => lr / 2;
      note: string | undefined = undefined;
      constructor(optimizer: SchedulableOptimizer) {
        super(optimizer);
        this.attach(-1);
        this.initialStep();
      }
      protected computeLr(): number[] {
        return this.isInitial ? this.groupLrs() : this.groupLrs().map(this.rule);
      }
    }
    const scheduler = new Halving(sgdLike());
    scheduler.step();
    const state = scheduler.stateDict();
    expect(Object.keys(state).sort()).toEqual(["baseLrs", "lastEpoch", "lastLr", "stepCount"]);
    expect(messageOf(() => scheduler.loadStateDict({ ...state, rule: null }))).toBe(
      "TypeError: simdopt: Halving.loadStateDict: unknown key \"rule\" (is this the state of another kind of scheduler?)");
    scheduler.loadStateDict({ ...state, note: "warm" });
    expect(scheduler.note).toBe("warm");
    scheduler.step();
    expect(scheduler.getLastLr()).toEqual([0.025, 0.00625]);
  });

  it("a composite's state holds its members' state dicts, even for members with functions (LambdaLR)", () => {
    const optimizer = sgdLike();
    const chained = new ChainedScheduler([new LambdaLR(optimizer, { lrLambda: (t) => 1 / (t + 1) }), new StepLR(optimizer, { stepSize: 2 })]);
    chained.step();
    const state = chained.stateDict() as { schedulers: Array<Record<string, unknown>> };
    expect(state.schedulers[0]!.lrLambdas).toEqual([null, null]);
    expect(state.schedulers[1]!.stepSize).toBe(2);
  });

  it("floorMod of an exact multiple is zero with either sign of divisor (no divisor added)", () => {
    expect(Object.is(floorMod(3, -3), 0)).toBe(true);
    expect(Object.is(floorMod(-6, -3), -0)).toBe(true);
    expect(Object.is(floorMod(6, 3), 0)).toBe(true);
  });
});
