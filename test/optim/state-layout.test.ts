// State buffers not shaped like their parameter (per row, per column, per tensor, scalar), the
// step's scalars returned by prepareStep, and optimizers declaring which step variants they take.

import { beforeAll, describe, expect, it } from "vitest";
import { init, Optimizer, parameter, type ParamGroup } from "../../src/index.js";
import type { ParamState, Slice, StateBufferLayout, StepScalars, StepSupport } from "../../src/optim/types.js";

beforeAll(async () => {
  await init();
});

interface ProbeOptions { lr: number }
const LAYOUTS: Record<string, StateBufferLayout> = {
  full: { sliceable: true },
  rowStat: { shape: (shape) => [shape[0]!], sliceable: false },
  colStat: { shape: (shape) => (shape.length >= 2 ? [shape[shape.length - 1]!] : [1]), sliceable: false },
  norm: { length: 1, sliceable: false },
};

/** Records what the base hands to `update`: pointers, lengths and the step's scalars. */
class Probe extends Optimizer<ProbeOptions> {
  readonly calls: { param: number; length: number; buffers: number[]; scalars: number[] }[] = [];
  readonly #scalars: StepScalars = new Float64Array(2);
  constructor(params: ReturnType<typeof parameter>[], readonly names: readonly string[], readonly support?: StepSupport) {
    super(params, undefined, { lr: 0.5 });
  }
  protected validateGroup(): void {}
  protected stateBufferNames(): readonly string[] { return this.names; }
  protected override stateBufferLayout(name: string): StateBufferLayout { return LAYOUTS[name]!; }
  protected override get stepSupport(): StepSupport { return this.support ?? super.stepSupport; }
  protected override prepareStep(group: ParamGroup<ProbeOptions>, state: ParamState): StepScalars {
    this.#scalars[0] = group.lr * state.step;
    this.#scalars[1] = state.step;
    return this.#scalars;
  }
  protected update(slice: Slice, _group: ParamGroup<ProbeOptions>, _state: ParamState, scalars: StepScalars): void {
    this.calls.push({ param: slice.param, length: slice.length, buffers: [...slice.buffers], scalars: [...scalars] });
  }
}

describe("state buffer layouts", () => {
  it("allocates each buffer with its own shape and carries it through state dicts", () => {
    const p = parameter([3, 5], { init: "zeros" });
    const v = parameter([4], { init: "zeros" });
    const probe = new Probe([p, v], ["full", "rowStat", "colStat", "norm"]);
    probe.step();
    const saved = probe.stateDict();
    const lengths = saved.state.map((entry) => Object.fromEntries(Object.entries(entry!.buffers).map(([k, b]) => [k, b.length])));
    expect(lengths).toEqual([{ full: 15, rowStat: 3, colStat: 5, norm: 1 }, { full: 4, rowStat: 4, colStat: 1, norm: 1 }]);
    expect(probe.stateBuffers().map((b) => b.name)).toEqual(["full", "rowStat", "colStat", "norm"]);
    saved.state[0]!.buffers.rowStat = new Float32Array(15);
    expect(() => probe.loadStateDict(saved)).toThrow(/buffers\.rowStat has 15 values, parameter "[^"]+" \(shape \[3, 5\]\) needs 3/);
    saved.state[0]!.buffers.rowStat = new Float32Array([1, 2, 3]);
    probe.loadStateDict(saved);
    expect(probe.stateDict().state[0]!.buffers.rowStat).toEqual(new Float32Array([1, 2, 3]));
    probe.dispose(); p.dispose(); v.dispose();
  });

  it("passes the step's scalars from prepareStep to update", () => {
    const p = parameter([2], { init: "zeros" });
    const probe = new Probe([p], ["full"]);
    probe.step();
    probe.step();
    expect(probe.calls.map((c) => c.scalars)).toEqual([[0.5, 1], [1, 2]]);
    probe.dispose(); p.dispose();
  });

  it("slices parameter-shaped buffers with a run of rows and passes the others whole", () => {
    const p = parameter([4, 2], { init: "zeros" });
    const probe = new Probe([p], ["full"]);
    probe.step({ rows: new Map([[p, new Int32Array([1])]]) });
    probe.calls.length = 0;
    probe.step(); // rows 0, 2-3 are first-use, row 1 is not: three runs
    expect(probe.calls.map((c) => [(c.param - p.dataPtr) / 4, c.length])).toEqual([[0, 2], [2, 2], [4, 4]]);
    const base = probe.calls[0]!.buffers[0]!;
    expect(probe.calls.map((c) => (c.buffers[0]! - base) / 4)).toEqual([0, 2, 4]);
    probe.dispose(); p.dispose();
  });

  it("refuses row steps over unsliceable state and undeclared step variants, changing nothing", () => {
    const p = parameter([4, 2], { init: "zeros" });
    const probe = new Probe([p], ["full", "rowStat"]);
    expect(() => probe.step({ rows: new Map([[p, new Int32Array([1])]]) }))
      .toThrow(/Probe cannot step "[^"]+" by rows: its state "rowStat" is not shaped like the parameter/);
    expect(probe.calls).toEqual([]);
    expect(probe.stateDict().state).toEqual([null]);
    const denseOnly = new Probe([p], ["full"], { rows: false, mask: false });
    expect(() => denseOnly.step({ rows: new Map([[p, new Int32Array([1])]]) })).toThrow(/Probe does not support step\(\{ rows \}\)/);
    expect(() => denseOnly.step({ mask: new Map([[p, new Uint8Array(8)]]) })).toThrow(/Probe does not support step\(\{ mask \}\)/);
    expect(denseOnly.calls).toEqual([]);
    probe.dispose(); denseOnly.dispose(); p.dispose();
  });
});
