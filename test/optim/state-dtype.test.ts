// Option stateDtype (bfloat16 / int8 moments) of Adam, AdamW and Lion against the float64
// references of test/reference/lowp.ts, with their deliberately wrong variants.
import { beforeAll, describe, expect, it } from "vitest";
import { Adam, AdamW, init, Lion, parameter, SGD, type OptimizerStateDict, type Parameter } from "../../src/index.js";
import { kernels } from "../../src/bindings/instance.js";
import { currentBuffer } from "../../src/bindings/memory.js";
import {
  adamLowpStep, bf16Bits, bf16Round, bf16Value, dequantizeBlockwise, dynamicMap, lionLowpStep, quantizeBlockwise,
  type Dtype, type LowpMistake, type StoredMoment,
} from "../reference/lowp.js";
import { seededRandom } from "../reference/random.js";

beforeAll(async () => {
  await init();
});

const SIZES = [1, 255, 256, 257, 1037, 100003];
type Buffers = Record<string, Float32Array | Uint16Array | Uint8Array>;

function makeParam(size: number, seed: number, shape: number[] = [size]): Parameter {
  const random = seededRandom(seed);
  return parameter(shape, { init: Float32Array.from({ length: size }, () => random() * 2 - 1) });
}

/** Gradients spanning nine decades, both signs, some exact zeros. */
function fillGrad(param: Parameter, random: () => number): void {
  for (let i = 0; i < param.size; i++) param.grad[i] = random() < 0.02 ? 0 : (random() < 0.5 ? -1 : 1) * 10 ** (-9 * random());
}

function buffersOf(dict: OptimizerStateDict, index = 0): Buffers {
  return dict.state[index]!.buffers;
}

/** A moment's values as the kernel stored them (decoded with the reference's map). */
function readMoment(buffers: Buffers, name: string, dtype: Dtype, signed: boolean): Float64Array {
  if (dtype === "bfloat16") return Float64Array.from(buffers[`${name}Bf16`] as Uint16Array, bf16Value);
  const q = { codes: buffers[`${name}Codes`] as Uint8Array, absmax: buffers[`${name}Absmax`] as Float32Array };
  return dequantizeBlockwise(q, signed);
}

/** Stored forms agree: ≥ 99.9% identical, the rest one code (bit pattern) apart; scales to 1e-6. */
function agrees(buffers: Buffers, name: string, dtype: Dtype, expected: StoredMoment): boolean {
  const actual = dtype === "bfloat16" ? buffers[`${name}Bf16`]! : buffers[`${name}Codes`]!;
  const wanted = dtype === "bfloat16" ? expected.bits! : expected.q!.codes;
  if (actual.length !== wanted.length) return false;
  let same = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i]! - wanted[i]!);
    if (d > 1) return false;
    if (d === 0) same++;
  }
  if (same < 0.999 * actual.length) return false;
  if (dtype === "int8") {
    const absmax = buffers[`${name}Absmax`] as Float32Array;
    if (absmax.length !== expected.q!.absmax.length) return false;
    for (let b = 0; b < absmax.length; b++) {
      if (Math.abs(absmax[b]! - expected.q!.absmax[b]!) > 1e-6 * Math.abs(expected.q!.absmax[b]!)) return false;
    }
  }
  return true;
}

function maxParamError(param: Parameter, expected: Float64Array): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(param.data[i]! - expected[i]!) / Math.max(1, Math.abs(expected[i]!)));
  return worst;
}

describe("code maps", () => {
  it("are bitsandbytes' create_dynamic_map, signed and unsigned, rounded to float32", () => {
    for (const signed of [true, false]) {
      const kernel = new Float32Array(currentBuffer(), kernels().int8Map(signed), 256);
      const reference = dynamicMap(signed);
      expect(Array.from(kernel)).toEqual(Array.from(reference));
      expect(reference[255]).toBe(1);
      expect(reference[signed ? 127 : 0]).toBe(0);
      if (signed) expect(reference[0]).toBeCloseTo(-0.99297, 5);
      else expect(reference[1]).toBeCloseTo(3.25e-7, 12);
    }
  });
});

