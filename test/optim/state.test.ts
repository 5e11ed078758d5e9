// stateDict()/loadStateDict() and bad input of the optimizer base class, for every optimizer in
// factories.ts: snapshots survive structuredClone, a resumed run is bit-identical to an
// uninterrupted one, a bad state dict or bad option throws and changes nothing.

import { beforeAll, describe, expect, it } from "vitest";
import { Adam, AdamW, init, parameter, SGD, type OptimizerStateDict, type Parameter } from "../../src/index.js";
import { bits, FACTORIES, randomFill, type AnyOptimizer, type Factory } from "./factories.js";

beforeAll(async () => {
  await init();
});

const SHAPES = [[7, 5], [17], [1]];

function makeParams(seed: number, shapes = SHAPES): Parameter[] {
  return shapes.map((shape, i) => {
    const p = parameter(shape);
    randomFill(p.data, seed + i);
    return p;
  });
}

function copyParams(params: Parameter[]): Parameter[] {
  return params.map((p) => parameter([...p.shape], { init: p.data }));
}

function setGrads(params: Parameter[], seed: number): void {
  params.forEach((p, i) => randomFill(p.grad, seed * 101 + i));
}

/** A mix of the step kinds, so that state dicts carry row flags and every path resumes. */
function stepKind(optimizer: AnyOptimizer, params: Parameter[], t: number): void {
  switch (t % 4) {
    case 1:
      optimizer.step({ rows: new Map([[params[0]!, Int32Array.of(t % 7, (t + 3) % 7)]]) });
      return;
    case 2: {
      const mask = new Uint8Array(params[1]!.size);
      for (let i = 0; i < mask.length; i++) mask[i] = (i + t) % 3 === 0 ? 0 : 1;
      optimizer.step({ mask: new Map([[params[1]!, mask]]) });
      return;
    }
    default:
      optimizer.step();
  }
}

function run(optimizer: AnyOptimizer, params: Parameter[], from: number, to: number): void {
  for (let t = from; t < to; t++) {
    setGrads(params, t);
    stepKind(optimizer, params, t);
  }
}

function expectSameParams(a: Parameter[], b: Parameter[]): void {
  a.forEach((p, i) => expect(bits(p.data), `params[${i}]`).toEqual(bits(b[i]!.data)));
}

/** Two optimizers with identical history: one to poke at, one as the control. */
function twins(factory: Factory, steps: number): { a: AnyOptimizer; b: AnyOptimizer; pa: Parameter[]; pb: Parameter[] } {
  const pa = makeParams(1);
  const pb = copyParams(pa);
  const a = factory.make(pa);
  const b = factory.make(pb);
  run(a, pa, 0, steps);
  run(b, pb, 0, steps);
  return { a, b, pa, pb };
}

function cleanUp(optimizers: AnyOptimizer[], params: Parameter[][]): void {
  for (const o of optimizers) o.dispose();
  for (const list of params) for (const p of list) p.dispose();
}

