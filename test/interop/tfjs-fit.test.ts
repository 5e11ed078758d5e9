// simdopt/tfjs with tfjs-layers: model.fit with scheduler callbacks, optimizer state through
// getWeights/setWeights and model.save/loadLayersModel, and bad input.
import { beforeAll, describe, expect, it } from "vitest";
import { AdamW, ExponentialLR, NAdam, ReduceLROnPlateau, SGD } from "../../src/index.js";
import { registerTfOptimizers, tfOptimizer, tfSchedulerCallback } from "../../src/interop/tfjs.js";
import { BACKENDS, loadTf, useBackend, variable } from "./tfjs-setup.js";

type Tf = Awaited<ReturnType<typeof loadTf>>;
let tf: Tf;
beforeAll(async () => {
  tf = await loadTf();
});

function makeModel(tfjs: Tf) {
  const model = tfjs.sequential({
    layers: [
      tfjs.layers.dense({ units: 6, inputShape: [4], activation: "tanh", kernelInitializer: tfjs.initializers.glorotUniform({ seed: 1 }) }),
      tfjs.layers.dense({ units: 1, kernelInitializer: tfjs.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
  return model;
}

function data(tfjs: Tf) {
  const x = tfjs.tensor2d(Array.from({ length: 32 * 4 }, (_, i) => Math.sin(i * 0.37)), [32, 4]);
  const y = tfjs.tensor2d(Array.from({ length: 32 }, (_, i) => Math.cos(i * 0.11)), [32, 1]);
  return { x, y };
}

const bits = (values: ArrayLike<number>) => Array.from(new Uint32Array(Float32Array.from(values).buffer));

async function weightBits(model: { getWeights(): Array<{ data(): Promise<ArrayLike<number>> }> }) {
  return Promise.all(model.getWeights().map(async (w) => bits(await w.data())));
}

describe.each(BACKENDS)("model.fit on tfjs-backend-%s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it("tfSchedulerCallback steps per batch and per epoch", async () => {
    const { x, y } = data(tf);
    for (const per of ["batch", "epoch"] as const) {
      const model = makeModel(tf);
      const opt = tfOptimizer(tf, AdamW, { lr: 0.01 }, { noDecay: /bias/, clipGradNorm: 1 });
      const sched = new ExponentialLR(opt.simdopt, { gamma: 0.5 });
      model.compile({ optimizer: opt, loss: "meanSquaredError" });
      const history = await model.fit(x, y, { epochs: 2, batchSize: 8, shuffle: false, verbose: 0, callbacks: [tfSchedulerCallback(sched, { per })] });
      const steps = per === "batch" ? 8 : 2;
      expect(opt.simdopt.paramGroups.map((g) => g.lr)).toEqual([0.01 * 0.5 ** steps, 0.01 * 0.5 ** steps]);
      expect(opt.iterations).toBe(8);
      expect(history.history.loss!.every((loss) => Number.isFinite(loss as number))).toBe(true);
      // kernel, kernel → group 0; bias, bias → group 1
      expect(opt.simdopt.paramGroups.map((g) => g.params.length)).toEqual([2, 2]);
      model.dispose();
      opt.dispose();
    }
    tf.dispose([x, y]);
  });

  it("model.save with includeOptimizer and loadLayersModel resume bit-identically", async () => {
    const { x, y } = data(tf);
    const model = makeModel(tf);
    const opt = tfOptimizer(tf, NAdam, { lr: 0.01 }, { noDecay: /bias/ });   // NAdam: float64 scalar state too
    model.compile({ optimizer: opt, loss: "meanSquaredError" });
    const fit = (m: typeof model) => m.fit(x, y, { epochs: 1, batchSize: 8, shuffle: false, verbose: 0 });
    await fit(model);
    let saved: import("@tensorflow/tfjs").io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }), { includeOptimizer: true });
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    expect(loaded.optimizer.getClassName()).toBe("simdopt.NAdam");
    await fit(model);
    await fit(loaded);
    expect(await weightBits(loaded)).toEqual(await weightBits(model));
    model.dispose();
    loaded.dispose();
    opt.dispose();
    loaded.optimizer.dispose();
    tf.dispose([x, y]);
  });
});

