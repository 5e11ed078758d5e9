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

describe("EMA refusals by exact message, nothing changed", () => {
  it("constructor: options, decay bounds, parameters", () => {
    const p = parameter([3], { name: "p", init: [1, 2, 3] });
    expect(new EMA([p], { decay: 0 }).decay).toBe(0);
    expect(new EMA([p], { decay: 1 }).decay).toBe(1);
    expect(new EMA([p]).decay).toBe(0.999);
    expect(() => new EMA([p], { decay: 1.5 })).toThrow(new RangeError("simdopt: EMA options.decay must be a finite number ≥ 0 and ≤ 1, got 1.5"));
    expect(() => new EMA([p], { decay: -0.5 })).toThrow(new RangeError("simdopt: EMA options.decay must be a finite number ≥ 0 and ≤ 1, got -0.5"));
    expect(() => new EMA([p], 0.9 as never)).toThrow(new TypeError("simdopt: EMA options must be an object, got 0.9"));
    expect(() => new EMA([p], { decya: 0.9 } as never)).toThrow(new TypeError('simdopt: EMA options has no option "decya"; did you mean "decay"? (options: decay)'));
    expect(() => new EMA([])).toThrow(new TypeError("simdopt: EMA needs a non-empty array of parameters"));
    expect(() => new EMA(p as never)).toThrow(new TypeError("simdopt: EMA needs a non-empty array of parameters"));
    expect(() => new EMA([p, new Float32Array(3)] as never)).toThrow(new TypeError("simdopt: EMA params[1] must be a Parameter, got a Float32Array of length 3"));
    expect(() => new EMA([p, p])).toThrow(new RangeError("simdopt: EMA params lists a parameter twice"));
    const gone = parameter([2], { name: "gone" });
    gone.dispose();
    expect(() => new EMA([p, gone])).toThrow(new TypeError('simdopt: parameter "gone" has been disposed'));
    p.dispose();
  });

  it("update, swap, copyTo, stateDict and loadStateDict in the wrong order or with wrong arguments", () => {
    const p = parameter([3], { name: "p", init: [1, 2, 3] });
    const ema = new EMA([p], { decay: 0.5 });
    expect(ema.nAveraged).toBe(0);
    expect(() => ema.swap()).toThrow(new Error("simdopt: EMA.swap() before the first update(): there are no averages yet"));
    expect(() => ema.copyTo([p])).toThrow(new Error("simdopt: EMA.copyTo() before the first update(): there are no averages yet"));
    ema.update();
    p.data.set([3, 4, 5]);
    ema.update();
    expect(ema.nAveraged).toBe(2);
    const q = parameter([3], { name: "q" });
    expect(() => ema.copyTo([p, q])).toThrow(new RangeError("simdopt: EMA.copyTo needs 1 parameters, got an array of length 2"));
    expect(() => ema.copyTo(q as never)).toThrow(new RangeError("simdopt: EMA.copyTo needs 1 parameters, got a Parameter"));
    expect(() => ema.copyTo([{} as never])).toThrow(new TypeError("simdopt: EMA.copyTo params[0] must be a live Parameter"));
    expect(() => ema.copyTo([parameter([4])])).toThrow(new RangeError("simdopt: EMA.copyTo params[0] has 4 elements, the average has 3"));
    ema.copyTo([q]);
    expect([...q.data]).toEqual([2, 3, 4]);
    const saved = ema.stateDict();
    expect(saved).toEqual({ kind: "EMA", decay: 0.5, nAveraged: 2, averages: [Float32Array.of(2, 3, 4)] });
    ema.swap();
    expect([...p.data]).toEqual([2, 3, 4]);
    expect(() => ema.update()).toThrow(new Error("simdopt: EMA.update() while swapped: call swap() again to put the trained weights back first"));
    expect(() => ema.stateDict()).toThrow(new Error("simdopt: EMA.stateDict() while swapped: swap() back first"));
    expect(() => ema.loadStateDict(saved)).toThrow(new Error("simdopt: EMA.loadStateDict() while swapped: swap() back first"));
    ema.swap();
    expect([...p.data]).toEqual([3, 4, 5]);
    const load = (state: unknown) => () => ema.loadStateDict(state as never);
    expect(load(null)).toThrow(new TypeError("simdopt: EMA.loadStateDict expects an object made by EMA.stateDict(), got null"));
    expect(load(undefined)).toThrow(new TypeError("simdopt: EMA.loadStateDict expects an object made by EMA.stateDict(), got undefined"));
    expect(load("EMA")).toThrow(new TypeError('simdopt: EMA.loadStateDict expects an object made by EMA.stateDict(), got "EMA" (string)'));
    expect(load({ ...saved, kind: "SGD" })).toThrow(new TypeError("simdopt: EMA.loadStateDict expects an object made by EMA.stateDict(), got an object"));
    expect(load({ ...saved, nAveraged: 1.5 })).toThrow(new RangeError("simdopt: stateDict.nAveraged must be a finite integer ≥ 0, got 1.5"));
    expect(load({ ...saved, averages: [] })).toThrow(new RangeError("simdopt: stateDict.averages must hold 1 Float32Arrays, got []"));
    expect(load({ ...saved, averages: "x" })).toThrow(new RangeError('simdopt: stateDict.averages must hold 1 Float32Arrays, got "x" (string)'));
    expect(load({ ...saved, averages: [[1, 2, 3]] })).toThrow(new TypeError("simdopt: stateDict.averages[0] must be a Float32Array, got [1, 2, 3]"));
    expect(load({ ...saved, averages: [new Float32Array(2)] })).toThrow(new RangeError('simdopt: stateDict.averages[0] has 2 values, parameter "p" has 3'));
    expect(ema.stateDict()).toEqual(saved);
    ema.loadStateDict({ ...saved, nAveraged: 0, averages: [Float32Array.of(9, 9, 9)] });
    expect(ema.nAveraged).toBe(0);
    ema.update();
    ema.copyTo([q]);
    expect([...q.data]).toEqual([3, 4, 5]);
    ema.dispose();
    ema.dispose();
    for (const method of ["update", "swap", "stateDict"] as const) {
      expect(() => ema[method]()).toThrow(new Error(`simdopt: EMA.${method}() after dispose()`));
    }
    expect(() => ema.copyTo([q])).toThrow(new Error("simdopt: EMA.copyTo() after dispose()"));
    expect(() => ema.loadStateDict(saved)).toThrow(new Error("simdopt: EMA.loadStateDict() after dispose()"));
    p.dispose();
    q.dispose();
  });
});
