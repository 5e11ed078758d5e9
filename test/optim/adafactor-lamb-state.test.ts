// Adafactor and LAMB on the shared machinery: state-dict resume (bit-identical continuation, with
// per-row / per-column buffers checked by shape), param groups with their own options, bad
// options, refused row steps and supported masked steps.
import { beforeAll, describe, expect, it } from "vitest";
import { Adafactor, init, LAMB, parameter, type Optimizer, type Parameter } from "../../src/index.js";
import { makeFactoredReference } from "../reference/adafactor-lamb.js";
import { excess, PARAM_FLOOR } from "./extra-harness.js";
import { factoredOptions } from "./adafactor-lamb-harness.js";
import { bits, randomFill } from "./factories.js";

beforeAll(async () => {
  await init();
});

type Make = (params: Parameter[]) => Optimizer<object>;
const MAKERS: [string, Make][] = [
  ["Adafactor", (p) => new Adafactor(p, { weightDecay: 0.01, d: 1.5 }) as unknown as Optimizer<object>],
  ["Adafactor maximize", (p) => new Adafactor(p, { eps: [1e-3, 1e-3], maximize: true }) as unknown as Optimizer<object>],
  ["LAMB", (p) => new LAMB(p, { lr: 0.01, weightDecay: 0.1 }) as unknown as Optimizer<object>],
];
const SHAPES = [[7, 13], [17], [2, 3, 5], []];

function makeParams(seed: number): Parameter[] {
  return SHAPES.map((shape, i) => {
    const p = parameter(shape);
    randomFill(p.data, seed + i);
    return p;
  });
}

function setGrads(params: Parameter[], seed: number): void {
  params.forEach((p, i) => randomFill(p.grad, seed * 31 + i, 0.5));
}

describe.each(MAKERS)("%s", (_name, make) => {
  it("resumes from a state dict bit for bit", () => {
    const a = makeParams(1);
    const b = makeParams(1);
    const first = make(a);
    for (let t = 0; t < 4; t++) { setGrads(a, t); first.step(); }
    const saved = structuredClone(first.stateDict());
    b.forEach((p, i) => p.data.set(a[i]!.data));
    const second = make(b);
    second.loadStateDict(saved);
    for (let t = 4; t < 8; t++) {
      setGrads(a, t); setGrads(b, t);
      first.step(); second.step();
    }
    a.forEach((p, i) => expect(bits(b[i]!.data)).toEqual(bits(p.data)));
    const [x, y] = [first.stateDict(), second.stateDict()];
    x.state.forEach((entry, i) => {
      for (const [name, values] of Object.entries(entry!.buffers)) expect(bits(y.state[i]!.buffers[name]!)).toEqual(bits(values));
    });
    first.dispose(); second.dispose();
    for (const p of [...a, ...b]) p.dispose();
  });

  it("refuses row steps with a clear error and changes nothing", () => {
    const params = makeParams(2);
    const optimizer = make(params);
    setGrads(params, 1);
    const before = params.map((p) => p.data.slice());
    expect(() => optimizer.step({ rows: new Map([[params[0]!, new Int32Array([1])]]) })).toThrow(/does not support step\(\{ rows \}\); step it densely/);
    params.forEach((p, i) => expect(p.data).toEqual(before[i]));
    expect(optimizer.stateDict().state.every((entry) => entry === null)).toBe(true);
    optimizer.dispose();
    for (const p of params) p.dispose();
  });

  it("masked steps: masked-out elements keep their values, the rest and the state match a dense step", () => {
    const masked = makeParams(3);
    const dense = makeParams(3);
    const a = make(masked);
    const b = make(dense);
    for (let t = 0; t < 3; t++) {
      setGrads(masked, t); setGrads(dense, t);
      const mask = new Uint8Array(masked[0]!.size).map((_, i) => (i % 3 === 0 ? 0 : 1));
      const before = masked[0]!.data.slice();
      a.step({ mask: new Map([[masked[0]!, mask]]) });
      b.step();
      masked[0]!.data.forEach((x, i) => expect(x).toBe(mask[i] ? dense[0]!.data[i] : before[i]));
      // The dense twin moved its masked-out elements: bring them back so both continue alike.
      dense[0]!.data.set(masked[0]!.data);
      for (let i = 1; i < masked.length; i++) expect(bits(masked[i]!.data)).toEqual(bits(dense[i]!.data));
    }
    const [x, y] = [a.stateDict(), b.stateDict()];
    x.state.forEach((entry, i) => {
      for (const [name, values] of Object.entries(entry!.buffers)) expect(bits(y.state[i]!.buffers[name]!)).toEqual(bits(values));
    });
    a.dispose(); b.dispose();
    for (const p of [...masked, ...dense]) p.dispose();
  });
});