describe("storing a value", () => {
  // β1 = β2 = 0 and lr = 0: the moments are then exactly g and fl(g·g), so the stored state is
  // the stored form of known values.
  const options = { lr: 0, betas: [0, 0] as [number, number] };

  it.each(SIZES)("int8: every code and absmax as the reference's nearest-code search (%i elements)", (size) => {
    const param = makeParam(size, size);
    fillGrad(param, seededRandom(size + 1));
    const optimizer = new Adam([param], { ...options, stateDtype: "int8" });
    optimizer.step();
    const buffers = buffersOf(optimizer.stateDict());
    const g = Float64Array.from(param.grad);
    const squares = Float64Array.from(param.grad, (x) => Math.fround(x * x));
    const m = quantizeBlockwise(g, true);
    const v = quantizeBlockwise(squares, false);
    expect(buffers.firstMomentCodes).toEqual(m.codes);
    expect(buffers.firstMomentAbsmax).toEqual(m.absmax);
    expect(buffers.secondMomentCodes).toEqual(v.codes);
    expect(buffers.secondMomentAbsmax).toEqual(v.absmax);
    if (size >= 257) {
      // The wrong variants do not reproduce it.
      const mistakes: LowpMistake[] = ["block128", "linearMap", "swappedMaps"];
      for (const mistake of mistakes) {
        const wrong = quantizeBlockwise(g, true, mistake);
        expect(wrong.codes.length === m.codes.length && wrong.absmax.length === m.absmax.length &&
          wrong.codes.every((c, i) => c === m.codes[i]) && wrong.absmax.every((a, i) => a === m.absmax[i])).toBe(false);
      }
    }
    optimizer.dispose();
  });

  it("bfloat16: round to nearest even, overflow to infinity, NaN stays NaN, subnormals", () => {
    const patterns = [
      0x3f808000, 0x3f818000, 0x3f807fff, 0x3f808001, 0xbf808000, 0xbf818000, 0x7f7fffff, 0x7f7f7fff, 0x00008000,
      0x00018000, 0x00000001, 0x80018000, 0x7fc00000, 0x3eaaaaab, 0x3dcccccd,
    ];
    const random = seededRandom(5);
    const values = [...patterns.map((b) => new Float32Array(Uint32Array.of(b).buffer)[0]!), ...Array.from({ length: 4000 }, () => (random() - 0.5) * 10 ** (8 * random() - 4))];
    const param = parameter([values.length], { init: "zeros" });
    param.grad.set(values);
    const optimizer = new Adam([param], { ...options, stateDtype: "bfloat16" });
    optimizer.step();
    const bits = buffersOf(optimizer.stateDict()).firstMomentBf16 as Uint16Array;
    const expected = Uint16Array.from(values, (x) => bf16Bits(bf16Round(x)));
    expect(Array.from(bits)).toEqual(Array.from(expected));
    expect(bits[6]).toBe(0x7f80); // the largest float32 rounds up to +Infinity
    const truncated = Uint16Array.from(values, (x) => bf16Bits(bf16Round(x, "truncate")));
    expect(truncated.every((b, i) => b === bits[i])).toBe(false);
    optimizer.dispose();
  });
});

type Case = { name: string; dtype: Dtype; make: (p: Parameter[]) => Adam | AdamW | Lion; step: (p: Float64Array | Float32Array, g: Float32Array, b: Buffers, t: number, mistake?: LowpMistake) => { param: Float64Array; moments: [string, boolean, StoredMoment][] } };

const adamOptions = { lr: 1e-2, betas: [0.9, 0.999] as [number, number], eps: 1e-8, weightDecay: 0.1, decoupled: false, maximize: false };
const lionOptions = { lr: 1e-3, betas: [0.9, 0.99] as [number, number], weightDecay: 0.1, maximize: true };

