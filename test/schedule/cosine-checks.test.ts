// CosineAnnealingLR and CosineAnnealingWarmRestarts state checks, message by message (a refused
// state changes nothing), and the branches of PyTorch's step that only a loaded state reaches:
// a step count of 0 (CosineAnnealingLR's closed-form first step) and a lastEpoch of −1 (SGDR's
// restart at epoch 0).
import { describe, expect, it } from "vitest";
import { CosineAnnealingLR, CosineAnnealingWarmRestarts, type LRScheduler } from "../../src/index.js";
import { expectSequenceClose, messageOf, sgdLike } from "./helpers.js";

const BASES = [0.1, 0.025];

function cosine(base: number, etaMin: number, tCur: number, period: number): number {
  return etaMin + (base - etaMin) * (1 + Math.cos(Math.PI * tCur / period)) / 2;
}

/** The message of loading `patch` over the scheduler's own state; a refusal must change nothing. */
function loadMessage(scheduler: LRScheduler, patch: Record<string, unknown>): string {
  const before = scheduler.stateDict();
  const message = messageOf(() => scheduler.loadStateDict({ ...before, ...patch }));
  if (message !== "(no error)") expect(scheduler.stateDict()).toEqual(before);
  return message;
}

describe("CosineAnnealingLR state", () => {
  it.each([
    [{ tMax: 0 }, "RangeError: simdopt: CosineAnnealingLR.loadStateDict: tMax must be a finite number > 0, got 0"],
    [{ tMax: -3 }, "RangeError: simdopt: CosineAnnealingLR.loadStateDict: tMax must be a finite number > 0, got -3"],
    [{ tMax: Infinity }, "RangeError: simdopt: CosineAnnealingLR.loadStateDict: tMax must be a finite number > 0, got Infinity"],
    [{ etaMin: -0.5 }, "RangeError: simdopt: CosineAnnealingLR.loadStateDict: etaMin must be a finite number ≥ 0, got -0.5"],
    [{ etaMin: NaN }, "TypeError: simdopt: CosineAnnealingLR.loadStateDict: etaMin must be a finite number ≥ 0, got NaN"],
  ])("refuses %o", (patch, message) => {
    const scheduler = new CosineAnnealingLR(sgdLike(BASES), { tMax: 10 });
    scheduler.step();
    expect(loadMessage(scheduler, patch)).toBe(message);
  });

  it("accepts a fractional tMax and an etaMin of 0", () => {
    const scheduler = new CosineAnnealingLR(sgdLike(BASES), { tMax: 10, etaMin: 0.001 });
    expect(loadMessage(scheduler, { tMax: 2.5, etaMin: 0 })).toBe("(no error)");
    expect([scheduler.tMax, scheduler.etaMin]).toEqual([2.5, 0]);
  });

  it("with a loaded step count of 0, the next step takes the closed form at lastEpoch + 1, as PyTorch's get_lr", () => {
    // PyTorch: `elif self._step_count == 1 and self.last_epoch > 0`: the closed form from the base lrs.
    const optimizer = sgdLike(BASES);
    const scheduler = new CosineAnnealingLR(optimizer, { tMax: 12, etaMin: 0.002 });
    for (const group of optimizer.paramGroups) group.lr = 0.5; // ignored by the closed form
    scheduler.loadStateDict({ ...scheduler.stateDict(), lastEpoch: 4, stepCount: 0 });
    scheduler.step();
    expectSequenceClose([scheduler.getLastLr()], [BASES.map((b) => cosine(b, 0.002, 5, 12))]);
    scheduler.step(); // step count 2: recursive again, along the same cosine
    expectSequenceClose([scheduler.getLastLr()], [BASES.map((b) => cosine(b, 0.002, 6, 12))]);
  });

  it("with a loaded step count of 0 and lastEpoch −1, the next step (lastEpoch 0) is recursive, as PyTorch's get_lr", () => {
    // lastEpoch 0 is not > 0, so PyTorch takes the ratio branch: lr·(1 + cos 0)/(1 + cos(−π/tMax)).
    const optimizer = sgdLike(BASES);
    const scheduler = new CosineAnnealingLR(optimizer, { tMax: 10 });
    scheduler.loadStateDict({ ...scheduler.stateDict(), lastEpoch: -1, stepCount: 0 });
    scheduler.step();
    expect(scheduler.lastEpoch).toBe(0);
    expectSequenceClose([scheduler.getLastLr()], [BASES.map((b) => b * 2 / (1 + Math.cos(Math.PI / 10)))]);
  });
});

