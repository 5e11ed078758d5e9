// Schedulers driving simdopt's real optimizers: two groups with different base lrs, the lr (and
// momentum / beta1) the optimizer actually uses each step, and resuming both from state dicts.
import { beforeAll, describe, expect, it } from "vitest";
import {
  Adam, CosineAnnealingLR, CyclicLR, ExponentialLR, init, LinearLR, OneCycleLR, parameter, ReduceLROnPlateau,
  SequentialLR, SGD, type Parameter,
} from "../../src/index.js";
import { expectSequenceClose } from "./helpers.js";

beforeAll(async () => {
  await init();
});

function twoParams(): [Parameter, Parameter] {
  return [parameter([3], { init: [1, -2, 0.5] }), parameter([3], { init: [0.25, 0.75, -1] })];
}

const GRAD_W = [0.5, -1, 2];
const GRAD_B = [1, 0.25, -0.5];

function setGrads(w: Parameter, b: Parameter): void {
  w.grad.set(GRAD_W);
  b.grad.set(GRAD_B);
}

describe("schedulers driving real optimizers", () => {
  it("SequentialLR warm-up + cosine sets the lr plain SGD uses, per group", () => {
    const [w, b] = twoParams();
    const opt = new SGD([{ params: [w], lr: 0.1 }, { params: [b], lr: 0.02 }]);
    const scheduler = new SequentialLR(opt, {
      schedulers: [new LinearLR(opt, { startFactor: 0.1, totalIters: 5 }), new CosineAnnealingLR(opt, { tMax: 45 })],
      milestones: [5],
    });
    const expectedW = Float64Array.from(w.data);
    const expectedB = Float64Array.from(b.data);
    const lrs: number[][] = [];
    for (let t = 0; t < 50; t++) {
      const lr = opt.paramGroups.map((g) => g.lr);
      lrs.push(lr);
      setGrads(w, b);
      opt.step();
      for (let i = 0; i < 3; i++) {
        expectedW[i] = Math.fround(expectedW[i]! - lr[0]! * GRAD_W[i]!);
        expectedB[i] = Math.fround(expectedB[i]! - lr[1]! * GRAD_B[i]!);
      }
      scheduler.step();
    }
    const closed = (base: number, t: number) => (t < 5 ? base * (0.1 + 0.9 * t / 5) : base * (1 + Math.cos(Math.PI * (t - 5) / 45)) / 2);
    expectSequenceClose(lrs, lrs.map((_, t) => [closed(0.1, t), closed(0.02, t)]));
    for (let i = 0; i < 3; i++) {
      expect(w.data[i]).toBeCloseTo(expectedW[i]!, 5);
      expect(b.data[i]).toBeCloseTo(expectedB[i]!, 5);
    }
    w.dispose();
    b.dispose();
  });

  it("OneCycleLR cycles SGD's momentum; the optimizer accepts every value and applies it", () => {
    const [w, b] = twoParams();
    const opt = new SGD([{ params: [w], lr: 0.1 }, { params: [b], lr: 0.02 }], { momentum: 0.9 });
    const totalSteps = 40;
    const scheduler = new OneCycleLR(opt, { maxLr: [0.1, 0.02], totalSteps });
    const reference = [Float64Array.from(w.data), Float64Array.from(b.data)];
    const buffers: Array<Float64Array | null> = [null, null];
    const grads = [GRAD_W, GRAD_B];
    const momenta: number[] = [];
    for (let t = 0; t < totalSteps; t++) {
      setGrads(w, b);
      const groups = opt.paramGroups.map((g) => ({ lr: g.lr, momentum: g.momentum }));
      momenta.push(groups[0]!.momentum);
      opt.step();
      groups.forEach(({ lr, momentum }, g) => {
        // PyTorch's SGD: buf ← g on the first step, then buf ← momentum·buf + g; p ← p − lr·buf.
        const buf = buffers[g] ?? (buffers[g] = Float64Array.from(grads[g]!));
        if (t > 0) for (let i = 0; i < 3; i++) buf[i] = momentum * buf[i]! + grads[g]![i]!;
        for (let i = 0; i < 3; i++) reference[g]![i] = reference[g]![i]! - lr * buf[i]!;
      });
      scheduler.step();
    }
    expect(Math.max(...momenta)).toBeCloseTo(0.95, 12);
    expect(Math.min(...momenta)).toBeLessThan(0.851);
    expect(momenta[0]).toBe(0.95);
    for (let i = 0; i < 3; i++) {
      expect(w.data[i]).toBeCloseTo(reference[0]![i]!, 4);
      expect(b.data[i]).toBeCloseTo(reference[1]![i]!, 4);
    }
    expect(() => scheduler.step()).toThrow(RangeError);
    w.dispose();
    b.dispose();
  });

  it("OneCycleLR cycles Adam's beta1 (a new betas array each step, beta2 kept) and resumes from state dicts", () => {
    const [w, b] = twoParams();
    const opt = new Adam([{ params: [w], lr: 1e-3 }, { params: [b], lr: 1e-2 }], { betas: [0.9, 0.98] });
    const scheduler = new OneCycleLR(opt, { maxLr: [1e-3, 1e-2], totalSteps: 30, threePhase: true });
    expect(opt.paramGroups.map((g) => g.betas)).toEqual([[0.95, 0.98], [0.95, 0.98]]);
    const seen = new Set<unknown>();
    let optState: ReturnType<Adam["stateDict"]> | null = null;
    let schedState: ReturnType<OneCycleLR["stateDict"]> | null = null;
    const trajectory: number[][] = [];
    for (let t = 0; t < 30; t++) {
      setGrads(w, b);
      opt.step();
      scheduler.step();
      seen.add(opt.paramGroups[0]!.betas);
      expect(opt.paramGroups[0]!.betas[1]).toBe(0.98);
      trajectory.push([opt.paramGroups[0]!.lr, opt.paramGroups[0]!.betas[0], opt.paramGroups[1]!.lr, ...w.data, ...b.data]);
      if (t === 11) {
        optState = structuredClone(opt.stateDict());
        schedState = structuredClone(scheduler.stateDict());
      }
    }
    expect(seen.size).toBe(30);

    // Resume at step 12 into a fresh optimizer + scheduler (PyTorch order: build, load optimizer, load scheduler).
    const [w2, b2] = twoParams();
    const opt2 = new Adam([{ params: [w2], lr: 1e-3 }, { params: [b2], lr: 1e-2 }], { betas: [0.9, 0.98] });
    const scheduler2 = new OneCycleLR(opt2, { maxLr: [1e-3, 1e-2], totalSteps: 30, threePhase: true });
    opt2.loadStateDict(optState!);
    scheduler2.loadStateDict(schedState!);
    w2.data.set(trajectory[11]!.slice(3, 6));
    b2.data.set(trajectory[11]!.slice(6, 9));
    for (let t = 12; t < 30; t++) {
      setGrads(w2, b2);
      opt2.step();
      scheduler2.step();
      expect([opt2.paramGroups[0]!.lr, opt2.paramGroups[0]!.betas[0], opt2.paramGroups[1]!.lr, ...w2.data, ...b2.data]).toEqual(trajectory[t]);
    }
    for (const p of [w, b, w2, b2]) p.dispose();
  });

  it("CyclicLR cycles SGD's momentum by default; ExponentialLR and ReduceLROnPlateau drive Adam", () => {
    const [w, b] = twoParams();
    const sgd = new SGD([{ params: [w], lr: 0.1 }, { params: [b], lr: 0.02 }], { momentum: 0.5 });
    const cyclic = new CyclicLR(sgd, { baseLr: [0.01, 0.002], maxLr: [0.1, 0.02], stepSizeUp: 4 });
    for (let t = 0; t < 20; t++) {
      setGrads(w, b);
      sgd.step();
      cyclic.step();
    }
    // 20 steps = 2.5 cycles of 8: at the peak of the third cycle.
    expectSequenceClose([sgd.paramGroups.map((g) => g.lr), sgd.paramGroups.map((g) => g.momentum)], [[0.1, 0.02], [0.8, 0.8]]);

    const adam = new Adam([{ params: [w], lr: 1e-3 }, { params: [b], lr: 4e-3 }]);
    const exponential = new ExponentialLR(adam, { gamma: 0.9 });
    const plateau = new ReduceLROnPlateau(adam, { patience: 1, factor: 0.5 });
    for (let t = 1; t <= 6; t++) {
      setGrads(w, b);
      adam.step();
      exponential.step();
      plateau.step(1); // never improves after the first: halves every second step
    }
    expectSequenceClose([adam.paramGroups.map((g) => g.lr)], [[1e-3 * 0.9 ** 6 * 0.5 ** 2, 4e-3 * 0.9 ** 6 * 0.5 ** 2]]);
    w.dispose();
    b.dispose();
  });
});
