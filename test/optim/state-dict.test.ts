// Optimizer state dicts, the snapshot and its restore: what a snapshot holds (per parameter in
// group order, copies, the group options with indices), and every refusal of loadStateDict by its
// exact message, each leaving the optimizer as it was.

import { beforeAll, describe, expect, it } from "vitest";
import { Adafactor, Adam, init, NAdam, parameter, SGD, type OptimizerStateDict, type Parameter } from "../../src/index.js";

beforeAll(async () => {
  await init();
});

function adam(): { p: Parameter; q: Parameter; optimizer: Adam } {
  const p = parameter([2, 3], { init: [1, 2, 3, 4, 5, 6], name: "w" });
  const q = parameter([2], { init: [1, -1], name: "b" });
  const optimizer = new Adam([{ params: [p] }, { params: [q], lr: 0.5 }], { lr: 0.1 });
  p.grad.fill(0.5);
  q.grad.fill(-0.25);
  optimizer.step();
  return { p, q, optimizer };
}

/** Loading `mutate(good)` throws exactly `error` and changes nothing. */
function refuses(mutate: (dict: OptimizerStateDict) => unknown, error: Error): void {
  const { p, q, optimizer } = adam();
  const before = optimizer.stateDict();
  const data = [...p.data, ...q.data];
  expect(() => optimizer.loadStateDict(mutate(structuredClone(before)) as OptimizerStateDict)).toThrow(error);
  expect(optimizer.stateDict()).toEqual(before);
  expect([...p.data, ...q.data]).toEqual(data);
  optimizer.dispose();
  p.dispose();
  q.dispose();
}

describe("stateDict()", () => {
  it("per parameter in group order: step, buffer copies, row flags, scalars; groups with indices and copied arrays", () => {
    const { p, q, optimizer } = adam();
    const r = parameter([3], { name: "unused" });
    optimizer.addParamGroup({ params: [r], betas: [0.5, 0.6] });
    const dict = optimizer.stateDict();
    expect(dict.optimizer).toBe("Adam");
    expect(dict.state).toHaveLength(3);
    expect(dict.state[2]).toBeNull();
    expect(dict.state[0]!.step).toBe(1);
    expect(dict.state[0]!.touchedRows).toBeNull();
    expect(dict.state[0]!.scalars).toEqual({});
    expect(Object.keys(dict.state[1]!.buffers)).toEqual(["firstMoment", "secondMoment"]);
    // After one Adam step from zero state: m = (1 − β1)·g, v = (1 − β2)·g².
    expect([...dict.state[1]!.buffers.firstMoment!]).toEqual([Math.fround(0.1 * -0.25), Math.fround(0.1 * -0.25)]);
    expect([...dict.state[1]!.buffers.secondMoment!]).toEqual([Math.fround(Math.fround(0.001) * 0.0625), Math.fround(Math.fround(0.001) * 0.0625)]);
    expect(dict.paramGroups.map((g) => g.params)).toEqual([[0], [1], [2]]);
    expect(dict.paramGroups.map((g) => g.lr)).toEqual([0.1, 0.5, 0.1]);
    expect(dict.paramGroups[2]!.betas).toEqual([0.5, 0.6]);
    expect(dict.paramGroups[2]!.betas).not.toBe(optimizer.paramGroups[2]!.betas);
    expect(Object.keys(dict.paramGroups[0]!)).toEqual(["lr", "betas", "eps", "weightDecay", "amsgrad", "maximize", "stateDtype", "params"]);
    // Copies: the next step changes the optimizer, not the snapshot.
    const m = [...dict.state[0]!.buffers.firstMoment!];
    optimizer.step();
    expect([...dict.state[0]!.buffers.firstMoment!]).toEqual(m);
    optimizer.dispose();
    for (const x of [p, q, r]) x.dispose();
  });

  it("NAdam's scalar state is saved by name and restored; a missing scalar loads as its initial value", () => {
    const p = parameter([2], { init: [1, 2] });
    const nadam = new NAdam([p]);
    p.grad.fill(1);
    nadam.step();
    const dict = nadam.stateDict();
    const mu = dict.state[0]!.scalars!.muProduct!;
    expect(mu).toBeGreaterThan(0);
    expect(mu).toBeLessThan(1);
    nadam.step();
    nadam.loadStateDict(dict);
    expect(nadam.stateDict().state[0]!.scalars).toEqual({ muProduct: mu });
    delete dict.state[0]!.scalars;
    nadam.loadStateDict(dict);
    expect(nadam.stateDict().state[0]!.scalars).toEqual({ muProduct: 1 });
    nadam.dispose();
    p.dispose();
  });

  it("a loaded null entry frees the parameter's state", () => {
    const { p, q, optimizer } = adam();
    const dict = optimizer.stateDict();
    dict.state[0] = null;
    optimizer.loadStateDict(dict);
    const after = optimizer.stateDict();
    expect(after.state[0]).toBeNull();
    expect(after.state[1]).toEqual(dict.state[1]);
    optimizer.dispose();
    p.dispose();
    q.dispose();
  });
});