function adamCase(dtype: Dtype, decoupled: boolean): Case {
  const o = { ...adamOptions, decoupled };
  return {
    name: `${decoupled ? "AdamW" : "Adam"} ${dtype}`, dtype,
    make: (p) => decoupled ? new AdamW(p, { lr: o.lr, weightDecay: o.weightDecay, stateDtype: dtype }) : new Adam(p, { lr: o.lr, weightDecay: o.weightDecay, stateDtype: dtype }),
    step: (p, g, b, t, mistake) => {
      const r = adamLowpStep(p, g, readMoment(b, "firstMoment", dtype, true), readMoment(b, "secondMoment", dtype, false), t, o, dtype, mistake);
      return { param: r.param, moments: [["firstMoment", true, r.m], ["secondMoment", false, r.v]] };
    },
  };
}
function lionCase(dtype: Dtype): Case {
  return {
    name: `Lion ${dtype}`, dtype,
    make: (p) => new Lion(p, { ...lionOptions, stateDtype: dtype }),
    step: (p, g, b, _t, mistake) => {
      const r = lionLowpStep(p, g, readMoment(b, "firstMoment", dtype, true), lionOptions, dtype, mistake);
      return { param: r.param, moments: [["firstMoment", true, r.m]] };
    },
  };
}
const CASES = [adamCase("bfloat16", false), adamCase("int8", false), adamCase("int8", true), adamCase("bfloat16", true), lionCase("bfloat16"), lionCase("int8")];

describe.each(CASES)("$name against the float64 reference", (c) => {
  // Each step starts the reference from the kernel's parameters and stored moments; both then
  // store: the kernel's f32 moments and the reference's f64 ones round the same way except
  // where a value sits within float32 rounding of a rounding boundary (one code apart).
  it.each(SIZES)("%i elements, 4 steps", (size) => {
    const param = makeParam(size, size + 7);
    const optimizer = c.make([param]);
    const random = seededRandom(size);
    let buffers: Buffers | null = null;
    for (let t = 1; t <= 4; t++) {
      fillGrad(param, random);
      for (let i = 0; i < size; i++) param.grad[i] = param.grad[i]! * 0.1 + 0.01 * param.data[i]!;
      const before = Float64Array.from(param.data);
      const zero = { firstMomentBf16: new Uint16Array(size), secondMomentBf16: new Uint16Array(size) };
      const start = buffers ?? (c.dtype === "bfloat16" ? zero : null);
      const grad = param.grad.slice();
      optimizer.step();
      const after = buffersOf(optimizer.stateDict());
      if (start !== null) {
        const expected = c.step(before, grad, start, t);
        expect(maxParamError(param, expected.param)).toBeLessThan(1e-6);
        for (const [name, , stored] of expected.moments) expect(agrees(after, name, c.dtype, stored)).toBe(true);
        if (size === 1037) {
          const mistakes: LowpMistake[] = c.dtype === "bfloat16" ? ["truncate"] : ["block128", "linearMap", "swappedMaps"];
          for (const mistake of mistakes) {
            const wrong = c.step(before, grad, start, t, mistake);
            expect(wrong.moments.every(([name, , stored]) => agrees(after, name, c.dtype, stored))).toBe(false);
          }
        }
      }
      buffers = after;
    }
    optimizer.dispose();
  });
});

