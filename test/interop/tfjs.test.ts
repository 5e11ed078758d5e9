// simdopt/tfjs driven through optimizer.minimize / applyGradients on the cpu and wasm backends,
// against float64 references; joining, groups, clipping, outside assignment, leaks, disposal.
import { readdirSync, readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import * as simdopt from "../../src/index.js";
import { Adam, AdamW, clipGradNorm, CosineAnnealingLR, Optimizer, parameter, SGD } from "../../src/index.js";
import { tfOptimizer } from "../../src/interop/tfjs.js";
import { maxRelativeError, randomArray, seededRandom } from "../reference/random.js";
import { AdamReference, SGDReference } from "../reference/sgd-adam.js";
import { BACKENDS, loadTf, useBackend, variable } from "./tfjs-setup.js";

let tf: Awaited<ReturnType<typeof loadTf>>;
beforeAll(async () => {
  tf = await loadTf();
});

const ADAM = { lr: 1e-2, betas: [0.9, 0.999] as [number, number], eps: 1e-8, amsgrad: false, maximize: false };
const SGD_MOMENTUM = { lr: 1e-2, momentum: 0.9, dampening: 0, weightDecay: 1e-3, nesterov: true, maximize: false };

/** A loss, its float64 gradient, and how the reference steps. */
const LOSSES = {
  // f = Σ c·v: a constant gradient c.
  linear: { f: (v: import("@tensorflow/tfjs").Variable, c: Float32Array) => tf.sum(tf.mul(v, tf.tensor(c, v.shape))), grad: (_p: Float64Array, c: Float32Array) => Float64Array.from(c) },
  // f = Σ (v − c)²: gradient 2(v − c), from the reference's own float64 parameters.
  quadratic: { f: (v: import("@tensorflow/tfjs").Variable, c: Float32Array) => tf.sum(tf.square(tf.sub(v, tf.tensor(c, v.shape)))), grad: (p: Float64Array, c: Float32Array) => p.map((x, i) => 2 * (x - c[i]!)) },
};

const CASES = [
  { name: "AdamW", make: () => tfOptimizer(tf, AdamW, { ...ADAM, weightDecay: 0.05 }), reference: (p: Float64Array) => new AdamReference(p, { ...ADAM, weightDecay: 0.05 }, true) },
  { name: "Adam", make: () => tfOptimizer(tf, Adam, { ...ADAM, weightDecay: 0.01 }), reference: (p: Float64Array) => new AdamReference(p, { ...ADAM, weightDecay: 0.01 }, false) },
  { name: "SGD (Nesterov momentum)", make: () => tfOptimizer(tf, SGD, SGD_MOMENTUM), reference: (p: Float64Array) => new SGDReference(p, SGD_MOMENTUM) },
];

describe.each(BACKENDS)("tfOptimizer on tfjs-backend-%s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it("copies in place on this backend (no new tensor, the variable keeps its data)", () => {
    const opt = tfOptimizer(tf, SGD, { lr: 0.5 });
    const v = variable([1, 2, 3], [3]);
    opt.minimize(() => tf.sum(v));        // first write: the variable still shares its initial tensor
    const dataId = v.dataId;
    const tensors = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) opt.minimize(() => tf.sum(v));
    expect(v.dataId).toBe(dataId);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(Array.from(v.dataSync())).toEqual([-1, 0, 1]);
    opt.dispose();
    v.dispose();
  });

  it("kernels that cache packed weights (wasm matMul via XNNPACK) see the values written in place", () => {
    const opt = tfOptimizer(tf, SGD, { lr: 0.5 });
    const x = tf.tensor([[1, 2, 3], [4, 5, 6]]);
    const w = variable(Array.from(randomArray(seededRandom(2), 12)), [3, 4], "kernel");
    const b = variable([0, 0, 0, 0], [4], "bias");
    const forward = () => tf.fused.matMul({ a: x, b: w, bias: b, activation: "relu" });
    for (let t = 0; t < 3; t++) {
      opt.minimize(() => tf.sum(tf.square(tf.matMul(x, w))).add(tf.sum(forward())) as import("@tensorflow/tfjs").Scalar);
      const [plain, fused] = [tf.matMul(x, w), forward()];
      const [wCopy, bCopy] = [tf.tensor(w.dataSync().slice(), [3, 4]), tf.tensor(b.dataSync().slice(), [4])];
      expect(Array.from(plain.dataSync())).toEqual(Array.from(tf.matMul(x, wCopy).dataSync()));
      expect(Array.from(fused.dataSync())).toEqual(Array.from(tf.fused.matMul({ a: x, b: wCopy, bias: bCopy, activation: "relu" }).dataSync()));
    }
    opt.dispose();
    tf.disposeVariables();
  });

  for (const [lossName, loss] of Object.entries(LOSSES)) {
    it.each(CASES)(`$name via minimize on a ${lossName} loss matches the float64 reference`, ({ make, reference: makeReference }) => {
      const random = seededRandom(lossName.length * 7 + 1);
      const initial = Float32Array.from(randomArray(random, 37));
      const target = Float32Array.from(randomArray(random, 37));
      const v = variable(initial, [37]);
      const opt = make();
      const reference = makeReference(Float64Array.from(initial));
      for (let t = 0; t < 30; t++) {
        opt.minimize(() => loss.f(v, target) as import("@tensorflow/tfjs").Scalar);
        reference.step(loss.grad(reference.param, target));
      }
      expect(maxRelativeError(v.dataSync(), reference.param, 1).error).toBeLessThan(1e-5);
      // The variable holds exactly what the simdopt optimizer computed.
      expect(Array.from(v.dataSync())).toEqual(Array.from(opt.parameterOf(v)!.data));
      opt.dispose();
      v.dispose();
    });
  }

  it("a variable assigned between steps is where the next step starts", () => {
    const opt = tfOptimizer(tf, SGD, { lr: 0.25 });
    const v = variable([1, 1], [2]);
    opt.minimize(() => tf.sum(v));
    const replacement = tf.tensor([8, -8]);
    v.assign(replacement);
    opt.minimize(() => tf.sum(v));
    expect(Array.from(v.dataSync())).toEqual([7.75, -8.25]);
    // The caller's tensor, which the variable shared after assign, is left alone.
    expect(Array.from(replacement.dataSync())).toEqual([8, -8]);
    opt.minimize(() => tf.sum(v));
    expect(Array.from(v.dataSync())).toEqual([7.5, -8.5]);
    // A clone taken between steps keeps its value.
    const clone = tf.clone(v);
    opt.minimize(() => tf.sum(v));
    expect(Array.from(clone.dataSync())).toEqual([7.5, -8.5]);
    expect(Array.from(v.dataSync())).toEqual([7.25, -8.75]);
    tf.dispose([replacement, clone, v]);
    opt.dispose();
  });

  it("no tensor leaks from step to step; dispose() frees the Parameters and the state", () => {
    const opt = tfOptimizer(tf, AdamW, { lr: 1e-3 }, { clipGradNorm: 1 });
    const w = variable(Array.from(randomArray(seededRandom(3), 64)), [8, 8], "w");
    const b = variable(new Array(8).fill(0), [8], "b");
    const x = tf.randomNormal([4, 8]);
    const step = () => opt.minimize(() => tf.sum(tf.square(tf.add(tf.matMul(x, w), b))) as import("@tensorflow/tfjs").Scalar);
    step();
    const tensors = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) {
      step();
      expect(tf.memory().numTensors).toBe(tensors);
    }
    const params = [opt.parameterOf(w)!, opt.parameterOf(b)!];
    opt.dispose();
    expect(params.every((p) => p.disposed)).toBe(true);
    expect(() => opt.simdopt.stateDict()).toThrow(/after dispose\(\)/);
    expect(() => step()).toThrow(/disposed/);
    tf.dispose([w, b, x]);
  });
});

