import { kernels } from "../bindings/instance.js";
import { F32Block, heapF32 } from "../bindings/memory.js";
import { Parameter } from "../parameter.js";
import { checkBoolean, checkChoice, checkFinite, checkInteger, checkNonNegative, reject } from "../checks.js";
import { Optimizer, type AccumulateOption, type ParamGroup, type ParamGroupInput } from "./optimizer.js";
import type { ParamState, Slice, StepOptions, StepScalars, StepSupport } from "./types.js";

/** Options of Muon (torch.optim.Muon). */
export interface MuonOptions {
  /** Learning rate, adjusted per shape by `adjustLrFn`. Default 1e-3. */
  lr: number;
  /** Decoupled weight decay: p ← p·(1 − lr·weightDecay). Default 0.1. */
  weightDecay: number;
  /** Momentum μ of buf ← buf + (1−μ)·(g − buf). Default 0.95. */
  momentum: number;
  /** Orthogonalise g + μ·(buf − g) instead of buf. Default true. */
  nesterov: boolean;
  /** (a, b, c) of the Newton–Schulz quintic X ← a·X + (b·A + c·A²)·X, A = X·Xᵀ. Default [3.4445, −4.775, 2.0315]. */
  nsCoefficients: [number, number, number];
  /** Floor of the Frobenius norm the update is divided by before the iteration. Default 1e-7. */
  eps: number;
  /** Newton–Schulz iterations (1–99). Default 5. */
  nsSteps: number;
  /** "original": lr·√max(1, rows/cols); "match_rms_adamw": lr·0.2·√max(rows, cols). Default "original". */
  adjustLrFn: "original" | "match_rms_adamw";
}

const DEFAULTS: MuonOptions = {
  lr: 1e-3, weightDecay: 0.1, momentum: 0.95, nesterov: true, nsCoefficients: [3.4445, -4.775, 2.0315], eps: 1e-7, nsSteps: 5, adjustLrFn: "original",
};
const ADJUST = ["original", "match_rms_adamw"] as const;
const BUFFER = ["momentumBuffer"] as const;
// The update is a whole-matrix function of the momentum: no row or masked steps.
const SUPPORT: StepSupport = Object.freeze({ rows: false, mask: false });
const align = (floats: number): number => (floats + 3) & ~3;

/** Scratch floats of one parameter: two iterates, the Gram matrix and its polynomial, GEMM packing. */
function scratchFloats(rows: number, cols: number): number {
  const { matmulPackedASize: packA, matmulPackedBSize: packB } = kernels();
  const s = Math.min(rows, cols);
  const packedB = rows > cols ? Math.max(packB(rows, s), packB(s, s)) : Math.max(packB(cols, s), packB(s, s), packB(s, cols));
  return 2 * align(rows * cols) + 2 * align(s * s) + align(rows > cols ? packA(s, rows) : 0) + align(packedB);
}

function checkShape(param: Parameter): void {
  if (param.shape.length !== 2) {
    throw new RangeError(`simdopt: Muon optimises 2-D parameters only; "${param.name}" has shape [${param.shape.join(", ")}] (step it with AdamW)`);
  }
}

/**
 * Muon: momentum, then the update orthogonalised by a Newton–Schulz iteration (on the GEMM
 * kernel, in float32), with decoupled weight decay. For 2-D weight matrices only; biases,
 * gains and embeddings go to another optimizer (AdamW).
 */
export class Muon extends Optimizer<MuonOptions> {
  /** [adjusted lr, rows, cols], refilled each step. */
  readonly #scalars: StepScalars = new Float64Array(3);
  /** Shared by every parameter (one is updated at a time); grown before a step, never during one. */
  #scratch: F32Block | null = null;
  #disposed = false;

  constructor(params: Parameter[] | ParamGroupInput<MuonOptions>[], options?: Partial<MuonOptions> & AccumulateOption) {
    super(params, options, DEFAULTS);
    for (const group of this.paramGroups) group.params.forEach(checkShape);
  }

  override addParamGroup(group: ParamGroupInput<MuonOptions>): void {
    if (Array.isArray(group?.params)) group.params.forEach(checkShape);
    super.addParamGroup(group);
  }

