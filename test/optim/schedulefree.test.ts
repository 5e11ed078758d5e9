// ScheduleFreeAdamW's own state: train() after eval() moving the parameters back from x to y, and
// the scalar state (weightSum, lrMax) a state dict may carry: its bounds and the values a
// missing scalar starts from.
import { beforeAll, describe, expect, it } from "vitest";
import { init, parameter, ScheduleFreeAdamW } from "../../src/index.js";
import { ScheduleFreeReference } from "../reference/optimizers-more.js";
import { seededRandom } from "../reference/random.js";
import { fullOptions } from "./more-harness.js";
import { excess } from "./extra-harness.js";

beforeAll(async () => {
  await init();
});

describe("ScheduleFreeAdamW train() after eval()", () => {
  it("moves the parameters from x back to y (y = β1·x + (1−β1)·z), away from x", () => {
    const random = seededRandom(21);
    const initial = new Float32Array(29).map(() => 2 * random() - 1);
    const p = parameter([29], { init: initial });
    // A large lr and β1 = 0.5 keep z, x and y far apart (y − x = (1−β1)/β1·(z − y)).
    const options = fullOptions("ScheduleFreeAdamW", { lr: 0.5, betas: [0.5, 0.999] });
    const optimizer = new ScheduleFreeAdamW([p], options);
    const reference = new ScheduleFreeReference(Float64Array.from(initial), options as never);
    optimizer.train();
    for (let t = 0; t < 5; t++) {
      for (let i = 0; i < 29; i++) p.grad[i] = 2 * random() - 1;
      optimizer.step();
      reference.step(p.grad);
    }
    const x = reference.x();
    optimizer.eval();
    expect(excess(p.data, x, 1).value).toBeLessThanOrEqual(1);
    optimizer.train();
    expect(optimizer.trainMode).toBe(true);
    expect(excess(p.data, reference.param, 1).value).toBeLessThanOrEqual(1);
    // x and y are told apart by far more than the tolerance.
    expect(excess(x, reference.param, 1).value).toBeGreaterThan(1000);
    optimizer.dispose(); p.dispose();
  });
});

describe("ScheduleFreeAdamW scalar state in state dicts", () => {
  function saved() {
    const p = parameter([3], { init: "ones" });
    const optimizer = new ScheduleFreeAdamW([p], { lr: 0.01 });
    optimizer.train();
    p.grad.fill(0.5);
    optimizer.step();
    return { p, optimizer, dict: structuredClone(optimizer.stateDict()) };
  }

  it("weightSum must be ≥ 0 and lrMax ≥ −1 (its value before the first step); in bounds, they are restored", () => {
    const { p, optimizer, dict } = saved();
    const entry = dict.state[0]!;
    expect(entry.scalars).toEqual({ weightSum: 1e-4, lrMax: 0.01 });
    const withScalars = (scalars: Record<string, number>) => ({ ...dict, state: [{ ...entry, scalars }] });
    expect(() => optimizer.loadStateDict(withScalars({ weightSum: -0.5, lrMax: 0.01 })))
      .toThrow(new RangeError("simdopt: stateDict.state[0].scalars.weightSum must be a finite number ≥ 0, got -0.5"));
    expect(() => optimizer.loadStateDict(withScalars({ weightSum: 1, lrMax: -1.5 })))
      .toThrow(new RangeError("simdopt: stateDict.state[0].scalars.lrMax must be a finite number ≥ -1, got -1.5"));
    expect(optimizer.stateDict().state[0]!.scalars).toEqual({ weightSum: 1e-4, lrMax: 0.01 });
    optimizer.loadStateDict(withScalars({ weightSum: 0, lrMax: -0.5 }));
    expect(optimizer.stateDict().state[0]!.scalars).toEqual({ weightSum: 0, lrMax: -0.5 });
    optimizer.loadStateDict(withScalars({ weightSum: 2, lrMax: -1 }));
    expect(optimizer.stateDict().state[0]!.scalars).toEqual({ weightSum: 2, lrMax: -1 });
    optimizer.dispose(); p.dispose();
  });

  it("a missing scalar starts where a new state does: weightSum 0, lrMax −1", () => {
    const { p, optimizer, dict } = saved();
    const { scalars: _dropped, ...entry } = dict.state[0]!;
    optimizer.loadStateDict({ ...dict, state: [entry] });
    expect(optimizer.stateDict().state[0]!.scalars).toEqual({ weightSum: 0, lrMax: -1 });
    optimizer.loadStateDict({ ...dict, state: [{ ...entry, scalars: { weightSum: 3 } }] });
    expect(optimizer.stateDict().state[0]!.scalars).toEqual({ weightSum: 3, lrMax: -1 });
    optimizer.loadStateDict({ ...dict, state: [{ ...entry, scalars: { lrMax: 0.5 } }] });
    expect(optimizer.stateDict().state[0]!.scalars).toEqual({ weightSum: 0, lrMax: 0.5 });
    optimizer.dispose(); p.dispose();
  });
});
