// simdopt/tfjs optimizer state: setWeights before the variables join (held by position, loaded
// as they join, returned by getWeights meanwhile), size checks, a restore that resets joined
// variables it has no state for, how buffers and float64 scalars travel as tensors; the class
// per namespace, its config round trip, and what dispose() frees.
import { beforeAll, describe, expect, it } from "vitest";
import * as core from "../../src/index.js";
import { Adafactor, AdamW, Muon, NAdam, SGD } from "../../src/index.js";
import { parameterDisposals } from "../../src/parameter.js";
import { registerTfOptimizers, tfOptimizer } from "../../src/interop/tfjs.js";
import { loadTf, variable } from "./tfjs-setup.js";

type Tf = Awaited<ReturnType<typeof loadTf>>;
let tf: Tf;
beforeAll(async () => {
  tf = await loadTf();
});

type Weight = { name: string; tensor: import("@tensorflow/tfjs").Tensor };
async function summary(weights: Weight[]): Promise<[string, string, number[], number[]][]> {
  return Promise.all(weights.map(async ({ name, tensor }) => [name, tensor.dtype, tensor.shape, Array.from(await tensor.data())] as [string, string, number[], number[]]));
}

describe("state by position", () => {
  it("setWeights before any variable joins: getWeights returns it as given; each variable loads its position's state as it joins", async () => {
    const opt = tfOptimizer(tf, SGD, { lr: 0.5, momentum: 0.5 });
    await opt.setWeights([
      { name: "iter", tensor: tf.scalar(4, "int32") },
      { name: "x/step", tensor: tf.scalar(2, "int32") },
      { name: "x/momentumBuffer", tensor: tf.tensor([1, 1], [2]) },
      { name: "y/step", tensor: tf.scalar(3, "int32") },
      { name: "y/momentumBuffer", tensor: tf.tensor([2, 2, 2], [3]) },
    ] as never);
    expect(await summary(await opt.getWeights() as never)).toEqual([
      ["iter", "int32", [], [4]],
      ["x/step", "int32", [], [2]], ["x/momentumBuffer", "float32", [2], [1, 1]],
      ["y/step", "int32", [], [3]], ["y/momentumBuffer", "float32", [3], [2, 2, 2]],
    ]);
    // A 2-D buffer keeps its shape while pending.
    const held = tfOptimizer(tf, SGD, { lr: 0.5, momentum: 0.5 });
    await held.setWeights([{ name: "iter", tensor: tf.scalar(1, "int32") }, { name: "m/step", tensor: tf.scalar(1, "int32") }, { name: "m/momentumBuffer", tensor: tf.ones([2, 3]) }] as never);
    expect((await summary(await held.getWeights() as never))[2]).toEqual(["m/momentumBuffer", "float32", [2, 3], [1, 1, 1, 1, 1, 1]]);
    held.dispose();
    const a = variable([0, 0], [2], "a");
    const b = variable([0, 0, 0], [3], "b");
    // a joins at position 0: momentum 0.5·1 + 1 = 1.5, so a = −0.75.
    opt.applyGradients({ [a.name]: tf.ones([2]) });
    expect(Array.from(a.dataSync())).toEqual([-0.75, -0.75]);
    const weights = await summary(await opt.getWeights() as never);
    expect(weights).toEqual([
      ["iter", "int32", [], [5]],
      [`${a.name}/step`, "int32", [], [3]], [`${a.name}/momentumBuffer`, "float32", [2], [1.5, 1.5]],
      ["y/step", "int32", [], [3]], ["y/momentumBuffer", "float32", [3], [2, 2, 2]],
    ]);
    // b joins at position 1 with y's state: momentum 0.5·2 + 1 = 2, b = −1.
    opt.applyGradients({ [b.name]: tf.ones([3]) });
    expect(Array.from(b.dataSync())).toEqual([-1, -1, -1]);
    expect(Array.from(a.dataSync())).toEqual([-0.75, -0.75]);
    // b's joining left a's state alone: momentum 0.5·1.5 + 1 = 1.75, a = −0.75 − 0.875.
    opt.applyGradients({ [a.name]: tf.ones([2]) });
    expect(Array.from(a.dataSync())).toEqual([-1.625, -1.625]);
    opt.dispose();
    a.dispose();
    b.dispose();
  });

  it("a joined variable's state must fit its size; a joining one's is checked before it joins", async () => {
    const opt = tfOptimizer(tf, SGD, { lr: 0.5, momentum: 0.5 });
    const a = variable([0, 0], [2], "a");
    opt.applyGradients({ [a.name]: tf.ones([2]) });
    const iter = { name: "iter", tensor: tf.scalar(1, "int32") };
    await expect(opt.setWeights([iter, { name: "x/step", tensor: tf.scalar(1, "int32") }, { name: "x/momentumBuffer", tensor: tf.ones([3]) }] as never))
      .rejects.toThrow(new RangeError(`simdopt: setWeights: state "x/momentumBuffer" (position 0) has 3 values, variable "${a.name}" has 2`));
    // State for position 1, whose variable has not joined: checked when it does (c joins first here).
    await opt.setWeights([iter, { name: "x/step", tensor: tf.scalar(1, "int32") }, { name: "x/momentumBuffer", tensor: tf.ones([2]) },
      { name: "y/step", tensor: tf.scalar(1, "int32") }, { name: "y/momentumBuffer", tensor: tf.ones([4]) }] as never);
    const b = variable([0, 0, 0], [3], "b");
    const c = variable([0], [1], "c");
    const disposals = parameterDisposals();
    expect(() => opt.applyGradients({ [c.name]: tf.ones([1]), [b.name]: tf.ones([3]) }))
      .toThrow(new RangeError(`simdopt: setWeights: state "y/momentumBuffer" (position 1) has 4 values, variable "${c.name}" has 1`));
    // Neither joined; c's Parameter, made for the check, was freed (b's was never made).
    expect(opt.parameterOf(b)).toBe(undefined);
    expect(opt.parameterOf(c)).toBe(undefined);
    expect(parameterDisposals()).toBe(disposals + 1);
    opt.dispose();
    [a, b, c].forEach((v) => v.dispose());
  });

  it("setWeights resets joined variables it carries no state for (step 0: fresh)", async () => {
    const opt = tfOptimizer(tf, SGD, { lr: 0.5, momentum: 0.5 });
    const a = variable([0, 0], [2], "a");
    const b = variable([0], [1], "b");
    opt.applyGradients({ [a.name]: tf.ones([2]), [b.name]: tf.ones([1]) });
    opt.applyGradients({ [a.name]: tf.ones([2]), [b.name]: tf.ones([1]) });
    await opt.setWeights([{ name: "iter", tensor: tf.scalar(7, "int32") }, { name: "q/step", tensor: tf.scalar(0, "int32") }, { name: "q/momentumBuffer", tensor: tf.ones([2]) }] as never);
    expect(opt.iterations).toBe(7);
    expect(await summary(await opt.getWeights() as never)).toEqual([
      ["iter", "int32", [], [7]], [`${a.name}/step`, "int32", [], [0]], [`${b.name}/step`, "int32", [], [0]],
    ]);
    opt.dispose();
    a.dispose();
    b.dispose();
  });
});

