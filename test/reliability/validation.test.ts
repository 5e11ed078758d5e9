// Option checking everywhere options are taken: unknown keys throw with a "did you mean" hint,
// param groups reject near-misses of real options (but keep other extra keys), booleans must be
// booleans, bad values are named with their type, and nothing is changed by a call that throws.

import { beforeAll, describe, expect, it } from "vitest";
import {
  Adam, AdamW, BatchNorm, batchNormBackward, batchNormForward, clipGradNorm, CyclicLR, init, initSync, matmul,
  NAdam, parameter, RMSprop, SGD, StepLR,
} from "../../src/index.js";
import { describe as describeValue, nearMiss } from "../../src/checks.js";

beforeAll(async () => {
  await init();
});

describe("the value formatter", () => {
  it("shows strings as strings, typed arrays by type, numbers as numbers", () => {
    expect(describeValue("4")).toBe('"4" (string)');
    expect(describeValue(4)).toBe("4");
    expect(describeValue(NaN)).toBe("NaN");
    expect(describeValue(-0)).toBe("-0");
    expect(describeValue(new Float64Array(5))).toBe("a Float64Array of length 5");
    expect(describeValue([1, "a"])).toBe('[1, "a" (string)]');
    expect(describeValue(null)).toBe("null");
    expect(describeValue(undefined)).toBe("undefined");
    expect(describeValue(true)).toBe("true (boolean)");
    expect(describeValue(new Map())).toBe("a Map");
    expect(describeValue({})).toBe("an object");
  });

  it("finds near-misses: case, snake_case, one edit", () => {
    const options = ["lr", "weightDecay", "momentum", "skipIfNonfinite", "initialMemoryMiB"];
    expect(nearMiss("weight_decay", options)).toBe("weightDecay");
    expect(nearMiss("Momentum", options)).toBe("momentum");
    expect(nearMiss("skipIfNonFinite", options)).toBe("skipIfNonfinite");
    expect(nearMiss("initalMemoryMiB", options)).toBe("initialMemoryMiB");
    expect(nearMiss("momentun", options)).toBe("momentum");
    expect(nearMiss("mometnum", options)).toBe("momentum");
    expect(nearMiss("initialLr", options)).toBeUndefined();
    expect(nearMiss("maxMomentum", options)).toBeUndefined();
    expect(nearMiss("lr", options)).toBeUndefined();
  });
});

describe("optimizers", () => {
  it("step() rejects a misspelt option instead of running unguarded", () => {
    const p = parameter([3], { init: [1, 2, 3] });
    const optimizer = new SGD([p], { lr: 0.1 });
    p.grad.set([NaN, 0, 0]);
    expect(() => optimizer.step({ skipIfNonFinite: true } as never)).toThrow(/step\(\) options has no option "skipIfNonFinite"; did you mean "skipIfNonfinite"\?/);
    expect(Array.from(p.data)).toEqual([1, 2, 3]);
    expect(() => optimizer.step({ skipIfNonfinite: "false" } as never)).toThrow(TypeError);
    expect(() => optimizer.step({ skipIfNonfinite: "false" } as never)).toThrow(/skipIfNonfinite must be a boolean.*got "false" \(string\)/);
    expect(() => optimizer.step({ skipIfNonfinite: 1 } as never)).toThrow(TypeError);
    expect(Array.from(p.data)).toEqual([1, 2, 3]);
    expect(optimizer.step({ skipIfNonfinite: true })).toBe(false);
    expect(() => optimizer.step(null as never)).toThrow(TypeError);
    optimizer.dispose();
    p.dispose();
  });

  it("param groups reject near-misses of options and keep other extra keys", () => {
    const p = parameter([2]);
    const q = parameter([2]);
    expect(() => new SGD([{ params: [p], weight_decay: 0.1 }] as never)).toThrow(/paramGroups\[0\] has no option "weight_decay"; did you mean "weightDecay"\?/);
    expect(() => new SGD([{ params: [p], Momentum: 0.9 }] as never)).toThrow(/did you mean "momentum"/);
    expect(() => new Adam([{ params: [p], amsgard: true }] as never)).toThrow(/did you mean "amsgrad"/);
    expect(() => new Adam([p], { weight_decay: 0.1 } as never)).toThrow(/Adam options has no option "weight_decay"; did you mean "weightDecay"\?/);
    const optimizer = new SGD([{ params: [p], initialLr: 0.5, tag: "encoder" }] as never, { lr: 0.1 });
    expect(optimizer.paramGroups[0]!.tag).toBe("encoder");
    expect(() => optimizer.addParamGroup({ params: [q], weight_decay: 0.1 } as never)).toThrow(/paramGroups\[1\] has no option "weight_decay"/);
    expect(optimizer.paramGroups).toHaveLength(1);
    optimizer.addParamGroup({ params: [q], lr: 0.2 });
    expect(optimizer.paramGroups).toHaveLength(2);
    optimizer.dispose();
    p.dispose();
    q.dispose();
  });

  it("an own __proto__ key in a group is rejected, not turned into a prototype", () => {
    const p = parameter([2]);
    const group = JSON.parse('{"__proto__": {"lr": 5}, "lr": 0.1}') as Record<string, unknown>;
    expect(() => new SGD([{ ...group, params: [p] }] as never)).toThrow(/__proto__/);
    p.dispose();
  });

  it("non-boolean booleans throw TypeError naming the value and its type", () => {
    const p = parameter([2]);
    expect(() => new Adam([p], { amsgrad: "false" as never })).toThrow(TypeError);
    expect(() => new Adam([p], { amsgrad: "false" as never })).toThrow(/amsgrad must be a boolean.*got "false" \(string\)/);
    expect(() => new NAdam([p], { decoupledWeightDecay: 0 as never })).toThrow(/got 0/);
    expect(() => new RMSprop([p], { centered: 1 as never })).toThrow(TypeError);
    p.dispose();
  });

  it('a string number is shown as a string ("4", not 4)', () => {
    const p = parameter([2]);
    expect(() => new AdamW([p], { lr: "4" as never })).toThrow(/lr must be a finite number ≥ 0, got "4" \(string\)/);
    p.dispose();
  });
});

