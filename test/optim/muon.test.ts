// Muon's scratch and its GEMM splits: the scratch it takes (two iterates, the Gram matrix and its
// polynomial, then one packing space per share of the largest split), that a step which fits
// allocates nothing, growth when a larger parameter joins, nothing taken after dispose(), and
// each Newton–Schulz GEMM handed to the thread hooks' split with packing space of its own.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { init, Muon, parameter, type Parameter } from "../../src/index.js";
import { kernels } from "../../src/bindings/instance.js";
import { allocatedBytes, allocationCount, heapF32 } from "../../src/bindings/memory.js";
import { MuonReference } from "../reference/optimizers-more.js";
import { seededRandom } from "../reference/random.js";
import { installSplitHooks, removeSplitHooks } from "../support/split-hooks.js";
import { excess } from "./extra-harness.js";
import { fullOptions } from "./more-harness.js";

beforeAll(async () => {
  await init();
});

afterEach(() => {
  removeSplitHooks();
});

const align = (floats: number) => Math.ceil(floats / 4) * 4;

/** Floats of Muon's scratch for one rows×cols parameter, with `shares` packing spaces. */
function scratchFloats(rows: number, cols: number, shares: number): number {
  const { matmulPackedASize: packA, matmulPackedBSize: packB } = kernels();
  const s = Math.min(rows, cols);
  const tall = rows > cols;
  const packedA = tall ? align(packA(s, rows)) : 0;
  const packedB = align(tall ? Math.max(packB(rows, s), packB(s, s)) : Math.max(packB(cols, s), packB(s, s), packB(s, cols)));
  return 2 * align(rows * cols) + 2 * align(s * s) + shares * (packedA + packedB);
}

function run(params: Parameter[], references: MuonReference[], optimizer: Muon, random: () => number, steps: number): void {
  for (let t = 0; t < steps; t++) {
    for (const p of params) for (let j = 0; j < p.size; j++) p.grad[j] = 2 * random() - 1;
    optimizer.step();
    params.forEach((p, i) => references[i]!.step(p.grad));
  }
}

function makeParam(shape: [number, number], random: () => number): { p: Parameter; initial: Float32Array } {
  const initial = new Float32Array(shape[0] * shape[1]).map(() => 2 * random() - 1);
  return { p: parameter(shape, { init: initial }), initial };
}

describe("Muon's scratch", () => {
  it.each([[7, 13], [13, 7], [9, 9], [1, 5], [5, 1]] as const)("%i×%i: the first step takes the momentum buffer and the scratch, later steps nothing", (rows, cols) => {
    const random = seededRandom(rows * 31 + cols);
    const { p, initial } = makeParam([rows, cols], random);
    const options = fullOptions("Muon", { lr: 0.05 });
    const optimizer = new Muon([p], options);
    const reference = new MuonReference(Float64Array.from(initial), rows, cols, options as never);
    const bytes = allocatedBytes();
    run([p], [reference], optimizer, random, 1);
    expect(allocatedBytes() - bytes).toBe(4 * (align(rows * cols) + scratchFloats(rows, cols, 1)));
    const count = allocationCount();
    run([p], [reference], optimizer, random, 3);
    expect(allocationCount()).toBe(count);
    expect(excess(p.data, reference.param, 1).value).toBeLessThanOrEqual(1);
    optimizer.dispose(); p.dispose();
  });

  it("grows (once) when a larger parameter joins; both follow their references", () => {
    const random = seededRandom(3);
    const small = makeParam([3, 4], random);
    const options = fullOptions("Muon", { lr: 0.05 });
    const optimizer = new Muon([small.p], options);
    const references = [new MuonReference(Float64Array.from(small.initial), 3, 4, options as never)];
    run([small.p], references, optimizer, random, 2);
    const large = makeParam([24, 17], random);
    optimizer.addParamGroup({ params: [large.p] });
    references.push(new MuonReference(Float64Array.from(large.initial), 24, 17, options as never));
    const bytes = allocatedBytes();
    const count = allocationCount();
    run([small.p, large.p], references, optimizer, random, 1);
    // The new scratch replaces the old; the large parameter's momentum buffer is new.
    expect(allocationCount() - count).toBe(2);
    expect(allocatedBytes() - bytes).toBe(4 * (scratchFloats(24, 17, 1) - scratchFloats(3, 4, 1) + align(24 * 17)));
    run([small.p, large.p], references, optimizer, random, 3);
    expect(excess(small.p.data, references[0]!.param, 1).value).toBeLessThanOrEqual(1);
    expect(excess(large.p.data, references[1]!.param, 1).value).toBeLessThanOrEqual(1);
    optimizer.dispose(); small.p.dispose(); large.p.dispose();
  });

  it("after dispose(), step() throws and takes no memory; dispose() frees the scratch", () => {
    const p = parameter([6, 5], { init: "ones" });
    p.grad.fill(0.5);
    const optimizer = new Muon([p]);
    const bytes = allocatedBytes();
    optimizer.step();
    expect(allocatedBytes()).toBeGreaterThan(bytes);
    optimizer.dispose();
    expect(allocatedBytes()).toBe(bytes);
    const count = allocationCount();
    expect(() => optimizer.step()).toThrow(new Error("simdopt: Muon.step() after dispose(): its state has been freed; create a new optimizer"));
    expect(allocationCount()).toBe(count);
    expect(allocatedBytes()).toBe(bytes);
    p.dispose();
  });

  it("addParamGroup with no group at all gets the base class's message", () => {
    const p = parameter([2, 2]);
    const optimizer = new Muon([p]);
    for (const group of [null, undefined]) {
      expect(() => optimizer.addParamGroup(group as never)).toThrow(new TypeError("simdopt: paramGroups[1] must be a Parameter or an object { params: Parameter[], ...options }"));
    }
    optimizer.dispose(); p.dispose();
  });
});

