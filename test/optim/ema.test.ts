// EMA of weights against a float64 reference of torch.optim.swa_utils.AveragedModel with
// get_ema_multi_avg_fn(decay) (first update copies; then lerp(average, param, 1 − decay)), with
// wrong variants that must fail, swap/copyTo, state-dict resume and bad input.

import { beforeAll, describe, expect, it } from "vitest";
import { EMA, init, parameter, type Parameter } from "../../src/index.js";
import { seededRandom } from "../reference/random.js";

beforeAll(async () => {
  await init();
});

type Variant = "correct" | "swappedWeights" | "noFirstCopy";

/** The float64 averages after each of `steps` updates of a parameter moved by `move`. */
function reference(initial: Float64Array, decay: number, trajectory: Float64Array[], variant: Variant): Float64Array {
  let average: Float64Array | null = variant === "noFirstCopy" ? new Float64Array(initial.length) : null;
  for (const p of trajectory) {
    if (average === null) { average = Float64Array.from(p); continue; }
    const weight = variant === "swappedWeights" ? decay : 1 - decay;
    for (let i = 0; i < p.length; i++) average[i] = average[i]! + weight * (p[i]! - average[i]!);
  }
  return average!;
}

function run(size: number, decay: number, steps: number, seed: number) {
  const random = seededRandom(seed);
  const p = parameter([size], { init: new Float32Array(size).map(() => 2 * random() - 1) });
  const ema = new EMA([p], { decay });
  const trajectory: Float64Array[] = [];
  for (let t = 0; t < steps; t++) {
    for (let i = 0; i < size; i++) p.data[i] = Math.fround(p.data[i]! + 0.1 * (2 * random() - 1));
    trajectory.push(Float64Array.from(p.data));
    ema.update();
  }
  ema.swap();
  const averages = Float64Array.from(p.data);
  ema.swap();
  return { p, ema, trajectory, averages };
}

function maxError(a: Float64Array, b: Float64Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

describe("EMA", () => {
  it.each([[0.9, 37, 50], [0.999, 1027, 200], [0, 5, 3], [1, 6, 4]])("decay %s, %i elements, %i updates: matches the reference, not its wrong variants", (decay, size, steps) => {
    const { p, ema, trajectory, averages } = run(size, decay, steps, size);
    const correct = reference(new Float64Array(size), decay, trajectory, "correct");
    const tolerance = 1e-5;
    expect(maxError(averages, correct)).toBeLessThan(tolerance);
    // Variants that coincide with the correct rule for this decay are not distinguishable by it.
    if (decay !== 0.5 && decay !== 0 && decay !== 1) {
      expect(maxError(averages, reference(new Float64Array(size), decay, trajectory, "swappedWeights"))).toBeGreaterThan(tolerance);
    }
    if (decay !== 0) expect(maxError(averages, reference(new Float64Array(size), decay, trajectory, "noFirstCopy"))).toBeGreaterThan(tolerance);
    expect(ema.nAveraged).toBe(steps);
    ema.dispose(); p.dispose();
  });

  it("swap exchanges weights and averages; swapping back restores the weights bit for bit", () => {
    const { p, ema } = run(9, 0.5, 4, 7);
    const weights = p.data.slice();
    const averages = ema.stateDict().averages[0]!;
    ema.swap();
    expect(p.data).toEqual(averages);
    expect(() => ema.update()).toThrow(/update\(\) while swapped/);
    ema.swap();
    expect(p.data).toEqual(weights);
    ema.dispose(); p.dispose();
  });

  it("copyTo writes the averages into other parameters of the same sizes", () => {
    const { p, ema } = run(6, 0.8, 3, 3);
    const target = parameter([6], { init: "zeros" });
    ema.copyTo([target]);
    expect(target.data).toEqual(ema.stateDict().averages[0]);
    expect(() => ema.copyTo([parameter([5], { init: "zeros" })])).toThrow(/has 5 elements, the average has 6/);
    ema.dispose(); p.dispose(); target.dispose();
  });

  it("resumes from a state dict bit-identically", () => {
    const make = (): { p: Parameter; ema: EMA } => {
      const p = parameter([11], { init: "ones" });
      return { p, ema: new EMA([p], { decay: 0.9 }) };
    };
    const walk = (p: Parameter, t: number) => p.data.forEach((_, i) => { p.data[i] = Math.fround(Math.sin(t * 11 + i)); });
    const a = make();
    for (let t = 0; t < 6; t++) { walk(a.p, t); a.ema.update(); }
    const b = make();
    for (let t = 0; t < 3; t++) { walk(b.p, t); b.ema.update(); }
    const c = make();
    c.ema.loadStateDict(structuredClone(b.ema.stateDict()));
    for (let t = 3; t < 6; t++) { walk(c.p, t); c.ema.update(); }
    expect(c.ema.stateDict()).toEqual(a.ema.stateDict());
    for (const x of [a, b, c]) { x.ema.dispose(); x.p.dispose(); }
  });

  it("rejects bad options and input, changing nothing", () => {
    const p = parameter([4], { init: "ones" });
    expect(() => new EMA([p], { decay: 1.5 })).toThrow(RangeError);
    expect(() => new EMA([p], { decay: 1.5 })).toThrow(/decay/);
    expect(() => new EMA([p], { decya: 0.9 } as never)).toThrow(/decya/);
    expect(() => new EMA([p, p])).toThrow(/twice/);
    expect(() => new EMA([])).toThrow(TypeError);
    const ema = new EMA([p]);
    expect(ema.decay).toBe(0.999);
    expect(() => ema.swap()).toThrow(/before the first update/);
    ema.update();
    const saved = ema.stateDict();
    expect(() => ema.loadStateDict({ ...saved, averages: [new Float32Array(3)] })).toThrow(/has 3 values/);
    expect(() => ema.loadStateDict({ ...saved, nAveraged: -1 })).toThrow(/nAveraged/);
    expect(ema.stateDict()).toEqual(saved);
    ema.dispose();
    expect(() => ema.update()).toThrow(/after dispose/);
    p.dispose();
  });
});