describe("the public-API route (WebGL, WebGPU, unknown backends)", () => {
  it("same values as the in-place route, no leaks, and no tensor shares simdopt memory", async () => {
    await useBackend("cpu");
    const unknownBackend = { ...tf, backend: () => ({}) };
    const slow = tfOptimizer(unknownBackend, Adam, { lr: 0.1 });
    const fast = tfOptimizer(tf, Adam, { lr: 0.1 });
    const a = variable([1, -2, 3], [3]);
    const b = variable([1, -2, 3], [3]);
    const loss = (v: import("@tensorflow/tfjs").Variable) => () => tf.sum(tf.square(v)) as import("@tensorflow/tfjs").Scalar;
    slow.minimize(loss(a));
    fast.minimize(loss(b));
    const tensors = tf.memory().numTensors;
    for (let t = 0; t < 4; t++) {
      slow.minimize(loss(a));
      fast.minimize(loss(b));
    }
    expect(tf.memory().numTensors).toBe(tensors);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    // Writing into the Parameters must not reach the variables.
    const before = Array.from(a.dataSync());
    slow.parameterOf(a)!.data.fill(42);
    fast.parameterOf(b)!.data.fill(42);
    expect(Array.from(a.dataSync())).toEqual(before);
    expect(Array.from(b.dataSync())).toEqual(before);
    slow.dispose();
    fast.dispose();
    tf.dispose([a, b]);
  });
});

