import { beforeAll, describe, expect, it } from "vitest";
import { init, parameter, SGD, Adagrad, type Parameter } from "../../src/index.js";
import {
  PROXIMAL_MISTAKES, ProximalAdagradReference, ProximalSGDReference, type Active, type ProximalMistake,
} from "../reference/proximal.js";
import { maxRelativeError, randomArray, seededRandom } from "../reference/random.js";

beforeAll(async () => {
  await init();
});

const ROWS = 7;
const COLS = 13;
const STEPS = 60;

interface Run { param: Parameter; grads: Float64Array[] }

/** Gradients with a per-element bias: elements whose |bias| < l1 are driven to exactly 0. */
function makeRun(seed: number): Run {
  const random = seededRandom(seed);
  const size = ROWS * COLS;
  const bias = randomArray(random, size, 0.3);
  const grads = Array.from({ length: STEPS }, () => {
    const noise = randomArray(random, size, 0.05);
    return noise.map((v, i) => v + bias[i]!);
  });
  return { param: parameter([ROWS, COLS], { init: Array.from(randomArray(random, size, 1)) }), grads };
}

type Mode = "dense" | "mask" | "rows";
const MASK = Uint8Array.from({ length: ROWS * COLS }, (_, i) => (i * 7) % 3 === 0 ? 0 : 1);
const ROW_LIST = Int32Array.from([5, 0, 3]);
const maskActive: Active = (i) => MASK[i] !== 0;
const rowsActive: Active = (i) => ROW_LIST.includes(Math.floor(i / COLS));

interface StepsReference { param: Float64Array; step(grad: ArrayLike<number>, active?: Active, stateActive?: Active): void }

function drive(optimizer: SGD | Adagrad, run: Run, reference: StepsReference, mode: Mode): void {
  for (const grad of run.grads) {
    run.param.grad.set(grad);
    if (mode === "dense") {
      optimizer.step();
      reference.step(run.param.grad);
    } else if (mode === "mask") {
      optimizer.step({ mask: new Map([[run.param, MASK]]) });
      reference.step(run.param.grad, maskActive);
    } else {
      optimizer.step({ rows: new Map([[run.param, ROW_LIST]]) });
      reference.step(run.param.grad, rowsActive, rowsActive);
    }
  }
}

function zeros(values: ArrayLike<number>): number {
  let count = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === 0) count++;
  return count;
}

const CASES: { name: string; make: (p: Parameter) => SGD | Adagrad; reference: (p: Float64Array, mistake: ProximalMistake) => StepsReference; mistakes: readonly ProximalMistake[] }[] = [
  {
    name: "SGD",
    make: (p) => new SGD([p], { lr: 0.05, l1: 0.1, weightDecay: 0.01 }),
    reference: (p, mistake) => new ProximalSGDReference(p, { lr: 0.05, momentum: 0, weightDecay: 0.01, l1: 0.1 }, mistake),
    mistakes: PROXIMAL_MISTAKES.SGD,
  },
  {
    name: "SGD with momentum",
    make: (p) => new SGD([p], { lr: 0.02, momentum: 0.9, l1: 2 }),
    reference: (p, mistake) => new ProximalSGDReference(p, { lr: 0.02, momentum: 0.9, weightDecay: 0, l1: 2 }, mistake),
    mistakes: PROXIMAL_MISTAKES.SGD,
  },
  {
    name: "Adagrad",
    make: (p) => new Adagrad([p], { lr: 0.1, l1: 0.15, initialAccumulatorValue: 0.1 }),
    reference: (p, mistake) => new ProximalAdagradReference(p, { lr: 0.1, eps: 1e-10, initialAccumulatorValue: 0.1, l1: 0.15 }, mistake),
    mistakes: PROXIMAL_MISTAKES.Adagrad,
  },
];

describe("l1 (proximal) option on SGD and Adagrad", () => {
  for (const c of CASES) {
    for (const mode of ["dense", "mask", "rows"] as Mode[]) {
      it(`${c.name}, ${mode}: matches the float64 proximal step and reaches exact zeros`, () => {
        const run = makeRun(11);
        const initial = run.param.data.slice();
        const reference = c.reference(Float64Array.from(initial), "none");
        const optimizer = c.make(run.param);
        drive(optimizer, run, reference, mode);
        const { error, index } = maxRelativeError(run.param.data, reference.param, 1e-2);
        // Momentum carries float32 rounding from step to step: a looser bound there.
        expect(error, `element ${index}`).toBeLessThan(c.name.includes("momentum") ? 1e-4 : 2e-5);
        // Where the reference is exactly 0, so is the kernel (well inside the threshold).
        const refZeros = zeros(reference.param);
        expect(refZeros).toBeGreaterThan(mode === "rows" ? 2 : 5);
        expect(zeros(run.param.data)).toBeGreaterThanOrEqual(refZeros - 1);
        // Elements a step does not update keep their values, zero or not.
        const active = mode === "mask" ? maskActive : mode === "rows" ? rowsActive : () => true;
        for (let i = 0; i < initial.length; i++) if (!active(i)) expect(run.param.data[i]).toBe(initial[i]);
        optimizer.dispose();
        run.param.dispose();
      });
    }
    for (const mistake of c.mistakes) {
      it(`${c.name}: the wrong variant "${mistake}" does not match`, () => {
        const run = makeRun(12);
        const reference = c.reference(Float64Array.from(run.param.data), mistake);
        const optimizer = c.make(run.param);
        drive(optimizer, run, reference, "dense");
        expect(maxRelativeError(run.param.data, reference.param, 1e-2).error).toBeGreaterThan(1e-3);
        optimizer.dispose();
        run.param.dispose();
      });
    }
  }

  it("l1 = 0 is bit-identical to the plain optimizers, and l1 is live per group", () => {
    for (const Optim of [SGD, Adagrad]) {
      const a = makeRun(13);
      const b = makeRun(13);
      const plain = new Optim([a.param], { lr: 0.05 });
      const zero = new Optim([b.param], { lr: 0.05, l1: 0 });
      for (const grad of a.grads) {
        a.param.grad.set(grad);
        b.param.grad.set(grad);
        plain.step();
        zero.step();
      }
      expect(Array.from(b.param.data)).toEqual(Array.from(a.param.data));
      expect(zeros(a.param.data)).toBe(0);
      zero.paramGroups[0]!.l1 = 1000;
      zero.step();
      expect(zeros(b.param.data)).toBe(b.param.size);
      for (const x of [a, b]) x.param.dispose();
    }
  });

  it("rejects a bad l1", () => {
    const p = parameter([3]);
    expect(() => new SGD([p], { l1: -1 })).toThrow(/l1 must be/);
    expect(() => new Adagrad([p], { l1: Number.NaN })).toThrow(TypeError);
    expect(() => new SGD([p], { L1: 0.1 } as never)).toThrow(/did you mean "l1"/);
    const sgd = new SGD([p], { lr: 0.1 });
    sgd.paramGroups[0]!.l1 = -0.5;
    p.data.fill(1);
    p.grad.fill(1);
    expect(() => sgd.step()).toThrow(/paramGroups\[0\]\.l1 must be/);
    expect(Array.from(p.data)).toEqual([1, 1, 1]);
    p.dispose();
  });
});
