// Multi-tensor steps. A group whose tensors step alike (same step count, no fresh state, no rows
// history) is updated by one kernel call over a table in wasm memory of six i32 per tensor:
// param, grad, its state buffers in `stateBufferNames` order (0 where absent), length. The
// optimizer's own `update` makes that call, given a slice whose param is the table, whose length
// is −count and whose other streams are the first tensor's: the kernel takes its flags from
// them, and matches each state stream to the buffer slot that holds it in the first entry
// (assembly/optim/common.ts). So every optimizer gets it without a table form of its own, and
// its kernel call site sees only the wasm function (a second callee there would keep V8 from
// inlining the call, which then boxes its float arguments: an allocation per step).

import { F32Block, heapU8 } from "../bindings/memory.js";
import type { Parameter } from "../parameter.js";
import type { ParamState, Slice } from "./types.js";

/** The elementwise step kernels and the position of `length`: every argument before it is a stream pointer. */
export const LENGTH_ARG: Readonly<Record<string, number>> = {
  sgdStep: 3, adamStep: 5, adagradStep: 3, rmspropStep: 5, adadeltaStep: 4,
  adamaxStep: 4, nadamStep: 4, radamStep: 4, lionStep: 3, ftrlStep: 4,
  // Not step kernels, but elementwise alike: EMA updates and gradient sums are split the same way.
  emaUpdate: 2, accumulateGrad: 2,
};

/** A group's table and what it was built for. */
export interface GroupTable {
  params: Parameter[];
  states: ParamState[];
  names: readonly string[];
  version: number;
  /** The optimizer's member generation and the group's first index in step order when built. */
  generation: number;
  offset: number;
  block: F32Block;
  /** The slice `update` is called with (see above). */
  slice: Slice;
}

/** Writes the table of a group (at most three state buffers per tensor); throws if memory runs out. */
export function buildTable(params: Parameter[], states: ParamState[], names: readonly string[], version: number,
  generation: number, offset: number, gradPtr: (param: Parameter) => number): GroupTable {
  const block = new F32Block(params.length * 6);
  const table = new Int32Array(heapU8().buffer, block.ptr, params.length * 6);
  for (let i = 0; i < params.length; i++) {
    const at = i * 6;
    table[at] = params[i]!.dataPtr;
    table[at + 1] = gradPtr(params[i]!);
    for (let j = 0; j < names.length; j++) table[at + 2 + j] = states[i]!.buffers.get(names[j]!)!.ptr;
    table[at + 5] = params[i]!.size;
  }
  const buffers = names.map((name) => states[0]!.buffers.get(name)!.ptr);
  const slice: Slice = { param: block.ptr, grad: gradPtr(params[0]!), length: -params.length, buffers, firstUse: false, shape: params[0]!.shape };
  return { params: [...params], states: [...states], names, version, generation, offset, block, slice };
}

/**
 * Whether `table` still describes the group: the same buffer names and state, and the same
 * parameters — while the optimizer's parameters in step order are those of `generation` (it
 * checks them every step), a group with the same first index and length holds the same ones.
 */
export function tableValid(table: GroupTable | undefined, length: number, names: readonly string[], version: number, generation: number, offset: number): boolean {
  return table !== undefined && table.version === version && table.names === names && table.params.length === length &&
    table.generation === generation && table.offset === offset;
}
