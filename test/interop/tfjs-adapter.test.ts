// The pieces of src/interop/tfjs-adapter.ts that tfjs itself reaches only on some backends:
// TensorCopier's routes (a cpu backend's arrays, a wasm backend's heap, else the public API)
// against stand-in backends; option-key hints; the config encoding that survives tfjs-layers'
// snake_case conversion.
import { describe, expect, it } from "vitest";
import { TensorCopier, checkOptionKeys, decodeConfig, encodeConfig, type Tf, type TfTensor, type TfVariable } from "../../src/interop/tfjs-adapter.js";

interface Made { values: Float32Array; shape: number[]; dtype: string; disposed: boolean }

function fakeTf(backend: () => unknown): { tf: Tf; made: Made[] } {
  const made: Made[] = [];
  const tf = {
    backend,
    tensor: (values: Float32Array, shape: number[], dtype: string) => {
      const t: Made & { dispose(): void } = { values, shape, dtype, disposed: false, dispose: () => { t.disposed = true; } };
      made.push(t);
      return t;
    },
  } as unknown as Tf;
  return { tf, made };
}

function tensor(values: number[], dataId: object = {}): TfTensor & { assigned: unknown[] } {
  const t = {
    dataId, shape: [values.length], dtype: "float32", size: values.length, name: "v", assigned: [] as unknown[],
    dataSync: () => Float32Array.from(values),
    data: () => Promise.resolve(Float32Array.from(values)),
    dispose: () => {},
    assign(value: unknown) { t.assigned.push(value); t.dataId = {}; },
  };
  return t;
}

const refCount = (count: number) => () => count;

function cpuBackend(values: unknown, count = 1) {
  return { refCount: refCount(count), data: { get: () => ({ values }) } };
}

function wasmBackend(heap: Uint8Array, offset: number | null, calls: string[] = [], count = 1) {
  return {
    refCount: refCount(count),
    dataIdMap: { get: () => ({ id: 17, memoryOffset: offset }) },
    wasm: {
      HEAPU8: heap,
      tfjs: {
        disposeData: (id: number) => calls.push(`dispose ${id}`),
        registerTensor: (id: number, size: number, at: number) => calls.push(`register ${id} ${size} ${at}`),
      },
    },
  };
}

describe("TensorCopier.read", () => {
  it("reads a cpu backend's Float32Array of the tensor's size in place, else falls back to dataSync", () => {
    const stored = Float32Array.of(9, 8, 7);
    let backend: unknown = cpuBackend(stored);
    const { tf } = fakeTf(() => backend);
    const copier = new TensorCopier(tf);
    const target = new Float32Array(3);
    copier.read(tensor([1, 2, 3]), target);
    expect(Array.from(target)).toEqual([9, 8, 7]);
    for (const other of [Float32Array.of(9, 8), [9, 8, 7], Int32Array.of(9, 8, 7), undefined]) {
      backend = cpuBackend(other);
      copier.read(tensor([1, 2, 3]), target);
      expect(Array.from(target)).toEqual([1, 2, 3]);
      target.fill(0);
    }
    backend = { refCount: refCount(1), data: { get: () => undefined } };
    copier.read(tensor([4, 5, 6]), target);
    expect(Array.from(target)).toEqual([4, 5, 6]);
  });

  it("reads a wasm backend's heap at the tensor's aligned offset, when the tensor lies within it", () => {
    const buffer = new ArrayBuffer(64);
    new Float32Array(buffer).set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    // A heap view that starts 8 bytes into its buffer.
    const heap = new Uint8Array(buffer, 8, 48);
    let backend: unknown = wasmBackend(heap, 4);
    const copier = new TensorCopier(fakeTf(() => backend).tf);
    const target = new Float32Array(3);
    copier.read(tensor([-1, -1, -1]), target);
    expect(Array.from(target)).toEqual([3, 4, 5]);
    // The last three floats of the heap: ends exactly at its end.
    backend = wasmBackend(heap, 36);
    copier.read(tensor([-1, -1, -1]), target);
    expect(Array.from(target)).toEqual([11, 12, 13]);
    for (const offset of [40, 6, null]) {
      backend = wasmBackend(heap, offset);
      copier.read(tensor([-1, -2, -3]), target);
      expect(Array.from(target)).toEqual([-1, -2, -3]);
    }
  });

  it("uses the public API on other backends, and on wasm backends without the re-register hooks", () => {
    const heap = new Uint8Array(64).fill(0x40);
    const cases: unknown[] = [
      null, {}, { refCount: 1, data: { get: () => ({ values: Float32Array.of(1, 1, 1) }) } },
      { ...wasmBackend(heap, 0), dataIdMap: undefined },
      { ...wasmBackend(heap, 0), dataIdMap: { get: 1 } },
      { ...wasmBackend(heap, 0), wasm: { HEAPU8: [0, 0], tfjs: wasmBackend(heap, 0).wasm.tfjs } },
      { ...wasmBackend(heap, 0), wasm: { HEAPU8: heap } },
      { ...wasmBackend(heap, 0), wasm: { HEAPU8: heap, tfjs: { registerTensor: () => 0 } } },
      { ...wasmBackend(heap, 0), wasm: { HEAPU8: heap, tfjs: { disposeData: () => 0 } } },
      { refCount: refCount(1), data: {} },
    ];
    for (const backend of cases) {
      const copier = new TensorCopier(fakeTf(() => backend).tf);
      const target = new Float32Array(3);
      copier.read(tensor([1, 2, 3]), target);
      expect(Array.from(target)).toEqual([1, 2, 3]);
    }
  });
});

