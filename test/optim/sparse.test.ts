// The step variants of the optimizer base class: step({ mask }), step({ rows }) and
// step({ skipIfNonfinite }), for every optimizer in factories.ts.
//
// Two kinds of check:
// - float64 references (test/reference/sgd-adam.ts) for SGD, Adam and AdamW, which pin the
//   semantics of the contract (indicator masks, per-row first touch, global step count);
// - bit-exact "twin" checks for every optimizer: the variant must equal the optimizer's own dense
//   step on the same data and state (loaded through stateDict), restricted to what the variant
//   may change — so the semantics hold for all optimizers without a reference of each.

import { beforeAll, describe, expect, it } from "vitest";
import { Adam, AdamW, init, parameter, SGD, type OptimizerStateDict, type Parameter } from "../../src/index.js";
import { AdamReference, SGDReference, type AdamReferenceOptions, type SGDReferenceOptions } from "../reference/sgd-adam.js";
import { maxRelativeError } from "../reference/random.js";
import { bits, FACTORIES, randomFill, rowBits, type AnyOptimizer } from "./factories.js";

beforeAll(async () => {
  await init();
});

// Tolerance against float64 references: as test/optim/sgd-adam.test.ts argues, float32 storage of O(1)
// parameters costs ≤ 1.2e-7 per step, ≤ 1e-5 over the ≤ 30 steps run here.
const TOLERANCE = 1e-5;

function snapshot(params: Parameter[]): Uint32Array[] {
  return params.map((p) => bits(p.data));
}

function makeParam(shape: number[], seed: number): Parameter {
  const p = parameter(shape);
  randomFill(p.data, seed);
  return p;
}

function randomMask(length: number, seed: number, float: boolean): Uint8Array | Float32Array {
  const noise = randomFill(new Float32Array(length), seed);
  const mask = float ? new Float32Array(length) : new Uint8Array(length);
  for (let i = 0; i < length; i++) mask[i] = noise[i]! > 0 ? 1 : 0;
  return mask;
}

