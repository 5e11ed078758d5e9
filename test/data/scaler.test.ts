import { beforeAll, describe, expect, it } from "vitest";
import { init, fitScaler, applyScaler, invertScaler, parameter } from "../../src/index.js";
import { wasmOffset } from "../../src/bindings/views.js";
import { seededRandom } from "../reference/random.js";

beforeAll(async () => {
  await init();
});

/** float64 per-feature statistics over the last axis (numpy's mean/std with ddof 0, min/max). */
function reference(x: Float32Array, channels: number, kind: "standard" | "minmax"): { offset: number[]; scale: number[] } {
  const rows = x.length / channels;
  const offset: number[] = [];
  const scale: number[] = [];
  for (let c = 0; c < channels; c++) {
    const column = Array.from({ length: rows }, (_, r) => x[r * channels + c]!);
    if (kind === "minmax") {
      const lo = Math.min(...column);
      const range = Math.max(...column) - lo;
      offset.push(lo);
      scale.push(range === 0 ? 1 : range);
    } else {
      const mean = column.reduce((s, v) => s + v, 0) / rows;
      const std = Math.sqrt(column.reduce((s, v) => s + (v - mean) ** 2, 0) / rows);
      offset.push(mean);
      scale.push(std === 0 ? 1 : std);
    }
  }
  return { offset, scale };
}

/** Features with very different means and spreads; feature `constant` (if ≥ 0) is constant. */
function data(seed: number, rows: number, channels: number, constant = -1): Float32Array {
  const random = seededRandom(seed);
  const x = new Float32Array(rows * channels);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < channels; c++) {
      x[r * channels + c] = c === constant ? 7.25 : (c % 3 === 0 ? 1e4 : c - 2) + (random() - 0.5) * (c + 1) * 0.3;
    }
  }
  return x;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const error = Math.abs(actual[i]! - e) / Math.max(Math.abs(e), 1e-30);
    if (!(error <= tolerance)) expect.fail(`element ${i}: ${actual[i]} vs ${e} (relative error ${error})`);
  }
}

const SIZES: [number, number][] = [[1, 1], [7, 1], [3, 3], [2, 5], [9, 6], [33, 7], [101, 8], [5, 13], [1000, 3], [17, 64]];

describe("fitScaler", () => {
  for (const kind of ["standard", "minmax"] as const) {
    for (const [rows, channels] of SIZES) {
      it(`${kind} matches float64 for [${rows}, ${channels}] with a constant feature`, () => {
        const constant = channels > 1 ? 1 : -1;
        const x = data(rows * 31 + channels, rows, channels, constant);
        const before = x.slice();
        const fitted = fitScaler(x, [rows, channels], { kind });
        const ref = reference(x, channels, kind);
        expect(fitted.offset).toBeInstanceOf(Float32Array);
        expectClose(fitted.offset, ref.offset, 2e-7);
        expectClose(fitted.scale, ref.scale, rows === 1 ? 0 : 1e-6);
        if (constant >= 0) expect(fitted.scale[constant]).toBe(1);
        expect(x).toEqual(before);
      });
    }
  }

  it("matches float64 on 60 random shapes (any feature count, rows not a multiple of anything)", () => {
    const random = seededRandom(99);
    for (let trial = 0; trial < 60; trial++) {
      const rows = 1 + Math.floor(random() * 40);
      const channels = 1 + Math.floor(random() * 19);
      const x = Float32Array.from({ length: rows * channels }, () => (random() - 0.3) * 10 ** Math.floor(random() * 4));
      for (const kind of ["standard", "minmax"] as const) {
        const fitted = fitScaler(x, [rows, channels], { kind });
        const ref = reference(x, channels, kind);
        expectClose(fitted.offset, ref.offset.map((v) => Math.fround(v)), 1e-6);
        for (let c = 0; c < channels; c++) {
          // A spread far below the values' rounding is noise in float32 (as in numpy): judge the
          // scale absolutely there.
          const floor = kind === "standard" ? 1e-6 * Math.abs(ref.offset[c]!) : 0;
          expect(Math.abs(fitted.scale[c]! - ref.scale[c]!)).toBeLessThanOrEqual(2e-6 * ref.scale[c]! + floor);
        }
      }
    }
  });

  it("defaults to standard; a 1-D shape is one feature; higher ranks use the last axis", () => {
    const x = data(5, 24, 1);
    expect(fitScaler(x, [24])).toEqual(fitScaler(x, [24, 1], { kind: "standard" }));
    const y = data(6, 12, 4);
    expect(fitScaler(y, [3, 4, 4])).toEqual(fitScaler(y, [12, 4]));
  });

  it("keeps precision with a large mean against a small spread (f64 shifted sums)", () => {
    const rows = 4096;
    const x = new Float32Array(rows);
    for (let i = 0; i < rows; i++) x[i] = 1e6 + (i % 2 === 0 ? 0.0625 : -0.0625);
    const fitted = fitScaler(x, [rows]);
    expect(fitted.offset[0]).toBe(1e6);
    expect(fitted.scale[0]).toBe(0.0625);
  });

  it("uses a library view in place and gives the same result as a copy", () => {
    const p = parameter([50, 6], { init: data(8, 50, 6) });
    expect(wasmOffset(p.data)).toBeGreaterThanOrEqual(0);
    expect(fitScaler(p.data, [50, 6])).toEqual(fitScaler(p.data.slice(), [50, 6]));
    p.dispose();
  });

  it("rejects bad input before doing anything", () => {
    const x = data(1, 4, 2);
    expect(() => fitScaler([1, 2] as unknown as Float32Array, [2])).toThrow(/x must be a Float32Array/);
    expect(() => fitScaler(x, [4, 3])).toThrow(RangeError);
    expect(() => fitScaler(x, [4, 3])).toThrow(/x has 8 elements/);
    expect(() => fitScaler(x, [8, 0])).toThrow(/positive integer/);
    expect(() => fitScaler(x, [4, 2], { kind: "robust" as "standard" })).toThrow(/kind must be one of "standard", "minmax"/);
    expect(() => fitScaler(x, [4, 2], { knd: "minmax" } as never)).toThrow(/no option "knd"; did you mean "kind"/);
    expect(() => fitScaler(x, [4, 2], 3 as never)).toThrow(TypeError);
  });
});