  override step(options?: StepOptions): boolean {
    // After dispose(), or with groups that are not well formed, the base throws its own error.
    if (this.#disposed) return super.step(options);
    // Indexed loops: step() allocates nothing (an iterator might).
    let floats = 0;
    const groups = this.paramGroups;
    for (let g = 0; g < groups.length; g++) {
      const params: unknown = groups[g]!.params;
      if (!Array.isArray(params)) return super.step(options);
      for (let i = 0; i < params.length; i++) {
        const param: unknown = params[i];
        if (!(param instanceof Parameter) || param.disposed) return super.step(options);
        checkShape(param);
        floats = Math.max(floats, scratchFloats(param.shape[0]!, param.shape[1]!));
      }
    }
    if (this.#scratch === null || this.#scratch.length < floats) {
      const made = new F32Block(floats);
      this.#scratch?.free();
      this.#scratch = made;
    }
    return super.step(options);
  }

  override dispose(): void {
    this.#disposed = true;
    super.dispose();
    this.#scratch?.free();
    this.#scratch = null;
  }

  /** @internal */
  protected override get stepSupport(): StepSupport {
    return SUPPORT;
  }

  /** @internal */
  protected validateGroup(group: MuonOptions, prefix: string): void {
    checkNonNegative(prefix, "lr", group.lr);
    checkNonNegative(prefix, "weightDecay", group.weightDecay);
    checkNonNegative(prefix, "momentum", group.momentum);
    checkBoolean(prefix, "nesterov", group.nesterov);
    const c: unknown = group.nsCoefficients;
    if (!Array.isArray(c) || c.length !== 3) reject(prefix, "nsCoefficients", c, "three numbers [a, b, c]", true);
    for (let i = 0; i < 3; i++) {
      const value = (c as unknown[])[i];
      // The name is built only on failure: validation runs every step, which allocates nothing.
      if (!(typeof value === "number" && Number.isFinite(value))) checkFinite(prefix, `nsCoefficients[${i}]`, value);
    }
    checkNonNegative(prefix, "eps", group.eps);
    checkInteger(prefix, "nsSteps", group.nsSteps, 1, 99);
    checkChoice(prefix, "adjustLrFn", group.adjustLrFn, ADJUST);
  }

  /** @internal */
  protected stateBufferNames(): readonly string[] {
    return BUFFER;
  }

  /** @internal */
  protected override prepareStep(group: ParamGroup<MuonOptions>, _state: ParamState, param: Parameter): StepScalars {
    const rows = param.shape[0]!;
    const cols = param.shape[1]!;
    const scalars = this.#scalars;
    scalars[0] = group.lr * (group.adjustLrFn === "match_rms_adamw" ? 0.2 * Math.sqrt(Math.max(rows, cols)) : Math.sqrt(Math.max(1, rows / cols)));
    scalars[1] = rows;
    scalars[2] = cols;
    return scalars;
  }

  /** @internal */
  protected update(slice: Slice, group: ParamGroup<MuonOptions>, _state: ParamState, scalars: StepScalars): void {
    const k = kernels();
    const rows = scalars[1]!;
    const cols = scalars[2]!;
    const n = slice.length;
    const tall = rows > cols;
    const s = tall ? cols : rows;
    // Scratch: iterates x and y (rows×cols), the Gram matrix g and its polynomial q (s×s), packing.
    let x = this.#scratch!.ptr;
    let y = x + align(n) * 4;
    const g = y + align(n) * 4;
    const q = g + align(s * s) * 4;
    const packedA = q + align(s * s) * 4;
    const packedB = packedA + align(tall ? k.matmulPackedASize(s, rows) : 0) * 4;
    k.muonMomentum(slice.grad, slice.buffers[0]!, x, n, group.momentum, group.nesterov, group.eps);
    const coefficients = group.nsCoefficients;
    const a = coefficients[0];
    const b = coefficients[1];
    const c = coefficients[2];
    const heap = heapF32();
    // For rows > cols the source iterates on the transpose; with Y = Xᵀ stored as is, X·Xᵀ is
    // Yᵀ·Y and (b·A + c·A²)·X is Y·(b·A + c·A²) (symmetric), so nothing is transposed.
    for (let i = 0; i < group.nsSteps; i++) {
      if (tall) k.matmulF32(x, x, g, s, rows, s, s, s, s, true, false, 1, 0, packedA, packedB);
      else k.matmulF32(x, x, g, s, cols, s, cols, cols, s, false, true, 1, 0, packedA, packedB);
      heap.copyWithin(q >>> 2, g >>> 2, (g >>> 2) + s * s);
      k.matmulF32(g, g, q, s, s, s, s, s, s, false, false, c, b, packedA, packedB);
      heap.copyWithin(y >>> 2, x >>> 2, (x >>> 2) + n);
      if (tall) k.matmulF32(x, q, y, rows, s, s, s, s, s, false, false, 1, a, packedA, packedB);
      else k.matmulF32(q, x, y, s, s, cols, s, cols, cols, false, false, 1, a, packedA, packedB);
      const t = x; x = y; y = t;
    }
    k.muonApply(slice.param, x, n, 1 - group.lr * group.weightDecay, scalars[0]!);
  }
}