// ---------------------------------------------------------------------------------------------
describe("step({ mask })", () => {
  type RefCase = { name: string; make: (p: Parameter[]) => AnyOptimizer; ref: (param: Float64Array) => { step(g: ArrayLike<number>): void; param: Float64Array } };
  const sgd: SGDReferenceOptions = { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.05, nesterov: false, maximize: false };
  const nesterov: SGDReferenceOptions = { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 0.05, nesterov: true, maximize: true };
  const adam: AdamReferenceOptions = { lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.1, amsgrad: true, maximize: false };
  const adamw: AdamReferenceOptions = { lr: 0.01, betas: [0.8, 0.99], eps: 1e-8, weightDecay: 0.1, amsgrad: false, maximize: false };
  const cases: RefCase[] = [
    { name: "SGD momentum", make: (p) => new SGD(p, sgd) as never, ref: (x) => new SGDReference(x, sgd) },
    { name: "SGD nesterov", make: (p) => new SGD(p, nesterov) as never, ref: (x) => new SGDReference(x, nesterov) },
    { name: "Adam amsgrad + L2", make: (p) => new Adam(p, adam) as never, ref: (x) => new AdamReference(x, adam, false) },
    { name: "AdamW", make: (p) => new AdamW(p, adamw) as never, ref: (x) => new AdamReference(x, adamw, true) },
  ];

  for (const { name, make, ref } of cases) {
    for (const float of [false, true]) {
      it(`${name}, ${float ? "Float32Array" : "Uint8Array"} masks: the indicator form of the float64 reference`, () => {
        for (const size of [1, 3, 5, 17, 1037]) {
          const p = makeParam([size], size);
          const reference = ref(Float64Array.from(p.data));
          const optimizer = make([p]);
          for (let t = 0; t < 30; t++) {
            const grad = randomFill(new Float32Array(size), 1000 * size + t);
            p.grad.set(grad);
            // Every 7th step masks everything out, every 5th everything in.
            const mask = t % 7 === 3 ? (float ? new Float32Array(size) : new Uint8Array(size))
              : t % 5 === 4 ? (float ? new Float32Array(size).fill(1) : new Uint8Array(size).fill(1))
              : randomMask(size, 77 * t + size, float);
            const before = p.data.slice();
            const referenceBefore = reference.param.slice();
            optimizer.step({ mask: new Map([[p, mask]]) });
            // Reference: the dense step (state sees the full gradient), then masked-out params restored.
            reference.step(grad);
            for (let i = 0; i < size; i++) if (mask[i] === 0) reference.param[i] = referenceBefore[i]!;
            for (let i = 0; i < size; i++) {
              if (mask[i] === 0) expect(bits(p.data.subarray(i, i + 1))[0], `masked-out element ${i} changed`).toBe(bits(before.subarray(i, i + 1))[0]);
            }
          }
          const { error, index } = maxRelativeError(p.data, reference.param, 1);
          expect(error, `size ${size}, element ${index}`).toBeLessThan(TOLERANCE);
          optimizer.dispose();
          p.dispose();
        }
      });
    }
  }

  for (const factory of FACTORIES) {
    it(`${factory.name}: bit-identical to its dense step where mask = 1 and in every state buffer; unmasked parameters step densely`, () => {
      const shapes = [[1037], [17], [3, 5]];
      const params = shapes.map((s, i) => makeParam(s, 10 + i));
      const twins = shapes.map((s) => parameter(s));
      const optimizer = factory.make(params);
      const twin = factory.make(twins);
      for (let t = 0; t < 8; t++) {
        params.forEach((p, i) => randomFill(p.grad, 100 * t + i));
        const state = structuredClone(optimizer.stateDict());
        twin.loadStateDict(state);
        twins.forEach((q, i) => {
          q.data.set(params[i]!.data);
          q.grad.set(params[i]!.grad);
        });
        const before = snapshot(params);
        const mask0 = randomMask(1037, t, t % 2 === 0);
        const mask2 = randomMask(15, 50 + t, t % 2 === 1);
        expect(optimizer.step({ mask: new Map([[params[0]!, mask0], [params[2]!, mask2]]) })).toBe(true);
        twin.step();
        // The state of every parameter is exactly the dense step's.
        expect(optimizer.stateDict().state).toEqual(twin.stateDict().state);
        for (const [k, mask] of [[0, mask0], [2, mask2]] as const) {
          const got = bits(params[k]!.data);
          const dense = bits(twins[k]!.data);
          for (let i = 0; i < mask.length; i++) expect(got[i]).toBe(mask[i] === 1 ? dense[i] : before[k]![i]);
        }
        // The parameter without a mask entry steps densely.
        expect(bits(params[1]!.data)).toEqual(bits(twins[1]!.data));
      }
      optimizer.dispose();
      twin.dispose();
      for (const p of [...params, ...twins]) p.dispose();
    });
  }

  it("a mask of another length is a RangeError, another type a TypeError, and nothing changes", () => {
    const [a, b] = [makeParam([17], 1), makeParam([5], 2)];
    randomFill(a.grad, 3);
    randomFill(b.grad, 4);
    const optimizer = new Adam([a, b], { lr: 0.1 });
    optimizer.step();
    const state = optimizer.stateDict();
    const before = snapshot([a, b]);
    const attempts: Array<[Map<Parameter, Uint8Array | Float32Array>, Error]> = [
      [new Map([[b, new Uint8Array(4)]]), new RangeError(`simdopt: mask of "${b.name}" has 4 entries, the parameter has 5`)],
      [new Map([[b, new Float32Array(6)]]), new RangeError(`simdopt: mask of "${b.name}" has 6 entries, the parameter has 5`)],
      [new Map([[a, new Uint8Array(17)], [b, new Uint8Array(17)]]), new RangeError(`simdopt: mask of "${b.name}" has 17 entries, the parameter has 5`)],
      [new Map([[a, new Int32Array(17) as never]]), new TypeError(`simdopt: mask of "${a.name}" must be a Uint8Array or Float32Array`)],
      [new Map([[a, new Uint8Array(17)], [b, [0, 1, 0, 1, 0] as never]]), new TypeError(`simdopt: mask of "${b.name}" must be a Uint8Array or Float32Array`)],
      [new Map([[parameter([17]), new Uint8Array(17)]]), new RangeError("simdopt: step({ mask }) names a parameter this optimizer does not hold")],
      [new Map([[{} as Parameter, new Uint8Array(17)]]), new RangeError("simdopt: step({ mask }) names a parameter this optimizer does not hold")],
      [[[a, new Uint8Array(17)]] as never, new TypeError("simdopt: step({ mask }) must be a Map<Parameter, Uint8Array | Float32Array>")],
    ];
    for (const [mask, error] of attempts) {
      expect(() => optimizer.step({ mask })).toThrow(error);
    }
    expect(snapshot([a, b])).toEqual(before);
    expect(optimizer.stateDict()).toEqual(state);
  });
});

