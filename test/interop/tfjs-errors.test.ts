// simdopt/tfjs bad input, with the exact errors: the tf namespace and optimizer class, adapter
// options, scheduler callbacks, applyGradients and setWeights entries. Nothing is half-done.
import { beforeAll, describe, expect, it } from "vitest";
import { AdamW, ExponentialLR, ReduceLROnPlateau, SGD } from "../../src/index.js";
import { registerTfOptimizers, tfOptimizer, tfSchedulerCallback } from "../../src/interop/tfjs.js";
import { loadTf, variable } from "./tfjs-setup.js";

type Tf = Awaited<ReturnType<typeof loadTf>>;
let tf: Tf;
beforeAll(async () => {
  tf = await loadTf();
});

const NOT_TF = "simdopt: tfOptimizer tf must be the TensorFlow.js namespace (import * as tf from \"@tensorflow/tfjs\"), got ";

describe("tfOptimizer and registerTfOptimizers", () => {
  it("tf must be a namespace with Optimizer, engine, tensor, backend, keep and serialization.registerClass", () => {
    expect(() => tfOptimizer(null as never, AdamW)).toThrow(new TypeError(`${NOT_TF}null`));
    expect(() => tfOptimizer(7 as never, AdamW)).toThrow(new TypeError(`${NOT_TF}7`));
    expect(() => registerTfOptimizers([] as never)).toThrow(new TypeError(`${NOT_TF}an array`));
    const fake = (f: Function) => f;
    const complete = { Optimizer: fake(class {}), engine: fake(() => 0), tensor: fake(() => 0), backend: fake(() => 0), keep: fake(() => 0), serialization: { registerClass: fake(() => 0) } };
    for (const name of ["Optimizer", "engine", "tensor", "backend", "keep"]) {
      expect(() => tfOptimizer({ ...complete, [name]: {} } as never, AdamW)).toThrow(new TypeError(`${NOT_TF}[object Object]`));
    }
    expect(() => tfOptimizer({ ...complete, serialization: {} } as never, AdamW)).toThrow(new TypeError(`${NOT_TF}[object Object]`));
    expect(() => tfOptimizer({ ...complete, serialization: null } as never, AdamW)).toThrow(new TypeError(`${NOT_TF}[object Object]`));
    expect(() => tfOptimizer(() => 0 as never, AdamW)).toThrow(TypeError);
    // A function that carries every member is still not the namespace.
    expect(() => tfOptimizer(Object.assign(function fakeTf() {}, complete) as never, AdamW)).toThrow(new TypeError(`${NOT_TF}function fakeTf`));
  });

  it("the optimizer class must be one of simdopt's", () => {
    const at = "simdopt: tfOptimizer OptimizerClass must be a simdopt optimizer class (AdamW, SGD, ...), got ";
    expect(() => tfOptimizer(tf, tf.AdamOptimizer as never)).toThrow(new TypeError(`${at}function AdamOptimizer`));
    expect(() => tfOptimizer(tf, "AdamW" as never)).toThrow(new TypeError(`${at}AdamW`));
    expect(() => tfOptimizer(tf, [AdamW] as never)).toThrow(new TypeError(`${at}an array`));
  });

  it("adapter options: only noDecay (a RegExp) and clipGradNorm (finite, > 0)", () => {
    const at = "simdopt: tfOptimizer adapterOptions";
    expect(() => tfOptimizer(tf, AdamW, {}, 5 as never)).toThrow(new TypeError(`simdopt: tfOptimizer adapterOptions must be an object, got 5`));
    expect(() => tfOptimizer(tf, AdamW, {}, [] as never)).toThrow(new TypeError(`simdopt: tfOptimizer adapterOptions must be an object, got `));
    expect(() => tfOptimizer(tf, AdamW, {}, { no_decay: /b/ } as never)).toThrow(new TypeError(`${at} has no option "no_decay" (did you mean "noDecay"?); allowed: noDecay, clipGradNorm`));
    expect(() => tfOptimizer(tf, AdamW, {}, { NODECAY: /b/ } as never)).toThrow(new TypeError(`${at} has no option "NODECAY" (did you mean "noDecay"?); allowed: noDecay, clipGradNorm`));
    expect(() => tfOptimizer(tf, AdamW, {}, { lr: 1 } as never)).toThrow(new TypeError(`${at} has no option "lr"; allowed: noDecay, clipGradNorm`));
    expect(() => tfOptimizer(tf, AdamW, {}, { noDecay: "bias" as never })).toThrow(new TypeError(`${at}.noDecay must be a RegExp, got bias`));
    for (const bad of [0, -1, Infinity, NaN]) {
      expect(() => tfOptimizer(tf, AdamW, {}, { clipGradNorm: bad })).toThrow(new RangeError(`${at}.clipGradNorm must be a finite number > 0, got ${bad}`));
    }
    expect(() => tfOptimizer(tf, AdamW, {}, { clipGradNorm: "1" as never })).toThrow(new TypeError(`${at}.clipGradNorm must be a finite number > 0, got 1`));
    // null and undefined mean "none"; a tiny positive bound is fine.
    for (const options of [null, undefined, {}, { noDecay: null, clipGradNorm: null }, { clipGradNorm: Number.MIN_VALUE }]) {
      const opt = tfOptimizer(tf, AdamW, {}, options as never);
      opt.dispose();
    }
  });

  it("a noDecay RegExp with g or y flags matches every variable alike (the flags are dropped)", () => {
    const opt = tfOptimizer(tf, AdamW, { lr: 0.1, weightDecay: 0.5 }, { noDecay: /bias/giy });
    const config = JSON.parse(opt.getConfig().simdopt!.replace(/%5F/g, "_").replace(/%25/g, "%")) as { noDecay: [string, string] };
    expect(config.noDecay).toEqual(["bias", "i"]);
    const vars = [variable([1, 1], [2], "bias_a"), variable([1, 1], [2], "bias_b"), variable([1, 1], [2], "kernel")];
    opt.applyGradients(Object.fromEntries(vars.map((v) => [v.name, tf.zeros([2])])));
    expect(opt.simdopt.paramGroups.map((g) => g.params.map((p) => p.name))).toEqual([[vars[2]!.name], [vars[0]!.name, vars[1]!.name]]);
    opt.dispose();
    vars.forEach((v) => v.dispose());
  });
});