describe("tfOptimizer groups, clipping, joining", () => {
  beforeAll(async () => {
    await useBackend("cpu");
  });

  it("noDecay: matching variables step in a group with weightDecay 0", () => {
    const opt = tfOptimizer(tf, AdamW, { ...ADAM, weightDecay: 0.1 }, { noDecay: /bias/g });
    expect(opt.simdopt.paramGroups.map((g) => g.weightDecay)).toEqual([0.1, 0]);
    const random = seededRandom(11);
    const kernelInit = Float32Array.from(randomArray(random, 6));
    const biasInit = Float32Array.from(randomArray(random, 3));
    const kernel = variable(kernelInit, [2, 3], "dense/kernel");
    const bias = variable(biasInit, [3], "dense/bias");
    const c = Float32Array.from(randomArray(random, 6));
    const refKernel = new AdamReference(Float64Array.from(kernelInit), { ...ADAM, weightDecay: 0.1 }, true);
    const refBias = new AdamReference(Float64Array.from(biasInit), { ...ADAM, weightDecay: 0 }, true);
    for (let t = 0; t < 10; t++) {
      opt.minimize(() => tf.add(tf.sum(tf.mul(kernel, tf.tensor(c, [2, 3]))), tf.sum(bias)) as import("@tensorflow/tfjs").Scalar);
      refKernel.step(c);
      refBias.step([1, 1, 1]);
    }
    expect(opt.simdopt.paramGroups[0]!.params).toEqual([opt.parameterOf(kernel)]);
    expect(opt.simdopt.paramGroups[1]!.params).toEqual([opt.parameterOf(bias)]);
    expect(maxRelativeError(kernel.dataSync(), refKernel.param, 1).error).toBeLessThan(1e-5);
    expect(maxRelativeError(bias.dataSync(), refBias.param, 1).error).toBeLessThan(1e-5);
    opt.dispose();
    tf.dispose([kernel, bias]);
  });

  it("clipGradNorm clips the global norm of the step's gradients before each step", () => {
    const opt = tfOptimizer(tf, SGD, { lr: 0.1 }, { clipGradNorm: 1 });
    const a = variable([0, 0], [2]);
    const b = variable([0], [1]);
    // Gradients (3, 0) and (4): global norm 5, clipped to (0.6, 0) and (0.8).
    opt.applyGradients([{ name: a.name, tensor: tf.tensor([3, 0]) }, { name: b.name, tensor: tf.tensor([4]) }]);
    const expectedA = Math.fround(-0.1 * Math.fround(3 * Math.fround(1 / (5 + 1e-6))));
    expect(a.dataSync()[0]).toBeCloseTo(expectedA, 7);
    expect(b.dataSync()[0]).toBeCloseTo(-0.08, 6);
    // Same as clipGradNorm on simdopt Parameters.
    const p = parameter([3]);
    p.grad.set([3, 0, 4]);
    clipGradNorm([p], 1);
    expect([opt.parameterOf(a)!.grad[0], opt.parameterOf(b)!.grad[0]]).toEqual([p.grad[0], p.grad[2]]);
    opt.dispose();
    p.dispose();
    tf.dispose([a, b]);
  });

  it("a scheduler built before the first step drives the groups variables join later", () => {
    const opt = tfOptimizer(tf, SGD, { lr: 1 }, { noDecay: /b/ });
    const sched = new CosineAnnealingLR(opt.simdopt, { tMax: 2 });
    sched.step();   // lr = 0.5 before any variable has joined
    const a = variable([0], [1], "a");
    const b = variable([0], [1], "b");
    opt.applyGradients({ [a.name]: tf.tensor([1]), [b.name]: tf.tensor([2]) });
    expect([a.dataSync()[0], b.dataSync()[0]]).toEqual([-0.5, -1]);
    sched.step();   // lr = 0
    opt.applyGradients({ [a.name]: tf.tensor([1]) });
    expect([a.dataSync()[0], b.dataSync()[0]]).toEqual([-0.5, -1]);
    expect(opt.iterations).toBe(2);
    opt.dispose();
    tf.dispose([a, b]);
  });

  it("variables without a gradient in a call keep still (map and array forms)", () => {
    const opt = tfOptimizer(tf, SGD, { lr: 1, momentum: 0.5 });
    const a = variable([0], [1]);
    const b = variable([0], [1]);
    opt.applyGradients([{ name: a.name, tensor: tf.tensor([1]) }, { name: b.name, tensor: tf.tensor([1]) }]);
    opt.applyGradients({ [a.name]: tf.tensor([1]) });
    expect([a.dataSync()[0], b.dataSync()[0]]).toEqual([-2.5, -1]);
    const state = opt.simdopt.stateDict().state;
    expect(state.map((s) => s?.step)).toEqual([2, 1]);
    opt.dispose();
    tf.dispose([a, b]);
  });

  it("every simdopt optimizer steps a variable exactly as it steps a Parameter", () => {
    const classes = Object.values(simdopt).filter((value): value is new (...args: never[]) => Optimizer<object> =>
      typeof value === "function" && value.prototype instanceof Optimizer);
    expect(classes.length).toBeGreaterThanOrEqual(10);
    const random = seededRandom(5);
    for (const OptimizerClass of classes) {
      const initial = Float32Array.from(randomArray(random, 12));
      const grad = Float32Array.from(randomArray(random, 12));
      const v = variable(initial, [3, 4], OptimizerClass.name);
      const adapter = tfOptimizer(tf, OptimizerClass as never);
      const p = parameter([3, 4], { init: initial });
      const direct = new (OptimizerClass as unknown as new (params: unknown) => Optimizer<object>)([p]);
      // ScheduleFreeAdamW starts in eval mode (the adapter's optimizer is made on first use).
      const train = (o: unknown) => (o as { train?: () => void }).train?.();
      train(direct);
      for (let t = 0; t < 3; t++) {
        if (t === 0 && OptimizerClass === simdopt.ScheduleFreeAdamW) {
          expect(() => adapter.applyGradients({ [v.name]: tf.zeros([3, 4]) })).toThrow(/train\(\)/);
          train(adapter.simdopt);
        }
        const g = tf.tensor(grad, [3, 4]);
        adapter.applyGradients({ [v.name]: g });
        g.dispose();
        p.grad.set(grad);
        direct.step();
      }
      expect(Array.from(v.dataSync()), OptimizerClass.name).toEqual(Array.from(p.data));
      adapter.dispose();
      direct.dispose();
      p.dispose();
      v.dispose();
    }
  });

  it("the core entry does not import tfjs or the adapter", () => {
    const dist = new URL("../../dist/", import.meta.url);
    const files = readdirSync(dist, { recursive: true, encoding: "utf8" }).filter((file) => file.endsWith(".js") && !file.startsWith("interop"));
    expect(files).toContain("index.js");
    for (const file of files) expect(readFileSync(new URL(file, dist), "utf8"), file).not.toMatch(/tensorflow|interop\//);
  });
});