describe("error against float32 state", () => {
  // 100 steps of Adam (lr 1e-3) and Lion (lr 1e-4) on the same gradients: the parameters drift
  // from the float32-state run by a small part of the distance they can travel (lr per step).
  // Bounds as fractions of that travel, about twice the measured drift (mean / worst element):
  // Adam bfloat16 7.6e-4 / 5.7e-3, int8 3.1e-3 / 1.7e-2; Lion bfloat16 9e-4 / 0.06, int8 8.6e-3 /
  // 0.18 (Lion moves by exactly ±lr, so an element whose direction flips sign is off by 2·lr).
  it.each([
    ["Adam", "bfloat16", 0.002, 0.015], ["Adam", "int8", 0.006, 0.04],
    ["Lion", "bfloat16", 0.003, 0.15], ["Lion", "int8", 0.02, 0.4],
  ] as const)("%s %s", (name, dtype, meanBound, worstBound) => {
    const size = 20000;
    const lr = name === "Adam" ? 1e-3 : 1e-4;
    const travel = lr * 100;
    const run = (stateDtype: "float32" | Dtype): Float32Array => {
      const p = makeParam(size, 3);
      const optimizer = name === "Adam" ? new Adam([p], { lr, stateDtype }) : new Lion([p], { lr, stateDtype });
      const random = seededRandom(11);
      for (let t = 0; t < 100; t++) {
        for (let i = 0; i < size; i++) p.grad[i] = (random() * 2 - 1) * 0.1 + 0.05 * p.data[i]!;
        optimizer.step();
      }
      optimizer.dispose();
      return p.data.slice();
    };
    const f32 = run("float32");
    const low = run(dtype);
    let worst = 0;
    let total = 0;
    for (let i = 0; i < size; i++) { const d = Math.abs(low[i]! - f32[i]!); worst = Math.max(worst, d); total += d; }
    expect(total).toBeGreaterThan(0);
    expect(total / size).toBeLessThan(meanBound * travel);
    expect(worst).toBeLessThan(worstBound * travel);
  });
});

describe("state dicts", () => {
  it.each(["bfloat16", "int8"] as const)("%s: round-trip bit-identically and resume as if never saved", (dtype) => {
    const a = makeParam(1037, 1);
    const b = makeParam(1037, 1);
    const oa = new Adam([a], { lr: 1e-2, stateDtype: dtype });
    const ob = new Adam([b], { lr: 1e-2, stateDtype: dtype });
    const random = seededRandom(2);
    const grads = Array.from({ length: 6 }, () => Float32Array.from({ length: 1037 }, () => random() - 0.5));
    for (let t = 0; t < 3; t++) { a.grad.set(grads[t]!); oa.step(); b.grad.set(grads[t]!); ob.step(); }
    const saved = structuredClone(oa.stateDict());
    const resumed = new Adam([b], { lr: 1e-2, stateDtype: dtype });
    resumed.loadStateDict(saved);
    expect(resumed.stateDict()).toEqual(saved);
    for (let t = 3; t < 6; t++) { a.grad.set(grads[t]!); oa.step(); b.grad.set(grads[t]!); resumed.step(); }
    expect(b.data).toEqual(a.data);
    expect(resumed.stateDict()).toEqual(oa.stateDict());
  });

  it("loading checks each buffer's type and length and changes nothing on failure", () => {
    const p = makeParam(300, 4);
    const optimizer = new Adam([p], { stateDtype: "int8" });
    optimizer.step();
    const good = optimizer.stateDict();
    const withBuffers = (buffers: Buffers): OptimizerStateDict => ({ ...good, state: [{ ...good.state[0]!, buffers: { ...buffers } }] });
    const b = buffersOf(good);
    expect(() => optimizer.loadStateDict(withBuffers({ ...b, firstMomentCodes: new Float32Array(300) }))).toThrow(/firstMomentCodes must be a Uint8Array/);
    expect(() => optimizer.loadStateDict(withBuffers({ ...b, firstMomentCodes: new Uint8Array(299) }))).toThrow(RangeError);
    expect(() => optimizer.loadStateDict(withBuffers({ ...b, secondMomentAbsmax: new Float32Array(1) }))).toThrow(/secondMomentAbsmax has 1 values/);
    expect(() => optimizer.loadStateDict(withBuffers({ firstMomentBf16: new Uint16Array(300), secondMomentBf16: new Uint16Array(300) }))).toThrow(/firstMomentBf16/);
    expect(optimizer.stateDict()).toEqual(good);
  });
});