describe("other option objects", () => {
  it("init options: a typo throws even once loaded", async () => {
    await expect(init(undefined, { initalMemoryMiB: 64 } as never)).rejects.toThrow(/init has no option "initalMemoryMiB"; did you mean "initialMemoryMiB"\?/);
    expect(() => initSync(undefined, { maximumMemoryMib: 64 } as never)).toThrow(/did you mean "maximumMemoryMiB"/);
    await expect(init(undefined, { initialMemoryMiB: "16" } as never)).rejects.toThrow(/got "16" \(string\)/);
  });

  it("matmul: transa and other unknown keys", () => {
    const a = new Float32Array(4);
    expect(() => matmul(a, a, { m: 2, k: 2, n: 2, transa: true } as never)).toThrow(/matmul options has no option "transa"; did you mean "transA"\?/);
    expect(() => matmul(a, a, { m: 2, k: 2, n: 2, transA: "yes" } as never)).toThrow(/transA must be a boolean.*"yes" \(string\)/);
  });

  it("batch norm functions: epsilon and other unknown keys", () => {
    const x = new Float32Array(8).map((_, i) => i);
    expect(() => batchNormForward(x, [4, 2], { epsilon: 1e-3 } as never)).toThrow(/batchNormForward options has no option "epsilon"/);
    expect(() => batchNormForward(x, [4, 2], { training: "true" } as never)).toThrow(/training must be a boolean/);
    const { mean, invStd } = batchNormForward(x, [4, 2]);
    expect(() => batchNormBackward(x, x, [4, 2], { mean, invStd, acumulate: true } as never)).toThrow(/did you mean "accumulate"/);
  });

  it("BatchNorm: constructor and call options", () => {
    expect(() => new BatchNorm(2, { moment: 0.2 } as never)).toThrow(/BatchNorm has no option "moment"; did you mean "momentum"\?/);
    expect(() => new BatchNorm(2, { affine: "no" } as never)).toThrow(/affine must be a boolean.*"no" \(string\)/);
    const bn = new BatchNorm(2);
    const x = new Float32Array(8).map((_, i) => i);
    expect(() => bn.forward(x, [4, 2], { output: new Float32Array(8) } as never)).toThrow(/did you mean "out"|has no option "output"/);
    expect(bn.numBatchesTracked).toBe(0);
    bn.forward(x, [4, 2]);
    expect(() => bn.backward(x, { out: new Float32Array(8), accumulate: true } as never)).toThrow(/BatchNorm.backward has no option "accumulate"/);
    bn.dispose();
  });

  it("parameter(): unknown keys, non-numeric init values, bad seeds", () => {
    expect(() => parameter([2], { Init: "ones" } as never)).toThrow(/did you mean "init"/);
    expect(() => parameter([2], { init: ["a", "b"] as never })).toThrow(TypeError);
    expect(() => parameter([2], { init: ["a", "b"] as never })).toThrow(/init\[0\] must be a number, got "a" \(string\)/);
    expect(() => parameter([2], { init: [1, null] as never })).toThrow(/init\[1\]/);
    expect(() => parameter([2, 2], { init: "xavieruniform" as never })).toThrow(/did you mean "xavierUniform"/);
    for (const seed of [1.5, -1, 2 ** 32, Number.MAX_SAFE_INTEGER + 2, NaN, "7"]) {
      expect(() => parameter([2, 2], { init: "heNormal", seed: seed as number }), String(seed)).toThrow(/seed must be an integer in \[0, 4294967295\]/);
    }
    expect(parameter([2, 2], { init: "heNormal", seed: 2 ** 32 - 1 }).size).toBe(4);
  });

  it("clipGradNorm: unknown options and non-boolean flags", () => {
    const p = parameter([2], { init: [3, 4] });
    p.grad.set([3, 4]);
    expect(() => clipGradNorm([p], 1, 2, { errorIfNonFinite: true } as never)).toThrow(/did you mean "errorIfNonfinite"/);
    expect(() => clipGradNorm([p], 1, 2, { errorIfNonfinite: "yes" } as never)).toThrow(/"yes" \(string\)/);
    expect(() => clipGradNorm([p], "1" as never)).toThrow(/maxNorm.*"1" \(string\)/);
    expect(Array.from(p.grad)).toEqual([3, 4]);
    p.dispose();
  });

  it("schedulers: unknown options carry a hint", () => {
    const p = parameter([2]);
    const optimizer = new SGD([p], { lr: 0.1, momentum: 0.9 });
    expect(() => new StepLR(optimizer, { step_size: 3 } as never)).toThrow(/StepLR has no option "step_size"; did you mean "stepSize"\?/);
    expect(() => new CyclicLR(optimizer, { baseLr: 0.01, maxLr: 0.1, cycleMomentum: "yes" } as never)).toThrow(/cycleMomentum must be a boolean/);
    optimizer.dispose();
    p.dispose();
  });
});
