// What the optimizer base hands the thread pool, checked in this process with a stand-in for the
// pool's hooks (the real pool runs the built package in its own processes, test/threads): which
// steps are recorded for one dispatch (beginStep with the members' element count, endStep after),
// which are not (one thread, buffers not shaped like their parameter), and the guarded step's
// finiteness check, which asks for one allFinite per parameter in step order. The stand-in runs
// every kernel itself, so results must equal the same steps with no hooks installed.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { Adafactor, Adam, init, parameter, SGD, type Parameter } from "../../src/index.js";
import type { Kernels } from "../../src/bindings/kernels.js";
import { installThreadHooks, type ThreadHooks } from "../../src/threads/hooks.js";
import { bits, randomFill, type AnyOptimizer } from "./factories.js";

beforeAll(async () => {
  await init();
});

afterEach(() => {
  installThreadHooks(null as unknown as ThreadHooks);
});

interface Log {
  begin: number[];
  ends: number;
  reduces: Array<{ kernel: string; ptrs: number[]; lengths: number[] }>;
}

/** Hooks that do the work on this thread and log what they were asked. */
function standIn(threads: number, record: boolean): Log {
  const log: Log = { begin: [], ends: 0, reduces: [] };
  const unused = (): never => { throw new Error("not expected in these tests"); };
  installThreadHooks({
    matmulShares: unused, matmulSplit: unused, elementwiseEach: unused, nchwSplit: unused,
    reduceEach(wasm: Kernels, kernel, ptrs, lengths, out) {
      log.reduces.push({ kernel, ptrs: [...ptrs], lengths: [...lengths] });
      expect(out.length).toBe(ptrs.length);
      for (let i = 0; i < ptrs.length; i++) out[i] = wasm[kernel](ptrs[i]!, lengths[i]!);
    },
    threadCount: () => threads,
    beginStep(elements) { log.begin.push(elements); return record; },
    endStep() { log.ends++; },
  });
  return log;
}

function makeParams(shapes: number[][], seed: number): Parameter[] {
  return shapes.map((shape, i) => {
    const p = parameter(shape);
    randomFill(p.data, seed + i);
    randomFill(p.grad, seed + 100 + i);
    return p;
  });
}

/** The bits of every parameter after `steps` steps of `make`, with the hooks `install` set up (or none). */
function run(make: (params: Parameter[]) => AnyOptimizer, shapes: number[][], steps: number, install?: () => void): Uint32Array[] {
  const params = makeParams(shapes, 5);
  const optimizer = make(params);
  install?.();
  for (let t = 0; t < steps; t++) optimizer.step();
  installThreadHooks(null as unknown as ThreadHooks);
  const out = params.map((p) => bits(p.data));
  optimizer.dispose();
  for (const p of params) p.dispose();
  return out;
}

const SHAPES = [[3, 5], [7], [2, 2]];
const ELEMENTS = 15 + 7 + 4;

