// Shared pieces of the scheduler tests: fake optimizers (plain param groups), sequence runners,
// the 1e-12 relative comparison, the state-dict round trip and the thrown-message reader.
import { expect } from "vitest";
import type { LRScheduler, SchedulableOptimizer, SchedulerStateDict } from "../../src/index.js";

export type Group = { lr: number; [key: string]: unknown };
export type FakeOptimizer = { paramGroups: Group[]; defaults?: object };

/** "ErrorClass: message" of what `run` throws, or "(no error)" (for exact-message snapshots). */
export function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return `${(error as Error).constructor.name}: ${(error as Error).message}`;
  }
  return "(no error)";
}

/** Two groups with different base lrs and SGD-style momentum. */
export function sgdLike(lrs: number[] = [0.1, 0.025]): FakeOptimizer {
  return { paramGroups: lrs.map((lr) => ({ lr, momentum: 0.9 })), defaults: { lr: 1e-3, momentum: 0 } };
}

/** Two groups with different base lrs and Adam-style betas. */
export function adamLike(lrs: number[] = [0.01, 0.003]): FakeOptimizer {
  return { paramGroups: lrs.map((lr) => ({ lr, betas: [0.9, 0.999] })), defaults: { lr: 1e-3, betas: [0.9, 0.999] } };
}

/** A group object copy, as an optimizer's loadStateDict would restore it. */
export function cloneGroups(optimizer: FakeOptimizer): Group[] {
  return structuredClone(optimizer.paramGroups);
}

/** The lrs after construction and after each of `steps` steps: row t = lrs at lastEpoch t. */
export function runLrs(scheduler: LRScheduler, optimizer: SchedulableOptimizer, steps: number, step: (t: number) => void = () => scheduler.step()): number[][] {
  const rows: number[][] = [optimizer.paramGroups.map((g) => g.lr)];
  for (let t = 1; t <= steps; t++) {
    step(t);
    rows.push(optimizer.paramGroups.map((g) => g.lr));
  }
  return rows;
}

/** Expected rows from a per-group closed form. */
export function expectedRows(baseLrs: number[], steps: number, lrAt: (baseLr: number, t: number, group: number) => number): number[][] {
  const rows: number[][] = [];
  for (let t = 0; t <= steps; t++) rows.push(baseLrs.map((base, g) => lrAt(base, t, g)));
  return rows;
}

export const RELATIVE_TOLERANCE = 1e-12;

/** Every value within 1e-12 relative of the expected one (exact when the expected value is 0). */
export function expectSequenceClose(actual: number[][], expected: number[][], tolerance = RELATIVE_TOLERANCE): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  let where = "";
  for (let t = 0; t < expected.length; t++) {
    for (let g = 0; g < expected[t]!.length; g++) {
      const a = actual[t]![g]!;
      const e = expected[t]![g]!;
      const error = e === 0 ? Math.abs(a) : Math.abs(a - e) / Math.abs(e);
      if (!(error <= worst) || Number.isNaN(a)) {
        worst = Number.isNaN(a) ? Infinity : error;
        where = `step ${t}, group ${g}: got ${a}, expected ${e}`;
      }
    }
  }
  expect(worst, where).toBeLessThanOrEqual(tolerance);
}

/**
 * Runs `make` on a fresh optimizer for `split` steps, saves scheduler state + group copies,
 * builds a second scheduler on a second fresh optimizer, restores both (groups as an optimizer's
 * loadStateDict would, then the scheduler state), and checks that both continue identically for
 * `more` steps. The state dict must survive structuredClone (plain data).
 */
export function checkRoundTrip(
  makeOptimizer: () => FakeOptimizer,
  make: (optimizer: FakeOptimizer) => LRScheduler,
  split: number,
  more: number,
  step: (scheduler: LRScheduler, t: number) => void = (scheduler) => scheduler.step(),
): void {
  const optimizerA = makeOptimizer();
  const a = make(optimizerA);
  for (let t = 1; t <= split; t++) step(a, t);
  const saved: SchedulerStateDict = structuredClone(a.stateDict());
  const savedGroups = cloneGroups(optimizerA);

  const optimizerB = makeOptimizer();
  const b = make(optimizerB);
  step(b, 0); // a different position first, so the load has something to overwrite
  const snapshot = structuredClone(saved);
  optimizerB.paramGroups.splice(0, optimizerB.paramGroups.length, ...structuredClone(savedGroups));
  b.loadStateDict(saved);
  expect(b.lastEpoch).toBe(a.lastEpoch);
  expect(b.getLastLr()).toEqual(a.getLastLr());
  for (let t = split + 1; t <= split + more; t++) {
    step(a, t);
    step(b, t);
    expect(optimizerB.paramGroups.map((g) => g.lr)).toEqual(optimizerA.paramGroups.map((g) => g.lr));
    expect(b.getLastLr()).toEqual(a.getLastLr());
    expect(b.lastEpoch).toBe(a.lastEpoch);
  }
  // The scheduler holds copies: stepping it did not change the saved object.
  expect(saved).toEqual(snapshot);
}
