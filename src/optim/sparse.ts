// The row-sparse and masked step variants' checks and helpers: validating `step({ mask, rows })`,
// staging a mask and the values it protects in reused scratch, and the finiteness check of the
// gradients a step would read. The per-slice loops themselves stay in the base class, beside the
// dense step they share. Nothing here allocates per step.

import { kernels } from "../bindings/instance.js";
import { heapF32, heapU8, Scratch } from "../bindings/memory.js";
import { Parameter } from "../parameter.js";
import { threadHooks } from "../threads/hooks.js";
import type { ParamGroup, StepOptions } from "./types.js";

/** Masked steps: the parameter's values set aside, then the mask, in one block (one allocation). */
const scratch = new Scratch();
const finitePtrs: number[] = [];
const finiteLengths: number[] = [];
const finiteValues: number[] = [];

/** Bytes of the masked-step scratch for a parameter of `size` floats and a mask of `maskBytes`. */
export function maskedScratchBytes(size: number, maskBytes: number): number {
  return Math.ceil(size / 4) * 16 + maskBytes;
}

/** Grows the masked-step scratch to `bytes` (may throw when out of memory; nothing else changes). */
export function reserveMaskScratch(bytes: number): void {
  if (bytes > 0) scratch.bytes(bytes);
}

/**
 * Sets the parameter's values aside and copies the mask in (scratch reserved by the step);
 * returns the scratch offset for `restoreMaskedOut`.
 */
export function stageMask(param: Parameter, mask: Uint8Array | Float32Array): number {
  const saved = scratch.bytes(maskedScratchBytes(param.size, mask.byteLength));
  const heap = heapU8();
  heap.copyWithin(saved, param.dataPtr, param.dataPtr + param.size * 4);
  if (mask instanceof Uint8Array) heap.set(mask, maskPtrOf(saved, param));
  else heapF32().set(mask, maskPtrOf(saved, param) >>> 2);
  return saved;
}

/** After the dense step: masked-out elements get their staged values back. */
export function restoreMaskedOut(param: Parameter, mask: Uint8Array | Float32Array, saved: number): void {
  kernels().restoreMaskedOut(param.dataPtr, saved, maskPtrOf(saved, param), param.size, mask instanceof Uint8Array);
}

function maskPtrOf(saved: number, param: Parameter): number {
  return saved + Math.ceil(param.size / 4) * 16;
}

/** Whether the gradients to be read are finite: only the given rows of a row-stepped parameter. */
export function gradientsFinite(groups: readonly ParamGroup<object>[], rows: StepOptions["rows"]): boolean {
  const k = kernels();
  const { allFinite } = k;
  const threads = threadHooks();
  if (threads !== null && rows === undefined) {
    // Whole gradients across the threads: one value per parameter (reused arrays).
    let count = 0;
    for (let g = 0; g < groups.length; g++) {
      const params = groups[g]!.params;
      for (let i = 0; i < params.length; i++, count++) { finitePtrs[count] = params[i]!.gradPtr; finiteLengths[count] = params[i]!.size; }
    }
    finitePtrs.length = finiteLengths.length = finiteValues.length = count;
    threads.reduceEach(k, "allFinite", finitePtrs, finiteLengths, finiteValues);
    for (let i = 0; i < count; i++) if (finiteValues[i] === 0) return false;
    return true;
  }
  for (let g = 0; g < groups.length; g++) {
    const params = groups[g]!.params;
    for (let i = 0; i < params.length; i++) {
      const param = params[i]!;
      const paramRows = rows?.get(param);
      if (paramRows === undefined) {
        if (allFinite(param.gradPtr, param.size) === 0) return false;
        continue;
      }
      const columns = param.size / param.shape[0]!;
      for (let r = 0; r < paramRows.length; r++) {
        if (allFinite(param.gradPtr + paramRows[r]! * columns * 4, columns) === 0) return false;
      }
    }
  }
  return true;
}

/** Checks the step's masks; returns the scratch bytes the largest needs. */
export function checkMasks(mask: StepOptions["mask"], members: ReadonlySet<Parameter>): number {
  if (mask === undefined) return 0;
  if (!(mask instanceof Map)) throw new TypeError("simdopt: step({ mask }) must be a Map<Parameter, Uint8Array | Float32Array>");
  let bytes = 0;
  for (const [param, values] of mask) {
    checkOwnParameter(param, "mask", members);
    if (!(values instanceof Uint8Array) && !(values instanceof Float32Array)) {
      throw new TypeError(`simdopt: mask of "${param.name}" must be a Uint8Array or Float32Array`);
    }
    if (values.length !== param.size) {
      throw new RangeError(`simdopt: mask of "${param.name}" has ${values.length} entries, the parameter has ${param.size}`);
    }
    bytes = Math.max(bytes, maskedScratchBytes(param.size, values.byteLength));
  }
  return bytes;
}

/** Checks the step's row lists: own 2-D parameters, indices in range, none twice, no mask beside. */
export function checkRows(rows: StepOptions["rows"], mask: StepOptions["mask"], members: ReadonlySet<Parameter>, rowSeen: Map<Parameter, Uint8Array>): void {
  if (rows === undefined) return;
  if (!(rows instanceof Map)) throw new TypeError("simdopt: step({ rows }) must be a Map<Parameter, Int32Array>");
  for (const [param, indices] of rows) {
    checkOwnParameter(param, "rows", members);
    if (mask?.has(param)) throw new RangeError(`simdopt: "${param.name}" has both a mask and rows; give one`);
    if (!(indices instanceof Int32Array)) throw new TypeError(`simdopt: rows of "${param.name}" must be an Int32Array`);
    if (param.shape.length !== 2) {
      throw new RangeError(`simdopt: rows need a 2-D parameter, "${param.name}" has shape [${param.shape.join(", ")}]`);
    }
    const rowCount = param.shape[0]!;
    let seen = rowSeen.get(param);
    if (seen === undefined) {
      seen = new Uint8Array(rowCount);
      rowSeen.set(param, seen);
    }
    let bad: string | null = null;
    let i = 0;
    for (; i < indices.length; i++) {
      const row = indices[i]!;
      if (row < 0 || row >= rowCount) { bad = `row index ${row} is out of range [0, ${rowCount})`; break; }
      if (seen[row] === 1) { bad = `row index ${row} is given twice`; break; }
      seen[row] = 1;
    }
    for (let j = 0; j < i; j++) seen[indices[j]!] = 0;
    if (bad !== null) throw new RangeError(`simdopt: rows of "${param.name}": ${bad}`);
  }
}

function checkOwnParameter(param: Parameter, what: string, members: ReadonlySet<Parameter>): void {
  if (!(param instanceof Parameter) || !members.has(param)) {
    throw new RangeError(`simdopt: step({ ${what} }) names a parameter this optimizer does not hold`);
  }
}
