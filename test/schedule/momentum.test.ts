// Which group option OneCycleLR and CyclicLR cycle (momentum, or beta1 of betas), message by
// message: judged from the defaults as PyTorch does (`'betas' in optimizer.defaults`), from the
// first group when there are no defaults, and every group must carry the option in usable form.
import { describe, expect, it } from "vitest";
import { CyclicLR, OneCycleLR } from "../../src/index.js";
import { checkMomentumKey, momentumKey } from "../../src/schedule/momentum.js";
import { adamLike, messageOf, sgdLike, type FakeOptimizer } from "./helpers.js";

describe("momentumKey", () => {
  it("follows the defaults, and the first group when defaults are missing or null", () => {
    expect(momentumKey("X", sgdLike())).toBe("momentum");
    expect(momentumKey("X", adamLike())).toBe("betas");
    expect(momentumKey("X", { paramGroups: [{ lr: 0.1, momentum: 0.9 }], defaults: null } as never)).toBe("momentum");
    expect(momentumKey("X", { paramGroups: [{ lr: 0.1, betas: [0.9, 0.999] }] })).toBe("betas");
  });

  it("takes the defaults' word over the first group's", () => {
    // Defaults with betas but groups with only momentum: PyTorch asks the defaults, so betas.
    const optimizer: FakeOptimizer = { paramGroups: [{ lr: 0.1, momentum: 0.9 }], defaults: { lr: 0.1, betas: [0.9, 0.99] } };
    expect(messageOf(() => momentumKey("OneCycleLR", optimizer))).toBe(
      "TypeError: simdopt: OneCycleLR cycles betas[0] but paramGroups[0].betas is undefined");
    const sgdDefaults: FakeOptimizer = { paramGroups: [{ lr: 0.1, betas: [0.9, 0.99] }], defaults: { lr: 0.1, momentum: 0 } };
    expect(messageOf(() => momentumKey("CyclicLR", sgdDefaults))).toBe(
      "TypeError: simdopt: CyclicLR cycles momentum but paramGroups[0].momentum is undefined");
  });

  it("accepts a one-element betas and a momentum of 0", () => {
    expect(momentumKey("X", { paramGroups: [{ lr: 0.1, betas: [0.9] }], defaults: { betas: [0.9] } })).toBe("betas");
    expect(momentumKey("X", { paramGroups: [{ lr: 0.1, momentum: 0 }] })).toBe("momentum");
  });

  it.each([
    ["a later group without betas", [{ lr: 0.1, betas: [0.9, 0.999] }, { lr: 0.1 }], "paramGroups[1].betas is undefined"],
    ["an empty betas", [{ lr: 0.1, betas: [0.9, 0.999] }, { lr: 0.1, betas: [] }], "paramGroups[1].betas is []"],
    ["betas as an array-like object", [{ lr: 0.1, betas: { 0: 0.9, length: 2 } }], "paramGroups[0].betas is an object"],
    ["betas as a number", [{ lr: 0.1, betas: 0.9 }], "paramGroups[0].betas is 0.9"],
  ])("betas: rejects %s, naming the group", (_name, paramGroups, tail) => {
    const optimizer = { paramGroups, defaults: { lr: 0.1, betas: [0.9, 0.999] } } as never;
    expect(messageOf(() => momentumKey("OneCycleLR", optimizer))).toBe(`TypeError: simdopt: OneCycleLR cycles betas[0] but ${tail}`);
  });

  it.each([
    ["a later group without momentum", [{ lr: 0.1, momentum: 0.9 }, { lr: 0.1 }], "paramGroups[1].momentum is undefined"],
    ["momentum as a string", [{ lr: 0.1, momentum: "0.9" }], "paramGroups[0].momentum is \"0.9\" (string)"],
    ["momentum as an array", [{ lr: 0.1, momentum: [0.9] }], "paramGroups[0].momentum is [0.9]"],
  ])("momentum: rejects %s, naming the group", (_name, paramGroups, tail) => {
    const optimizer = { paramGroups, defaults: { lr: 0.1, momentum: 0 } } as never;
    expect(messageOf(() => momentumKey("CyclicLR", optimizer))).toBe(`TypeError: simdopt: CyclicLR cycles momentum but ${tail}`);
  });

  it("rejects an optimizer with neither, saying how to opt out", () => {
    expect(messageOf(() => momentumKey("CyclicLR", { paramGroups: [{ lr: 0.1 }], defaults: { lr: 0.1 } }))).toBe(
      "TypeError: simdopt: CyclicLR with cycleMomentum (the default) needs an optimizer with momentum or betas; pass cycleMomentum: false");
  });

  it("the schedulers refuse such an optimizer before writing anything", () => {
    const optimizer: FakeOptimizer = { paramGroups: [{ lr: 0.1, momentum: 0.9 }, { lr: 0.2 }], defaults: { momentum: 0 } };
    expect(messageOf(() => new OneCycleLR(optimizer, { maxLr: 1, totalSteps: 10 }))).toBe(
      "TypeError: simdopt: OneCycleLR cycles momentum but paramGroups[1].momentum is undefined");
    expect(messageOf(() => new CyclicLR(optimizer, { baseLr: 0.01, maxLr: 0.1 }))).toBe(
      "TypeError: simdopt: CyclicLR cycles momentum but paramGroups[1].momentum is undefined");
    expect(optimizer.paramGroups).toEqual([{ lr: 0.1, momentum: 0.9 }, { lr: 0.2 }]);
  });
});

