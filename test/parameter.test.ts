// Parameters: zero-copy views into wasm memory, the allocator, growth safety, shape validation.
import { beforeAll, describe, expect, it } from "vitest";
import { Adam, features, init, parameter, Parameter, SGD } from "../src/index.js";
import { allocate, allocatedBytes, ALIGNMENT, currentBuffer, memoryIsShared, release } from "../src/bindings/memory.js";

beforeAll(async () => {
  await init();
});

describe("zero-copy views", () => {
  it(".data and .grad are Float32Array views of the module's memory", () => {
    const w = parameter([784, 128], { name: "w" });
    expect(w.data).toBeInstanceOf(Float32Array);
    expect(w.data.buffer).toBe(currentBuffer());
    expect(w.grad.buffer).toBe(currentBuffer());
    expect(w.data.length).toBe(784 * 128);
    expect(w.grad.length).toBe(784 * 128);
    expect(w.size).toBe(784 * 128);
    expect(w.shape).toEqual([784, 128]);
    expect(w.name).toBe("w");
    expect(w.grad.every((x) => x === 0)).toBe(true);
    expect(w.data.byteOffset % ALIGNMENT).toBe(0);
    expect(w.grad.byteOffset % ALIGNMENT).toBe(0);
    // Views do not overlap.
    expect(w.grad.byteOffset >= w.data.byteOffset + w.data.byteLength || w.data.byteOffset >= w.grad.byteOffset + w.grad.byteLength).toBe(true);
    w.dispose();
  });

  it("a write through .data and .grad is what the kernel reads", () => {
    const p = parameter([5]);
    const data = p.data;
    const grad = p.grad;
    data.set([1, 2, 3, 4, 5]);
    grad.set([10, 20, 30, 40, 50]);
    new SGD([p], { lr: 0.1 }).step();
    // p ← p − lr·g, computed by the wasm kernel from the values written through the views.
    expect([...data]).toEqual([0, 0, 0, 0, 0].map((_, i) => Math.fround(Math.fround(i + 1) - Math.fround(Math.fround(0.1) * ((i + 1) * 10)))));
    expect(p.data[4]).toBe(data[4]);
  });

  it("reports a shared memory where the runtime offers one", () => {
    expect(features().threads).toBe(true);
    expect(memoryIsShared()).toBe(true);
    expect(currentBuffer()).toBeInstanceOf(SharedArrayBuffer);
  });
});

