// OneCycleLR, message by message: resuming (lastEpoch ≥ 0) reads the cycle from the groups and
// needs every key it will read, up front; the option and state checks the snapshot tests leave
// loose; and a phase of no length refuses to divide 0 by 0 (PyTorch's ZeroDivisionError).
import { describe, expect, it } from "vitest";
import { OneCycleLR } from "../../src/index.js";
import { cloneGroups, expectSequenceClose, messageOf, sgdLike, type FakeOptimizer } from "./helpers.js";

/** The groups of a fresh OneCycleLR run of `steps` steps (what a checkpoint restores). */
function checkpoint(steps: number, options = { maxLr: [0.1, 0.05], totalSteps: 20 }): { groups: FakeOptimizer["paramGroups"]; reference: OneCycleLR; optimizer: FakeOptimizer } {
  const optimizer = sgdLike();
  const reference = new OneCycleLR(optimizer, options);
  for (let t = 0; t < steps; t++) reference.step();
  return { groups: cloneGroups(optimizer), reference, optimizer };
}

describe("OneCycleLR resumed with lastEpoch", () => {
  it("continues from the groups' own initialLr, maxLr, minLr and momentum bounds, not from its options", () => {
    const { groups, reference, optimizer } = checkpoint(5);
    const resumed: FakeOptimizer = { paramGroups: groups, defaults: { momentum: 0 } };
    // Different options: a resumed cycle is defined by what the groups hold, as in PyTorch.
    const s = new OneCycleLR(resumed, { maxLr: 9, totalSteps: 20, divFactor: 2, maxMomentum: 0.5, baseMomentum: 0.1, lastEpoch: 5 });
    reference.step();
    expect(s.lastEpoch).toBe(6);
    expect(resumed.paramGroups).toEqual(optimizer.paramGroups);
    for (let t = 7; t <= 20; t++) {
      s.step();
      reference.step();
      expect(resumed.paramGroups).toEqual(optimizer.paramGroups);
    }
  });

  it("without momentum cycling needs only the lr keys", () => {
    const optimizer = { paramGroups: [{ lr: 0.02, initialLr: 0.004, maxLr: 0.1, minLr: 4e-7 }] };
    const s = new OneCycleLR(optimizer, { maxLr: 0.1, totalSteps: 10, cycleMomentum: false, lastEpoch: 0 });
    expectSequenceClose([s.getLastLr()], [[0.1 + (0.004 - 0.1) * (1 + Math.cos(Math.PI / 2)) / 2]]); // step 1 of a 2-step warm-up
    expect(optimizer.paramGroups[0]).not.toHaveProperty("momentum");
  });

  it.each([
    ["initialLr", "needs paramGroups[0].initialLr (a number), got undefined"],
    ["minLr", "needs paramGroups[1].minLr (a number), got undefined"],
    ["baseMomentum", "needs paramGroups[1].baseMomentum (a number), got undefined"],
  ])("refuses groups without %s before writing anything, even where the current phase does not read it", (key, tail) => {
    const { groups } = checkpoint(1, { maxLr: [0.1, 0.05], totalSteps: 20, threePhase: true } as never);
    const group = groups[key === "initialLr" ? 0 : 1]!;
    delete group[key];
    const before = structuredClone(groups);
    // lastEpoch 0 is in the warm-up (initialLr → maxLr, maxMomentum → baseMomentum): minLr is
    // not read there, yet it is refused; a phase-3 resume (maxMomentum → maxMomentum) would not
    // read baseMomentum either.
    const lastEpoch = key === "baseMomentum" ? 17 : 0;
    expect(messageOf(() => new OneCycleLR({ paramGroups: groups }, { maxLr: 0.1, totalSteps: 20, threePhase: true, lastEpoch }))).toBe(
      `TypeError: simdopt: OneCycleLR ${tail}`);
    expect(groups).toEqual(before);
  });

  it("a group value of the wrong type is named with the value", () => {
    const { groups } = checkpoint(1);
    groups[0]!.maxLr = "0.1";
    expect(messageOf(() => new OneCycleLR({ paramGroups: groups }, { maxLr: 0.1, totalSteps: 20, lastEpoch: 1 }))).toBe(
      "TypeError: simdopt: OneCycleLR needs paramGroups[0].maxLr (a number), got \"0.1\" (string)");
  });
});

