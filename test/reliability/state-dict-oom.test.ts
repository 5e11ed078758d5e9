// loadStateDict running out of wasm memory half-way (the first new buffer fits, the second does
// not) throws, frees what it took, and leaves the optimizer's old state intact. Its own file: the
// module is loaded with a small maximum memory so that running out is quick.

import { beforeAll, expect, it } from "vitest";
import { Adam, initSync, parameter, SGD, type OptimizerStateDict, type Parameter } from "../../src/index.js";

beforeAll(() => {
  initSync(undefined, { initialMemoryMiB: 16, maximumMemoryMiB: 40 });
});

const MIB_FLOATS = 2 ** 18;

/** Byte comparison (a deep toEqual of million-element arrays is slow). */
function expectSameState(actual: OptimizerStateDict, expected: OptimizerStateDict): void {
  expect(actual.paramGroups).toEqual(expected.paramGroups);
  expect(actual.state.length).toBe(expected.state.length);
  actual.state.forEach((entry, i) => {
    const other = expected.state[i]!;
    expect(entry!.step).toBe(other.step);
    expect(Object.keys(entry!.buffers).sort()).toEqual(Object.keys(other.buffers).sort());
    for (const [name, values] of Object.entries(entry!.buffers)) {
      expect(Buffer.from(values.buffer).equals(Buffer.from(other.buffers[name]!.buffer)), name).toBe(true);
    }
  });
}

it("an allocation failure in the middle of a load changes nothing, and the memory is reusable", () => {
  const p = parameter([4 * MIB_FLOATS]);
  p.grad.fill(0.5);
  const adam = new Adam([p], { lr: 0.01 });
  adam.step();
  const saved = adam.stateDict();
  adam.step();
  const before = adam.stateDict();

  // A hole of 6 MiB (one block) is all that will be free: the load's first 4 MiB buffer fits in
  // it, its second does not.
  const big = parameter([6 * MIB_FLOATS]);
  const hole = new SGD([big], { momentum: 0.9 });
  hole.step();
  const fillers: Parameter[] = [];
  // 1 MiB fillers until the memory is full: what stays free elsewhere is too small for 4 MiB.
  for (;;) {
    try {
      fillers.push(parameter([MIB_FLOATS]));
    } catch {
      break;
    }
  }
  hole.dispose();

  expect(() => adam.loadStateDict(saved)).toThrow(/out of wasm memory/);
  expectSameState(adam.stateDict(), before);
  // What the failed load took was given back: the whole 6 MiB block is free again.
  const again = new SGD([big], { momentum: 0.9 });
  again.step();
  again.dispose();
  adam.step();
  expect(adam.stateDict().state[0]!.step).toBe(3);
  for (const filler of fillers) filler.dispose();
});