describe("state as tensors", () => {
  it("buffers keep the variable's shape when they have its size, else travel flat; float64 scalars as two int32 halves", async () => {
    const factored = tfOptimizer(tf, Adafactor, { lr: 0.01 });
    const w = variable(Array.from({ length: 12 }, (_, i) => i / 10), [3, 4], "w");
    factored.applyGradients({ [w.name]: tf.ones([3, 4]) });
    const shapes = (await summary(await factored.getWeights() as never)).map(([name, , shape]) => [name.slice(w.name.length), shape]);
    expect(shapes.slice(1)).toEqual([["/step", []], ["/rowVar", [3]], ["/colVar", [4]]]);
    factored.dispose();
    const nadam = tfOptimizer(tf, NAdam, { lr: 0.01 });
    nadam.applyGradients({ [w.name]: tf.ones([3, 4]) });
    const weights = await nadam.getWeights() as Weight[];
    const mu = weights.find(({ name }) => name === `${w.name}/muProduct`)!;
    expect([mu.tensor.dtype, mu.tensor.shape]).toEqual(["int32", [2]]);
    const product = new Float64Array(Int32Array.from(await mu.tensor.data()).buffer)[0]!;
    expect(product).toBe(nadam.simdopt.stateDict().state[0]!.scalars!.muProduct);
    expect(weights.find(({ name }) => name === `${w.name}/firstMoment`)!.tensor.shape).toEqual([3, 4]);
    // The scalar round-trips exactly: the next step's product is the same in both.
    const again = tfOptimizer(tf, NAdam, { lr: 0.01 });
    await again.setWeights(weights as never);
    const w2 = variable(await w.data() as Float32Array, [3, 4], "w2");
    again.applyGradients({ [w2.name]: tf.ones([3, 4]) });
    nadam.applyGradients({ [w.name]: tf.ones([3, 4]) });
    expect(again.simdopt.stateDict().state[0]!.scalars!.muProduct).toBe(nadam.simdopt.stateDict().state[0]!.scalars!.muProduct);
    expect(Array.from(w2.dataSync())).toEqual(Array.from(w.dataSync()));
    w2.dispose();
    nadam.dispose();
    again.dispose();
    w.dispose();
  });

  it("reduced-precision state cannot be saved as tfjs weights", async () => {
    const opt = tfOptimizer(tf, AdamW, { lr: 0.01, stateDtype: "bfloat16" });
    const v = variable([1, 2], [2], "v");
    opt.applyGradients({ [v.name]: tf.ones([2]) });
    await expect(opt.getWeights()).rejects.toThrow(new TypeError(`simdopt: getWeights saves float32 state only; state "firstMomentBf16" is a Uint16Array (use stateDtype "float32" with tfjs)`));
    opt.dispose();
    v.dispose();
  });
});