describe("OneCycleLR option and state messages", () => {
  it.each([
    [{ maxLr: 0.1, stepsPerEpoch: 3 }, "TypeError: simdopt: OneCycleLR requires the option totalSteps, or both epochs and stepsPerEpoch"],
    [{ maxLr: 0.1, totalSteps: 10, maxMomentum: -0.5 }, "RangeError: simdopt: OneCycleLR maxMomentum must be a finite number ≥ 0, got -0.5"],
    [{ maxLr: 0.1, totalSteps: 10, maxMomentum: [0.9, -0.9] }, "RangeError: simdopt: OneCycleLR maxMomentum[1] must be a finite number ≥ 0, got -0.9"],
  ])("%o", (options, message) => {
    const optimizer = sgdLike();
    expect(messageOf(() => new OneCycleLR(optimizer, options as never))).toBe(message);
    expect(optimizer.paramGroups.every((g) => !("initialLr" in g) && g.momentum === 0.9)).toBe(true);
  });

  it.each([
    [{ cycleMomentum: null }, "TypeError: simdopt: OneCycleLR.loadStateDict: cycleMomentum must be a boolean (true or false), got null"],
    [{ phases: [{ endStep: 2, startLr: "initialLr", endLr: "maxLr", startMomentum: "maxMomentum", endMomentum: "momentum" }, {}] },
      "RangeError: simdopt: OneCycleLR.loadStateDict: phases[0].endMomentum must be one of \"maxMomentum\", \"baseMomentum\", got \"momentum\" (string)"],
    [{ phases: [{ endStep: 2, startLr: "initialLr", endLr: "lr", startMomentum: "maxMomentum", endMomentum: "baseMomentum" }, {}] },
      "RangeError: simdopt: OneCycleLR.loadStateDict: phases[0].endLr must be one of \"initialLr\", \"maxLr\", \"minLr\", got \"lr\" (string)"],
    [{ phases: [null, null] }, "TypeError: simdopt: OneCycleLR.loadStateDict: phases[0] must be an object, got null"],
    [{ phases: [3, {}] }, "TypeError: simdopt: OneCycleLR.loadStateDict: phases[0] must be an object, got 3"],
    [{ phases: [{}, {}, {}, {}] }, "TypeError: simdopt: OneCycleLR.loadStateDict: phases must be an array of 2 or 3 phases, got an array of length 4"],
  ])("loadStateDict refuses %o", (patch, message) => {
    const s = new OneCycleLR(sgdLike(), { maxLr: 0.1, totalSteps: 10 });
    s.step();
    const before = s.stateDict();
    expect(messageOf(() => s.loadStateDict({ ...before, ...patch }))).toBe(message);
    expect(s.stateDict()).toEqual(before);
  });

  it("pctStart 1: the step after the warm-up falls in a phase of no length and throws, changing nothing", () => {
    const optimizer = sgdLike();
    const s = new OneCycleLR(optimizer, { maxLr: 0.1, totalSteps: 10, pctStart: 1 });
    for (let t = 0; t < 9; t++) s.step();
    expect(s.getLastLr()).toEqual([0.1, 0.1]);
    const groups = cloneGroups(optimizer);
    expect(messageOf(() => s.step())).toBe(
      "RangeError: simdopt: OneCycleLR phase ending at step 9 has no length (pctStart is 0 or 1 for these totalSteps); cannot compute step 10");
    expect(optimizer.paramGroups).toEqual(groups);
    expect(s.lastEpoch).toBe(9);
  });
});