// ---------------------------------------------------------------------------------------------
describe("step({ rows })", () => {
  const ROWS = 11;
  const COLUMNS = 5;
  // null = a dense step; [] = a step that touches no row of the table.
  const SCHEDULE: Array<number[] | null> = [[2, 7], [], [7, 3, 0], [10], [3, 2], null, [4, 2], [9, 0, 1]];

  /** Per-row float64 reference: one reference optimizer per row, created on the row's first touch. */
  function rowsReference(initial: Float32Array, make: (row: Float64Array) => { step(g: ArrayLike<number>): void; param: Float64Array; step_?: number }) {
    const rows = Array.from({ length: ROWS }, (_, r) => ({ param: Float64Array.from(initial.subarray(r * COLUMNS, (r + 1) * COLUMNS)), ref: null as null | ReturnType<typeof make> }));
    let t = 0;
    return {
      step(grad: Float32Array, touched: number[]) {
        t++;
        for (const r of touched) {
          const row = rows[r]!;
          row.ref ??= make(row.param);
          // Adam's bias correction uses the optimizer's step count, not the row's touches.
          if (row.ref.step_ !== undefined) row.ref.step_ = t - 1;
          row.ref.step(grad.subarray(r * COLUMNS, (r + 1) * COLUMNS));
        }
      },
      values(): Float64Array {
        const out = new Float64Array(ROWS * COLUMNS);
        rows.forEach((row, r) => out.set(row.param, r * COLUMNS));
        return out;
      },
    };
  }

  const sgd: SGDReferenceOptions = { lr: 0.05, momentum: 0.9, dampening: 0.3, weightDecay: 0.05, nesterov: false, maximize: false };
  const adam: AdamReferenceOptions = { lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.1, amsgrad: false, maximize: false };
  const adamw: AdamReferenceOptions = { lr: 0.01, betas: [0.8, 0.99], eps: 1e-8, weightDecay: 0.1, amsgrad: true, maximize: true };
  const cases = [
    { name: "SGD momentum+dampening (buffer ← g on a row's first touch)", make: (p: Parameter[]) => new SGD(p, sgd) as never as AnyOptimizer, ref: (x: Float64Array) => new SGDReference(x, sgd) },
    { name: "Adam (bias correction with the global step)", make: (p: Parameter[]) => new Adam(p, adam) as never as AnyOptimizer, ref: (x: Float64Array) => new AdamReference(x, adam, false) },
    { name: "AdamW amsgrad maximize", make: (p: Parameter[]) => new AdamW(p, adamw) as never as AnyOptimizer, ref: (x: Float64Array) => new AdamReference(x, adamw, true) },
  ];

  for (const { name, make, ref } of cases) {
    it(`${name}: matches a per-row float64 reference; untouched rows bit-identical`, () => {
      const p = makeParam([ROWS, COLUMNS], 5);
      const other = makeParam([3], 6); // not in rows: steps densely every time
      const reference = rowsReference(p.data, ref);
      const otherReference = ref(Float64Array.from(other.data));
      const optimizer = make([p, other]);
      SCHEDULE.forEach((touched, t) => {
        const all = touched ?? Array.from({ length: ROWS }, (_, r) => r);
        const grad = randomFill(new Float32Array(ROWS * COLUMNS), 40 + t);
        // Rows that must not be read hold NaN: any read would poison the row or its state.
        if (touched !== null) for (let r = 0; r < ROWS; r++) if (!all.includes(r)) grad.fill(NaN, r * COLUMNS, (r + 1) * COLUMNS);
        p.grad.set(grad);
        randomFill(other.grad, 90 + t);
        const before = p.data.slice();
        expect(optimizer.step(touched === null ? undefined : { rows: new Map([[p, Int32Array.from(touched)]]) })).toBe(true);
        reference.step(grad, all);
        otherReference.step(other.grad);
        for (let r = 0; r < ROWS; r++) {
          if (!all.includes(r)) expect(rowBits(p.data, COLUMNS, r)).toEqual(rowBits(before, COLUMNS, r));
        }
        const { error, index } = maxRelativeError(p.data, reference.values(), 1);
        expect(error, `step ${t}, element ${index}`).toBeLessThan(TOLERANCE);
        expect(maxRelativeError(other.data, otherReference.param, 1).error).toBeLessThan(TOLERANCE);
        for (const entry of optimizer.stateDict().state) expect(entry!.step).toBe(t + 1); // every parameter, every step()
      });
      optimizer.dispose();
      p.dispose();
      other.dispose();
    });
  }

  for (const factory of FACTORIES) {
    for (const columns of [5, 8]) {
      it(`${factory.name}, ${columns} columns: touched rows get the dense formula bit for bit, untouched rows of param and state stay bit-identical`, () => {
        const rowsCount = 13;
        const p = makeParam([rowsCount, columns], 7);
        const other = makeParam([6], 8);
        const optimizer = factory.make([p, other]);
        // The state a parameter starts with before any row is touched (0, or Adagrad's initial value).
        const probe = parameter([rowsCount, columns]);
        const probeOptimizer = factory.make([probe]);
        probeOptimizer.step({ rows: new Map([[probe, new Int32Array(0)]]) });
        const initialState = probeOptimizer.stateDict().state[0]!;
        const schedule: Array<number[] | null> = [[4, 1], [], [1, 12, 0, 6], null, [3], [12, 3, 5], [2, 4, 8, 9, 10, 11, 7], [0]];
        schedule.forEach((touched, t) => {
          const before = structuredClone(optimizer.stateDict());
          const beforeData = p.data.slice();
          randomFill(p.grad, 300 + t);
          randomFill(other.grad, 400 + t);
          if (touched === null) {
            optimizer.step();
            return;
          }
          for (let r = 0; r < rowsCount; r++) if (!touched.includes(r)) p.grad.fill(NaN, r * columns, (r + 1) * columns);
          // The twin: a dense optimizer over just the touched rows, with their state and first-touch flags.
          const compact = parameter([Math.max(touched.length, 1), columns]);
          const compactOther = parameter([6]);
          touched.forEach((r, i) => {
            compact.data.set(beforeData.subarray(r * columns, (r + 1) * columns), i * columns);
            compact.grad.set(p.grad.subarray(r * columns, (r + 1) * columns), i * columns);
          });
          compactOther.data.set(other.data);
          compactOther.grad.set(other.grad);
          const twin = factory.make([compact, compactOther]);
          const entry = before.state[0];
          if (entry !== null) {
            // With no row touched the compact table has one placeholder row (row 0's state), which
            // the twin's empty rows step leaves alone: only its step count and scalars matter.
            const picked = touched.length > 0 ? touched : [0];
            const pick = (values: Float32Array) => {
              const out = new Float32Array(picked.length * columns);
              picked.forEach((r, i) => out.set(values.subarray(r * columns, (r + 1) * columns), i * columns));
              return out;
            };
            const buffers: Record<string, Float32Array> = {};
            for (const [key, values] of Object.entries(entry.buffers)) buffers[key] = pick(values);
            const touchedRows = Uint8Array.from(picked, (r) => (entry.touchedRows === null ? 1 : entry.touchedRows[r]!));
            const sd: OptimizerStateDict = { ...before, state: [{ ...entry, buffers, touchedRows }, before.state[1]!] };
            twin.loadStateDict(sd);
          }
          expect(optimizer.step({ rows: new Map([[p, Int32Array.from(touched)]]) })).toBe(true);
          if (touched.length > 0) twin.step();
          else twin.step({ rows: new Map([[compact, new Int32Array(0)]]) });
          const after = optimizer.stateDict();
          const twinState = twin.stateDict();
          // Step count (and any scalar state) advanced once, for both parameters.
          expect(after.state[0]!.step).toBe((entry?.step ?? 0) + 1);
          expect(after.state[1]!.step).toBe((entry?.step ?? 0) + 1);
          expect(after.state[0]!.scalars).toEqual(twinState.state[0]!.scalars);
          expect(after.state[1]).toEqual(twinState.state[1]); // the other parameter stepped densely
          expect(bits(other.data)).toEqual(bits(compactOther.data));
          for (let r = 0; r < rowsCount; r++) {
            const i = touched.indexOf(r);
            const stateBefore = entry ?? initialState;
            for (const key of Object.keys(after.state[0]!.buffers)) {
              const got = rowBits(after.state[0]!.buffers[key]!, columns, r);
              if (i < 0) expect(got, `${key} row ${r}`).toEqual(rowBits(stateBefore.buffers[key]!, columns, r));
              else expect(got, `${key} row ${r}`).toEqual(rowBits(twinState.state[0]!.buffers[key]!, columns, i));
            }
            if (i < 0) expect(rowBits(p.data, columns, r), `row ${r}`).toEqual(rowBits(beforeData, columns, r));
            else expect(rowBits(p.data, columns, r), `row ${r}`).toEqual(rowBits(compact.data, columns, i));
          }
          twin.dispose();
          compact.dispose();
          compactOther.dispose();
        });
        for (const o of [optimizer, probeOptimizer]) o.dispose();
        for (const x of [p, other, probe]) x.dispose();
      });
    }
  }

  it("SGD momentum: a row's first touch sets buffer ← g even after other rows and dense steps of other parameters", () => {
    const p = makeParam([4, 3], 1);
    const optimizer = new SGD([p], { lr: 0.1, momentum: 0.9, dampening: 0.5 });
    p.grad.fill(1);
    optimizer.step({ rows: new Map([[p, Int32Array.of(0)]]) });
    optimizer.step({ rows: new Map([[p, Int32Array.of(0, 2)]]) });
    const buffer = optimizer.stateDict().state[0]!.buffers.momentumBuffer!;
    // Row 0: g, then 0.9·g + 0.5·g = 1.4; row 2: first touch → g = 1 (not (1 − dampening)·g = 0.5).
    expect(Array.from(buffer.subarray(0, 3))).toEqual([1, 1, 1].map(() => Math.fround(Math.fround(0.9) * 1 + Math.fround(0.5) * 1)));
    expect(Array.from(buffer.subarray(6, 9))).toEqual([1, 1, 1]);
    expect(Array.from(buffer.subarray(3, 6))).toEqual([0, 0, 0]);
    optimizer.dispose();
    p.dispose();
  });

  it("duplicate or out-of-range indices throw RangeError before anything changes; a valid call afterwards works", () => {
    const p = makeParam([6, 4], 2);
    const q = makeParam([5, 2], 3);
    const vector = makeParam([8], 4);
    randomFill(p.grad, 5);
    randomFill(q.grad, 6);
    const optimizer = new Adam([q, p, vector], { lr: 0.1 });
    optimizer.step();
    const state = optimizer.stateDict();
    const before = snapshot([p, q, vector]);
    const bad: Array<[Map<Parameter, Int32Array>, Error]> = [
      [new Map([[p, Int32Array.of(1, 3, 1)]]), new RangeError(`simdopt: rows of "${p.name}": row index 1 is given twice`)],
      [new Map([[p, Int32Array.of(0, 6)]]), new RangeError(`simdopt: rows of "${p.name}": row index 6 is out of range [0, 6)`)],
      [new Map([[p, Int32Array.of(5, -1)]]), new RangeError(`simdopt: rows of "${p.name}": row index -1 is out of range [0, 6)`)],
      // q is stepped before p: must not be
      [new Map([[q, Int32Array.of(0, 1)], [p, Int32Array.of(2, 2)]]), new RangeError(`simdopt: rows of "${p.name}": row index 2 is given twice`)],
      [new Map([[vector, Int32Array.of(0)]]), new RangeError(`simdopt: rows need a 2-D parameter, "${vector.name}" has shape [8]`)],
      [new Map([[p, [0, 1] as never]]), new TypeError(`simdopt: rows of "${p.name}" must be an Int32Array`)],
      [new Map([[parameter([6, 4]), Int32Array.of(0)]]), new RangeError("simdopt: step({ rows }) names a parameter this optimizer does not hold")],
      [[[p, Int32Array.of(0)]] as never, new TypeError("simdopt: step({ rows }) must be a Map<Parameter, Int32Array>")],
    ];
    for (const [rows, error] of bad) {
      expect(() => optimizer.step({ rows })).toThrow(error);
    }
    expect(() => optimizer.step({ rows: new Map([[p, Int32Array.of(0)]]), mask: new Map([[p, new Uint8Array(24)]]) })).toThrow(
      new RangeError(`simdopt: "${p.name}" has both a mask and rows; give one`));
    expect(snapshot([p, q, vector])).toEqual(before);
    expect(optimizer.stateDict()).toEqual(state);
    // The duplicate check's scratch was reset: the same rows once each are fine now.
    expect(optimizer.step({ rows: new Map([[p, Int32Array.of(1, 3)], [q, Int32Array.of(0, 1)]]) })).toBe(true);
    expect(optimizer.stateDict().state.map((s) => s!.step)).toEqual([2, 2, 2]);
    optimizer.dispose();
    for (const x of [p, q, vector]) x.dispose();
  });
});

