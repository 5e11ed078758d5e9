// Group membership is checked on every step, and the allocator refuses sizes and pointers that
// are not non-negative integers: a foreign object in a live group used to set the heap top to NaN,
// after which every new parameter aliased every other at byte 0.
import { beforeAll, describe, expect, it } from "vitest";
import { Adam, init, parameter, SGD, type Parameter } from "../../src/index.js";
import { allocate, allocatedBytes, currentBuffer, F32Block, heapTopBytes, release } from "../../src/bindings/memory.js";

beforeAll(async () => {
  await init();
});

function filled(size: number, value: number): Parameter {
  const p = parameter([size], { init: new Array(size).fill(value) });
  p.grad.fill(1);
  return p;
}

describe("group membership is validated on every step", () => {
  const intruders: Array<[string, unknown, RegExp]> = [
    ["a plain object", {}, /paramGroups\[0\]\.params\[1\] must be a Parameter, got Object/],
    ["a Float32Array", new Float32Array(4), /paramGroups\[0\]\.params\[1\] must be a Parameter, got Float32Array/],
    ["a number", 16, /paramGroups\[0\]\.params\[1\] must be a Parameter, got number 16/],
    ["undefined", undefined, /paramGroups\[0\]\.params\[1\] must be a Parameter, got undefined/],
  ];
  for (const [what, intruder, message] of intruders) {
    it(`${what} pushed into a live group: step() and zeroGrad() throw, change nothing, and the heap stays sound`, () => {
      const p = filled(8, 3);
      const optimizer = new Adam([p], { lr: 0.1 });
      optimizer.step();
      const before = { data: [...p.data], state: optimizer.stateDict(), top: heapTopBytes(), bytes: allocatedBytes() };
      (optimizer.paramGroups[0]!.params as unknown[]).push(intruder);
      expect(() => optimizer.step()).toThrow(TypeError);
      expect(() => optimizer.step()).toThrow(message);
      expect(() => optimizer.step({ skipIfNonfinite: true })).toThrow(message);
      expect(() => optimizer.zeroGrad()).toThrow(message);
      expect([...p.data]).toEqual(before.data);
      expect([...p.grad]).toEqual(new Array(8).fill(1));
      optimizer.paramGroups[0]!.params.pop();
      expect(optimizer.stateDict()).toEqual(before.state);
      expect(heapTopBytes()).toBe(before.top);
      expect(allocatedBytes()).toBe(before.bytes);
      // New parameters get their own bytes, not byte 0 and not each other's.
      const a = filled(4, 1);
      const b = filled(4, 2);
      expect(a.dataPtr).toBeGreaterThan(0);
      expect(new Set([a.dataPtr, a.gradPtr, b.dataPtr, b.gradPtr, p.dataPtr, p.gradPtr]).size).toBe(6);
      expect([...a.data, ...b.data]).toEqual([1, 1, 1, 1, 2, 2, 2, 2]);
      optimizer.dispose();
      for (const q of [p, a, b]) q.dispose();
    });
  }

  it("a parameter pushed twice (same group or another group) throws RangeError before any update", () => {
    const p = filled(4, 1);
    const q = filled(4, 1);
    const optimizer = new SGD([{ params: [p] }, { params: [q] }], { lr: 1 });
    optimizer.paramGroups[0]!.params.push(p);
    expect(() => optimizer.step()).toThrow(/"param\d+" appears more than once in paramGroups \(again at paramGroups\[0\]\.params\[1\]\)/);
    optimizer.paramGroups[0]!.params.pop();
    optimizer.paramGroups[1]!.params.push(p);
    expect(() => optimizer.step()).toThrow(RangeError);
    expect([...p.data, ...q.data]).toEqual(new Array(8).fill(1));
    optimizer.paramGroups[1]!.params.pop();
    expect(optimizer.step()).toBe(true);
    expect([...p.data, ...q.data]).toEqual(new Array(8).fill(0));
  });

  it("params replaced by a non-array throws TypeError naming the group", () => {
    const p = filled(4, 1);
    const optimizer = new SGD([p], { lr: 1 });
    (optimizer.paramGroups[0] as { params: unknown }).params = "p";
    expect(() => optimizer.step()).toThrow(/paramGroups\[0\]\.params must be an array of Parameters, got string p/);
  });

  it("a new Parameter pushed into a live group is stepped (as in PyTorch)", () => {
    const p = filled(4, 1);
    const optimizer = new SGD([p], { lr: 1 });
    const q = filled(4, 5);
    optimizer.paramGroups[0]!.params.push(q);
    optimizer.step();
    expect([...p.data, ...q.data]).toEqual([0, 0, 0, 0, 4, 4, 4, 4]);
  });

  it("step({ mask }) naming a parameter of another optimizer still throws", () => {
    const p = filled(4, 1);
    const other = filled(4, 1);
    const optimizer = new SGD([p], { lr: 1 });
    expect(() => optimizer.step({ mask: new Map([[other, new Uint8Array(4)]]) })).toThrow(/does not hold/);
    expect(optimizer.step({ mask: new Map([[p, new Uint8Array([1, 0, 1, 0])]]) })).toBe(true);
    expect([...p.data]).toEqual([0, 1, 0, 1]);
  });
});

describe("the allocator refuses bad sizes and pointers", () => {
  const bad: unknown[] = [NaN, -16, 1.5, Infinity, -Infinity, 2 ** 33, "16", undefined];
  it.each(bad.map((value) => [String(value), value]))("allocate(%s) throws RangeError naming the value", (_, value) => {
    const top = heapTopBytes();
    const bytes = allocatedBytes();
    expect(() => allocate(value as number)).toThrow(RangeError);
    expect(() => allocate(value as number)).toThrow(`got ${String(value)}`);
    expect(() => new F32Block(value as number)).toThrow(RangeError);
    expect(heapTopBytes()).toBe(top);
    expect(allocatedBytes()).toBe(bytes);
  });

  it.each([[NaN], [-16], [0.5], [Infinity]])("release(%s) throws RangeError naming the value", (value) => {
    const bytes = allocatedBytes();
    expect(() => release(value)).toThrow(RangeError);
    expect(() => release(value)).toThrow(`got ${value}`);
    expect(allocatedBytes()).toBe(bytes);
  });

  it("freeing the highest blocks lowers the heap top; memory handed out again there is zeroed", () => {
    const top = heapTopBytes();
    const a = allocate(64);
    const b = allocate(4096);
    expect(heapTopBytes()).toBe(top + 64 + 4096);
    new Uint8Array(currentBuffer(), a, 64 + 4096).fill(9);
    release(a);
    expect(heapTopBytes()).toBe(top + 64 + 4096);
    release(b);
    expect(heapTopBytes()).toBe(top);
    const c = allocate(8192);
    expect(c).toBe(a);
    expect(new Uint8Array(currentBuffer(), c, 8192).every((x) => x === 0)).toBe(true);
    release(c);
    expect(heapTopBytes()).toBe(top);
  });

  it("valid sizes still work, 0 included, and blocks never overlap", () => {
    const starts = [0, 1, 16, 17, 4096].map((size) => [allocate(size), Math.max(16, Math.ceil(size / 16) * 16)] as const);
    for (const [start] of starts) expect(start % 16).toBe(0);
    const sorted = [...starts].sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]![0]).toBeGreaterThanOrEqual(sorted[i - 1]![0] + sorted[i - 1]![1]);
    for (const [start] of starts) release(start);
  });
});