describe("applyScaler / invertScaler", () => {
  for (const [rows, channels] of SIZES) {
    it(`match float64 for [${rows}, ${channels}] and round-trip`, () => {
      const x = data(rows + channels * 7, rows, channels, channels > 2 ? 2 : -1);
      const fitted = fitScaler(x, [rows, channels]);
      const out = new Float32Array(x.length);
      const y = applyScaler(x, [rows, channels], fitted, { out });
      expect(y).toBe(out);
      const expected = Array.from(x, (v, i) => (v - fitted.offset[i % channels]!) / fitted.scale[i % channels]!);
      for (let i = 0; i < x.length; i++) expect(Math.abs(y[i]! - expected[i]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(expected[i]!)));
      // Standardised features have mean 0 and std 1 (constant ones stay at 0).
      const back = invertScaler(y.slice(), [rows, channels], fitted);
      for (let i = 0; i < x.length; i++) expect(Math.abs(back[i]! - x[i]!)).toBeLessThanOrEqual(2e-6 * Math.max(1, Math.abs(x[i]!)));
    });
  }

  it("works in place by default, on foreign arrays and on library views", () => {
    const x = data(3, 10, 5);
    const copy = x.slice();
    const scaler = { offset: [1, 2, 3, 4, 5], scale: [2, 4, 8, 0.5, -1] };
    const result = applyScaler(x, [10, 5], scaler);
    expect(result).toBe(x);
    for (let i = 0; i < x.length; i++) expect(x[i]).toBe(Math.fround((copy[i]! - scaler.offset[i % 5]!) / Math.fround(scaler.scale[i % 5]!)));
    const p = parameter([10, 5], { init: copy });
    const viewResult = applyScaler(p.data, [10, 5], scaler);
    expect(Array.from(viewResult)).toEqual(Array.from(x));
    expect(Array.from(p.data)).toEqual(Array.from(x));
    invertScaler(p.data, [10, 5], scaler, { out: p.grad });
    for (let i = 0; i < x.length; i++) expect(Math.abs(p.grad[i]! - copy[i]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(copy[i]!)));
    p.dispose();
  });

  it("rejects bad scalers and outputs, leaving x unchanged", () => {
    const x = data(4, 3, 2);
    const before = x.slice();
    const good = { offset: [0, 0], scale: [1, 1] };
    expect(() => applyScaler(x, [3, 2], { offset: [0], scale: [1, 1] })).toThrow(/scaler.offset has 1 entries, x has 2 features/);
    expect(() => applyScaler(x, [3, 2], { offset: [0, 0], scale: [1, 0] })).toThrow(/scaler.scale\[1\] must be a finite non-zero number/);
    expect(() => applyScaler(x, [3, 2], { offset: [0, NaN], scale: [1, 1] })).toThrow(TypeError);
    expect(() => applyScaler(x, [3, 2], { offset: [0, 1e39], scale: [1, 1] })).toThrow(RangeError);
    expect(() => applyScaler(x, [3, 2], null as never)).toThrow(/scaler must be an object/);
    expect(() => applyScaler(x, [3, 2], good, { out: new Float32Array(5) })).toThrow(/out has 5 elements, expected 6/);
    expect(() => applyScaler(x, [3, 2], good, { out: [] as never })).toThrow(/out must be a Float32Array/);
    expect(() => invertScaler(x, [3, 2], good, { ot: x } as never)).toThrow(/no option "ot"; did you mean "out"/);
    expect(x).toEqual(before);
  });
});