// ---------------------------------------------------------------------------------------------
describe("step({ skipIfNonfinite })", () => {
  const SHAPES = [[1], [3], [8], [12], [17], [4, 259]]; // 1036 = 8·129 + 4: body, the 4-block, tails

  for (const factory of FACTORIES) {
    it(`${factory.name}: NaN/±Inf anywhere returns false and changes nothing; finite grads step and return true`, () => {
      const params = SHAPES.map((s, i) => makeParam(s, 20 + i));
      const optimizer = factory.make(params);
      params.forEach((p, i) => randomFill(p.grad, 30 + i));
      // Before any step: no state may be created either.
      params[5]!.grad[1035] = NaN;
      expect(optimizer.step({ skipIfNonfinite: true })).toBe(false);
      expect(optimizer.stateDict().state).toEqual(params.map(() => null));
      params[5]!.grad[1035] = 0.5;
      expect(optimizer.step({ skipIfNonfinite: true })).toBe(true);
      const positions: Array<[number, number]> = [[0, 0], [2, 7], [3, 9], [4, 16], [4, 8], [5, 0], [5, 1031], [5, 1033], [5, 1035]];
      for (const value of [NaN, Infinity, -Infinity]) {
        for (const [k, i] of positions) {
          const state = optimizer.stateDict();
          const before = snapshot(params);
          const saved = params[k]!.grad[i]!;
          params[k]!.grad[i] = value;
          expect(optimizer.step({ skipIfNonfinite: true }), `${value} at params[${k}][${i}]`).toBe(false);
          expect(optimizer.step({ skipIfNonfinite: true, rows: new Map([[params[5]!, Int32Array.of(0, 1, 2, 3)]]) })).toBe(false);
          expect(snapshot(params)).toEqual(before);
          expect(optimizer.stateDict()).toEqual(state); // params, state buffers and step count
          params[k]!.grad[i] = saved;
        }
      }
      const state = optimizer.stateDict();
      expect(optimizer.step({ skipIfNonfinite: true })).toBe(true);
      expect(optimizer.stateDict().state.map((s) => s!.step)).toEqual(state.state.map((s) => s!.step + 1));
      expect(optimizer.step()).toBe(true);
      expect(optimizer.step({})).toBe(true);
      optimizer.dispose();
      for (const p of params) p.dispose();
    });
  }

  it("finds a single non-finite value at every position of every length 1..40 (the scan's body, 4-block and tail)", () => {
    for (let n = 1; n <= 40; n++) {
      const p = parameter([n]);
      const optimizer = new SGD([p], { lr: 0.1 });
      // Extremes that are finite must pass: the largest float32, subnormals, −0.
      p.grad.fill(3.4028234663852886e38);
      p.grad[0] = -1e-45;
      if (n > 1) p.grad[n - 1] = -0;
      expect(optimizer.step({ skipIfNonfinite: true })).toBe(true);
      p.data.fill(0);
      p.grad.fill(1);
      for (let i = 0; i < n; i++) {
        for (const value of [NaN, Infinity, -Infinity]) {
          p.grad[i] = value;
          expect(optimizer.step({ skipIfNonfinite: true }), `n ${n}, position ${i}, ${value}`).toBe(false);
        }
        p.grad[i] = 1;
      }
      expect(Array.from(p.data)).toEqual(new Array(n).fill(0));
      optimizer.dispose();
      p.dispose();
    }
  });

  it("with rows, only the rows stepped are checked (other rows' gradients are never read)", () => {
    const table = makeParam([6, 5], 1);
    const optimizer = new Adam([table], { lr: 0.1 });
    randomFill(table.grad, 2);
    table.grad.fill(NaN, 10, 30); // rows 2..5
    expect(optimizer.step({ skipIfNonfinite: true, rows: new Map([[table, Int32Array.of(1, 0)]]) })).toBe(true);
    expect(optimizer.stateDict().state[0]!.step).toBe(1);
    expect(optimizer.step({ skipIfNonfinite: true, rows: new Map([[table, Int32Array.of(0, 4)]]) })).toBe(false);
    expect(optimizer.stateDict().state[0]!.step).toBe(1);
    for (let i = 0; i < 10; i++) expect(Number.isFinite(table.data[i])).toBe(true);
    optimizer.dispose();
    table.dispose();
  });

  it("a plain step() with non-finite gradients still steps and returns true", () => {
    const p = makeParam([5], 3);
    const optimizer = new SGD([p], { lr: 0.1 });
    p.grad[4] = NaN;
    expect(optimizer.step()).toBe(true);
    expect(Number.isNaN(p.data[4])).toBe(true);
    optimizer.dispose();
    p.dispose();
  });
});
