// Row steps' edges not covered by sparse.test.ts: the refusal of a parameter that is not 2-D
// shows its whole shape, and the guarded row step reads the listed rows' gradients and nothing
// else — not the other rows, and not past the list (a row index read from past its end would
// make a NaN pointer, which wasm takes as address 0; a NaN planted there must go unseen).
import { beforeAll, describe, expect, it } from "vitest";
import { Adam, init, parameter, SGD } from "../../src/index.js";
import { heapF32 } from "../../src/bindings/memory.js";
import { bits, randomFill } from "./factories.js";

beforeAll(async () => {
  await init();
});

describe("step({ rows }) edges", () => {
  it("a 3-D or 1-D parameter is refused with its shape", () => {
    const cube = parameter([2, 3, 4], { name: "cube" });
    const line = parameter([5], { name: "line" });
    const adam = new Adam([cube, line], { lr: 0.1 });
    expect(() => adam.step({ rows: new Map([[cube, Int32Array.of(0)]]) })).toThrow(
      new RangeError('simdopt: rows need a 2-D parameter, "cube" has shape [2, 3, 4]'));
    expect(() => adam.step({ rows: new Map([[line, Int32Array.of(0)]]) })).toThrow(
      new RangeError('simdopt: rows need a 2-D parameter, "line" has shape [5]'));
    expect(adam.stateDict().state).toEqual([null, null]);
    adam.dispose();
    cube.dispose();
    line.dispose();
  });

  it("skipIfNonfinite reads only the listed rows' gradients", () => {
    const table = parameter([5, 3]);
    randomFill(table.data, 1);
    randomFill(table.grad, 2);
    table.grad[3 * 3 + 2] = Number.NaN; // row 3, not listed
    const adam = new Adam([table], { lr: 0.1 });
    const heap = heapF32();
    const saved = heap.slice(0, 3);
    const before = bits(table.data);
    let stepped: boolean;
    try {
      heap.fill(Number.NaN, 0, 3);
      stepped = adam.step({ rows: new Map([[table, Int32Array.of(4, 0)]]), skipIfNonfinite: true });
    } finally {
      heapF32().set(saved, 0);
    }
    expect(stepped).toBe(true);
    const after = bits(table.data);
    // Rows 0 and 4 moved; rows 1 to 3 did not.
    for (let row = 0; row < 5; row++) {
      const moved = [0, 1, 2].some((c) => after[row * 3 + c] !== before[row * 3 + c]);
      expect(moved).toBe(row === 0 || row === 4);
    }
    expect(adam.step({ rows: new Map([[table, Int32Array.of(3)]]), skipIfNonfinite: true })).toBe(false);
    // A row step writes the listed rows only: nothing at address 0, where a row index read past
    // the list would point (as above).
    const guard = heapF32().slice(0, 8);
    try {
      heapF32().set([1, 2, 3, 4, 5, 6, 7, 8], 0);
      adam.step({ rows: new Map([[table, Int32Array.of(1)]]) });
      expect(Array.from(heapF32().subarray(0, 8))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    } finally {
      heapF32().set(guard, 0);
    }
    adam.dispose();
    table.dispose();
  });

  it("a buffer made after row steps starts with first-use rules on every row, in dense and row steps", () => {
    for (const next of ["dense", "rows"] as const) {
      const table = parameter([4, 2]);
      table.grad.fill(1);
      const sgd = new SGD([table], { lr: 0.5 });
      // No buffer yet: the row step leaves a row history.
      sgd.step({ rows: new Map([[table, Int32Array.of(0, 2)]]) });
      expect(sgd.stateDict().state[0]!.touchedRows).toEqual(Uint8Array.of(1, 1, 1, 1));
      // Momentum with dampening: a first use takes the gradient itself (1), a later one 0.9·buf + 0.5·g.
      Object.assign(sgd.paramGroups[0]!, { momentum: 0.9, dampening: 0.5 });
      if (next === "dense") {
        sgd.step();
        expect(Array.from(table.data)).toEqual([-1, -1, -0.5, -0.5, -1, -1, -0.5, -0.5]);
        expect(sgd.stateDict().state[0]!.buffers.momentumBuffer).toEqual(new Float32Array(8).fill(1));
      } else {
        sgd.step({ rows: new Map([[table, Int32Array.of(2, 3)]]) });
        expect(Array.from(table.data)).toEqual([-0.5, -0.5, 0, 0, -1, -1, -0.5, -0.5]);
        expect(sgd.stateDict().state[0]!.buffers.momentumBuffer).toEqual(Float32Array.of(0, 0, 0, 0, 1, 1, 1, 1));
        expect(sgd.stateDict().state[0]!.touchedRows).toEqual(Uint8Array.of(0, 0, 1, 1));
      }
      sgd.dispose();
      table.dispose();
    }
  });
});
