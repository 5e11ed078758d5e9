import { beforeAll, describe, expect, it } from "vitest";
import { init, parameter, Ftrl, type FtrlOptions, type Parameter } from "../../src/index.js";
import { FtrlReference, PROXIMAL_MISTAKES, type Active, type FtrlMistake, type FtrlReferenceOptions } from "../reference/proximal.js";
import { maxRelativeError, randomArray, seededRandom } from "../reference/random.js";

beforeAll(async () => {
  await init();
});

const KERAS_DEFAULTS: FtrlReferenceOptions = { lr: 1e-3, lrPower: -0.5, initialAccumulatorValue: 0.1, l1: 0, l2: 0, l2Shrinkage: 0, beta: 0 };
const ROWS = 9;
const COLS = 11;

/** Gradients with a bias on odd elements only: l1 zeroes the even ones, not the odd ones. */
function gradients(seed: number, steps: number, size: number): Float64Array[] {
  const random = seededRandom(seed);
  const bias = randomArray(random, size, 0.5).map((v, i) => (i % 2 === 1 ? v + Math.sign(v) * 0.3 : 0));
  return Array.from({ length: steps }, () => randomArray(random, size, 0.05).map((v, i) => v + bias[i]!));
}

function zeros(values: ArrayLike<number>): number {
  let count = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === 0) count++;
  return count;
}

function setup(seed: number, options: Partial<FtrlOptions>): { p: Parameter; opt: Ftrl; ref: (mistake?: FtrlMistake) => FtrlReference } {
  const init = Array.from(randomArray(seededRandom(seed), ROWS * COLS, 0.5));
  const p = parameter([ROWS, COLS], { init });
  const opt = new Ftrl([p], options);
  return { p, opt, ref: (mistake) => new FtrlReference(Float64Array.from(p.data), { ...KERAS_DEFAULTS, ...options }, mistake) };
}

const CONFIGS: Partial<FtrlOptions>[] = [
  { lr: 0.1 },
  { lr: 0.1, l1: 0.3 },
  { lr: 0.05, l1: 0.2, l2: 0.5 },
  { lr: 0.1, l2Shrinkage: 0.2, l1: 0.1 },
  { lr: 0.1, beta: 0.5, l2: 0.1 },
  { lr: 0.1, lrPower: 0, l1: 0.2 },
  { lr: 0.1, lrPower: -1, l1: 0.2, l2: 0.1 },
  { lr: 0.1, lrPower: -0.7, initialAccumulatorValue: 0.5, l1: 0.1 },
  { lr: 0.2, initialAccumulatorValue: 0, l1: 0.05, l2: 1e-3 },
];
const MISTAKES: { mistake: FtrlMistake; config: Partial<FtrlOptions> }[] = [
  { mistake: "shrinkageInAccumulator", config: { lr: 0.1, l2Shrinkage: 0.5 } },
  { mistake: "noBeta", config: { lr: 0.1, beta: 1 } },
  { mistake: "sigmaFromNew", config: { lr: 0.1 } },
  { mistake: "l1Subtracted", config: { lr: 0.1, l1: 0.3 } },
];

const TOLERANCE = 2e-5;
const FLOOR = 1e-2;