describe("checkMomentumKey", () => {
  it("accepts momentum or betas with cycling, null without", () => {
    for (const key of ["momentum", "betas"]) expect(messageOf(() => checkMomentumKey("W: ", key, true))).toBe("(no error)");
    expect(messageOf(() => checkMomentumKey("W: ", null, false))).toBe("(no error)");
  });

  it.each([
    [null, true, "RangeError: simdopt: W: momentumKey must be \"momentum\" or \"betas\", got null"],
    ["beta1", true, "RangeError: simdopt: W: momentumKey must be \"momentum\" or \"betas\", got \"beta1\" (string)"],
    ["momentum", false, "RangeError: simdopt: W: momentumKey must be null (cycleMomentum is false), got \"momentum\" (string)"],
    ["betas", false, "RangeError: simdopt: W: momentumKey must be null (cycleMomentum is false), got \"betas\" (string)"],
    [undefined, false, "RangeError: simdopt: W: momentumKey must be null (cycleMomentum is false), got undefined"],
  ])("rejects %o with cycleMomentum %o", (value, cycle, message) => {
    expect(messageOf(() => checkMomentumKey("W: ", value, cycle))).toBe(message);
  });

  it("a state dict whose momentumKey contradicts cycleMomentum is refused and changes nothing", () => {
    const cyclic = new CyclicLR(sgdLike(), { baseLr: 0.01, maxLr: 0.1, cycleMomentum: false });
    const before = cyclic.stateDict();
    expect(messageOf(() => cyclic.loadStateDict({ ...before, momentumKey: "momentum" }))).toBe(
      "RangeError: simdopt: CyclicLR.loadStateDict: momentumKey must be null (cycleMomentum is false), got \"momentum\" (string)");
    expect(cyclic.stateDict()).toEqual(before);
    const oneCycle = new OneCycleLR(adamLike(), { maxLr: 0.1, totalSteps: 10 });
    const state = oneCycle.stateDict();
    expect(messageOf(() => oneCycle.loadStateDict({ ...state, momentumKey: null }))).toBe(
      "RangeError: simdopt: OneCycleLR.loadStateDict: momentumKey must be \"momentum\" or \"betas\", got null");
    expect(oneCycle.stateDict()).toEqual(state);
  });
});
