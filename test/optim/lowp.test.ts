// The reduced-precision state layouts (option stateDtype) as the optimizers describe them: buffer
// names, element types, which buffers slice with their parameter, the int8 scales' shape, and the
// per-layout helpers the optimizer base and the state-dict code size and view buffers with.
// The kernels' arithmetic on these buffers is checked against references in state-dtype.test.ts.
import { beforeAll, describe, expect, it } from "vitest";
import { Adam, AdamW, init, Lion, parameter } from "../../src/index.js";
import { F32Block } from "../../src/bindings/memory.js";
import {
  blockFloats, checkStateDtype, dtypeFormat, elementBytes, lowpLayout, QUANT_BLOCK, stateArrayType, stateView,
} from "../../src/optim/lowp.js";
import { PARAM_SHAPED } from "../../src/optim/types.js";

beforeAll(async () => {
  await init();
});

/** stateBuffers() with the int8 scales' shape function applied to a few shapes. */
function described(optimizer: Adam | AdamW | Lion) {
  return optimizer.stateBuffers().map(({ shape, ...rest }) => ({
    ...rest,
    ...(shape === undefined ? {} : { shapes: [[1], [256], [257], [300], [2, 257], [4, 64]].map((s) => shape(s)) }),
  }));
}

const SCALES = { shapes: [[1], [1], [2], [2], [3], [1]] };

describe("stateBuffers() under each stateDtype", () => {
  it.each([["Adam", Adam], ["AdamW", AdamW]] as const)("%s", (_, Class) => {
    const p = parameter([300]);
    expect(described(new Class([p], { stateDtype: "float32" }))).toEqual([
      { name: "firstMoment", sliceable: true }, { name: "secondMoment", sliceable: true },
    ]);
    expect(described(new Class([p], { stateDtype: "bfloat16" }))).toEqual([
      { name: "firstMomentBf16", dtype: "bfloat16", sliceable: true }, { name: "secondMomentBf16", dtype: "bfloat16", sliceable: true },
    ]);
    expect(described(new Class([p], { stateDtype: "int8" }))).toEqual([
      { name: "firstMomentCodes", dtype: "uint8", sliceable: false }, { name: "firstMomentAbsmax", sliceable: false, ...SCALES },
      { name: "secondMomentCodes", dtype: "uint8", sliceable: false }, { name: "secondMomentAbsmax", sliceable: false, ...SCALES },
    ]);
    p.dispose();
  });

  it("Lion", () => {
    const p = parameter([300]);
    expect(described(new Lion([p], { stateDtype: "float32" }))).toEqual([{ name: "firstMoment", sliceable: true }]);
    expect(described(new Lion([p], { stateDtype: "bfloat16" }))).toEqual([{ name: "firstMomentBf16", dtype: "bfloat16", sliceable: true }]);
    expect(described(new Lion([p], { stateDtype: "int8" }))).toEqual([
      { name: "firstMomentCodes", dtype: "uint8", sliceable: false }, { name: "firstMomentAbsmax", sliceable: false, ...SCALES },
    ]);
    p.dispose();
  });

  it("the layouts are frozen, and a name outside the tables is parameter-shaped", () => {
    expect(QUANT_BLOCK).toBe(256);
    for (const name of ["firstMomentBf16", "secondMomentCodes", "firstMomentAbsmax"]) expect(Object.isFrozen(lowpLayout(name))).toBe(true);
    expect(lowpLayout("firstMoment")).toBe(PARAM_SHAPED);
    expect(lowpLayout("maxSecondMoment")).toBe(PARAM_SHAPED);
    expect(lowpLayout("Bf16")).toBe(PARAM_SHAPED);
  });
});

describe("per-layout helpers", () => {
  const bf16 = lowpLayout("firstMomentBf16"), codes = lowpLayout("firstMomentCodes"), scales = lowpLayout("firstMomentAbsmax");

  it("format codes, element sizes and array types", () => {
    expect([dtypeFormat("float32"), dtypeFormat("bfloat16"), dtypeFormat("int8")]).toEqual([0, 1, 2]);
    expect([PARAM_SHAPED, bf16, codes, scales].map(elementBytes)).toEqual([4, 2, 1, 4]);
    expect([PARAM_SHAPED, bf16, codes, scales].map(stateArrayType)).toEqual([Float32Array, Uint16Array, Uint8Array, Float32Array]);
  });

  it("blockFloats rounds each layout's bytes up to whole floats", () => {
    expect([0, 1, 2, 3, 5, 8].map((n) => blockFloats(bf16, n))).toEqual([0, 1, 1, 2, 3, 4]);
    expect([1, 4, 5, 9].map((n) => blockFloats(codes, n))).toEqual([1, 1, 2, 3]);
    expect([1, 7].map((n) => blockFloats(PARAM_SHAPED, n))).toEqual([1, 7]);
  });

  it("stateView: the block's own Float32Array, or a view of its bytes of the layout's type", () => {
    const block = new F32Block(4);
    block.view.set([1, -2, 3, 0.5]);
    expect(stateView(block, PARAM_SHAPED, 4)).toBe(block.view);
    const halves = stateView(block, bf16, 8);
    expect(halves).toBeInstanceOf(Uint16Array);
    expect(halves.length).toBe(8);
    expect(Array.from(halves)).toEqual(Array.from(new Uint16Array(block.view.slice().buffer)));
    const bytes = stateView(block, codes, 16);
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect((bytes as Uint8Array).byteOffset).toBe(block.ptr);
    expect(Array.from(bytes)).toEqual(Array.from(new Uint8Array(block.view.slice().buffer)));
    block.free();
  });

  it("checkStateDtype names the option and the choices", () => {
    expect(checkStateDtype("Adam options.", "int8")).toBe("int8");
    expect(() => checkStateDtype("Adam options.", "float16")).toThrow(
      new RangeError('simdopt: Adam options.stateDtype must be one of "float32", "bfloat16", "int8", got "float16" (string)'));
    expect(() => checkStateDtype("", 8)).toThrow(new TypeError('simdopt: stateDtype must be one of "float32", "bfloat16", "int8", got 8'));
  });
});