describe("state dicts are checked against the parameter's shape", () => {
  it("Adafactor: a rowVar of the wrong length, a missing colVar, or a factored state for a vector are refused", () => {
    const matrix = parameter([6, 4], { init: "ones" });
    matrix.grad.fill(0.5);
    const optimizer = new Adafactor([matrix]);
    optimizer.step();
    const good = optimizer.stateDict();
    const short = structuredClone(good);
    short.state[0]!.buffers.rowVar = new Float32Array(4);
    expect(() => optimizer.loadStateDict(short)).toThrow(/buffers\.rowVar has 4 values, parameter "[^"]*" \(shape \[6, 4\]\) needs 6/);
    const missing = structuredClone(good);
    delete missing.state[0]!.buffers.colVar;
    expect(() => optimizer.loadStateDict(missing)).toThrow(/lacks "colVar"/);
    const vector = parameter([24]);
    const other = new Adafactor([vector]);
    expect(() => other.loadStateDict(good)).toThrow(/has "rowVar", which Adafactor does not keep/);
    // Nothing changed: the optimizer still steps from its own state.
    optimizer.loadStateDict(good);
    optimizer.step();
    optimizer.dispose(); other.dispose(); matrix.dispose(); vector.dispose();
  });
});

describe("param groups keep their own options", () => {
  it.each(["Adafactor", "LAMB"] as const)("%s: each group's parameter follows its reference", (algorithm) => {
    const shapes = [[7, 13], [37]];
    const groupOptions = algorithm === "Adafactor"
      ? [{ lr: 0.05, weightDecay: 0.1 }, { d: 2, maximize: true }]
      : [{ lr: 0.01, weightDecay: 0.2 }, { betas: [0.8, 0.95] as [number, number] }];
    const params = shapes.map((shape, i) => {
      const p = parameter(shape);
      randomFill(p.data, 40 + i);
      return p;
    });
    const references = params.map((p, i) =>
      makeFactoredReference(algorithm, shapes[i]!, Float64Array.from(p.data), factoredOptions(algorithm, groupOptions[i] as never)));
    const Class = algorithm === "Adafactor" ? Adafactor : LAMB;
    const optimizer = new (Class as unknown as new (groups: object[]) => Optimizer<object>)(params.map((p, i) => ({ params: [p], ...groupOptions[i] })));
    for (let t = 0; t < 30; t++) {
      params.forEach((p, i) => {
        randomFill(p.grad, t * 7 + i);
        references[i]!.step(p.grad);
      });
      optimizer.step();
    }
    params.forEach((p, i) => expect(excess(p.data, references[i]!.param, PARAM_FLOOR).value).toBeLessThanOrEqual(1));
    optimizer.dispose();
    for (const p of params) p.dispose();
  });
});

describe("bad options", () => {
  const p = () => parameter([3]);
  it.each([
    [{ weight_decay: 0.1 }, TypeError, /weight_decay.*did you mean "weightDecay"/],
    [{ beta2Decay: 0.5 }, RangeError, /beta2Decay must be a finite number ≤ 0, got 0.5/],
    [{ d: 0.5 }, RangeError, /d must be a number ≥ 1 \(Infinity: no clipping\), got 0.5/],
    [{ d: Number.NaN }, TypeError, /d must be a number ≥ 1/],
    // Not a number, though `"2" >= 1` and `true >= 1` hold.
    [{ d: "2" }, TypeError, /^simdopt: d must be a number ≥ 1 \(Infinity: no clipping\), got "2" \(string\)$/],
    [{ d: true }, TypeError, /^simdopt: d must be a number ≥ 1 \(Infinity: no clipping\), got true \(boolean\)$/],
    [{ eps: [-1, 1e-3] }, RangeError, /eps\[0\] must be a finite number ≥ 0/],
    [{ eps: [null, -1] }, RangeError, /eps\[1\]/],
    [{ eps: [null] }, TypeError, /eps must be a pair \[eps1 \(null or ≥ 0\), eps2 \(≥ 0\)\]/],
    [{ eps: 1e-3 }, TypeError, /eps must be a pair/],
    [{ lr: -1 }, RangeError, /lr/],
    [{ maximize: 1 }, TypeError, /maximize/],
    [{ betas: [0.9, 0.999] }, TypeError, /betas/],
  ])("Adafactor %j", (options, error, pattern) => {
    const param = p();
    expect(() => new Adafactor([param], options as never)).toThrow(error);
    expect(() => new Adafactor([param], options as never)).toThrow(pattern);
    param.dispose();
  });

  it.each([
    [{ betas: [0.9, 1] }, RangeError, /betas\[1\] must be in \[0, 1\)/],
    [{ eps: -1 }, RangeError, /eps must be a finite number ≥ 0/],
    [{ weightDecay: Infinity }, RangeError, /weightDecay/],
    [{ maximize: true }, TypeError, /maximize/],
    [{ Lr: 0.1 }, TypeError, /did you mean "lr"/],
  ])("LAMB %j", (options, error, pattern) => {
    const param = p();
    expect(() => new LAMB([param], options as never)).toThrow(error);
    expect(() => new LAMB([param], options as never)).toThrow(pattern);
    param.dispose();
  });

  it("a bad option set on a live group is refused at the next step, before anything changes", () => {
    const param = parameter([2, 3], { init: "ones" });
    param.grad.fill(0.5);
    const optimizer = new Adafactor([param]);
    optimizer.paramGroups[0]!.d = 0;
    expect(() => optimizer.step()).toThrow(/paramGroups\[0\]\.d must be a number ≥ 1/);
    expect(Array.from(param.data)).toEqual([1, 1, 1, 1, 1, 1]);
    optimizer.dispose(); param.dispose();
  });
});