describe("allocator", () => {
  it("frees and reuses blocks, 16-byte aligned, zeroed", () => {
    const before = allocatedBytes();
    const a = allocate(100);
    const b = allocate(4);
    expect(a % 16).toBe(0);
    expect(b % 16).toBe(0);
    new Uint8Array(currentBuffer(), a, 100).fill(7);
    release(a);
    const c = allocate(64); // fits the freed block: reused, and zeroed
    expect(c).toBe(a);
    expect(new Uint8Array(currentBuffer(), c, 64).every((x) => x === 0)).toBe(true);
    release(b);
    release(c);
    expect(allocatedBytes()).toBe(before);
    // Freed neighbours coalesce: a block spanning both fits where they were.
    const d = allocate(112 + 16);
    expect(d).toBe(a);
    release(d);
  });

  it("a freed block at the top of the heap, reused and extended by a larger request, comes back zeroed", () => {
    // 4 MiB: no free block this large exists yet, so it is carved from the top of the heap.
    const small = 4 << 20;
    const x = allocate(small);
    new Uint8Array(currentBuffer(), x, small).fill(0xab);
    release(x);
    // Larger than every free block: the free top block (x, possibly merged with a free block
    // just below it) is taken back and extended past the old top.
    const y = allocate(2 * small);
    expect(y).toBeLessThanOrEqual(x);
    expect(y + 2 * small).toBeGreaterThan(x + small);
    const bytes = new Uint8Array(currentBuffer(), y, 2 * small);
    expect(bytes.every((value) => value === 0)).toBe(true);
    release(y);
  });

  it("best fit: a request takes the smallest free block it fits in, exactly sized ones included", () => {
    // Odd sizes that no other test leaves as holes; live fences keep the freed blocks apart.
    const big = allocate(4112), fence1 = allocate(16), small = allocate(1040), fence2 = allocate(16);
    const mid = allocate(2064), fence3 = allocate(16);
    release(big);
    release(mid);
    release(small);
    expect(allocate(1040)).toBe(small); // the exact fit beats the larger holes
    expect(allocate(1500)).toBe(mid); // 2064 is the smallest hole ≥ 1504
    expect(allocate(2100)).toBe(big); // only the 4112 hole fits
    for (const block of [small, mid, big, fence1, fence2, fence3]) release(block);
  });

  it("a Parameter's views are the same objects on every access (no re-viewing without growth)", () => {
    const p = parameter([5]);
    expect(p.data).toBe(p.data);
    expect(p.grad).toBe(p.grad);
    p.dispose();
  });

  it("dispose() frees both views; later use throws", () => {
    const before = allocatedBytes();
    const p = parameter([33]);
    expect(allocatedBytes()).toBe(before + 2 * 144);
    p.dispose();
    expect(allocatedBytes()).toBe(before);
    expect(p.disposed).toBe(true);
    expect(() => p.data).toThrow(/disposed/);
    expect(() => new Adam([p])).toThrow(/disposed/);
    p.dispose(); // idempotent
  });

  it("memory growth past 256 MiB keeps every earlier view valid", () => {
    // Hold views made before growth, then allocate ~400 MiB in many parameters. A plain
    // WebAssembly.Memory would detach the held views; the shared memory must not.
    const early = Array.from({ length: 8 }, (_, i) => parameter([1000 + i]));
    const heldData = early.map((p) => p.data);
    const heldGrad = early.map((p) => p.grad);
    heldData.forEach((view, i) => view.fill(i + 0.5));
    heldGrad.forEach((view, i) => view.fill(-i));
    const startBytes = currentBuffer().byteLength;
    const many: Parameter[] = [];
    for (let i = 0; i < 50; i++) many.push(parameter([1 << 20])); // 50 × 8 MiB (data + grad)
    expect(currentBuffer().byteLength - startBytes).toBeGreaterThan(256 * 2 ** 20);
    many.forEach((p, i) => { p.data[0] = i; p.data[p.size - 1] = -i; });
    for (let i = 0; i < early.length; i++) {
      expect(heldData[i]!.length).toBe(1000 + i);
      expect(heldData[i]!.every((x) => x === i + 0.5)).toBe(true);
      expect(heldGrad[i]!.every((x) => x === -i)).toBe(true);
      // Writes through an old view reach the parameter (and the kernel); writes through a new one reach the old view.
      heldData[i]![3] = 42;
      expect(early[i]!.data[3]).toBe(42);
      early[i]!.data[4] = 43;
      expect(heldData[i]![4]).toBe(43);
    }
    heldGrad[0]!.fill(1);
    new SGD([early[0]!], { lr: 1 }).step();
    expect(heldData[0]![0]).toBe(-0.5);
    many.forEach((p, i) => { expect(p.data[0]).toBe(i); expect(p.data[p.size - 1]).toBe(-i); });
    for (const p of [...many, ...early]) p.dispose();
  });
});

describe("shape and init validation", () => {
  it.each([[[0]], [[-1]], [[1.5]], [[Infinity]], [[Number.NaN]], [[3, 0]], [[2, -4]]])("shape %j throws RangeError", (shape) => {
    expect(() => parameter(shape as number[])).toThrow(RangeError);
  });
  it("non-array shapes throw TypeError", () => {
    expect(() => parameter(3 as never)).toThrow(TypeError);
  });
  it("init arrays are copied in once and checked for length", () => {
    const values = [1, 2, 3, 4, 5, 6];
    const p = parameter([2, 3], { init: values });
    values[0] = 99;
    expect([...p.data]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => parameter([2, 3], { init: [1, 2] })).toThrow(RangeError);
    expect(() => parameter([2, 3], { init: "glorot" as never })).toThrow(/unknown init/);
    expect(() => parameter([4], { init: "heNormal" })).toThrow(RangeError);
    expect([...parameter([3], { init: "ones" }).data]).toEqual([1, 1, 1]);
  });
  it("seeded schemes are deterministic", () => {
    const a = parameter([16, 8], { init: "xavierUniform", seed: 42 });
    const b = parameter([16, 8], { init: "xavierUniform", seed: 42 });
    const c = parameter([16, 8], { init: "xavierUniform", seed: 43 });
    expect([...a.data]).toEqual([...b.data]);
    expect([...a.data]).not.toEqual([...c.data]);
  });
});