describe("Ftrl (keras.optimizers.Ftrl)", () => {
  it("has Keras's defaults", () => {
    const p = parameter([2]);
    const opt = new Ftrl([p]);
    expect({ ...opt.defaults }).toEqual(KERAS_DEFAULTS);
    p.dispose();
  });

  for (const config of CONFIGS) {
    it(`dense steps match the float64 Keras algorithm: ${JSON.stringify(config)}`, () => {
      const { p, opt, ref } = setup(1, config);
      const reference = ref();
      for (const grad of gradients(2, 50, p.size)) {
        p.grad.set(grad);
        opt.step();
        reference.step(p.grad);
      }
      const { error, index } = maxRelativeError(p.data, reference.param, FLOOR);
      expect(error, `element ${index}`).toBeLessThan(TOLERANCE);
      expect(maxRelativeError(opt.stateDict().state[0]!.buffers.linear!, reference.linear, FLOOR).error).toBeLessThan(TOLERANCE);
      if ((config.l1 ?? 0) >= 0.1) {
        expect(zeros(reference.param)).toBeGreaterThan(3);
        expect(zeros(p.data)).toBeGreaterThanOrEqual(zeros(reference.param) - 1);
      } else if ((config.l1 ?? 0) > 0) {
        expect(zeros(p.data)).toBeGreaterThanOrEqual(zeros(reference.param) - 1);
      } else {
        expect(zeros(p.data)).toBe(0);
      }
      opt.dispose();
      p.dispose();
    });
  }

  it("tries every wrong variant the reference makes", () => {
    expect(MISTAKES.map((m) => m.mistake)).toEqual([...PROXIMAL_MISTAKES.Ftrl]);
  });

  for (const { mistake, config } of MISTAKES) {
    it(`the wrong variant "${mistake}" does not match`, () => {
      const { p, opt, ref } = setup(3, config);
      const reference = ref(mistake);
      for (const grad of gradients(4, 30, p.size)) {
        p.grad.set(grad);
        opt.step();
        reference.step(p.grad);
      }
      expect(maxRelativeError(p.data, reference.param, FLOOR).error).toBeGreaterThan(1e-3);
      opt.dispose();
      p.dispose();
    });
  }

  it("masked steps change only masked-in elements; the state sees every gradient", () => {
    const config = { lr: 0.1, l1: 0.2, l2Shrinkage: 0.1 };
    const { p, opt, ref } = setup(5, config);
    const reference = ref();
    const mask = Uint8Array.from({ length: p.size }, (_, i) => (i % 5 === 2 ? 0 : 1));
    const active: Active = (i) => mask[i] !== 0;
    const initial = p.data.slice();
    for (const grad of gradients(6, 40, p.size)) {
      p.grad.set(grad);
      opt.step({ mask: new Map([[p, mask]]) });
      reference.step(p.grad, active);
    }
    expect(maxRelativeError(p.data, reference.param, FLOOR).error).toBeLessThan(TOLERANCE);
    for (let i = 0; i < p.size; i++) if (!active(i)) expect(p.data[i]).toBe(initial[i]);
    expect(zeros(p.data)).toBeGreaterThan(3);
    opt.dispose();
    p.dispose();
  });

  it("rows steps touch only their rows; rows first touched late start at initialAccumulatorValue", () => {
    const config = { lr: 0.1, l1: 0.15, initialAccumulatorValue: 0.3 };
    const { p, opt, ref } = setup(7, config);
    const reference = ref();
    const schedule = [Int32Array.from([1, 4]), Int32Array.from([4, 8, 0]), Int32Array.from([6])];
    const grads = gradients(8, 45, p.size);
    const initial = p.data.slice();
    grads.forEach((grad, step) => {
      const rows = schedule[Math.floor(step / 15)]!;
      const active: Active = (i) => rows.includes(Math.floor(i / COLS));
      p.grad.set(grad);
      opt.step({ rows: new Map([[p, rows]]) });
      reference.step(p.grad, active, active);
    });
    expect(maxRelativeError(p.data, reference.param, FLOOR).error).toBeLessThan(TOLERANCE);
    const state = opt.stateDict().state[0]!;
    expect(maxRelativeError(state.buffers.accumulator!, reference.accumulator, FLOOR).error).toBeLessThan(TOLERANCE);
    for (const row of [2, 3, 5, 7]) {
      for (let c = 0; c < COLS; c++) {
        expect(p.data[row * COLS + c]).toBe(initial[row * COLS + c]);
        expect(state.buffers.accumulator![row * COLS + c]).toBe(Math.fround(0.3));
        expect(state.buffers.linear![row * COLS + c]).toBe(0);
      }
    }
    // A dense step afterwards continues every element from where it is.
    p.grad.set(grads[0]!);
    opt.step();
    reference.step(p.grad);
    expect(maxRelativeError(p.data, reference.param, FLOOR).error).toBeLessThan(TOLERANCE);
    opt.dispose();
    p.dispose();
  });

  it("resumes bit-identically from a state dict", () => {
    const config = { lr: 0.1, l1: 0.1, l2: 0.01, beta: 0.1 };
    const grads = gradients(9, 20, ROWS * COLS);
    const a = setup(10, config);
    for (const grad of grads.slice(0, 10)) {
      a.p.grad.set(grad);
      a.opt.step();
    }
    const saved = structuredClone(a.opt.stateDict());
    const b = setup(10, config);
    b.p.data.set(a.p.data);
    b.opt.loadStateDict(saved);
    for (const grad of grads.slice(10)) {
      for (const x of [a, b]) {
        x.p.grad.set(grad);
        x.opt.step();
      }
    }
    expect(Array.from(b.p.data)).toEqual(Array.from(a.p.data));
    expect(b.opt.stateDict()).toEqual(a.opt.stateDict());
    for (const x of [a, b]) { x.opt.dispose(); x.p.dispose(); }
  });

  it("rejects bad options (Keras's checks) and unknown keys", () => {
    const p = parameter([3]);
    expect(() => new Ftrl([p], { lrPower: 0.5 })).toThrow(/lrPower must be ≤ 0, got 0.5/);
    expect(() => new Ftrl([p], { lrPower: 0.5 })).toThrow(RangeError);
    for (const name of ["l1", "l2", "l2Shrinkage", "initialAccumulatorValue", "beta"] as const) {
      expect(() => new Ftrl([p], { [name]: -0.1 })).toThrow(new RegExp(`${name} must be a finite number ≥ 0`));
    }
    expect(() => new Ftrl([p], { lr: 0 })).toThrow(/lr must be a finite number > 0/);
    expect(() => new Ftrl([p], { lr: "0.1" as never })).toThrow(TypeError);
    expect(() => new Ftrl([p], { lr_power: -0.5 } as never)).toThrow(/did you mean "lrPower"/);
    const opt = new Ftrl([p], { lr: 0.1 });
    opt.paramGroups[0]!.lrPower = 1;
    p.grad.fill(1);
    expect(() => opt.step()).toThrow(/paramGroups\[0\]\.lrPower must be ≤ 0/);
    expect(Array.from(p.data)).toEqual([0, 0, 0]);
    p.dispose();
  });
});
