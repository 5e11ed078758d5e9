// Reduced-precision moments (option `stateDtype`) for Adam, AdamW and Lion: the buffer names and
// layouts the option selects, shared by the optimizers. The kernels are in assembly/optim/lowp.ts.

import { checkChoice } from "../checks.js";
import type { F32Block } from "../bindings/memory.js";
import { PARAM_SHAPED, type StateArray, type StateBufferLayout } from "./types.js";

/** How an optimizer stores its moments: float32, bfloat16 (2 bytes), or int8 codes with a float32 absmax per 256 elements. */
export type StateDtype = "float32" | "bfloat16" | "int8";

const DTYPES: readonly StateDtype[] = ["float32", "bfloat16", "int8"];
/** Elements per int8 block (one absmax scale each), as in 8-bit Adam. */
export const QUANT_BLOCK = 256;

export function checkStateDtype(prefix: string, value: unknown): StateDtype {
  return checkChoice(prefix, "stateDtype", value, DTYPES);
}

/** The kernels' format code: 0 float32 (the plain kernel), 1 bfloat16, 2 int8. */
export function dtypeFormat(dtype: StateDtype): number {
  return dtype === "float32" ? 0 : dtype === "bfloat16" ? 1 : 2;
}

const M = "firstMoment", V = "secondMoment";
// Written out rather than concatenated: flat literal strings (a concatenated name is a cons
// string, which string operations on the step path may flatten anew).
/** Adam's moment buffers under each dtype (bfloat16: "<m>Bf16"; int8: "<m>Codes", "<m>Absmax"). */
export const ADAM_NAMES: Record<StateDtype, readonly string[]> = {
  float32: Object.freeze([M, V]),
  bfloat16: Object.freeze(["firstMomentBf16", "secondMomentBf16"]),
  int8: Object.freeze(["firstMomentCodes", "firstMomentAbsmax", "secondMomentCodes", "secondMomentAbsmax"]),
};
/** Lion's momentum buffer under each dtype. */
export const LION_NAMES: Record<StateDtype, readonly string[]> = {
  float32: Object.freeze([M]),
  bfloat16: Object.freeze(["firstMomentBf16"]),
  int8: Object.freeze(["firstMomentCodes", "firstMomentAbsmax"]),
};

const BF16: StateBufferLayout = Object.freeze({ dtype: "bfloat16", sliceable: true });
// Blocks run across rows, so neither codes nor scales follow a row: row steps are refused.
const CODES: StateBufferLayout = Object.freeze({ dtype: "uint8", sliceable: false });
const ABSMAX: StateBufferLayout = Object.freeze({
  shape: (shape: readonly number[]) => [Math.ceil(shape.reduce((a, b) => a * b, 1) / QUANT_BLOCK)],
  sliceable: false,
});

const LOWP_LAYOUTS = new Map<string, StateBufferLayout>(
  [...ADAM_NAMES.bfloat16, ...ADAM_NAMES.int8].map((name) => [name, name.endsWith("Bf16") ? BF16 : name.endsWith("Codes") ? CODES : ABSMAX]));

/** The layout of a buffer named in ADAM_NAMES / LION_NAMES. */
export function lowpLayout(name: string): StateBufferLayout {
  // A table rather than suffix tests: this runs per tensor on the step path.
  return LOWP_LAYOUTS.get(name) ?? PARAM_SHAPED;
}

/** Bytes per element of a buffer of this layout. */
export function elementBytes(layout: StateBufferLayout): number {
  return layout.dtype === undefined ? 4 : layout.dtype === "bfloat16" ? 2 : 1;
}

/** The typed array a buffer of this layout is viewed and saved as. */
export function stateArrayType(layout: StateBufferLayout): typeof Float32Array | typeof Uint16Array | typeof Uint8Array {
  return layout.dtype === undefined ? Float32Array : layout.dtype === "bfloat16" ? Uint16Array : Uint8Array;
}

/** A live view of `length` elements of a block holding a buffer of this layout. */
export function stateView(block: F32Block, layout: StateBufferLayout, length: number): StateArray {
  const Type = stateArrayType(layout);
  const buffer = block.view.buffer as ArrayBuffer;
  return Type === Float32Array ? block.view : new Type(buffer, block.ptr, length);
}

/** The float32 block a buffer of `length` elements of this layout needs. */
export function blockFloats(layout: StateBufferLayout, length: number): number {
  return Math.ceil((length * elementBytes(layout)) / 4);
}