describe("stateDict / loadStateDict", () => {
  for (const factory of FACTORIES) {
    it(`${factory.name}: structured-clone-able; a fresh optimizer loading it mid-run continues bit-identically`, () => {
      const params = makeParams(1);
      const optimizer = factory.make(params);
      run(optimizer, params, 0, 6);
      optimizer.paramGroups[0]!.lr = (optimizer.paramGroups[0]!.lr as number) * 0.5; // group options travel too
      const stateDict = optimizer.stateDict();
      const cloned = structuredClone(stateDict);
      expect(cloned).toEqual(stateDict);
      expect(stateDict.optimizer).toBe(optimizer.constructor.name);
      expect(stateDict.state.every((entry) => entry !== null && entry.step === 6)).toBe(true);

      const resumedParams = copyParams(params);
      const resumed = factory.make(resumedParams);
      resumed.loadStateDict(cloned);
      expect(resumed.stateDict()).toEqual(stateDict);
      expect(resumed.paramGroups[0]!.lr).toBe(optimizer.paramGroups[0]!.lr);
      // Ten more steps of every kind (RAdam passes its rectification threshold on the way).
      for (let t = 6; t < 16; t++) {
        setGrads(params, t);
        setGrads(resumedParams, t);
        stepKind(optimizer, params, t);
        stepKind(resumed, resumedParams, t);
        expectSameParams(resumedParams, params);
      }
      expect(resumed.stateDict()).toEqual(optimizer.stateDict());
      cleanUp([optimizer, resumed], [params, resumedParams]);
    });
  }

  it("a state dict is a snapshot, and loading copies it: later changes on either side do not leak", () => {
    const params = makeParams(3);
    const optimizer = new Adam(params, { lr: 0.01, amsgrad: true });
    run(optimizer, params, 0, 3);
    const stateDict = optimizer.stateDict();
    const reference = structuredClone(stateDict);
    optimizer.step(); // the snapshot must not follow the optimizer
    expect(stateDict).toEqual(reference);
    stateDict.state[0]!.buffers.firstMoment!.fill(123); // nor the optimizer the snapshot
    expect(optimizer.stateDict().state[0]!.buffers.firstMoment![0]).not.toBe(123);

    const loaded = new Adam(copyParams(params), { lr: 0.01 });
    const source = structuredClone(reference);
    loaded.loadStateDict(source);
    const after = loaded.stateDict();
    source.state[0]!.buffers.secondMoment!.fill(7);
    source.state[0]!.touchedRows?.fill(0);
    (source.paramGroups[0]!.betas as number[])[0] = 0.5;
    source.paramGroups[0]!.lr = 99;
    expect(loaded.stateDict()).toEqual(after);
    expect(loaded.paramGroups[0]!.betas).toEqual([0.9, 0.999]);
    expect(loaded.paramGroups[0]!.amsgrad).toBe(true); // options come from the dict
    loaded.dispose();
    optimizer.dispose();
  });

  it("row flags (touchedRows) are copied both ways: rows steps after stateDict() or loadStateDict() do not leak", () => {
    const params = makeParams(4);
    const rowsStep = (optimizer: AnyOptimizer, rows: number[]) => optimizer.step({ rows: new Map([[params[0]!, Int32Array.from(rows)]]) });
    const optimizer = new Adam(params, { lr: 0.01 });
    setGrads(params, 1);
    rowsStep(optimizer, [0, 1]);
    const stateDict = optimizer.stateDict();
    expect(Array.from(stateDict.state[0]!.touchedRows!)).toEqual([1, 1, 0, 0, 0, 0, 0]);
    const reference = structuredClone(stateDict);
    rowsStep(optimizer, [4, 5]); // flags rows 4 and 5 in the optimizer, not in the snapshot
    expect(stateDict).toEqual(reference);
    expect(Array.from(optimizer.stateDict().state[0]!.touchedRows!)).toEqual([1, 1, 0, 0, 1, 1, 0]);

    // Loading: the optimizer must not keep the caller's array, in either direction.
    const loadedParams = copyParams(params);
    const loaded = new Adam(loadedParams, { lr: 0.01 });
    const source = structuredClone(reference);
    loaded.loadStateDict(source);
    expect(loaded.stateDict()).toEqual(reference);
    loaded.step({ rows: new Map([[loadedParams[0]!, Int32Array.of(6)]]) }); // flags row 6 in the optimizer only
    expect(source).toEqual(reference);
    source.state[0]!.touchedRows!.fill(1); // the caller reuses its array
    expect(Array.from(loaded.stateDict().state[0]!.touchedRows!)).toEqual([1, 1, 0, 0, 0, 0, 1]);
    cleanUp([optimizer, loaded], [params, loadedParams]);
  });

  it("loads a state dict taken before the first step (no state) and then behaves like a fresh optimizer", () => {
    const params = makeParams(5);
    const fresh = new AdamW(params, { lr: 0.01 });
    const { a, pa } = twins(FACTORIES.find((f) => f.name === "AdamW")!, 4);
    a.loadStateDict(structuredClone(fresh.stateDict()));
    expect(a.stateDict().state).toEqual([null, null, null]);
    // From the same data, both now take bit-identical steps.
    pa.forEach((p, i) => p.data.set(params[i]!.data));
    run(a, pa, 0, 5);
    run(fresh, params, 0, 5);
    expectSameParams(pa, params);
    cleanUp([a, fresh], [pa, params]);
  });

  for (const factory of FACTORIES) {
    it(`${factory.name}: a state dict of the wrong optimizer, group count, parameter count or buffer sizes throws and changes nothing`, () => {
      const { a, b, pa, pb } = twins(factory, 5);
      const good = a.stateDict();
      const className = (f: Factory) => f.name.split(" ")[0];
      const otherParams = copyParams(pa);
      const otherOptimizer = FACTORIES.find((f) => className(f) !== className(factory))!.make(otherParams);
      run(otherOptimizer, otherParams, 0, 2);
      const differentSizes = factory.make(makeParams(2, [[7, 5], [17], [2]]));
      run(differentSizes, (differentSizes.paramGroups[0]!.params as Parameter[]), 0, 3);
      const differentRows = factory.make(makeParams(2, [[5, 7], [17], [1]]));
      run(differentRows, (differentRows.paramGroups[0]!.params as Parameter[]), 0, 2); // last step by rows: flags kept

      const bad: Array<[string, unknown]> = [
        ["another optimizer", otherOptimizer.stateDict()],
        ["two groups", { ...good, paramGroups: [good.paramGroups[0], { ...good.paramGroups[0], params: [3] }] }],
        ["a group with fewer parameters", { ...good, paramGroups: [{ ...good.paramGroups[0], params: [0, 1] }], state: good.state.slice(0, 2) }],
        ["state for fewer parameters", { ...good, state: good.state.slice(0, 2) }],
        ["buffers of another size (last parameter only)", differentSizes.stateDict()],
        ["row flags of another shape", differentRows.stateDict()],
        ["a bad option", { ...good, paramGroups: [{ ...good.paramGroups[0], lr: -1 }] }],
        ["a non-array buffer", { ...good, state: [good.state[0], good.state[1], { ...good.state[2]!, buffers: { x: [1] } }] }],
        ["null", null],
        ["a number", 42],
      ];
      for (const [label, stateDict] of bad) {
        // Some variants have no buffers (plain SGD) and so no buffer sizes to disagree on.
        if (label.startsWith("buffers") && Object.keys(good.state[2]!.buffers).length === 0) continue;
        expect(() => a.loadStateDict(stateDict as OptimizerStateDict), label).toThrow();
        try {
          a.loadStateDict(stateDict as OptimizerStateDict);
        } catch (error) {
          expect(error instanceof RangeError || error instanceof TypeError, `${label}: ${String(error)}`).toBe(true);
        }
        expect(a.stateDict(), label).toEqual(b.stateDict()); // state and group options unchanged
        expect(a.paramGroups.length).toBe(1);
        expectSameParams(pa, pb);
      }
      // And the next steps are exactly the control's.
      run(a, pa, 5, 9);
      run(b, pb, 5, 9);
      expectSameParams(pa, pb);
      expect(a.stateDict()).toEqual(b.stateDict());
      cleanUp([a, b, otherOptimizer, differentSizes, differentRows], [pa, pb, otherParams]);
    });
  }
});

