// Bring your own arrays: mirror() against the float64 references, and moving arrays in once.
import { beforeAll, describe, expect, it } from "vitest";
import { Adam, AdamW, clipGradNorm, init, mirror, Mirror, parameter, SGD } from "../src/index.js";
import { allocatedBytes } from "../src/bindings/memory.js";
import { maxRelativeError, randomArray, seededRandom } from "./reference/random.js";
import { AdamReference, SGDReference } from "./reference/sgd-adam.js";

beforeAll(async () => {
  await init();
});

const ADAM = { lr: 1e-2, betas: [0.9, 0.999] as [number, number], eps: 1e-8, weightDecay: 0.01, amsgrad: false, maximize: false };

describe("mirror: the caller keeps its Float32Arrays", () => {
  it("AdamW over mirrored arrays matches the float64 reference; the arrays hold the result", () => {
    const random = seededRandom(21);
    const w = Float32Array.from(randomArray(random, 1031));
    const b = Float32Array.from(randomArray(random, 7));
    const gw = new Float32Array(w.length);
    const gb = new Float32Array(b.length);
    const refW = new AdamReference(Float64Array.from(w), ADAM, true);
    const refB = new AdamReference(Float64Array.from(b), ADAM, true);
    const m = mirror([{ data: w, grad: gw, shape: [1031] }, { data: b, grad: gb, name: "bias" }]);
    const opt = new AdamW(m.params, ADAM);
    expect(m.params[1]!.name).toBe("bias");
    for (let t = 0; t < 50; t++) {
      gw.set(randomArray(random, gw.length));
      gb.set(randomArray(random, gb.length));
      expect(m.step(opt)).toBe(true);
      refW.step(gw);
      refB.step(gb);
    }
    expect(maxRelativeError(w, refW.param, 1).error).toBeLessThan(1e-5);
    expect(maxRelativeError(b, refB.param, 1).error).toBeLessThan(1e-5);
    expect(Array.from(w)).toEqual(Array.from(m.params[0]!.data));
    opt.dispose();
    m.dispose();
    expect(m.params.every((p) => p.disposed)).toBe(true);
    expect(w.length).toBe(1031);
  });

  it("values the caller changes between steps are where the next step starts; pull/push around clipping", () => {
    const w = Float32Array.of(1, 2);
    const g = Float32Array.of(3, 4);
    const m = mirror([{ data: w, grad: g }]);
    const opt = new SGD(m.params, { lr: 0.5 });
    m.step(opt);
    expect(Array.from(w)).toEqual([-0.5, 0]);
    w.set([10, 10]);
    m.pull();
    clipGradNorm(m.params, 1);
    opt.step();
    m.push();
    const scale = Math.fround(1 / 5);
    expect(w[0]).toBeCloseTo(10 - 0.5 * 3 * scale, 5);
    expect(w[1]).toBeCloseTo(10 - 0.5 * 4 * scale, 5);
    // The caller's gradient array is read, never written.
    expect(Array.from(g)).toEqual([3, 4]);
    opt.dispose();
    m.dispose();
  });

  it("skipIfNonfinite passes through: a NaN gradient changes nothing", () => {
    const w = Float32Array.of(1, 2);
    const g = Float32Array.of(NaN, 1);
    const m = mirror([{ data: w, grad: g }]);
    const opt = new Adam(m.params);
    expect(m.step(opt, { skipIfNonfinite: true })).toBe(false);
    expect(Array.from(w)).toEqual([1, 2]);
    opt.dispose();
    m.dispose();
  });

  it("bad input throws a named error", () => {
    const data = new Float32Array(4);
    expect(() => mirror([])).toThrow(TypeError);
    expect(() => mirror([{ data: [1, 2] as never, grad: new Float32Array(2) }])).toThrow(/data must be a Float32Array/);
    expect(() => mirror([{ data, grad: new Float32Array(3) }])).toThrow(RangeError);
    expect(() => mirror([{ data, grad: new Float32Array(4), shape: [3, 2] }])).toThrow(RangeError);
    expect(() => mirror([{ data, grad: new Float32Array(4), grads: 1 } as never])).toThrow(/no option "grads"/);
    const m = new Mirror([{ data, grad: new Float32Array(4), shape: [2, 2] }]);
    expect(m.params[0]!.shape).toEqual([2, 2]);
    expect(() => m.step({} as never)).toThrow(TypeError);
    m.dispose();
  });
});

