// Moving float32 values between TensorFlow.js tensors and simdopt Parameters.
//
// tfjs is never imported: everything goes through the `tf` namespace the caller passed, and the
// backends are recognised by what they hold, not by name.
// - tfjs-backend-cpu keeps each tensor's values as a JS typed array in `backend.data`
//   (a DataStorage keyed by the tensor's dataId): read it and write it directly.
// - tfjs-backend-wasm keeps them in its own wasm heap: `backend.dataIdMap.get(dataId).memoryOffset`
//   is the byte offset in `backend.wasm.HEAPU8` — one memcpy each way, no tensor made. Its
//   matmul, conv2d and prelu kernels cache XNNPACK operators holding a packed copy of the weights,
//   keyed by the weight tensor's id and dropped when that id is disposed (backend.cc
//   dispose_data). A value written in place would leave them computing with the old weights, so
//   after each write the id is disposed and registered again at the same memory (what a new
//   tensor per step, as tfjs's own optimizers make, costs in repacking anyway).
// - Anything else (WebGL, WebGPU, the Node binding, data still on another backend) goes through
//   the public API: `dataSync()` to read, `assign()` of a freshly made tensor to write. That costs
//   a readback and an upload per variable per step.
//
// In-place writes are only made into data this module created itself and that no other tensor
// shares (refCount 1): a tensor made from a caller's array may alias that array on the cpu
// backend, and `tf.clone(v)` shares v's dataId, so writing into either would change what the
// caller holds.

/** The parts of a tfjs tensor used here. */
export interface TfTensor {
  readonly dataId: object;
  readonly shape: number[];
  readonly dtype: string;
  readonly size: number;
  dataSync(): ArrayLike<number>;
  data(): Promise<ArrayLike<number>>;
  dispose(): void;
}

/** The parts of a tfjs variable used here. */
export interface TfVariable extends TfTensor {
  readonly name: string;
  assign(value: TfTensor): void;
}

/** The parts of the tfjs namespace used here. */
export interface TfNamespace {
  Optimizer: abstract new () => object;
  engine(): { registeredVariables: Record<string, TfVariable> };
  backend(): unknown;
  tensor(values: Float32Array | Int32Array, shape?: number[], dtype?: string): TfTensor;
  keep<T>(tensor: T): T;
  serialization: { registerClass(cls: unknown): unknown };
}

interface DataStorage<T> { has(dataId: object): boolean; get(dataId: object): T | undefined }
interface CpuBackend { data: DataStorage<{ values?: unknown }>; refCount(dataId: object): number }
interface WasmBackend {
  dataIdMap: DataStorage<{ id: number; memoryOffset: number | null }>;
  wasm: {
    HEAPU8: Uint8Array;
    tfjs: { disposeData(id: number): void; registerTensor(id: number, size: number, memoryOffset: number): void };
  };
  refCount(dataId: object): number;
}

type Kind = "cpu" | "wasm" | "public";

function kindOf(backend: unknown): Kind {
  if (typeof backend !== "object" || backend === null) return "public";
  const candidate = backend as Partial<CpuBackend & WasmBackend>;
  if (typeof candidate.refCount !== "function") return "public";
  if (isStorage(candidate.dataIdMap) && candidate.wasm?.HEAPU8 instanceof Uint8Array) return "wasm";
  if (isStorage(candidate.data)) return "cpu";
  return "public";
}

function isStorage(value: unknown): value is DataStorage<unknown> {
  return typeof value === "object" && value !== null
    && typeof (value as DataStorage<unknown>).get === "function" && typeof (value as DataStorage<unknown>).has === "function";
}

/**
 * Copies between tensors and Float32Arrays with the fastest route the current backend allows.
 * One per adapter; asks `tf.backend()` on every call because the caller may switch backends.
 */
export class TensorCopier {
  constructor(private readonly tf: TfNamespace) {}

  /** Which route a copy would take now (reported by the adapter, used by tests and benches). */
  get route(): Kind {
    return kindOf(this.tf.backend());
  }

  /** A Float32Array over the tensor's own storage (no copy), or null when that is not possible. */
  #storage(tensor: TfTensor): Float32Array | null {
    const backend = this.tf.backend();
    const kind = kindOf(backend);
    if (kind === "cpu") {
      const values = (backend as CpuBackend).data.get(tensor.dataId)?.values;
      return values instanceof Float32Array && values.length === tensor.size ? values : null;
    }
    if (kind === "wasm") {
      const wasm = backend as WasmBackend;
      const offset = wasm.dataIdMap.get(tensor.dataId)?.memoryOffset;
      if (typeof offset !== "number" || offset % 4 !== 0) return null;
      const heap = wasm.wasm.HEAPU8;
      if (offset + tensor.size * 4 > heap.byteLength) return null;
      return new Float32Array(heap.buffer, heap.byteOffset + offset, tensor.size);
    }
    return null;
  }

  /** Copies a float32 tensor's values into `target` (same length). */
  read(tensor: TfTensor, target: Float32Array): void {
    const storage = this.#storage(tensor);
    if (storage !== null) target.set(storage);
    else target.set(tensor.dataSync());
  }

  /**
   * Writes `values` into the variable. In place when `owned` is the variable's dataId and nothing
   * else shares it; otherwise assigns a tensor made from a copy of `values`. Returns the dataId
   * the variable now has (the caller's `owned` for the next write).
   */
  write(variable: TfVariable, values: Float32Array, owned: object | null): object {
    if (owned !== null && variable.dataId === owned && this.#unshared(owned)) {
      const storage = this.#storage(variable);
      if (storage !== null && this.#canRefresh()) {
        storage.set(values);
        this.#refresh(variable);
        return owned;
      }
    }
    // A copy: the cpu backend keeps the array it is given, and simdopt memory must never end up
    // inside a tensor (the next step would change it behind tfjs's back).
    const fresh = this.tf.tensor(values.slice(), variable.shape, "float32");
    variable.assign(fresh);
    fresh.dispose();
    return variable.dataId;
  }

  /** On the wasm backend: whether its kernels' per-tensor caches can be dropped (see the top). */
  #canRefresh(): boolean {
    const backend = this.tf.backend();
    if (kindOf(backend) !== "wasm") return true;
    const tfjs = (backend as Partial<WasmBackend>).wasm?.tfjs;
    return typeof tfjs?.disposeData === "function" && typeof tfjs.registerTensor === "function";
  }

  /** Drops what the wasm backend cached for the tensor's old values (nothing to do on cpu). */
  #refresh(tensor: TfTensor): void {
    const backend = this.tf.backend();
    if (kindOf(backend) !== "wasm") return;
    const wasm = backend as WasmBackend;
    const info = wasm.dataIdMap.get(tensor.dataId)!;
    wasm.wasm.tfjs.disposeData(info.id);
    wasm.wasm.tfjs.registerTensor(info.id, tensor.size, info.memoryOffset!);
  }

  #unshared(dataId: object): boolean {
    const backend = this.tf.backend() as { refCount?: (dataId: object) => number };
    return typeof backend.refCount === "function" && backend.refCount(dataId) === 1;
  }
}
