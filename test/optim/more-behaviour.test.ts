// ADOPT, ScheduleFreeAdamW and Muon beyond the arithmetic: ScheduleFreeAdamW's train/eval modes,
// state-dict resume, parameter groups, the step variants each supports, bad parameters.
import { beforeAll, describe, expect, it } from "vitest";
import { ADOPT, AdamW, init, LinearLR, Muon, parameter, ScheduleFreeAdamW, type Parameter } from "../../src/index.js";
import { ScheduleFreeReference } from "../reference/optimizers-more.js";
import { seededRandom } from "../reference/random.js";
import { fullOptions, makeMoreReference, MORE_CLASSES, type Options } from "./more-harness.js";
import { excess } from "./extra-harness.js";

beforeAll(async () => {
  await init();
});

function fill(params: Parameter[], random: () => number): void {
  for (const p of params) for (let i = 0; i < p.size; i++) p.grad[i] = 2 * random() - 1;
}

describe("ScheduleFreeAdamW modes", () => {
  it("starts in eval mode: step() throws until train(), and nothing changes", () => {
    const p = parameter([5], { init: "ones" });
    p.grad.fill(0.5);
    const optimizer = new ScheduleFreeAdamW([p]);
    expect(optimizer.trainMode).toBe(false);
    expect(() => optimizer.step()).toThrow(new Error("simdopt: ScheduleFreeAdamW.step() in eval mode: call train() before stepping (and eval() before evaluating)"));
    expect(Array.from(p.data)).toEqual([1, 1, 1, 1, 1]);
    expect(optimizer.stateDict().state).toEqual([null]);
    optimizer.train();
    expect(optimizer.step()).toBe(true);
    optimizer.dispose(); p.dispose();
  });

  it("eval() gives x, train() gives y back; both are idempotent", () => {
    const random = seededRandom(3);
    const initial = new Float32Array(37).map(() => 2 * random() - 1);
    const p = parameter([37], { init: initial });
    const options = fullOptions("ScheduleFreeAdamW", { lr: 0.05, warmupSteps: 3 });
    const optimizer = new ScheduleFreeAdamW([p], options);
    const reference = new ScheduleFreeReference(Float64Array.from(initial), options as never);
    optimizer.train();
    optimizer.train();
    expect(Array.from(p.data)).toEqual(Array.from(initial)); // no state yet: nothing to switch
    for (let t = 0; t < 10; t++) {
      fill([p], random);
      optimizer.step();
      reference.step(p.grad);
    }
    const y = Float32Array.from(p.data);
    optimizer.eval();
    optimizer.eval();
    expect(optimizer.trainMode).toBe(false);
    expect(excess(p.data, reference.x(), 1).value).toBeLessThanOrEqual(1);
    optimizer.train();
    optimizer.train();
    expect(excess(p.data, y, 1).value).toBeLessThanOrEqual(1);
    optimizer.dispose(); p.dispose();
  });

  it("state dicts carry the mode; a wrong mode value is refused", () => {
    const p = parameter([4], { init: "ones" });
    const optimizer = new ScheduleFreeAdamW([p]);
    optimizer.train();
    p.grad.fill(0.1);
    optimizer.step();
    const saved = optimizer.stateDict();
    expect(saved.trainMode).toBe(true);
    const other = new ScheduleFreeAdamW([p]);
    other.loadStateDict(saved);
    expect(other.trainMode).toBe(true);
    expect(() => other.loadStateDict({ ...saved, trainMode: "yes" as unknown as boolean })).toThrow(new TypeError("simdopt: stateDict.trainMode must be a boolean, got string"));
    expect(other.trainMode).toBe(true);
    optimizer.dispose(); other.dispose(); p.dispose();
  });
});

const RESUME: [string, Options, number[]][] = [
  ["ADOPT", { lr: 0.01, weightDecay: 0.1, decoupled: true }, [17]],
  ["ScheduleFreeAdamW", { lr: 0.01, warmupSteps: 4, rPower: 1 }, [17]],
  ["Muon", { lr: 0.02 }, [7, 13]],
];