describe("loadStateDict refusals, by exact message, with nothing changed", () => {
  it("the dict's shape, owner and counts", () => {
    const expects = "simdopt: loadStateDict expects an object { optimizer, state, paramGroups } made by Adam.stateDict(), got";
    refuses(() => null, new TypeError(`${expects} null`));
    refuses(() => [1], new TypeError(`${expects} [1]`));
    refuses((d) => ({ ...d, state: {} }), new TypeError(`${expects} an object`));
    refuses((d) => ({ ...d, paramGroups: "x" }), new TypeError(`${expects} an object`));
    refuses(() => new Float32Array(2), new TypeError(`${expects} a Float32Array of length 2`));
    refuses((d) => ({ ...d, optimizer: "SGD" }), new TypeError('simdopt: this state dict belongs to "SGD" (string), not Adam'));
    refuses((d) => ({ ...d, paramGroups: d.paramGroups.slice(1) }), new RangeError("simdopt: state dict has 1 param groups, this optimizer has 2"));
    refuses((d) => ({ ...d, state: [...d.state, null] }), new RangeError("simdopt: state dict has state for 3 parameters, this optimizer has 2"));
  });

  it("group entries", () => {
    refuses((d) => { (d.paramGroups as unknown[])[1] = [0]; return d; }, new TypeError("simdopt: stateDict.paramGroups[1] must be an object, got [0]"));
    refuses((d) => { (d.paramGroups as unknown[])[1] = new Uint8Array(1); return d; }, new TypeError("simdopt: stateDict.paramGroups[1] must be an object, got a Uint8Array of length 1"));
    refuses((d) => { d.paramGroups[1]!.params = [1, 2]; return d; },
      new RangeError("simdopt: stateDict.paramGroups[1].params must list 1 parameter indices (as this optimizer's group 1), got [1, 2]"));
    refuses((d) => { (d.paramGroups[0] as Record<string, unknown>).params = "0"; return d; },
      new RangeError('simdopt: stateDict.paramGroups[0].params must list 1 parameter indices (as this optimizer\'s group 0), got "0" (string)'));
    refuses((d) => { d.paramGroups[1]!.Eps = 1; return d; },
      new TypeError('simdopt: stateDict.paramGroups[1] has no option "Eps"; did you mean "eps"? (options: lr, betas, eps, weightDecay, amsgrad, maximize, stateDtype, params)'));
    refuses((d) => { d.paramGroups[1]!.betas = [0.9, 1]; return d; }, new RangeError("simdopt: stateDict.paramGroups[1].betas[1] must be in [0, 1), got 1"));
  });

  it("state entries: kind, keys, step", () => {
    const entry = "must be null or an object { step, buffers, touchedRows, scalars }, got";
    refuses((d) => { (d.state as unknown[])[1] = [1]; return d; }, new TypeError(`simdopt: stateDict.state[1] ${entry} [1]`));
    refuses((d) => { (d.state as unknown[])[1] = new Float32Array(1); return d; }, new TypeError(`simdopt: stateDict.state[1] ${entry} a Float32Array of length 1`));
    refuses((d) => { (d.state[1] as Record<string, unknown>).buffer = {}; return d; },
      new TypeError('simdopt: stateDict.state[1] has no option "buffer"; did you mean "buffers"? (options: step, buffers, touchedRows, scalars)'));
    refuses((d) => { d.state[1]!.step = -1; return d; }, new RangeError("simdopt: stateDict.state[1].step must be a finite integer ≥ 0, got -1"));
    refuses((d) => { delete (d.state[1] as Record<string, unknown>).step; return d; }, new TypeError("simdopt: stateDict.state[1].requires the option step"));
  });

  it("buffers: kind, names, types, lengths", () => {
    const keeps = "firstMoment, secondMoment";
    refuses((d) => { (d.state[1] as Record<string, unknown>).buffers = null; return d; },
      new TypeError("simdopt: stateDict.state[1].buffers must be an object of typed arrays, got null"));
    refuses((d) => { (d.state[1] as Record<string, unknown>).buffers = [new Float32Array(2)]; return d; },
      new TypeError("simdopt: stateDict.state[1].buffers must be an object of typed arrays, got an array of length 1"));
    refuses((d) => { d.state[1]!.buffers.extra = new Float32Array(2); return d; },
      new RangeError(`simdopt: stateDict.state[1].buffers has "extra", which Adam does not keep with these options (expected exactly: ${keeps})`));
    refuses((d) => { delete d.state[0]!.buffers.firstMoment; return d; },
      new RangeError(`simdopt: stateDict.state[0].buffers lacks "firstMoment" (Adam with these options keeps exactly: ${keeps})`));
    refuses((d) => { (d.state[0]!.buffers as Record<string, unknown>).secondMoment = [0, 0, 0, 0, 0, 0]; return d; },
      new TypeError("simdopt: stateDict.state[0].buffers.secondMoment must be a Float32Array, got [0, 0, 0, 0, 0, 0]"));
    refuses((d) => { d.state[0]!.buffers.secondMoment = new Float32Array(5); return d; },
      new RangeError('simdopt: stateDict.state[0].buffers.secondMoment has 5 values, parameter "w" has 6'));
  });

  it("buffers of an optimizer that keeps none name 'none'; a buffer shaped otherwise names the shape it needs", () => {
    const p = parameter([2, 3], { name: "w" });
    const sgd = new SGD([p], { lr: 0.1 });
    p.grad.fill(1);
    sgd.step();
    const dict = sgd.stateDict();
    dict.state[0]!.buffers.momentumBuffer = new Float32Array(6);
    expect(() => sgd.loadStateDict(dict)).toThrow(
      new RangeError('simdopt: stateDict.state[0].buffers has "momentumBuffer", which SGD does not keep with these options (expected exactly: none)'));
    sgd.dispose();
    const factored = new Adafactor([p], { lr: 0.01 });
    factored.step();
    const saved = factored.stateDict();
    const name = Object.keys(saved.state[0]!.buffers).find((key) => saved.state[0]!.buffers[key]!.length === 2)!;
    saved.state[0]!.buffers[name] = new Float32Array(6);
    expect(() => factored.loadStateDict(saved)).toThrow(
      new RangeError(`simdopt: stateDict.state[0].buffers.${name} has 6 values, parameter "w" (shape [2, 3]) needs 2 for it`));
    factored.dispose();
    p.dispose();
  });

  it("scalars: kind, names, bounds", () => {
    const p = parameter([2], { init: [1, 2] });
    const nadam = new NAdam([p]);
    p.grad.fill(1);
    nadam.step();
    const good = nadam.stateDict();
    const load = (scalars: unknown) => () => {
      const dict = structuredClone(good);
      (dict.state[0] as Record<string, unknown>).scalars = scalars;
      nadam.loadStateDict(dict);
    };
    expect(load([0.5])).toThrow(new TypeError("simdopt: stateDict.state[0].scalars must be an object of numbers, got [0.5]"));
    expect(load(null)).toThrow(new TypeError("simdopt: stateDict.state[0].scalars must be an object of numbers, got null"));
    expect(load({ MuProduct: 0.5 })).toThrow(
      new TypeError('simdopt: stateDict.state[0].scalars has no option "MuProduct"; did you mean "muProduct"? (options: muProduct)'));
    expect(load({ muProduct: 1.5 })).toThrow(new RangeError("simdopt: stateDict.state[0].scalars.muProduct must be a finite number ≥ 0 and ≤ 1, got 1.5"));
    expect(nadam.stateDict()).toEqual(good);
    load({})();
    expect(nadam.stateDict().state[0]!.scalars).toEqual({ muProduct: 1 });
    nadam.dispose();
    p.dispose();
  });

  it("touchedRows: type, count, flags", () => {
    refuses((d) => { (d.state[0] as Record<string, unknown>).touchedRows = new Int8Array(2); return d; },
      new TypeError("simdopt: stateDict.state[0].touchedRows must be null or a Uint8Array, got a Int8Array of length 2"));
    refuses((d) => { d.state[0]!.touchedRows = new Uint8Array(3); return d; },
      new RangeError('simdopt: stateDict.state[0].touchedRows has 3 flags; parameter "w" of shape [2, 3] needs one per row of a 2-D shape'));
    refuses((d) => { d.state[1]!.touchedRows = new Uint8Array(2); return d; },
      new RangeError('simdopt: stateDict.state[1].touchedRows has 2 flags; parameter "b" of shape [2] needs one per row of a 2-D shape'));
    refuses((d) => { d.state[0]!.touchedRows = Uint8Array.of(0, 2); return d; },
      new RangeError("simdopt: stateDict.state[0].touchedRows[1] must be 0 or 1, got 2"));
  });

  it("valid touchedRows load as a copy, and undefined loads as null", () => {
    const { p, q, optimizer } = adam();
    const dict = optimizer.stateDict();
    dict.state[0]!.touchedRows = Uint8Array.of(1, 0);
    delete (dict.state[1] as Record<string, unknown>).touchedRows;
    optimizer.loadStateDict(dict);
    dict.state[0]!.touchedRows.fill(0);
    const after = optimizer.stateDict();
    expect(after.state[0]!.touchedRows).toEqual(Uint8Array.of(1, 0));
    expect(after.state[1]!.touchedRows).toBeNull();
    optimizer.dispose();
    p.dispose();
    q.dispose();
  });
});
