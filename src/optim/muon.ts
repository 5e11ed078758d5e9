import { kernels } from "../bindings/instance.js";
import type { Kernels } from "../bindings/kernels.js";
import { threadHooks } from "../threads/hooks.js";
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

/**
 * Where one parameter's scratch goes (offsets in floats): two iterates, the Gram matrix and its
 * polynomial, then GEMM packing space — one copy per share of the largest GEMM split across
 * threads (`shares` copies of `packStride` floats, each packed A then packed B).
 */
interface ScratchLayout { y: number; g: number; q: number; packed: number; packB: number; packStride: number; shares: number; floats: number }

/** The most shares any of a Newton–Schulz iteration's three GEMMs is split into. */
function gemmShares(rows: number, cols: number): number {
  const hooks = threadHooks();
  if (hooks === null) return 1;
  const s = Math.min(rows, cols);
  const long = Math.max(rows, cols);
  // The third GEMM's output is rows×cols either way (Y·poly when tall, poly·X when wide).
  return Math.max(hooks.matmulShares(s, s, long), hooks.matmulShares(s, s, s), hooks.matmulShares(rows, cols, s));
}

/** Refilled by scratchLayout: a step allocates nothing. */
const LAYOUT: ScratchLayout = { y: 0, g: 0, q: 0, packed: 0, packB: 0, packStride: 0, shares: 1, floats: 0 };

function scratchLayout(rows: number, cols: number): ScratchLayout {
  const { matmulPackedASize: packA, matmulPackedBSize: packB } = kernels();
  const s = Math.min(rows, cols);
  const n = align(rows * cols);
  const packedA = align(rows > cols ? packA(s, rows) : 0);
  const packedB = align(rows > cols ? Math.max(packB(rows, s), packB(s, s)) : Math.max(packB(cols, s), packB(s, s), packB(s, cols)));
  const shares = gemmShares(rows, cols);
  const packed = 2 * n + 2 * align(s * s);
  const layout = LAYOUT;
  layout.y = n; layout.g = 2 * n; layout.q = 2 * n + align(s * s); layout.packed = packed;
  layout.packB = packedA; layout.packStride = packedA + packedB; layout.shares = shares;
  layout.floats = packed + shares * (packedA + packedB);
  return layout;
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
        floats = Math.max(floats, scratchLayout(param.shape[0]!, param.shape[1]!).floats);
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
    if (!(typeof group.lr === "number" && group.lr >= 0 && group.lr < Infinity)) checkNonNegative(prefix, "lr", group.lr);
    if (!(typeof group.weightDecay === "number" && group.weightDecay >= 0 && group.weightDecay < Infinity)) checkNonNegative(prefix, "weightDecay", group.weightDecay);
    if (!(typeof group.momentum === "number" && group.momentum >= 0 && group.momentum < Infinity)) checkNonNegative(prefix, "momentum", group.momentum);
    checkBoolean(prefix, "nesterov", group.nesterov);
    const c: unknown = group.nsCoefficients;
    if (!Array.isArray(c) || c.length !== 3) reject(prefix, "nsCoefficients", c, "three numbers [a, b, c]", true);
    for (let i = 0; i < 3; i++) {
      const value = (c as unknown[])[i];
      // The name is built only on failure: validation runs every step, which allocates nothing.
      if (!(typeof value === "number" && Number.isFinite(value))) checkFinite(prefix, `nsCoefficients[${i}]`, value);
    }
    if (!(typeof group.eps === "number" && group.eps >= 0 && group.eps < Infinity)) checkNonNegative(prefix, "eps", group.eps);
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
    const base = this.#scratch!.ptr;
    const layout = scratchLayout(rows, cols);
    let x = base;
    let y = base + layout.y * 4;
    const g = base + layout.g * 4;
    const q = base + layout.q * 4;
    const packed = base + layout.packed * 4;
    // The momentum kernel runs on this thread: a threaded step has nothing left recorded when
    // the GEMMs below dispatch their own splits.
    k.muonMomentum(slice.grad, slice.buffers[0]!, x, n, group.momentum, group.nesterov, group.eps);
    const coefficients = group.nsCoefficients;
    const a = coefficients[0];
    const b = coefficients[1];
    const c = coefficients[2];
    const heap = heapF32();
    // For rows > cols the source iterates on the transpose; with Y = Xᵀ stored as is, X·Xᵀ is
    // Yᵀ·Y and (b·A + c·A²)·X is Y·(b·A + c·A²) (symmetric), so nothing is transposed.
    for (let i = 0; i < group.nsSteps; i++) {
      if (tall) gemm(k, layout, packed, x, x, g, s, rows, s, true, false, 1, 0);
      else gemm(k, layout, packed, x, x, g, s, cols, s, false, true, 1, 0);
      heap.copyWithin(q >>> 2, g >>> 2, (g >>> 2) + s * s);
      gemm(k, layout, packed, g, g, q, s, s, s, false, false, c, b);
      heap.copyWithin(y >>> 2, x >>> 2, (x >>> 2) + n);
      if (tall) gemm(k, layout, packed, x, q, y, rows, s, s, false, false, 1, a);
      else gemm(k, layout, packed, q, x, y, s, s, cols, false, false, 1, a);
      const t = x; x = y; y = t;
    }
    k.muonApply(slice.param, x, n, 1 - group.lr * group.weightDecay, scalars[0]!);
  }
}

/**
 * C = alpha·op(A)·op(B) + beta·C (m×k by k×n, dense leading dimensions), split across the
 * threads when they are on and the product is large enough (each element computed exactly as in
 * one call, so results do not depend on the thread count).
 */
function gemm(k: Kernels, layout: ScratchLayout, packed: number, a: number, b: number, c: number, m: number, depth: number, n: number,
  transA: boolean, transB: boolean, alpha: number, beta: number): void {
  const hooks = threadHooks();
  const shares = hooks === null ? 1 : Math.min(layout.shares, hooks.matmulShares(m, n, depth));
  const packedB = packed + layout.packB * 4;
  if (shares <= 1) {
    k.matmulF32(a, b, c, m, depth, n, transA ? m : depth, transB ? depth : n, n, transA, transB, alpha, beta, packed, packedB);
  } else {
    hooks!.matmulSplit(k, a, b, c, m, depth, n, transA, transB, alpha, beta, packed, packedB, layout.packStride * 4, shares, k.relaxedBuild() === 1 ? 6 : 5);
  }
}