describe("optimizer state and callbacks", () => {
  beforeAll(async () => {
    await useBackend("cpu");
  });

  it("getWeights/setWeights: tfjs naming (iter first), and a resume is bit-identical, joined or not", async () => {
    const values = [0.5, -1, 2];
    const run = (opt: ReturnType<typeof tfOptimizer>, v: import("@tensorflow/tfjs").Variable, steps: number) => {
      for (let t = 0; t < steps; t++) opt.minimize(() => tf.sum(tf.mul(tf.square(v), tf.tensor([1, 2, 3]))) as import("@tensorflow/tfjs").Scalar);
    };
    const v = variable(values, [3], "w");
    const a = tfOptimizer(tf, AdamW, { lr: 0.05, amsgrad: true });
    run(a, v, 4);
    const weights = await a.getWeights();
    expect(weights.map((w) => w.name)).toEqual(["iter", "step", "firstMoment", "secondMoment", "maxSecondMoment"].map((n, i) => (i === 0 ? n : `${v.name}/${n}`)));
    expect(weights[0]!.tensor.dtype).toBe("int32");
    const snapshot = Array.from(v.dataSync());
    run(a, v, 3);
    const expected = bits(v.dataSync());

    // A fresh optimizer whose variable has not joined yet: the state waits for it.
    const w1 = variable(snapshot, [3], "w");
    const b = tfOptimizer(tf, AdamW, { lr: 0.05, amsgrad: true });
    await b.setWeights(weights);
    expect(b.iterations).toBe(4);
    run(b, w1, 3);
    expect(bits(w1.dataSync())).toEqual(expected);

    // One whose variable has joined: the state is replaced at once.
    const w2 = variable(snapshot, [3], "w");
    const c = tfOptimizer(tf, AdamW, { lr: 0.05, amsgrad: true });
    run(c, w2, 1);
    w2.assign(tf.tensor(snapshot));
    await c.setWeights(weights);
    run(c, w2, 3);
    expect(bits(w2.dataSync())).toEqual(expected);
    for (const o of [a, b, c]) o.dispose();
    tf.dispose([v, w1, w2]);
  });

  it("ReduceLROnPlateau steps once per epoch on val_loss (default), loss, or the named monitor", async () => {
    const opt = tfOptimizer(tf, SGD, { lr: 1 });
    const sched = new ReduceLROnPlateau(opt.simdopt, { patience: 0, factor: 0.5 });
    const callback = tfSchedulerCallback(sched);
    expect(callback.onBatchEnd).toBeUndefined();
    await callback.onEpochEnd!(0, { loss: 5, val_loss: 1 });
    await callback.onEpochEnd!(1, { loss: 0.1, val_loss: 2 });   // val_loss worse: lr halves
    expect(opt.simdopt.paramGroups[0]!.lr).toBe(0.5);
    await callback.onEpochEnd!(2, { loss: 0.1 });   // no val_loss: loss (0.1) is the first metric below 1
    expect(opt.simdopt.paramGroups[0]!.lr).toBe(0.5);
    const byAcc = tfSchedulerCallback(new ReduceLROnPlateau(opt.simdopt, { mode: "max", patience: 0, factor: 0.5 }), { monitor: "acc" });
    await byAcc.onEpochEnd!(0, { loss: 1, acc: 0.9 });
    await byAcc.onEpochEnd!(1, { loss: 0.5, acc: 0.8 });
    expect(opt.simdopt.paramGroups[0]!.lr).toBe(0.25);
    await expect(byAcc.onEpochEnd!(2, { loss: 1 })).rejects.toThrow(RangeError);

    // Through model.fit: a loss that keeps falling under mode "max" counts as no improvement.
    const { x, y } = data(tf);
    const model = makeModel(tf);
    const fitOpt = tfOptimizer(tf, SGD, { lr: 0.01 });
    model.compile({ optimizer: fitOpt, loss: "meanSquaredError" });
    const plateau = new ReduceLROnPlateau(fitOpt.simdopt, { mode: "max", patience: 0, factor: 0.5 });
    await model.fit(x, y, { epochs: 3, batchSize: 32, verbose: 0, callbacks: [tfSchedulerCallback(plateau, { monitor: "loss" })] });
    expect(fitOpt.simdopt.paramGroups[0]!.lr).toBe(0.0025);
    model.dispose();
    fitOpt.dispose();
    opt.dispose();
    tf.dispose([x, y]);
  });
});