describe("tfSchedulerCallback", () => {
  it("checks the scheduler, its options, and that monitor goes with ReduceLROnPlateau per epoch only", () => {
    const at = "simdopt: tfSchedulerCallback";
    const opt = tfOptimizer(tf, SGD, { lr: 0.1 });
    const exp = new ExponentialLR(opt.simdopt, { gamma: 0.5 });
    const plateau = new ReduceLROnPlateau(opt.simdopt);
    expect(() => tfSchedulerCallback(null as never)).toThrow(new TypeError(`${at} scheduler must be a simdopt scheduler, got null`));
    expect(() => tfSchedulerCallback({ step: 1 } as never)).toThrow(new TypeError(`${at} scheduler must be a simdopt scheduler, got [object Object]`));
    expect(() => tfSchedulerCallback(exp, { every: 1 } as never)).toThrow(new TypeError(`simdopt: tfSchedulerCallback options has no option "every"; allowed: per, monitor`));
    expect(() => tfSchedulerCallback(exp, { per: "step" as never })).toThrow(new RangeError(`${at} per must be "batch" or "epoch", got step`));
    expect(() => tfSchedulerCallback(plateau, { monitor: 3 as never })).toThrow(new TypeError(`${at} monitor must be a string, got 3`));
    const mismatch = `${at}: ReduceLROnPlateau steps per epoch on a monitored value; other schedulers take no monitor`;
    expect(() => tfSchedulerCallback(plateau, { per: "batch" })).toThrow(new RangeError(mismatch));
    expect(() => tfSchedulerCallback(exp, { monitor: "loss" })).toThrow(new RangeError(mismatch));
    expect(Object.keys(tfSchedulerCallback(exp))).toEqual(["onBatchEnd"]);
    expect(Object.keys(tfSchedulerCallback(exp, { per: "epoch" }))).toEqual(["onEpochEnd"]);
    expect(Object.keys(tfSchedulerCallback(plateau))).toEqual(["onEpochEnd"]);
    expect(Object.keys(tfSchedulerCallback(plateau, { per: "epoch", monitor: "acc" }))).toEqual(["onEpochEnd"]);
    opt.dispose();
  });

  it("steps the scheduler per call; ReduceLROnPlateau with val_loss, else loss, else the monitored key", async () => {
    const opt = tfOptimizer(tf, SGD, { lr: 1 });
    const exp = tfSchedulerCallback(new ExponentialLR(opt.simdopt, { gamma: 0.5 }));
    await exp.onBatchEnd!(0);
    await exp.onBatchEnd!(1, { loss: 3 });
    expect(opt.simdopt.paramGroups[0]!.lr).toBe(0.25);
    const seen: (number | undefined)[] = [];
    const plateau = new ReduceLROnPlateau(opt.simdopt);
    plateau.step = (metric?: number) => { seen.push(metric); };
    const byDefault = tfSchedulerCallback(plateau);
    await byDefault.onEpochEnd!(0, { loss: 2, val_loss: 5 });
    await byDefault.onEpochEnd!(1, { loss: 2 });
    await expect(byDefault.onEpochEnd!(2)).rejects.toThrow(new RangeError(`simdopt: tfSchedulerCallback monitor "loss" is not in the epoch logs ()`));
    const byAcc = tfSchedulerCallback(plateau, { monitor: "acc" });
    await byAcc.onEpochEnd!(3, { acc: 0.5, val_loss: 1 });
    await expect(byAcc.onEpochEnd!(4, { loss: 1, val_loss: 2 })).rejects.toThrow(new RangeError(`simdopt: tfSchedulerCallback monitor "acc" is not in the epoch logs (loss, val_loss)`));
    expect(seen).toEqual([5, 2, 0.5]);
    opt.dispose();
  });
});

