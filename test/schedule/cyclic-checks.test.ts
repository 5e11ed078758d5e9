// CyclicLR details PyTorch fixes and the sequence tests leave open: resuming keeps the groups'
// momentum bounds, triangular ignores gamma, groups beyond the ones it was built for are left
// alone (zip), a loaded scaleMode is re-derived from the mode, and the state of a scheduler
// without momentum cycling has no momentum lists — message by message where it refuses.
import { describe, expect, it } from "vitest";
import { CyclicLR } from "../../src/index.js";
import { expectSequenceClose, messageOf, sgdLike, type FakeOptimizer } from "./helpers.js";

const CYCLIC = { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 4 };

describe("CyclicLR details", () => {
  it("resumed with lastEpoch, it keeps the groups' lr bounds and momentum bounds and continues the triangle", () => {
    const optimizer: FakeOptimizer = {
      paramGroups: [0, 1].map(() => ({ lr: 0.3, initialLr: 0.01, momentum: 0.3, maxMomentum: 0.97, baseMomentum: 0.75 })),
      defaults: { momentum: 0 },
    };
    const s = new CyclicLR(optimizer, { ...CYCLIC, lastEpoch: 1 });
    // lastEpoch 2: halfway up (height 0.5) from the baseLr option; momentum from the options too.
    expect(s.lastEpoch).toBe(2);
    expectSequenceClose([s.getLastLr()], [[0.055, 0.055]]);
    expectSequenceClose([optimizer.paramGroups.map((g) => g.momentum as number)], [[0.85, 0.85]]);
    expect(optimizer.paramGroups.map((g) => [g.maxMomentum, g.baseMomentum, g.initialLr])).toEqual([[0.97, 0.75, 0.01], [0.97, 0.75, 0.01]]);
  });

  it("mode triangular ignores gamma (PyTorch's scale function is 1)", () => {
    const optimizer = sgdLike([0.5, 0.5]);
    const s = new CyclicLR(optimizer, { ...CYCLIC, gamma: 0.5 });
    const peaks: number[] = [];
    for (let t = 1; t <= 20; t++) {
      s.step();
      if (t % 8 === 4) peaks.push(optimizer.paramGroups[0]!.lr);
    }
    expect(peaks).toEqual([0.1, 0.1, 0.1]);
  });

  it("writes only the groups it was built for (as Python's zip)", () => {
    const optimizer = sgdLike([0.5, 0.5]);
    const s = new CyclicLR(optimizer, CYCLIC);
    optimizer.paramGroups.push({ lr: 0.5, momentum: 0.3 });
    s.step();
    expect(optimizer.paramGroups[2]).toEqual({ lr: 0.5, momentum: 0.3 });
    expectSequenceClose([optimizer.paramGroups.slice(0, 2).map((g) => g.momentum as number)], [[0.875, 0.875]]);
  });

  it("a loaded scaleMode is re-derived from the mode when there is no custom scale function", () => {
    const optimizer = sgdLike([0.5, 0.5]);
    const s = new CyclicLR(optimizer, { ...CYCLIC, mode: "triangular2" });
    for (let t = 0; t < 9; t++) s.step();
    s.loadStateDict({ ...s.stateDict(), scaleMode: "iterations" });
    expect(s.stateDict().scaleMode).toBe("cycle");
    for (let t = 9; t < 12; t++) s.step();
    // Epoch 12: the second cycle's peak, at half height (triangular2 by cycle, not 0.5^(12−1)).
    expectSequenceClose([s.getLastLr()], [[0.055, 0.055]]);
  });

  it("without momentum cycling its state holds no momentum lists, and round-trips", () => {
    const make = () => new CyclicLR({ paramGroups: [{ lr: 0.1 }, { lr: 0.2 }] }, { ...CYCLIC, cycleMomentum: false });
    const source = make();
    for (let t = 0; t < 3; t++) source.step();
    const state = source.stateDict();
    expect([state.momentumKey, state.baseMomentums, state.maxMomentums]).toEqual([null, [], []]);
    const target = make();
    target.loadStateDict(structuredClone(state));
    expect(target.stateDict()).toEqual(state);
  });

  it.each([
    [{ cycleMomentum: null }, "TypeError: simdopt: CyclicLR.loadStateDict: cycleMomentum must be a boolean (true or false), got null"],
    [{ baseMomentums: [0.8, -0.8] }, "RangeError: simdopt: CyclicLR.loadStateDict: baseMomentums[1] must be a finite number ≥ 0, got -0.8"],
    [{ cycleMomentum: false, momentumKey: null }, "RangeError: simdopt: CyclicLR.loadStateDict: baseMomentums has 2 values, expected 0 (one per param group)"],
  ])("loadStateDict refuses %o and changes nothing", (patch, message) => {
    const s = new CyclicLR(sgdLike(), CYCLIC);
    s.step();
    const before = s.stateDict();
    expect(messageOf(() => s.loadStateDict({ ...before, ...patch }))).toBe(message);
    expect(s.stateDict()).toEqual(before);
  });
});