describe.each(RESUME)("%s", (name, overrides, shape) => {
  const Class = MORE_CLASSES[name as "ADOPT"];
  const make = (params: Parameter[]) => {
    const optimizer = new Class(params, fullOptions(name as "ADOPT", overrides));
    (optimizer as unknown as { train?: () => void }).train?.();
    return optimizer;
  };

  it("resumes bit-identically from a state dict (through structuredClone)", () => {
    const random = seededRandom(11);
    const initial = new Float32Array(shape.reduce((a, b) => a * b, 1)).map(() => 2 * random() - 1);
    const grads = Array.from({ length: 8 }, () => initial.map(() => 2 * random() - 1));
    const a = parameter(shape, { init: initial });
    const b = parameter(shape, { init: initial });
    const straight = make([a]);
    let first = make([b]);
    grads.forEach((g, t) => {
      a.grad.set(g);
      straight.step();
      b.grad.set(g);
      first.step();
      if (t === 3) {
        const saved = structuredClone(first.stateDict());
        first.dispose();
        first = make([b]);
        first.loadStateDict(saved);
      }
    });
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    straight.dispose(); first.dispose(); a.dispose(); b.dispose();
  });

  it("steps each parameter group with its own options", () => {
    const random = seededRandom(5);
    const size = shape.reduce((x, y) => x * y, 1);
    const inits = [0, 1].map(() => new Float32Array(size).map(() => 2 * random() - 1));
    const params = inits.map((init) => parameter(shape, { init }));
    const options = fullOptions(name as "ADOPT", overrides);
    const lrs = [options.lr as number, (options.lr as number) * 3];
    const optimizer = new Class(params.map((p, i) => ({ params: [p], lr: lrs[i] })), options);
    (optimizer as unknown as { train?: () => void }).train?.();
    const references = params.map((p, i) => makeMoreReference(name as "ADOPT", inits[i]!, shape, { ...options, lr: lrs[i] }));
    for (let t = 0; t < 6; t++) {
      fill(params, random);
      optimizer.step();
      references.forEach((r, i) => r.step(params[i]!.grad));
    }
    params.forEach((p, i) => expect(excess(p.data, references[i]!.param, 1).value).toBeLessThanOrEqual(1));
    optimizer.dispose(); params.forEach((p) => p.dispose());
  });
});

