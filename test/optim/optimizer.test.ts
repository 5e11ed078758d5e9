// The optimizer base class's own refusals by exact message (use after dispose, accumulate with
// masks or rows, a stateDtype for an optimizer without one, step variants an optimizer does not
// support), and stateBuffers() as documented.

import { beforeAll, describe, expect, it } from "vitest";
import { Adafactor, Adam, AdamW, init, Lion, Muon, parameter, SGD, type Parameter } from "../../src/index.js";

beforeAll(async () => {
  await init();
});

function param(shape = [2, 3]): Parameter {
  const p = parameter(shape, { name: "w", init: Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i + 1) });
  p.grad.fill(0.5);
  return p;
}

describe("the optimizer base", () => {
  it("every method but dispose() throws a plain Error after dispose(), naming class and method", () => {
    const p = param();
    const adamw = new AdamW([p]);
    adamw.step();
    const saved = adamw.stateDict();
    adamw.dispose();
    adamw.dispose();
    const after = (method: string) => new Error(`simdopt: AdamW.${method}() after dispose(): its state has been freed; create a new optimizer`);
    expect(() => adamw.step()).toThrow(after("step"));
    expect(() => adamw.zeroGrad()).toThrow(after("zeroGrad"));
    expect(() => adamw.stateDict()).toThrow(after("stateDict"));
    expect(() => adamw.loadStateDict(saved)).toThrow(after("loadStateDict"));
    try {
      adamw.step();
    } catch (error) {
      expect((error as Error).constructor).toBe(Error);
    }
    p.dispose();
  });

  it("accumulate: refused with masks and rows, and a state dict that accumulates refused without it", () => {
    const p = param();
    const sgd = new SGD([p], { lr: 0.1, accumulate: 3 });
    expect(() => sgd.step({ mask: new Map([[p, new Uint8Array(6)]]) })).toThrow(
      new RangeError("simdopt: step({ mask }) cannot be combined with accumulate (3): accumulated steps are dense"));
    expect(() => sgd.step({ rows: new Map([[p, Int32Array.of(0)]]) })).toThrow(
      new RangeError("simdopt: step({ rows }) cannot be combined with accumulate (3): accumulated steps are dense"));
    expect(() => new SGD([p], { accumulate: 0 })).toThrow(new RangeError("simdopt: SGD options.accumulate must be an integer in [1, 2^53 − 1], got 0"));
    expect(() => new SGD([p], { accumulate: 1.5 })).toThrow(new RangeError("simdopt: SGD options.accumulate must be an integer in [1, 2^53 − 1], got 1.5"));
    sgd.step();
    const accumulating = sgd.stateDict();
    expect(accumulating.accumulation?.count).toBe(1);
    const plain = new SGD([p], { lr: 0.1 });
    expect(plain.accumulate).toBe(1);
    expect(() => plain.loadStateDict(accumulating)).toThrow(
      new RangeError("simdopt: this state dict accumulates gradients; SGD was made without accumulate"));
    expect(plain.stateDict().accumulation).toBeUndefined();
    sgd.dispose();
    plain.dispose();
    p.dispose();
  });

  it("a stateDtype option for an optimizer that keeps float32 state only is refused where it is given", () => {
    const p = param();
    expect(() => new SGD([p], { lr: 0.1, stateDtype: "int8" } as never)).toThrow(
      new TypeError("simdopt: SGD options: SGD keeps float32 state only; option stateDtype is for Adam, AdamW and Lion"));
    expect(() => new SGD([{ params: [p], stateDtype: "float32" } as never], { lr: 0.1 })).toThrow(
      new TypeError("simdopt: paramGroups[0]: SGD keeps float32 state only; option stateDtype is for Adam, AdamW and Lion"));
    const sgd = new SGD([param([3])], { lr: 0.1 });
    expect(() => sgd.addParamGroup({ params: [p], stateDtype: "bfloat16" } as never)).toThrow(
      new TypeError("simdopt: paramGroups[1]: SGD keeps float32 state only; option stateDtype is for Adam, AdamW and Lion"));
    expect(new Lion([p], { stateDtype: "bfloat16" }).paramGroups[0]!.stateDtype).toBe("bfloat16");
    sgd.dispose();
    p.dispose();
  });

  it("row steps are refused for state not shaped like the parameter, by name", () => {
    const p = param();
    const adam = new Adam([p], { stateDtype: "int8" });
    expect(() => adam.step({ rows: new Map([[p, Int32Array.of(0)]]) })).toThrow(
      new RangeError('simdopt: Adam cannot step "w" by rows: its state "firstMomentCodes" is not shaped like the parameter; step it densely'));
    adam.dispose();
    const factored = new Adafactor([p]);
    expect(() => factored.step({ rows: new Map([[p, Int32Array.of(0)]]) })).toThrow(
      new RangeError("simdopt: Adafactor does not support step({ rows }); step it densely"));
    factored.dispose();
    const muon = new Muon([p]);
    expect(() => muon.step({ mask: new Map([[p, new Uint8Array(6)]]) })).toThrow(
      new RangeError("simdopt: Muon does not support step({ mask }); step it densely"));
    expect([...p.data]).toEqual([1, 2, 3, 4, 5, 6]);
    muon.dispose();
    p.dispose();
  });

  it("stateBuffers() lists the names and layouts of the first group's first parameter by default", () => {
    const p = param();
    const q = param([4]);
    const adam = new Adam([{ params: [p] }, { params: [q], amsgrad: true }]);
    expect(adam.stateBuffers()).toEqual([{ name: "firstMoment", sliceable: true }, { name: "secondMoment", sliceable: true }]);
    expect(adam.stateBuffers(adam.paramGroups[1]).map((b) => b.name)).toEqual(["firstMoment", "secondMoment", "maxSecondMoment"]);
    adam.dispose();
    p.dispose();
    q.dispose();
  });

  it("refuses non-object options by class name, a parameter already in any group, and a group option broken between steps", () => {
    const p = param();
    const q = param([3]);
    const r = param([4]);
    expect(() => new SGD([p], 5 as never)).toThrow(new TypeError("simdopt: SGD options must be an object, got 5"));
    const sgd = new SGD([{ params: [p] }, { params: [q] }], { lr: 0.1 });
    expect(() => sgd.addParamGroup({ params: [r, q] })).toThrow(new RangeError('simdopt: parameter "w" is already in a group of this optimizer'));
    expect(sgd.paramGroups).toHaveLength(2);
    sgd.paramGroups[1]!.lr = -1;
    expect(() => sgd.step()).toThrow(new RangeError("simdopt: paramGroups[1].lr must be a finite number ≥ 0, got -1"));
    sgd.dispose();
    for (const x of [p, q, r]) x.dispose();
  });
});