describe("scaler refusals by exact message, x and out left as they were", () => {
  const x = Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8);
  const good = { offset: [0, 0], scale: [1, 1] };
  const cases: [string, () => unknown, Error][] = [
    ["fit: x not a Float32Array", () => fitScaler([1, 2] as never, [2]), new TypeError("simdopt: fitScaler: x must be a Float32Array, got [1, 2]")],
    ["fit: shape []", () => fitScaler(new Float32Array(1), []), new RangeError("simdopt: fitScaler: shape must have at least 1 dimension, got []")],
    ["fit: shape not an array", () => fitScaler(x, 8 as never), new TypeError("simdopt: shape must be an array of dimensions, got 8")],
    ["fit: shape of another size", () => fitScaler(x, [4, 3]), new RangeError("simdopt: fitScaler: x has 8 elements but shape [4, 3] needs 12")],
    ["fit: unknown kind", () => fitScaler(x, [4, 2], { kind: "robust" as never }), new RangeError('simdopt: fitScaler: kind must be one of "standard", "minmax", got "robust" (string)')],
    ["fit: options not an object", () => fitScaler(x, [4, 2], 3 as never), new TypeError("simdopt: fitScaler options must be an object, got 3")],
    ["apply: x null", () => applyScaler(null as never, [2], good), new TypeError("simdopt: applyScaler: x must be a Float32Array, got null")],
    ["apply: shape []", () => applyScaler(new Float32Array(1), [], { offset: [0], scale: [1] }), new RangeError("simdopt: applyScaler: shape must have at least 1 dimension, got []")],
    ["invert: shape of another size", () => invertScaler(x, [4, 3], good), new RangeError("simdopt: invertScaler: x has 8 elements but shape [4, 3] needs 12")],
    ["apply: out not a Float32Array", () => applyScaler(x, [4, 2], good, { out: [] as never }), new TypeError("simdopt: applyScaler: out must be a Float32Array, got []")],
    ["invert: out too short", () => invertScaler(x, [4, 2], good, { out: new Float32Array(5) }), new RangeError("simdopt: invertScaler: out has 5 elements, expected 8 (the size of x)")],
    ["apply: unknown option", () => applyScaler(x, [4, 2], good, { ot: 1 } as never), new TypeError('simdopt: applyScaler has no option "ot"; did you mean "out"? (options: out)')],
    ["apply: scaler null", () => applyScaler(x, [4, 2], null as never), new TypeError("simdopt: applyScaler: scaler must be an object { offset, scale }, got null")],
    ["invert: scaler a number", () => invertScaler(x, [4, 2], 5 as never), new TypeError("simdopt: invertScaler: scaler must be an object { offset, scale }, got 5")],
    ["offset missing", () => applyScaler(x, [4, 2], { scale: [1, 1] } as never), new TypeError("simdopt: applyScaler: scaler.offset must be an array of numbers, got undefined")],
    ["offset null", () => applyScaler(x, [4, 2], { offset: null, scale: [1, 1] } as never), new TypeError("simdopt: applyScaler: scaler.offset must be an array of numbers, got null")],
    ["offset a number", () => applyScaler(x, [4, 2], { offset: 3, scale: [1, 1] } as never), new TypeError("simdopt: applyScaler: scaler.offset must be an array of numbers, got 3")],
    ["offset without length", () => applyScaler(x, [4, 2], { offset: {}, scale: [1, 1] } as never), new TypeError("simdopt: applyScaler: scaler.offset must be an array of numbers, got an object")],
    ["scale missing", () => applyScaler(x, [4, 2], { offset: [0, 0] } as never), new TypeError("simdopt: applyScaler: scaler.scale must be an array of numbers, got undefined")],
    ["offset too short", () => applyScaler(x, [4, 2], { offset: [0], scale: [1, 1] }), new RangeError("simdopt: applyScaler: scaler.offset has 1 entries, x has 2 features")],
    ["scale too long", () => applyScaler(x, [4, 2], { offset: [0, 0], scale: [1, 1, 1] }), new RangeError("simdopt: applyScaler: scaler.scale has 3 entries, x has 2 features")],
    ["scale 0", () => applyScaler(x, [4, 2], { offset: [0, 0], scale: [1, 0] }), new RangeError("simdopt: applyScaler: scaler.scale[1] must be a finite non-zero number (in float32), got 0")],
    ["scale 0 in float32", () => applyScaler(x, [4, 2], { offset: [0, 0], scale: [1e-50, 1] }), new RangeError("simdopt: applyScaler: scaler.scale[0] must be a finite non-zero number (in float32), got 1e-50")],
    ["offset NaN", () => applyScaler(x, [4, 2], { offset: [0, NaN], scale: [1, 1] }), new TypeError("simdopt: applyScaler: scaler.offset[1] must be a finite number (in float32), got NaN")],
    ["offset past float32", () => applyScaler(x, [4, 2], { offset: [1e39, 0], scale: [1, 1] }), new RangeError("simdopt: applyScaler: scaler.offset[0] must be a finite number (in float32), got 1e+39")],
    ["offset a string", () => applyScaler(x, [4, 2], { offset: ["1", 0], scale: [1, 1] } as never), new TypeError('simdopt: applyScaler: scaler.offset[0] must be a finite number (in float32), got "1" (string)')],
    ["scale −∞", () => invertScaler(x, [4, 2], { offset: [0, 0], scale: [1, -Infinity] }), new RangeError("simdopt: invertScaler: scaler.scale[1] must be a finite non-zero number (in float32), got -Infinity")],
    ["scale entry missing", () => invertScaler(x, [4, 2], { offset: [0, 0], scale: { length: 2, 0: 1 } } as never), new TypeError("simdopt: invertScaler: scaler.scale[1] must be a finite non-zero number (in float32), got undefined")],
  ];
  it.each(cases)("%s", (_label, run, error) => {
    const before = x.slice();
    expect(run).toThrow(error);
    expect(run).toThrow(error.constructor as ErrorConstructor);
    expect(Array.from(x)).toEqual(Array.from(before));
  });

  it("a 1-D shape is one feature; a feature count of 1, 2, 3 or 4 (every period rule) fits and applies exactly", () => {
    for (const channels of [1, 2, 3, 4, 6]) {
      const rows = 5;
      const v = Float32Array.from({ length: rows * channels }, (_, i) => (i * 7) % 11 - 3);
      const shape = channels === 1 ? [rows] : [rows, channels];
      const { offset, scale } = fitScaler(v, shape, { kind: "minmax" });
      const expected = reference(v, channels, "minmax");
      expect(Array.from(offset)).toEqual(expected.offset);
      expect(Array.from(scale)).toEqual(expected.scale);
      const y = applyScaler(v, shape, { offset, scale }, { out: new Float32Array(v.length) });
      for (let i = 0; i < v.length; i++) expect(y[i]).toBe(Math.fround((v[i]! - offset[i % channels]!) / scale[i % channels]!));
      const back = invertScaler(y, shape, { offset, scale }, { out: new Float32Array(v.length) });
      for (let i = 0; i < v.length; i++) expect(back[i]).toBe(Math.fround(Math.fround(y[i]! * scale[i % channels]!) + offset[i % channels]!));
    }
  });
});

describe("scaler staging failure", () => {
  it("a scratch that cannot grow fails the call with the out-of-memory error, x unchanged; the next call works", async () => {
    const { failNthAllocation } = await import("../../src/bindings/memory.js");
    const x = Float32Array.from({ length: 3 << 18 }, (_, i) => i % 7);
    const before = x.slice();
    failNthAllocation(1);
    expect(() => applyScaler(x, [1 << 18, 3], { offset: [1, 2, 3], scale: [2, 2, 2] })).toThrow(/^simdopt: out of wasm memory: cannot grow to \d+ MiB/);
    failNthAllocation(1);
    expect(() => fitScaler(x, [1 << 18, 3])).toThrow(/^simdopt: out of wasm memory/);
    failNthAllocation(0);
    expect(Array.from(x.subarray(0, 14))).toEqual(Array.from(before.subarray(0, 14)));
    expect(Array.from(applyScaler(x, [1 << 18, 3], { offset: [1, 2, 3], scale: [2, 2, 2] }).subarray(0, 3))).toEqual([-0.5, -0.5, -0.5]);
  });
});