describe("parameter() refusals by exact message, nothing allocated", () => {
  const schemes = "zeros, ones, xavierUniform, xavierNormal, heUniform, heNormal";
  it.each<[string, () => unknown, Error]>([
    ["a non-array shape", () => parameter(3 as never), new TypeError("simdopt: shape must be an array of dimensions, got 3")],
    ["a zero dimension", () => parameter([3, 0]), new RangeError("simdopt: shape[1] must be a positive integer, got 0")],
    ["a fractional dimension", () => parameter([1.5]), new RangeError("simdopt: shape[0] must be a positive integer, got 1.5")],
    ["a string dimension", () => parameter(["2"] as never), new RangeError('simdopt: shape[0] must be a positive integer, got "2" (string)')],
    ["2^30 + 2^15 elements", () => parameter([2 ** 15, 2 ** 15 + 1]), new RangeError("simdopt: shape [32768, 32769] has 1073774592 elements, more than fit in wasm memory")],
    ["an unknown option", () => parameter([2], { nmae: "x" } as never), new TypeError('simdopt: parameter has no option "nmae"; did you mean "name"? (options: init, name, seed)')],
    ["a non-object options", () => parameter([2], 5 as never), new TypeError("simdopt: parameter options must be an object, got 5")],
    ["a non-string name", () => parameter([2], { name: 7 as never }), new TypeError("simdopt: parameter options.name must be a string, got 7")],
    ["a seed past 32 bits", () => parameter([2, 2], { init: "heUniform", seed: 2 ** 32 }), new RangeError("simdopt: parameter options.seed must be an integer in [0, 4294967295], got 4294967296")],
    ["a negative seed", () => parameter([2, 2], { seed: -1 }), new RangeError("simdopt: parameter options.seed must be an integer in [0, 4294967295], got -1")],
    ["a misspelt scheme", () => parameter([2, 2], { init: "heUnifrom" as never }), new RangeError(`simdopt: unknown init "heUnifrom"; did you mean "heUniform"? Expected one of ${schemes} or an array of values`)],
    ["an unknown scheme", () => parameter([2, 2], { init: "glorot" as never }), new RangeError(`simdopt: unknown init "glorot" Expected one of ${schemes} or an array of values`)],
    ["a fan scheme on a vector", () => parameter([4], { init: "xavierNormal" }), new RangeError('simdopt: init "xavierNormal" needs a parameter with at least 2 dimensions (fan-in and fan-out), got shape [4]')],
    ["a null init", () => parameter([2], { init: null as never }), new TypeError("simdopt: parameter options.init must be an array of values or a scheme name, got null")],
    ["a number init", () => parameter([2], { init: 1 as never }), new TypeError("simdopt: parameter options.init must be an array of values or a scheme name, got 1")],
    ["an object init without length", () => parameter([2], { init: {} as never }), new TypeError("simdopt: parameter options.init must be an array of values or a scheme name, got an object")],
    ["too few values", () => parameter([2, 3], { init: [1, 2] }), new RangeError("simdopt: init has 2 values but shape [2, 3] needs 6")],
    ["a non-number value", () => parameter([3], { init: [1, "2", 3] as never }), new TypeError('simdopt: parameter options.init[1] must be a number, got "2" (string)')],
    ["a non-number in an array-like", () => parameter([2], { init: { length: 2, 0: 1 } as never }), new TypeError("simdopt: parameter options.init[1] must be a number, got undefined")],
  ])("%s", (_, make, error) => {
    const before = allocatedBytes();
    expect(make).toThrow(error);
    expect(allocatedBytes()).toBe(before);
  });

  it("zeros and ones fit a vector; typed-array init is taken whole; default names count up", () => {
    expect([...parameter([2], { init: "zeros" }).data]).toEqual([0, 0]);
    expect([...parameter([2], { init: new Float64Array([0.5, 1.5]) }).data]).toEqual([0.5, 1.5]);
    expect([...parameter([2], { init: { length: 2, 0: 3, 1: 4 } as never }).data]).toEqual([3, 4]);
    const a = parameter([1]);
    const b = parameter([1]);
    expect(a.name).toMatch(/^param\d+$/);
    expect(Number(b.name.slice(5))).toBe(Number(a.name.slice(5)) + 1);
    expect(parameter([1], { name: "" }).name).toBe("");
  });

  it("a disposed parameter refuses every view and pointer, by name", () => {
    const p = parameter([2], { name: "gone" });
    expect(p.disposed).toBe(false);
    p.dispose();
    p.dispose();
    expect(p.disposed).toBe(true);
    const error = new TypeError('simdopt: parameter "gone" has been disposed');
    expect(() => p.data).toThrow(error);
    expect(() => p.grad).toThrow(error);
    expect(() => p.dataPtr).toThrow(error);
    expect(() => p.gradPtr).toThrow(error);
  });
});