describe("TensorCopier.write", () => {
  it("writes a cpu backend's storage in place when the adapter owns the variable's data alone", () => {
    const stored = Float32Array.of(0, 0, 0);
    const { tf, made } = fakeTf(() => cpuBackend(stored));
    const v = tensor([0, 0, 0]) as unknown as TfVariable & { assigned: unknown[] };
    const owned = v.dataId;
    expect(new TensorCopier(tf).write(v, Float32Array.of(1, 2, 3), owned)).toBe(owned);
    expect(Array.from(stored)).toEqual([1, 2, 3]);
    expect(made).toEqual([]);
    expect(v.assigned).toEqual([]);
  });

  it("writes a wasm backend's heap in place and re-registers the tensor (dropping cached packed weights)", () => {
    const heap = new Uint8Array(32);
    const calls: string[] = [];
    const { tf } = fakeTf(() => wasmBackend(heap, 8, calls));
    const v = tensor([0, 0, 0]) as unknown as TfVariable;
    const owned = v.dataId;
    expect(new TensorCopier(tf).write(v, Float32Array.of(1, 2, 3), owned)).toBe(owned);
    expect(Array.from(new Float32Array(heap.buffer, 8, 3))).toEqual([1, 2, 3]);
    expect(calls).toEqual(["dispose 17", "register 17 3 8"]);
  });

  it("otherwise assigns a tensor made from a copy of the values and returns the variable's new dataId", () => {
    const heap = new Uint8Array(32);
    const calls: string[] = [];
    const stored = Float32Array.of(0, 0, 0);
    const backends: [string, unknown, boolean][] = [
      ["not owned", cpuBackend(stored), false],
      ["shared", cpuBackend(stored, 2), true],
      ["wasm shared", wasmBackend(heap, 8, calls, 2), true],
      ["storage unreachable", cpuBackend(Float32Array.of(0)), true],
      ["no known backend", { refCount: refCount(1) }, true],
    ];
    for (const [name, backend, ownedByUs] of backends) {
      const { tf, made } = fakeTf(() => backend);
      const v = tensor([0, 0, 0]) as unknown as TfVariable & { assigned: unknown[] };
      const values = Float32Array.of(1, 2, 3);
      const next = new TensorCopier(tf).write(v, values, ownedByUs ? v.dataId : {});
      expect(made, name).toHaveLength(1);
      expect(made[0]!.values).not.toBe(values);
      expect(Array.from(made[0]!.values)).toEqual([1, 2, 3]);
      expect([made[0]!.shape, made[0]!.dtype, made[0]!.disposed]).toEqual([[3], "float32", true]);
      expect(v.assigned).toEqual([made[0]]);
      expect(next).toBe(v.dataId);
    }
    expect(Array.from(stored)).toEqual([0, 0, 0]);
    expect(calls).toEqual([]);
  });
});

describe("checkOptionKeys", () => {
  const allowed = ["noDecay", "clipGradNorm", "lr"];
  const message = (key: string, near?: string) => `simdopt: opts has no option "${key}"${near === undefined ? "" : ` (did you mean "${near}"?)`}; allowed: noDecay, clipGradNorm, lr`;

  it("accepts the allowed keys and rejects a non-object", () => {
    expect(() => checkOptionKeys("opts", { lr: 1, noDecay: null }, allowed)).not.toThrow();
    for (const [value, shown] of [[null, "null"], [3, "3"], ["x", "x"], [[1], "1"]] as const) {
      expect(() => checkOptionKeys("opts", value, allowed)).toThrow(new TypeError(`simdopt: opts must be an object, got ${shown}`));
    }
  });

  it.each([
    ["no_decay", "noDecay"], ["NoDecay", "noDecay"], ["nodecay", "noDecay"], ["noDecays", "noDecay"], ["noDcay", "noDecay"],
    ["noDecxy", "noDecay"], ["oDecay", "noDecay"], ["xnoDecay", "noDecay"], ["clip_grad_norm", "clipGradNorm"], ["Lr", "lr"], ["l", "lr"], ["lrr", "lr"], ["r", "lr"],
  ])("%s: did you mean %s", (key, near) => {
    expect(() => checkOptionKeys("opts", { [key]: 1 }, allowed)).toThrow(new TypeError(message(key, near)));
  });

  it.each(["noDecayXY", "nDcay", "decay", "clip", "xx", "rl", "onDecay"])("%s: no hint", (key) => {
    expect(() => checkOptionKeys("opts", { [key]: 1 }, allowed)).toThrow(new TypeError(message(key)));
  });
});

describe("config encoding", () => {
  it("percent-encodes _ and % so that tfjs-layers' snake_case conversion leaves the config alone, and decodes it back", () => {
    const config = { noDecay: ["bias_|norm%", "i"], options: { mode: "match_rms_adamw", weight_decay: 0.1 } };
    const text = encodeConfig(config);
    expect(text).toBe(JSON.stringify(config).replace(/_/g, "%5F").replace(/%(?!5F)/g, "%25"));
    expect(text).not.toMatch(/_/);
    expect(decodeConfig({ simdopt: text })).toEqual(config);
    expect(decodeConfig({ simdopt: encodeConfig({ s: "%5F_%25%" }) })).toEqual({ s: "%5F_%25%" });
    for (const bad of [{}, { simdopt: 3 }]) {
      expect(() => decodeConfig(bad)).toThrow(new TypeError("simdopt: the optimizer config has no simdopt entry (was it saved by simdopt/tfjs?)"));
    }
  });
});
