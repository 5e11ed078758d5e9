import { kernels } from "../bindings/instance.js";
import type { Parameter } from "../parameter.js";
import { checkBoolean, checkBounded, checkNonNegative, reject, type NumberCheck } from "../checks.js";
import { Optimizer, type AccumulateOption, type ParamGroup, type ParamGroupInput, type StateBufferLayout, type StepSupport } from "./optimizer.js";
import { PARAM_SHAPED, type ParamState, type Slice, type StepScalars } from "./types.js";

/** Options of Adafactor (torch.optim.Adafactor). */
export interface AdafactorOptions {
  /** Caps the relative step size: ρ_t = min(lr, 1/√t). Default 1e-2. */
  lr: number;
  /** The second-moment decay follows 1 − β2_t = t^beta2Decay; ≤ 0. Default −0.8. */
  beta2Decay: number;
  /**
   * [eps1, eps2]: eps1 floors the variance estimate (null: float32 epsilon, 2⁻²³), eps2 the
   * parameter RMS that scales the step. Default [null, 1e-3].
   */
  eps: [number | null, number];
  /** Update clipping: the update is scaled down to an RMS of at most d; ≥ 1 (Infinity: off). Default 1. */
  d: number;
  /** Decoupled weight decay: p ← p·(1 − lr·weightDecay). Default 0. */
  weightDecay: number;
  /** Maximise the objective instead of minimising it. Default false. */
  maximize: boolean;
}

const ADAFACTOR_DEFAULTS: AdafactorOptions = { lr: 1e-2, beta2Decay: -0.8, eps: [null, 1e-3], d: 1, weightDecay: 0, maximize: false };
const FLOAT32_EPSILON = 2 ** -23;
// Made once: validation runs on every step, which must allocate nothing.
const AT_MOST_ZERO: NumberCheck = Object.freeze({ max: 0 });
const FACTORED = ["rowVar", "colVar"] as const;
const UNFACTORED = ["variance"] as const;
// rowVar: one statistic per row of each trailing [rows, cols] matrix; colVar: one per column.
const ROW_LAYOUT: StateBufferLayout = Object.freeze({ shape: (s: readonly number[]) => s.slice(0, -1), sliceable: false });
const COLUMN_LAYOUT: StateBufferLayout = Object.freeze({ shape: (s: readonly number[]) => [...s.slice(0, -2), s[s.length - 1]!], sliceable: false });
// The second moments and the update's RMS are per tensor: row steps cannot be taken; masked steps
// are (a dense step whose masked-out parameter elements are restored).
const DENSE_AND_MASKED: StepSupport = Object.freeze({ rows: false, mask: true });

/**
 * Adafactor (Shazeer & Stern 2018) as torch.optim.Adafactor computes it: for parameters of two or
 * more dimensions the second moments are factored into per-row and per-column means over the
 * last two axes (memory O(rows + cols) per matrix instead of O(rows·cols)); vectors and scalars
 * keep a full second moment. The step is relative to the parameter's RMS and the update is
 * clipped by its own RMS. `step({ rows })` is refused; masks are supported.
 */
export class Adafactor extends Optimizer<AdafactorOptions> {
  /** [1 − β2_t, ρ_t], refilled each step. */
  readonly #scalars: StepScalars = new Float64Array(2);

  constructor(params: Parameter[] | ParamGroupInput<AdafactorOptions>[], options?: Partial<AdafactorOptions> & AccumulateOption) {
    super(params, options, ADAFACTOR_DEFAULTS);
  }

  /** @internal */
  protected validateGroup(group: AdafactorOptions, prefix: string): void {
    if (!(typeof group.lr === "number" && group.lr >= 0 && group.lr < Infinity)) checkNonNegative(prefix, "lr", group.lr);
    if (!(typeof group.beta2Decay === "number" && group.beta2Decay > -Infinity && group.beta2Decay <= 0)) checkBounded(prefix, "beta2Decay", group.beta2Decay, AT_MOST_ZERO);
    const eps: unknown = group.eps;
    if (!Array.isArray(eps) || eps.length !== 2) reject(prefix, "eps", eps, "a pair [eps1 (null or ≥ 0), eps2 (≥ 0)]", true);
    if (eps[0] !== null && !(typeof eps[0] === "number" && eps[0] >= 0 && eps[0] < Infinity)) checkNonNegative(prefix, "eps[0]", eps[0]);
    if (!(typeof eps[1] === "number" && eps[1] >= 0 && eps[1] < Infinity)) checkNonNegative(prefix, "eps[1]", eps[1]);
    // As torch: d = Infinity turns update clipping off.
    if (typeof group.d !== "number" || !(group.d >= 1)) reject(prefix, "d", group.d, "a number ≥ 1 (Infinity: no clipping)");
    if (!(typeof group.weightDecay === "number" && group.weightDecay >= 0 && group.weightDecay < Infinity)) checkNonNegative(prefix, "weightDecay", group.weightDecay);
    checkBoolean(prefix, "maximize", group.maximize);
  }

  /** @internal */
  protected stateBufferNames(_group: ParamGroup<AdafactorOptions>, param: Parameter): readonly string[] {
    return param.shape.length >= 2 ? FACTORED : UNFACTORED;
  }

  /** @internal */
  protected override stateBufferLayout(name: string): StateBufferLayout {
    return name === "rowVar" ? ROW_LAYOUT : name === "colVar" ? COLUMN_LAYOUT : PARAM_SHAPED;
  }

  /** @internal */
  protected override get stepSupport(): StepSupport {
    return DENSE_AND_MASKED;
  }

  /** @internal */
  protected override prepareStep(group: ParamGroup<AdafactorOptions>, state: ParamState): StepScalars {
    const scalars = this.#scalars;
    scalars[0] = state.step ** group.beta2Decay;
    scalars[1] = Math.min(group.lr, 1 / Math.sqrt(state.step));
    return scalars;
  }

  /** @internal */
  protected update(slice: Slice, group: ParamGroup<AdafactorOptions>, _state: ParamState, scalars: StepScalars): void {
    const k = kernels();
    const { param, grad, length, shape, buffers } = slice;
    const eps1 = group.eps[0] ?? FLOAT32_EPSILON;
    // The parameter's RMS before weight decay scales the step.
    const alpha = Math.max(group.eps[1], Math.sqrt(k.sumSquares(param, length) / length)) * scalars[1]!;
    const paramScale = 1 - group.lr * group.weightDecay;
    const factored = shape.length >= 2;
    const cols = shape[shape.length - 1]!;
    const rows = shape[shape.length - 2]!;
    const matrices = length / (rows * cols);
    let squares: number;
    if (factored) {
      k.adafactorFactors(grad, buffers[0]!, buffers[1]!, matrices, rows, cols, scalars[0]!);
      squares = k.adafactorFactoredNorm(grad, buffers[0]!, buffers[1]!, matrices, rows, cols, eps1);
    } else {
      squares = k.adafactorVariance(grad, buffers[0]!, length, scalars[0]!, eps1);
    }
    const stepScale = alpha / Math.max(1, Math.sqrt(squares / length) / group.d) * (group.maximize ? -1 : 1);
    if (factored) k.adafactorFactoredApply(param, grad, buffers[0]!, buffers[1]!, matrices, rows, cols, eps1, paramScale, stepScale);
    else k.adafactorVectorApply(param, grad, buffers[0]!, length, eps1, paramScale, stepScale);
  }
}