describe("applyGradients", () => {
  it("checks every entry before anything changes", () => {
    const opt = tfOptimizer(tf, SGD, { lr: 0.5 });
    const a = variable([1, 2], [2], "a");
    const b = variable([3, 4, 5], [3], "b");
    const at = (name: string) => `simdopt: applyGradients: "${name}"`;
    const bad: [unknown, Error][] = [
      [5, new TypeError("simdopt: applyGradients expects a NamedTensorMap or NamedTensor[], got 5")],
      [null, new TypeError("simdopt: applyGradients expects a NamedTensorMap or NamedTensor[], got null")],
      [[{ name: a.name, tensor: tf.ones([2]) }, 7], new TypeError("simdopt: applyGradients entry 1 must be { name, tensor }, got 7")],
      [[null], new TypeError("simdopt: applyGradients entry 0 must be { name, tensor }, got null")],
      [[function named() {}], new TypeError("simdopt: applyGradients entry 0 must be { name, tensor }, got function named")],
      [[{ name: 3, tensor: tf.ones([2]) }], new TypeError("simdopt: applyGradients entry 0 must be { name, tensor }, got [object Object]")],
      [{ [a.name]: tf.ones([2]), nope: tf.ones([1]) }, new RangeError(`${at("nope")} is not a variable registered with tfjs`)],
      [[{ name: a.name, tensor: tf.ones([2]) }, { name: a.name, tensor: tf.ones([2]) }], new RangeError(`${at(a.name)} is named twice`)],
      [{ [a.name]: [1, 2] }, new TypeError(`${at(a.name)}: the gradient must be a tensor, got an array`)],
      [{ [a.name]: { shape: [2], dataId: 5 } }, new TypeError(`${at(a.name)}: the gradient must be a tensor, got [object Object]`)],
      [{ [a.name]: tf.ones([2], "int32") }, new TypeError(`${at(a.name)} and its gradient must be float32, got float32 and int32`)],
      [{ [a.name]: tf.ones([1, 2]) }, new RangeError(`${at(a.name)}: the gradient has shape [1,2], the variable [2]`)],
      [{ [b.name]: tf.ones([3]), [a.name]: tf.ones([3]) }, new RangeError(`${at(a.name)}: the gradient has shape [3], the variable [2]`)],
    ];
    for (const [input, error] of bad) expect(() => opt.applyGradients(input as never)).toThrow(error);
    const intVar = tf.variable(tf.tensor([1, 2], [2], "int32"), true, `${a.name}_int`);
    expect(() => opt.applyGradients({ [intVar.name]: tf.ones([2]) })).toThrow(new TypeError(`${at(intVar.name)} and its gradient must be float32, got int32 and float32`));
    // Nothing joined, nothing moved.
    expect(opt.parameterOf(a)).toBe(undefined);
    expect(opt.iterations).toBe(0);
    expect(Array.from(a.dataSync())).toEqual([1, 2]);
    // Entries without a gradient are skipped, as tfjs does.
    opt.applyGradients({ [a.name]: tf.ones([2]), [b.name]: null } as never);
    opt.applyGradients([{ name: b.name, tensor: undefined }, { name: a.name, tensor: tf.ones([2]) }] as never);
    expect(Array.from(a.dataSync())).toEqual([0, 1]);
    expect(Array.from(b.dataSync())).toEqual([3, 4, 5]);
    expect(opt.parameterOf(b)).toBe(undefined);
    expect(opt.iterations).toBe(2);
    opt.dispose();
    expect(() => opt.applyGradients({ [a.name]: tf.ones([2]) })).toThrow(new TypeError("simdopt: this tfjs optimizer has been disposed"));
    [a, b, intVar].forEach((v) => v.dispose());
  });
});

