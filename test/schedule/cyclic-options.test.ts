// CyclicLR and OneCycleLR option and state-dict checks, message by message: each names the
// option, the value and what is allowed, and nothing is written to the optimizer first.
import { describe, expect, it } from "vitest";
import { CyclicLR, OneCycleLR } from "../../src/index.js";
import { sgdLike } from "./helpers.js";

/** The message `make` throws, after checking that it left the groups untouched. */
function messageOf(make: (optimizer: ReturnType<typeof sgdLike>) => unknown): string {
  const optimizer = sgdLike([0.5, 0.5]);
  let message = "(no error)";
  try {
    make(optimizer);
  } catch (error) {
    message = `${(error as Error).constructor.name}: ${(error as Error).message}`;
  }
  expect(optimizer.paramGroups.map((g) => [g.lr, g.momentum, "initialLr" in g])).toEqual([[0.5, 0.9, false], [0.5, 0.9, false]]);
  return message;
}

const CYCLIC = { baseLr: 0.01, maxLr: 0.1 };

describe("CyclicLR option messages", () => {
  it.each([
    [{ maxLr: 0.1 }],
    [{ baseLr: 0.1 }],
    [{ baseLr: 0.01, maxLr: -0.1 }],
    [{ ...CYCLIC, stepSizeDown: 0 }],
    [{ ...CYCLIC, stepSizeUp: -1 }],
    [{ ...CYCLIC, baseMomentum: -0.1 }],
    [{ ...CYCLIC, maxMomentum: [0.9] }],
    [{ ...CYCLIC, maxMomentum: -1 }],
    [{ ...CYCLIC, lastEpoch: 3 }],
  ])("%o", (options) => {
    expect(messageOf((o) => new CyclicLR(o, options as never))).toMatchSnapshot();
  });

  it("a null stepSizeDown means stepSizeUp", () => {
    const s = new CyclicLR(sgdLike(), { ...CYCLIC, stepSizeUp: 4, stepSizeDown: null });
    expect([s.totalSize, s.stepRatio]).toEqual([8, 0.5]);
  });

  it.each([
    ["maxLrs", [-1, 0.1]],
    ["totalSize", 0],
    ["stepRatio", 1],
    ["stepRatio", 0],
    ["mode", "sawtooth"],
    ["gamma", -1],
    ["scaleMode", "epochs"],
    ["cycleMomentum", "yes"],
    ["baseMomentums", [0.8]],
    ["maxMomentums", [0.9, -0.9]],
  ])("loadStateDict rejects %s = %o", (key, value) => {
    const source = new CyclicLR(sgdLike(), { ...CYCLIC, stepSizeUp: 4 });
    source.step();
    const state = { ...source.stateDict(), [key]: value };
    const target = new CyclicLR(sgdLike(), { ...CYCLIC, stepSizeUp: 4 });
    const before = target.stateDict();
    let message = "(no error)";
    try {
      target.loadStateDict(state);
    } catch (error) {
      message = `${(error as Error).constructor.name}: ${(error as Error).message}`;
    }
    expect(message).toMatchSnapshot();
    expect(target.stateDict()).toEqual(before);
  });
});

const ONE_CYCLE = { maxLr: 0.1, totalSteps: 10 };

describe("OneCycleLR option messages", () => {
  it.each([
    [{ totalSteps: 10 }],
    [{ maxLr: -0.1, totalSteps: 10 }],
    [{ maxLr: 0.1 }],
    [{ maxLr: 0.1, epochs: 2 }],
    [{ maxLr: 0.1, totalSteps: 0 }],
    [{ maxLr: 0.1, totalSteps: 2.5 }],
    [{ maxLr: 0.1, epochs: 0, stepsPerEpoch: 3 }],
    [{ maxLr: 0.1, epochs: 2, stepsPerEpoch: 1.5 }],
    [{ ...ONE_CYCLE, pctStart: 1.5 }],
    [{ ...ONE_CYCLE, pctStart: -0.1 }],
    [{ ...ONE_CYCLE, annealStrategy: "step" }],
    [{ ...ONE_CYCLE, cycleMomentum: 1 }],
    [{ ...ONE_CYCLE, baseMomentum: -1 }],
    [{ ...ONE_CYCLE, maxMomentum: [0.9, 0.9, 0.9] }],
    [{ ...ONE_CYCLE, divFactor: 0 }],
    [{ ...ONE_CYCLE, finalDivFactor: 0 }],
  ])("%o", (options) => {
    expect(messageOf((o) => new OneCycleLR(o, options as never))).toMatchSnapshot();
  });

  it("totalSteps null falls back to epochs × stepsPerEpoch", () => {
    const s = new OneCycleLR(sgdLike(), { maxLr: 0.1, totalSteps: null, epochs: 2, stepsPerEpoch: 3 } as never);
    expect(s.totalSteps).toBe(6);
  });
});

describe("OneCycleLR state checks and its end", () => {
  it.each([
    ["totalSteps", 0],
    ["totalSteps", 2.5],
    ["annealStrategy", "step"],
    ["cycleMomentum", 1],
    ["phases", {}],
    ["phases", [{}]],
    ["phases", [null, null]],
    ["phases", [{ endStep: 2, startLr: "initialLr", endLr: "maxLr", startMomentum: "maxMomentum", endMomentum: "baseMomentum", extra: 1 }, {}]],
    ["phases", [{ endStep: "2", startLr: "initialLr", endLr: "maxLr", startMomentum: "maxMomentum", endMomentum: "baseMomentum" }, {}]],
    ["phases", [{ endStep: 2, startLr: "lr", endLr: "maxLr", startMomentum: "maxMomentum", endMomentum: "baseMomentum" }, {}]],
    ["phases", [{ endStep: 2, startLr: "initialLr", endLr: "maxLr", startMomentum: "momentum", endMomentum: "baseMomentum" }, {}]],
  ])("loadStateDict rejects %s = %o", (key, value) => {
    const target = new OneCycleLR(sgdLike(), ONE_CYCLE);
    target.step();
    const before = target.stateDict();
    let message = "(no error)";
    try {
      target.loadStateDict({ ...before, [key]: value });
    } catch (error) {
      message = `${(error as Error).constructor.name}: ${(error as Error).message}`;
    }
    expect(message).toMatchSnapshot();
    expect(target.stateDict()).toEqual(before);
  });

  it("steps exactly totalSteps times, then refuses with the count and leaves the lr as it was", () => {
    const optimizer = sgdLike();
    const s = new OneCycleLR(optimizer, { maxLr: 0.1, totalSteps: 4 });
    for (let i = 0; i < 4; i++) s.step();
    const lrs = optimizer.paramGroups.map((g) => g.lr);
    expect(() => s.step()).toThrow(new RangeError("simdopt: OneCycleLR tried to step 5 times; totalSteps is 4"));
    expect(optimizer.paramGroups.map((g) => g.lr)).toEqual(lrs);
  });
});