describe("bad input throws a named error and changes nothing", () => {
  beforeAll(async () => {
    await useBackend("cpu");
  });

  it("tfOptimizer arguments", () => {
    expect(() => tfOptimizer({} as never, AdamW)).toThrow(TypeError);
    expect(() => tfOptimizer({} as never, AdamW)).toThrow(/TensorFlow.js namespace/);
    expect(() => tfOptimizer(tf, tf.AdamOptimizer as never)).toThrow(/simdopt optimizer class/);
    expect(() => tfOptimizer(tf, class {} as never)).toThrow(TypeError);
    expect(() => tfOptimizer(tf, AdamW, {}, { nodecay: /b/ } as never)).toThrow(/did you mean "noDecay"/);
    expect(() => tfOptimizer(tf, AdamW, {}, { clipGradNorm: -1 })).toThrow(RangeError);
    expect(() => tfOptimizer(tf, AdamW, {}, { noDecay: "bias" as never })).toThrow(TypeError);
    expect(() => tfOptimizer(tf, AdamW, { lr: -1 })).toThrow(RangeError);
    expect(() => tfSchedulerCallback(null as never)).toThrow(TypeError);
    const opt = tfOptimizer(tf, SGD, { lr: 1 });
    expect(() => tfSchedulerCallback(new ExponentialLR(opt.simdopt, { gamma: 0.5 }), { per: "step" as never })).toThrow(RangeError);
    expect(() => tfSchedulerCallback(new ReduceLROnPlateau(opt.simdopt), { per: "batch" })).toThrow(RangeError);
    expect(() => tfSchedulerCallback(new ExponentialLR(opt.simdopt, { gamma: 0.5 }), { every: 1 } as never)).toThrow(TypeError);
    opt.dispose();
  });

  it("a gradient of the wrong shape, an unknown variable, a bad entry: nothing steps", () => {
    const opt = tfOptimizer(tf, SGD, { lr: 1, momentum: 0.9 });
    const a = variable([1, 2], [2]);
    const b = variable([3], [1]);
    opt.applyGradients({ [a.name]: tf.tensor([1, 1]), [b.name]: tf.tensor([1]) });
    const before = { a: Array.from(a.dataSync()), b: Array.from(b.dataSync()), state: opt.simdopt.stateDict() };
    expect(() => opt.applyGradients({ [a.name]: tf.tensor([1, 1]), [b.name]: tf.tensor([1, 1]) })).toThrow(RangeError);
    expect(() => opt.applyGradients({ [a.name]: tf.tensor([1, 1]), nope: tf.tensor([1]) })).toThrow(/"nope" is not a variable registered/);
    expect(() => opt.applyGradients([{ name: a.name, tensor: tf.tensor([1, 1]) }, 7] as never)).toThrow(TypeError);
    expect(() => opt.applyGradients({ [a.name]: tf.tensor([1, 1], [2], "int32") })).toThrow(TypeError);
    const fresh = variable([0], [1]);
    expect(() => opt.applyGradients({ [fresh.name]: tf.tensor([1]), [a.name]: tf.tensor([1]) })).toThrow(RangeError);
    expect(opt.parameterOf(fresh)).toBeUndefined();
    expect(Array.from(a.dataSync())).toEqual(before.a);
    expect(Array.from(b.dataSync())).toEqual(before.b);
    expect(opt.simdopt.stateDict()).toEqual(before.state);
    expect(opt.iterations).toBe(1);
    opt.dispose();
    tf.dispose([a, b, fresh]);
  });

  it("setWeights with state of the wrong size or not simdopt's", async () => {
    const opt = tfOptimizer(tf, AdamW, { lr: 0.1 });
    const v = variable([1, 2], [2]);
    opt.applyGradients({ [v.name]: tf.tensor([1, 1]) });
    const before = opt.simdopt.stateDict();
    await expect(opt.setWeights([{ name: "iter", tensor: tf.scalar(3, "int32") }, { name: "x/step", tensor: tf.scalar(3, "int32") },
      { name: "x/expAvg", tensor: tf.tensor([1, 2, 3]) }])).rejects.toThrow(RangeError);
    await expect(opt.setWeights([{ name: "iter", tensor: tf.scalar(3, "int32") }, { name: "x/m", tensor: tf.tensor([1, 2], [2], "bool") }])).rejects.toThrow(TypeError);
    await expect(opt.setWeights([{ name: "iter", tensor: tf.scalar(3, "int32") }, { name: "x/expAvg", tensor: tf.tensor([1, 2]) }])).rejects.toThrow(/no "x\/step"/);
    expect(opt.simdopt.stateDict()).toEqual(before);
    expect(opt.iterations).toBe(1);
    // State waiting for a variable that has not joined yet must fit it, or the variable stays out.
    const fresh = tfOptimizer(tf, AdamW, { lr: 0.1 });
    await fresh.setWeights([{ name: "iter", tensor: tf.scalar(3, "int32") }, { name: "x/step", tensor: tf.scalar(3, "int32") },
      { name: "x/firstMoment", tensor: tf.tensor([1, 2, 3]) }]);
    expect(() => fresh.applyGradients({ [v.name]: tf.tensor([1, 1]) })).toThrow(RangeError);
    expect(fresh.parameterOf(v)).toBeUndefined();
    expect(Array.from(v.dataSync())).toEqual(Array.from(opt.parameterOf(v)!.data));
    fresh.dispose();
    registerTfOptimizers(tf);
    expect(() => registerTfOptimizers({} as never)).toThrow(TypeError);
    opt.dispose();
    v.dispose();
  });
});