describe("setWeights", () => {
  it("checks the entries: iter first, then <variable>/<state> tensors of simdopt's kinds", async () => {
    const opt = tfOptimizer(tf, AdamW, { lr: 0.1 });
    const iter = () => ({ name: "iter", tensor: tf.scalar(3, "int32") });
    const expectBad = (weights: unknown, error: Error) => expect(opt.setWeights(weights as never)).rejects.toThrow(error);
    const first = "simdopt: setWeights expects the array getWeights() returned (iter first)";
    await expectBad([], new TypeError(first));
    await expectBad({}, new TypeError(first));
    await expectBad([iter(), 5], new TypeError("simdopt: setWeights entry 1 must be { name, tensor }"));
    await expectBad([null], new TypeError("simdopt: setWeights entry 0 must be { name, tensor }"));
    await expectBad([{ name: 1, tensor: tf.scalar(1) }], new TypeError("simdopt: setWeights entry 0 must be { name, tensor }"));
    await expectBad([{ name: "iter", tensor: {} }], new TypeError("simdopt: setWeights entry 0 must be { name, tensor }"));
    await expectBad([{ name: "iter" }], new TypeError("simdopt: setWeights entry 0 must be { name, tensor }"));
    for (const [count, shown] of [[tf.scalar(-1, "int32"), "-1"], [tf.scalar(1.5), "1.5"], [tf.tensor([], [0]), "undefined"]] as const) {
      await expectBad([{ name: "iter", tensor: count }], new RangeError(`simdopt: setWeights entry 0 must be the iteration count, got ${shown}`));
    }
    await expectBad([iter(), { name: "expAvg", tensor: tf.ones([2]) }], new RangeError(`simdopt: setWeights entry "expAvg" is not "<variable>/<state>"`));
    await expectBad([iter(), { name: "/expAvg", tensor: tf.ones([2]) }], new RangeError(`simdopt: setWeights entry "/expAvg" is not "<variable>/<state>"`));
    await expectBad([iter(), { name: "x/m", tensor: tf.tensor([1, 0], [2], "bool") }], new TypeError(`simdopt: setWeights entry "x/m" (bool, 2 values) is not simdopt optimizer state`));
    await expectBad([iter(), { name: "x/m", tensor: tf.tensor([1, 2, 3], [3], "int32") }], new TypeError(`simdopt: setWeights entry "x/m" (int32, 3 values) is not simdopt optimizer state`));
    await expectBad([iter(), { name: "x/expAvg", tensor: tf.ones([2]) }], new RangeError(`simdopt: setWeights has no "x/step" entry`));
    await expectBad([iter(), { name: "x/step", tensor: tf.scalar(1, "int32") }, { name: "x/count", tensor: tf.scalar(5, "int32") }],
      new TypeError(`simdopt: setWeights entry "x/count" (int32, 1 values) is not simdopt optimizer state`));
    await expectBad([iter(), { name: "x/step", tensor: tf.tensor([1, 2], [2], "int32") }], new RangeError(`simdopt: setWeights has no "x/step" entry`));
    await expectBad([iter(), { name: "x/step", tensor: tf.scalar(-2, "int32") }], new RangeError(`simdopt: setWeights has no "x/step" entry`));
    // A step held as float32 is a buffer named "step", and the step itself is then missing.
    await expectBad([iter(), { name: "x/step", tensor: tf.scalar(2) }], new RangeError(`simdopt: setWeights has no "x/step" entry`));
    expect(opt.iterations).toBe(0);
    // The last "/" splits: a variable name may hold slashes.
    await opt.setWeights([iter(), { name: "dense/kernel/step", tensor: tf.scalar(0, "int32") }]);
    expect(opt.iterations).toBe(3);
    await opt.setWeights([{ name: "iter", tensor: tf.scalar(0, "int32") }]);
    expect(opt.iterations).toBe(0);
    opt.dispose();
  });
});