describe("moving the arrays in once", () => {
  it("parameter(shape, { init }) copies once; p.data / p.grad are then the arrays (zero-copy)", () => {
    const random = seededRandom(8);
    const initial = Float32Array.from(randomArray(random, 33));
    const options = { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false, maximize: false };
    const p = parameter([33], { init: initial });
    let weights = p.data;      // from here on the model reads and writes these
    const grads = p.grad;
    const opt = new SGD([p], options);
    const reference = new SGDReference(Float64Array.from(initial), options);
    for (let t = 0; t < 20; t++) {
      for (let i = 0; i < grads.length; i++) grads[i] = Math.fround(weights[i]! * 0.5 - 0.1);
      reference.step(grads);
      opt.step();
    }
    weights = p.data;
    expect(maxRelativeError(weights, reference.param, 1).error).toBeLessThan(1e-5);
    opt.dispose();
    p.dispose();
  });
});

describe("mirror: exact messages, and nothing left behind by a bad call", () => {
  const f = (n: number) => new Float32Array(n);
  it.each<[string, () => unknown, ErrorConstructor, string]>([
    ["no pairs", () => mirror([]), TypeError, "simdopt: mirror needs a non-empty array of { data, grad } pairs"],
    ["not an array", () => mirror({ data: f(1), grad: f(1) } as never), TypeError, "simdopt: mirror needs a non-empty array of { data, grad } pairs"],
    ["a null pair", () => mirror([{ data: f(1), grad: f(1) }, null as never]), TypeError, "simdopt: mirror pairs[1] must be { data, grad }, got null"],
    ["a number as pair", () => mirror([3 as never]), TypeError, "simdopt: mirror pairs[0] must be { data, grad }, got 3"],
    ["an unknown key", () => mirror([{ data: f(1), grad: f(1), grads: 1 } as never]), TypeError, 'simdopt: mirror pairs[0] has no option "grads"; allowed: data, grad, shape, name'],
    ["data not a Float32Array", () => mirror([{ data: [1] as never, grad: f(1) }]), TypeError, "simdopt: mirror pairs[0].data must be a Float32Array"],
    ["grad not a Float32Array", () => mirror([{ data: f(2), grad: f(2) }, { data: f(2), grad: new Float64Array(2) as never }]), TypeError, "simdopt: mirror pairs[1].grad must be a Float32Array"],
    ["lengths differ", () => mirror([{ data: f(4), grad: f(3) }]), RangeError, "simdopt: mirror pairs[0].grad has 3 values, .data has 4"],
    ["shape of another size", () => mirror([{ data: f(4), grad: f(4), shape: [3, 2] }]), RangeError, "simdopt: mirror pairs[0].shape [3,2] does not hold 4 values"],
    ["shape not an array", () => mirror([{ data: f(4), grad: f(4), shape: 4 as never }]), RangeError, "simdopt: mirror pairs[0].shape [4] does not hold 4 values"],
  ])("%s", (_label, run, type, message) => {
    expect(run).toThrow(type);
    expect(run).toThrow(new type(message));
  });

  it("Mirror.step refuses what is not an optimizer, by message, before copying anything", () => {
    const w = Float32Array.of(1, 2);
    const m = mirror([{ data: w, grad: Float32Array.of(1, 1) }]);
    m.params[0]!.data.set([5, 6]);
    for (const [bad, shown] of [[null, "null"], [undefined, "undefined"], [{}, "[object Object]"], [{ step: 1 }, "[object Object]"], [7, "7"]] as const) {
      expect(() => m.step(bad as never)).toThrow(new TypeError(`simdopt: Mirror.step needs an optimizer, got ${shown}`));
    }
    expect(Array.from(w)).toEqual([1, 2]);
    expect(Array.from(m.params[0]!.data)).toEqual([5, 6]);
    m.dispose();
  });

  it("a pair whose Parameter cannot be made frees the Parameters made before it", () => {
    const before = allocatedBytes();
    expect(() => mirror([{ data: f(8), grad: f(8) }, { data: f(8), grad: f(8), name: 5 as never }]))
      .toThrow(/^simdopt: parameter options\.name must be a string, got 5/);
    expect(allocatedBytes()).toBe(before);
  });

  it("shapes multiply out; params are frozen; the pairs are the ones given at construction", () => {
    const a = Float32Array.of(1, 2, 3, 4, 5, 6);
    const pairs = [{ data: a, grad: f(6), shape: [3, 2] }];
    const m = mirror(pairs);
    expect(m.params[0]!.shape).toEqual([3, 2]);
    expect(Object.isFrozen(m.params)).toBe(true);
    expect(Array.from(m.params[0]!.data)).toEqual([1, 2, 3, 4, 5, 6]);
    // Replacing the caller's entry afterwards does not redirect the mirror.
    const other = f(6);
    pairs[0] = { data: other, grad: f(6), shape: [3, 2] };
    m.params[0]!.data.set([7, 7, 7, 7, 7, 7]);
    m.push();
    expect(Array.from(a)).toEqual([7, 7, 7, 7, 7, 7]);
    expect(Array.from(other)).toEqual([0, 0, 0, 0, 0, 0]);
    m.dispose();
  });
});