describe("bad input", () => {
  it("a disposed parameter throws at construction and at step, and nothing is modified", () => {
    const [p, q] = makeParams(1, [[5], [3]]);
    const gone = parameter([4]);
    gone.dispose();
    expect(() => new SGD([p!, gone], { lr: 0.1 })).toThrow(/disposed/);
    expect(() => new Adam([{ params: [p!] }, { params: [gone] }])).toThrow(/disposed/);
    for (const factory of FACTORIES) {
      const [x, y] = makeParams(2, [[5], [3]]);
      const optimizer = factory.make([x!, y!]);
      setGrads([x!, y!], 1);
      optimizer.step();
      const state = optimizer.stateDict();
      const before = bits(x!.data);
      y!.dispose();
      expect(() => optimizer.step(), factory.name).toThrow(/disposed/);
      expect(bits(x!.data)).toEqual(before);
      expect(optimizer.stateDict()).toEqual(state);
      optimizer.dispose();
      x!.dispose();
    }
    p!.dispose();
    q!.dispose();
  });

  it("a parameter in two groups (or twice in one) is a RangeError", () => {
    const [p, q] = makeParams(1, [[5], [3]]);
    expect(() => new SGD([{ params: [p!] }, { params: [q!, p!] }])).toThrow(RangeError);
    expect(() => new Adam([p!, p!])).toThrow(RangeError);
    const optimizer = new AdamW([{ params: [p!] }]);
    expect(() => optimizer.addParamGroup({ params: [p!] })).toThrow(RangeError);
    expect(optimizer.paramGroups.length).toBe(1);
    optimizer.addParamGroup({ params: [q!], lr: 0.5 });
    expect(optimizer.paramGroups[1]!.lr).toBe(0.5);
    expect(optimizer.paramGroups[1]!.weightDecay).toBe(1e-2); // AdamW's default
    optimizer.dispose();
    p!.dispose();
    q!.dispose();
  });

  it("nesterov needs momentum > 0 and dampening 0: RangeError naming nesterov", () => {
    const [p] = makeParams(1, [[3]]);
    expect(() => new SGD([p!], { nesterov: true })).toThrow(RangeError);
    expect(() => new SGD([p!], { nesterov: true, momentum: 0 })).toThrow(/nesterov/);
    expect(() => new SGD([p!], { nesterov: true, momentum: 0.9, dampening: 0.1 })).toThrow(/nesterov/);
    expect(() => new SGD([{ params: [p!], nesterov: true }], { momentum: 0 })).toThrow(/paramGroups\[0\]\.nesterov/);
    expect(() => new SGD([p!], { nesterov: true, momentum: 0.9 })).not.toThrow();
    p!.dispose();
  });

  // Every option of SGD, Adam and AdamW with invalid values: each error names the option.
  const INVALID: Record<string, Array<[string, unknown[]]>> = {
    SGD: [
      ["lr", [-1, NaN, Infinity, "0.1", null]],
      ["momentum", [-0.1, NaN, Infinity, "0.9"]],
      ["dampening", [-1, NaN, Infinity]],
      ["weightDecay", [-1e-4, NaN, Infinity]],
      ["nesterov", ["yes", 1]],
      ["maximize", [0, "false"]],
    ],
    Adam: [
      ["lr", [-1, NaN, Infinity]],
      ["betas", [[1, 0.999], [0.9, 1], [-0.1, 0.9], [0.9, NaN], [0.9], "0.9", [0.9, "0.999"]]],
      ["eps", [-1e-8, NaN, Infinity]],
      ["weightDecay", [-0.1, NaN]],
      ["amsgrad", ["no", 0]],
      ["maximize", [1]],
    ],
  };
  INVALID.AdamW = INVALID.Adam!;
  const CLASSES = { SGD, Adam, AdamW } as unknown as Record<string, new (params: unknown, options?: unknown) => AnyOptimizer>;

  for (const [name, options] of Object.entries(INVALID)) {
    it(`${name}: every invalid option value throws RangeError/TypeError naming the option, as option and as group option`, () => {
      const Class = CLASSES[name]!;
      const p = parameter([3]);
      const extra = name === "SGD" ? { momentum: 0.9 } : {};
      for (const [option, values] of options) {
        for (const value of values) {
          const label = `${name} ${option} = ${JSON.stringify(value)}`;
          const attempts = [
            () => new Class([p], { ...extra, [option]: value }),
            () => new Class([{ params: [p], [option]: value }], extra),
          ];
          for (const attempt of attempts) {
            let error: unknown = null;
            try {
              attempt();
            } catch (e) {
              error = e;
            }
            expect(error instanceof RangeError || error instanceof TypeError, label).toBe(true);
            expect(String(error), label).toContain(option);
          }
        }
      }
      expect(() => new Class([p], { learningRate: 0.1 })).toThrow(/learningRate/);
      p.dispose();
    });
  }

  for (const factory of FACTORIES) {
    it(`${factory.name}: an option made invalid between steps (lr = −1) makes the next step throw and change nothing`, () => {
      const { a, b, pa, pb } = twins(factory, 3);
      const lr = a.paramGroups[0]!.lr;
      a.paramGroups[0]!.lr = -1;
      setGrads(pa, 3);
      expect(() => a.step()).toThrow(RangeError);
      expect(() => a.step()).toThrow(/lr/);
      expect(() => a.step({ skipIfNonfinite: true, rows: new Map([[pa[0]!, Int32Array.of(1)]]) })).toThrow(/lr/);
      expectSameParams(pa, pb);
      const state = a.stateDict();
      expect(state.state).toEqual(b.stateDict().state);
      // Restored, it steps exactly like the control.
      a.paramGroups[0]!.lr = lr;
      run(a, pa, 3, 6);
      run(b, pb, 3, 6);
      expectSameParams(pa, pb);
      cleanUp([a, b], [pa, pb]);
    });
  }

  it("betas made invalid between steps make the next step throw naming betas", () => {
    const { a, pa } = twins(FACTORIES.find((f) => f.name === "Adam")!, 2);
    const before = pa.map((p) => bits(p.data));
    a.paramGroups[0]!.betas = [1, 0.999];
    expect(() => a.step()).toThrow(/betas\[0\]/);
    expect(pa.map((p) => bits(p.data))).toEqual(before);
    cleanUp([a], [pa]);
  });
});