describe("Muon's GEMMs split across threads", () => {
  // Shares asked for, by GEMM shape: the three GEMMs of an iteration ask for different counts.
  const sharesFor = (m: number, n: number, k: number) => 2 + ((31 * m + 17 * n + 7 * k) % 5);

  function trajectory(rows: number, cols: number, split: boolean) {
    const random = seededRandom(rows + 100 * cols);
    const { p } = makeParam([rows, cols], random);
    const optimizer = new Muon([p], { lr: 0.05, nsSteps: 3 });
    const calls = split ? installSplitHooks(sharesFor) : [];
    const bytes = allocatedBytes();
    let firstStepBytes = 0;
    for (let t = 0; t < 3; t++) {
      for (let j = 0; j < p.size; j++) p.grad[j] = 2 * random() - 1;
      optimizer.step();
      if (t === 0) firstStepBytes = allocatedBytes() - bytes;
    }
    removeSplitHooks();
    const result = { data: Array.from(p.data), buffer: Array.from(optimizer.stateDict().state[0]!.buffers.momentumBuffer!), calls, firstStepBytes };
    optimizer.dispose(); p.dispose();
    return result;
  }

  it.each([[7, 13], [13, 7], [9, 9], [40, 24], [24, 40]] as const)("%i×%i: every GEMM is split as asked, each share packing into its own space; bit-identical to one thread", (rows, cols) => {
    const one = trajectory(rows, cols, false);
    const split = trajectory(rows, cols, true);
    expect(split.data).toEqual(one.data);
    expect(split.buffer).toEqual(one.buffer);
    const { matmulPackedASize: packA, matmulPackedBSize: packB, relaxedBuild } = kernels();
    expect(split.calls.length).toBe(3 * 3 * 3); // three GEMMs per iteration, three iterations, three steps
    for (const call of split.calls) {
      expect(call.shares).toBe(sharesFor(call.m, call.n, call.k));
      // Bands of rows are cut at multiples of the micro-kernel's rows.
      expect(call.rowMultiple).toBe(relaxedBuild() === 1 ? 6 : 5);
      expect(call.packedB - call.packedA).toBeGreaterThanOrEqual(call.transA ? 4 * packA(call.m, call.k) : 0);
      expect(call.packedStride - (call.packedB - call.packedA)).toBeGreaterThanOrEqual(4 * packB(call.k, call.n));
    }
    // Packing space for the most shares any GEMM asked for, no more.
    const most = Math.max(...split.calls.map((call) => call.shares));
    expect(most).toBeGreaterThan(1);
    expect(split.firstStepBytes).toBe(4 * (align(rows * cols) + scratchFloats(rows, cols, most)));
  });
});