describe("CosineAnnealingWarmRestarts state", () => {
  const W = "CosineAnnealingWarmRestarts.loadStateDict:";
  it.each([
    [{ t0: 0 }, `RangeError: simdopt: ${W} t0 must be a finite integer ≥ 1, got 0`],
    [{ t0: 2.5 }, `RangeError: simdopt: ${W} t0 must be a finite integer ≥ 1, got 2.5`],
    [{ tMult: 0 }, `RangeError: simdopt: ${W} tMult must be a finite integer ≥ 1, got 0`],
    [{ tMult: 1.5 }, `RangeError: simdopt: ${W} tMult must be a finite integer ≥ 1, got 1.5`],
    [{ etaMin: -1 }, `RangeError: simdopt: ${W} etaMin must be a finite number ≥ 0, got -1`],
    [{ tI: 0 }, `RangeError: simdopt: ${W} tI must be a finite number > 0, got 0`],
    [{ tI: -4 }, `RangeError: simdopt: ${W} tI must be a finite number > 0, got -4`],
    [{ tCur: -2 }, `RangeError: simdopt: ${W} tCur must be a finite number ≥ -1, got -2`],
    [{ tCur: Infinity }, `RangeError: simdopt: ${W} tCur must be a finite number ≥ -1, got Infinity`],
  ])("refuses %o", (patch, message) => {
    const scheduler = new CosineAnnealingWarmRestarts(sgdLike(BASES), { t0: 4, tMult: 2 });
    scheduler.step();
    expect(loadMessage(scheduler, patch)).toBe(message);
  });

  it("accepts the states it makes: fractional tCur below 1, tCur −1, tI not a multiple of t0's integer steps", () => {
    const source = new CosineAnnealingWarmRestarts(sgdLike(BASES), { t0: 4, tMult: 2 });
    source.step(0.5);
    const target = new CosineAnnealingWarmRestarts(sgdLike(BASES), { t0: 4, tMult: 2 });
    expect(loadMessage(target, source.stateDict())).toBe("(no error)");
    expect(loadMessage(target, { tCur: -1, tI: 0.5, etaMin: 0 })).toBe("(no error)");
  });

  it("a loaded lastEpoch of −1 makes the next step() start over at epoch 0 of the first period, as PyTorch's step", () => {
    const optimizer = sgdLike(BASES);
    const scheduler = new CosineAnnealingWarmRestarts(optimizer, { t0: 4, tMult: 2, etaMin: 0.001 });
    for (let t = 0; t < 9; t++) scheduler.step(); // epoch 9: second period (length 8), tCur 5
    expectSequenceClose([scheduler.getLastLr()], [BASES.map((b) => cosine(b, 0.001, 5, 8))]);
    scheduler.loadStateDict({ ...scheduler.stateDict(), lastEpoch: -1 });
    scheduler.step();
    expect(scheduler.lastEpoch).toBe(0);
    expect(scheduler.getLastLr()).toEqual(BASES);
    scheduler.step(); // epoch 1 of a period of t0 = 4 again
    expectSequenceClose([scheduler.getLastLr()], [BASES.map((b) => cosine(b, 0.001, 1, 4))]);
  });

  it("a loaded lastEpoch of −1 does not override an explicit step(epoch)", () => {
    const scheduler = new CosineAnnealingWarmRestarts(sgdLike(BASES), { t0: 4, tMult: 2 });
    scheduler.loadStateDict({ ...scheduler.stateDict(), lastEpoch: -1 });
    scheduler.step(6); // second period, tCur 2 of 8
    expect(scheduler.lastEpoch).toBe(6);
    expectSequenceClose([scheduler.getLastLr()], [BASES.map((b) => cosine(b, 0, 2, 8))]);
  });
});