describe("step variants and parameters each supports", () => {
  it("ADOPT refuses row steps and takes masks (masked-out elements stay)", () => {
    const p = parameter([4, 3], { init: "ones" });
    p.grad.fill(0.5);
    const optimizer = new ADOPT([p], { lr: 0.1 });
    expect(() => optimizer.step({ rows: new Map([[p, Int32Array.of(1)]]) })).toThrow(/ADOPT does not support step\(\{ rows \}\)/);
    optimizer.step();
    const mask = new Uint8Array(12).fill(1);
    mask[4] = 0;
    optimizer.step({ mask: new Map([[p, mask]]) });
    expect(p.data[4]).toBe(1);
    expect(p.data[0]).toBeCloseTo(0.99, 6); // g/√v = 1 (clip 1): m = 0.1·1, p = 1 − lr·m
    optimizer.dispose(); p.dispose();
  });

  it("ADOPT: a NaN gradient gives NaN (the clamp and the eps floor do not hide it), as in PyTorch", () => {
    const p = parameter([6], { init: "ones" });
    const optimizer = new ADOPT([p], { lr: 0.1 });
    p.grad.fill(0.5);
    optimizer.step();
    p.grad[2] = NaN;
    optimizer.step();
    expect(Number.isNaN(p.data[2])).toBe(true);
    expect(p.data[5]).toBeCloseTo(0.99, 6);
    optimizer.dispose(); p.dispose();
  });

  it.each(["ScheduleFreeAdamW", "Muon"] as const)("%s refuses masks and rows", (name) => {
    const p = parameter([2, 3], { init: "ones" });
    const optimizer = new MORE_CLASSES[name]([p]);
    (optimizer as unknown as { train?: () => void }).train?.();
    expect(() => optimizer.step({ mask: new Map([[p, new Uint8Array(6)]]) })).toThrow(new RegExp(`${name} does not support step\\(\\{ mask \\}\\)`));
    expect(() => optimizer.step({ rows: new Map([[p, Int32Array.of(0)]]) })).toThrow(/does not support step\(\{ rows \}\)/);
    expect(Array.from(p.data)).toEqual([1, 1, 1, 1, 1, 1]);
    optimizer.dispose(); p.dispose();
  });

  it("Muon refuses parameters that are not 2-D, at construction and when added", () => {
    const bias = parameter([5], { name: "bias" });
    const conv = parameter([2, 3, 3], { name: "conv" });
    const weight = parameter([3, 4]);
    expect(() => new Muon([bias])).toThrow(new RangeError('simdopt: Muon optimises 2-D parameters only; "bias" has shape [5] (step it with AdamW)'));
    expect(() => new Muon([weight, conv])).toThrow(new RangeError('simdopt: Muon optimises 2-D parameters only; "conv" has shape [2, 3, 3] (step it with AdamW)'));
    const optimizer = new Muon([weight]);
    expect(() => optimizer.addParamGroup({ params: [bias] })).toThrow(new RangeError('simdopt: Muon optimises 2-D parameters only; "bias" has shape [5] (step it with AdamW)'));
    expect(() => optimizer.addParamGroup({ params: "x" } as never)).toThrow(new TypeError("simdopt: paramGroups[1] must be a Parameter or an object { params: Parameter[], ...options }"));
    expect(optimizer.paramGroups).toHaveLength(1);
    optimizer.paramGroups[0]!.params.push(bias);
    const before = Array.from(weight.data);
    weight.grad.fill(1);
    expect(() => optimizer.step()).toThrow(new RangeError('simdopt: Muon optimises 2-D parameters only; "bias" has shape [5] (step it with AdamW)'));
    optimizer.paramGroups[0]!.params.pop();
    // A foreign entry in a group gets the base class's message (the shape check is skipped).
    (optimizer.paramGroups[0]!.params as unknown[]).push(7);
    expect(() => optimizer.step()).toThrow(new TypeError("simdopt: paramGroups[0].params[1] must be a Parameter, got number 7"));
    optimizer.paramGroups[0]!.params.pop();
    expect(Array.from(weight.data)).toEqual(before);
    optimizer.dispose(); [bias, conv, weight].forEach((p) => p.dispose());
  });

  it("Muon with AdamW for the rest, one scheduler each", () => {
    const weight = parameter([8, 4], { init: "xavierUniform", seed: 2 });
    const bias = parameter([4], { init: "zeros" });
    const muon = new Muon([weight], { lr: 0.02 });
    const adamw = new AdamW([bias], { lr: 1e-3 });
    const schedulers = [new LinearLR(muon, { startFactor: 0.5, totalIters: 4 }), new LinearLR(adamw, { startFactor: 0.5, totalIters: 4 })];
    const before = Float32Array.from(weight.data);
    weight.grad.fill(0.1); bias.grad.fill(0.1);
    for (let t = 0; t < 2; t++) {
      muon.step(); adamw.step();
      for (const s of schedulers) s.step();
    }
    expect(muon.paramGroups[0]!.lr).toBeCloseTo(0.02 * 0.75, 12);
    expect(Array.from(weight.data)).not.toEqual(Array.from(before));
    expect(bias.data[0]).toBeLessThan(0);
    muon.dispose(); adamw.dispose();
    expect(() => muon.step()).toThrow(/Muon\.step\(\) after dispose\(\)/);
    weight.dispose(); bias.dispose();
  });
});