describe("the adapter class", () => {
  it("registerTfOptimizers registers one class per simdopt optimizer, named simdopt.<Optimizer>", () => {
    const registered: string[] = [];
    const fake = {
      Optimizer: class {}, engine: () => ({}), tensor: () => ({}), backend: () => ({}), keep: (t: unknown) => t,
      serialization: { registerClass: (cls: { className: string }) => registered.push(cls.className) },
    };
    registerTfOptimizers(fake);
    const expected = Object.entries(core).filter(([, value]) => typeof value === "function" && value.prototype instanceof core.Optimizer).map(([name]) => `simdopt.${name}`);
    expect(expected).toContain("simdopt.AdamW");
    expect(expected).toContain("simdopt.Muon");
    expect(registered.sort()).toEqual(expected.sort());
    // Once per namespace.
    registerTfOptimizers(fake);
    expect(registered).toHaveLength(expected.length);
  });

  it("a scalar variable joins as a one-element parameter named after it", () => {
    const opt = tfOptimizer(tf, SGD, { lr: 0.5 });
    const v = tf.variable(tf.scalar(2), true, "scalar_v");
    opt.applyGradients({ [v.name]: tf.scalar(1) });
    expect(v.dataSync()[0]).toBe(1.5);
    expect(opt.parameterOf(v)!.shape).toEqual([1]);
    expect(opt.parameterOf(v)!.name).toBe("scalar_v");
    opt.dispose();
    v.dispose();
  });

  it("one class per namespace and optimizer, named simdopt.<Optimizer>", () => {
    const one = tfOptimizer(tf, AdamW), two = tfOptimizer(tf, AdamW), sgd = tfOptimizer(tf, SGD);
    expect(one.constructor).toBe(two.constructor);
    expect(sgd.constructor).not.toBe(one.constructor);
    expect(one.getClassName()).toBe("simdopt.AdamW");
    expect((sgd.constructor as unknown as { className: string }).className).toBe("simdopt.SGD");
    [one, two, sgd].forEach((o) => o.dispose());
  });

  it("placeholder parameters are freed; the noDecay group has weightDecay 0; getConfig/fromConfig restore group options", () => {
    const disposals = parameterDisposals();
    const opt = tfOptimizer(tf, AdamW, { lr: 0.01, weightDecay: 0.3 }, { noDecay: /bias/i, clipGradNorm: 2 });
    expect(parameterDisposals()).toBe(disposals + 2);
    expect(opt.simdopt.paramGroups.map((g) => [g.params.length, g.weightDecay])).toEqual([[0, 0.3], [0, 0]]);
    opt.simdopt.paramGroups[0]!.lr = 0.005;
    const Cls = opt.constructor as unknown as { fromConfig(cls: unknown, config: Record<string, unknown>): typeof opt };
    const made = Cls.fromConfig(Cls, opt.getConfig());
    expect(made.simdopt.defaults).toEqual(opt.simdopt.defaults);
    expect(made.simdopt.paramGroups.map((g) => [g.params.length, g.lr, g.weightDecay])).toEqual([[0, 0.005, 0.3], [0, 0.01, 0]]);
    expect(made.getConfig()).toEqual(opt.getConfig());
    const plain = tfOptimizer(tf, SGD, { lr: 0.1 });
    expect(plain.simdopt.paramGroups).toHaveLength(1);
    const fromPlain = (plain.constructor as unknown as typeof Cls).fromConfig(Cls, plain.getConfig());
    expect(fromPlain.simdopt.paramGroups.map((g) => g.lr)).toEqual([0.1]);
    // A config's groups never replace the groups' own (empty) parameter lists.
    const config = JSON.parse(decodeURIComponent(plain.getConfig().simdopt!.replace(/%5F/g, "_"))) as { groups: Record<string, unknown>[] };
    config.groups[0]!.params = ["x"];
    const crafted = (plain.constructor as unknown as typeof Cls).fromConfig(Cls, { simdopt: JSON.stringify(config) });
    expect(crafted.simdopt.paramGroups[0]!.params).toEqual([]);
    // Optimizers that need matrices get matrix placeholders in both groups.
    const muon = tfOptimizer(tf, Muon, { lr: 0.02 }, { noDecay: /bias/ });
    expect(muon.simdopt.paramGroups).toHaveLength(2);
    [opt, made, plain, fromPlain, crafted, muon].forEach((o) => o.dispose());
  });

  it("dispose frees the weights getWeights returned last (the earlier ones at the next getWeights)", async () => {
    const opt = tfOptimizer(tf, SGD, { lr: 0.1, momentum: 0.9 });
    const v = variable([1, 2], [2], "v");
    opt.applyGradients({ [v.name]: tf.ones([2]) });
    const first = await opt.getWeights() as Weight[];
    expect(first.map((w) => w.tensor.isDisposed)).toEqual([false, false, false]);
    const second = await opt.getWeights() as Weight[];
    expect(first.map((w) => w.tensor.isDisposed)).toEqual([true, true, true]);
    opt.dispose();
    expect(second.map((w) => w.tensor.isDisposed)).toEqual([true, true, true]);
    opt.dispose();
    v.dispose();
  });
});