describe("steps with thread hooks installed", () => {
  const adam = (params: Parameter[]) => new Adam(params, { lr: 0.01 }) as unknown as AnyOptimizer;
  let expected: Uint32Array[] = [];
  beforeAll(() => {
    expected = run(adam, SHAPES, 3);
  });

  it("several threads: every step asks beginStep for the members' element count, and ends a recorded one", () => {
    let log: Log | undefined;
    expect(run(adam, SHAPES, 3, () => { log = standIn(4, true); })).toEqual(expected);
    // The first step (fresh state, no multi-tensor table yet) as well as the later ones.
    expect(log!.begin).toEqual([ELEMENTS, ELEMENTS, ELEMENTS]);
    expect(log!.ends).toBe(3);
  });

  it("a step beginStep declines runs directly and is not ended", () => {
    let log: Log | undefined;
    expect(run(adam, SHAPES, 2, () => { log = standIn(2, false); })).toEqual(run(adam, SHAPES, 2));
    expect(log!.begin).toEqual([ELEMENTS, ELEMENTS]);
    expect(log!.ends).toBe(0);
  });

  it("one thread: nothing is recorded", () => {
    let log: Log | undefined;
    expect(run(adam, SHAPES, 3, () => { log = standIn(1, true); })).toEqual(expected);
    expect(log!.begin).toEqual([]);
    expect(log!.ends).toBe(0);
  });

  it("the element count follows a parameter pushed into a group", () => {
    const params = makeParams(SHAPES, 9);
    const extra = makeParams([[6]], 40)[0]!;
    const optimizer = new SGD(params, { lr: 0.1, momentum: 0.9 });
    const log = standIn(2, true);
    optimizer.step();
    optimizer.paramGroups[0]!.params.push(extra);
    optimizer.step();
    expect(log.begin).toEqual([ELEMENTS, ELEMENTS + 6]);
    expect(log.ends).toBe(2);
    optimizer.dispose();
    for (const p of [...params, extra]) p.dispose();
  });

  it("state not shaped like its parameter (Adafactor's factored matrices) is never recorded, whatever the order", () => {
    const factor = (params: Parameter[]) => new Adafactor(params, { lr: 0.01 }) as unknown as AnyOptimizer;
    for (const shapes of [[[7], [3, 5]], [[3, 5], [7]], [[7], [4], [2, 3]]]) {
      let log: Log | undefined;
      expect(run(factor, shapes, 2, () => { log = standIn(4, true); })).toEqual(run(factor, shapes, 2));
      expect(log!.begin).toEqual([]);
    }
    // The same with accumulate: the gradient sums are recorded on every call (elementwise), the
    // applying steps' updates are not.
    let accumulated: Log | undefined;
    const factor2 = (params: Parameter[]) => new Adafactor(params, { lr: 0.01, accumulate: 2 }) as unknown as AnyOptimizer;
    expect(run(factor2, [[3, 5]], 4, () => { accumulated = standIn(4, true); })).toEqual(run(factor2, [[3, 5]], 4));
    expect(accumulated!.begin).toEqual([15, 15, 15, 15]);
    // Vectors only: every buffer is elementwise, so the steps are recorded.
    let log: Log | undefined;
    expect(run(factor, [[7], [5]], 2, () => { log = standIn(4, true); })).toEqual(run(factor, [[7], [5]], 2));
    expect(log!.begin).toEqual([12, 12]);
  });
});

describe("skipIfNonfinite with thread hooks installed", () => {
  it("asks for one allFinite per parameter in step order, across groups, and skips on any non-finite gradient", () => {
    const params = makeParams([[3, 4], [5], [2, 2]], 3);
    const optimizer = new Adam([{ params: [params[0]!, params[1]!] }, { params: [params[2]!], lr: 0.5 }], { lr: 0.01 });
    const log = standIn(1, true);
    expect(optimizer.step({ skipIfNonfinite: true })).toBe(true);
    expect(log.reduces).toEqual([{ kernel: "allFinite", ptrs: params.map((p) => p.gradPtr), lengths: [12, 5, 4] }]);
    for (const [k, bad] of [[2, Number.NaN], [0, Infinity], [1, -Infinity]] as const) {
      const before = params.map((p) => bits(p.data));
      params[k]!.grad[1] = bad;
      expect(optimizer.step({ skipIfNonfinite: true })).toBe(false);
      expect(params.map((p) => bits(p.data))).toEqual(before);
      params[k]!.grad[1] = 0.25;
    }
    expect(optimizer.stateDict().state.map((s) => s!.step)).toEqual([1, 1, 1]);
    expect(log.reduces.length).toBe(4);
    optimizer.dispose();
    // A smaller optimizer next: the reused lists hold its two parameters only.
    const small = new SGD([params[1]!, params[2]!], { lr: 0.1 });
    expect(small.step({ skipIfNonfinite: true })).toBe(true);
    expect(log.reduces.at(-1)).toEqual({ kernel: "allFinite", ptrs: [params[1]!.gradPtr, params[2]!.gradPtr], lengths: [5, 4] });
    small.dispose();
    for (const p of params) p.dispose();
  });

  it("row steps check only the given rows, on this thread", () => {
    const [table] = makeParams([[4, 3]], 8);
    const optimizer = new Adam([table!], { lr: 0.01 });
    const log = standIn(1, true);
    table!.grad[2 * 3 + 1] = Number.NaN; // row 2
    expect(optimizer.step({ rows: new Map([[table!, Int32Array.of(0, 3)]]), skipIfNonfinite: true })).toBe(true);
    expect(optimizer.step({ rows: new Map([[table!, Int32Array.of(1, 2)]]), skipIfNonfinite: true })).toBe(false);
    expect(log.reduces).toEqual([]);
    optimizer.dispose();
    table!.dispose();
  });
});