describe("non-finite moments", () => {
  it.each(["bfloat16", "int8"] as const)("%s: a NaN gradient makes its own parameter NaN and leaves other blocks alone", (dtype) => {
    const a = makeParam(600, 12);
    const b = makeParam(600, 12);
    const oa = new Adam([a], { lr: 1e-2, stateDtype: dtype });
    const ob = new Adam([b], { lr: 1e-2, stateDtype: dtype });
    const random = seededRandom(4);
    for (let i = 0; i < 600; i++) a.grad[i] = b.grad[i] = random() - 0.5;
    a.grad[3] = Number.NaN;
    oa.step();
    ob.step();
    expect(a.data[3]).toBeNaN();
    // Blocks 1 and 2 (elements 256…599) never saw the NaN: bit-identical to the clean run.
    expect(a.data.slice(256)).toEqual(b.data.slice(256));
    const codes = (o: Adam) => buffersOf(o.stateDict())[dtype === "int8" ? "secondMomentCodes" : "secondMomentBf16"]!.slice(256);
    expect(codes(oa)).toEqual(codes(ob));
  });
});

describe("options and step variants", () => {
  it("rejects unknown dtypes, stateDtype where there is none, and amsgrad with reduced state", () => {
    const p = makeParam(4, 1);
    expect(() => new Adam([p], { stateDtype: "float16" as Dtype })).toThrow(/stateDtype.*"float32", "bfloat16", "int8"/);
    expect(() => new SGD([p], { lr: 0.1, stateDtype: "int8" } as never)).toThrow(/SGD keeps float32 state only/);
    expect(() => new SGD([{ params: [p], stateDtype: "int8" } as never], { lr: 0.1 })).toThrow(/SGD keeps float32 state only/);
    expect(() => new Adam([p], { amsgrad: true, stateDtype: "bfloat16" })).toThrow(/amsgrad needs stateDtype "float32"/);
    expect(() => new Lion([p], { stateDtype: 8 as never })).toThrow(TypeError);
  });

  it("bfloat16 row steps equal steps of the rows alone; int8 refuses rows", () => {
    const table = makeParam(8 * 33, 9, [8, 33]);
    const rowParams = [1, 5].map((r) => parameter([33], { init: table.data.slice(r * 33, r * 33 + 33) }));
    const random = seededRandom(3);
    const optimizer = new Adam([table], { lr: 1e-2, stateDtype: "bfloat16" });
    const separate = new Adam(rowParams, { lr: 1e-2, stateDtype: "bfloat16" });
    for (let t = 0; t < 3; t++) {
      for (let i = 0; i < table.size; i++) table.grad[i] = random() - 0.5;
      rowParams.forEach((rp, k) => rp.grad.set(table.grad.subarray([1, 5][k]! * 33, [1, 5][k]! * 33 + 33)));
      optimizer.step({ rows: new Map([[table, Int32Array.of(1, 5)]]) });
      separate.step();
    }
    expect(table.data.slice(33, 66)).toEqual(rowParams[0]!.data);
    expect(table.data.slice(165, 198)).toEqual(rowParams[1]!.data);
    const int8 = new Adam([table], { stateDtype: "int8" });
    expect(() => int8.step({ rows: new Map([[table, Int32Array.of(1)]]) })).toThrow(/by rows/);
  });

  it("int8 masked steps leave masked-out parameters and update the state as a dense step", () => {
    const a = makeParam(700, 6);
    const b = makeParam(700, 6);
    const mask = Uint8Array.from({ length: 700 }, (_, i) => i % 3 === 0 ? 1 : 0);
    const oa = new Adam([a], { lr: 1e-2, stateDtype: "int8" });
    const ob = new Adam([b], { lr: 1e-2, stateDtype: "int8" });
    const before = a.data.slice();
    const random = seededRandom(8);
    for (let i = 0; i < 700; i++) a.grad[i] = b.grad[i] = random() - 0.5;
    oa.step({ mask: new Map([[a, mask]]) });
    ob.step();
    for (let i = 0; i < 700; i++) expect(a.data[i]).toBe(mask[i] ? b.data[i] : before[i]);
    expect(oa.stateDict().state).toEqual(ob.stateDict().state);
  });
});
