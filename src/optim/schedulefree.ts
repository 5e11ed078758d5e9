import { kernels } from "../bindings/instance.js";
import { stepScalars } from "../bindings/memory.js";
import type { Parameter } from "../parameter.js";
import type { NumberCheck } from "../checks.js";
import { checkBetas, checkBounded, checkFinite, checkNonNegative } from "../checks.js";
import { Optimizer, type AccumulateOption, type OptimizerStateDict, type ParamGroup, type ParamGroupInput } from "./optimizer.js";
import type { ParamState, Slice, StepOptions, StepScalars, StepSupport } from "./types.js";

/** Options of ScheduleFreeAdamW (schedulefree.AdamWScheduleFree). */
export interface ScheduleFreeAdamWOptions {
  /** Learning rate (no scheduler: the averaging replaces it). Default 2.5e-3. */
  lr: number;
  /** [beta1, beta2]: beta1 interpolates between the average x and z, beta2 decays the second moment. Default [0.9, 0.999]. */
  betas: [number, number];
  /** Added to the denominator after the square root. Default 1e-8. */
  eps: number;
  /** Weight decay, applied at y along with the normalised gradient. Default 0. */
  weightDecay: number;
  /** Linear warm-up of the learning rate over this many steps. Default 0. */
  warmupSteps: number;
  /** Polynomial weighting of the average: weight ∝ step^rPower (the source's `r`). Default 0. */
  rPower: number;
  /** The average's weights are proportional to max lr so far to this power. Default 2. */
  weightLrPower: number;
}

/** A ScheduleFreeAdamW state dict: the common form plus the mode the parameters are in. */
export interface ScheduleFreeStateDict extends OptimizerStateDict {
  /** Whether the parameters held y (train mode) or x (eval mode) when the dict was made. */
  trainMode: boolean;
}

const DEFAULTS: ScheduleFreeAdamWOptions = { lr: 2.5e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, warmupSteps: 0, rPower: 0, weightLrPower: 2 };
const BUFFERS = ["z", "secondMoment"] as const;
const SCALARS = ["weightSum", "lrMax"] as const;
const WEIGHT_SUM: NumberCheck = Object.freeze({ min: 0 });
const LR_MAX: NumberCheck = Object.freeze({ min: -1 });
const WARMUP: NumberCheck = Object.freeze({ integer: true, min: 0 });
// y, x and z are whole-parameter iterates: a masked or row step would leave them inconsistent.
const SUPPORT: StepSupport = Object.freeze({ rows: false, mask: false });

/**
 * Schedule-Free AdamW (Defazio et al. 2024): no learning-rate schedule; the parameters hold y
 * (the gradient point) in train mode and the average x in eval mode. Call `train()` before
 * stepping and `eval()` before evaluating or saving; a new optimizer starts in eval mode.
 */
export class ScheduleFreeAdamW extends Optimizer<ScheduleFreeAdamWOptions> {
  /** [lr, ckp1, 1/√biasCorrection2], refilled each step. */
  readonly #scalars: StepScalars = new Float64Array(3);
  #trainMode = false;

  constructor(params: Parameter[] | ParamGroupInput<ScheduleFreeAdamWOptions>[], options?: Partial<ScheduleFreeAdamWOptions> & AccumulateOption) {
    super(params, options, DEFAULTS);
  }

  /** True after `train()` (parameters hold y), false after `eval()` and at first (they hold x). */
  get trainMode(): boolean {
    return this.#trainMode;
  }

  /** Switches the parameters from x to y (y = β1·x + (1−β1)·z); does nothing in train mode. */
  train(): void {
    if (!this.#trainMode) this.#interpolate(false);
    this.#trainMode = true;
  }

  /** Switches the parameters from y to x (x = (y − (1−β1)·z)/β1); does nothing in eval mode. */
  eval(): void {
    if (this.#trainMode) this.#interpolate(true);
    this.#trainMode = false;
  }

  /** One step; throws in eval mode (call `train()` first). */
  override step(options?: StepOptions): boolean {
    if (!this.#trainMode) throw new Error("simdopt: ScheduleFreeAdamW.step() in eval mode: call train() before stepping (and eval() before evaluating)");
    return super.step(options);
  }

  override stateDict(): ScheduleFreeStateDict {
    return { ...super.stateDict(), trainMode: this.#trainMode };
  }

  /** Restores the state and the mode; the parameters themselves are the caller's to restore. */
  override loadStateDict(stateDict: ScheduleFreeStateDict): void {
    const mode: unknown = (stateDict as { trainMode?: unknown } | null)?.trainMode;
    if (typeof mode !== "boolean") throw new TypeError(`simdopt: stateDict.trainMode must be a boolean, got ${typeof mode}`);
    super.loadStateDict(stateDict);
    this.#trainMode = mode;
  }

  #interpolate(toX: boolean): void {
    const { emaUpdate } = kernels();
    for (const group of this.paramGroups) {
      const beta1 = group.betas[0];
      for (const param of group.params) {
        const z = this.state.get(param)?.buffers.get("z");
        // p ← p + w·(z − p): to y with w = 1 − β1, to x with w = 1 − 1/β1 (as lerp weights 1 − decay).
        if (z === undefined) continue;
        stepScalars()[0] = toX ? 1 / beta1 : beta1;
        emaUpdate(param.dataPtr, z.ptr, param.size);
      }
    }
  }

  /** @internal */
  protected override get stepSupport(): StepSupport {
    return SUPPORT;
  }

  /** @internal */
  protected validateGroup(group: ScheduleFreeAdamWOptions, prefix: string): void {
    if (!(typeof group.lr === "number" && group.lr >= 0 && group.lr < Infinity)) checkNonNegative(prefix, "lr", group.lr);
    checkBetas(prefix, "betas", group.betas);
    // eval() divides by β1 to recover x from y and z.
    if (group.betas[0] === 0) throw new RangeError(`simdopt: ${prefix}betas[0] must be > 0 for ScheduleFreeAdamW (eval() divides by it), got 0`);
    if (!(typeof group.eps === "number" && group.eps >= 0 && group.eps < Infinity)) checkNonNegative(prefix, "eps", group.eps);
    if (!(typeof group.weightDecay === "number" && group.weightDecay >= 0 && group.weightDecay < Infinity)) checkNonNegative(prefix, "weightDecay", group.weightDecay);
    checkBounded(prefix, "warmupSteps", group.warmupSteps, WARMUP);
    if (!(typeof group.rPower === "number" && group.rPower > -Infinity && group.rPower < Infinity)) checkFinite(prefix, "rPower", group.rPower);
    if (!(typeof group.weightLrPower === "number" && group.weightLrPower > -Infinity && group.weightLrPower < Infinity)) checkFinite(prefix, "weightLrPower", group.weightLrPower);
  }

  /** @internal */
  protected stateBufferNames(): readonly string[] {
    return BUFFERS;
  }

  /** @internal */
  protected override scalarStateNames(): readonly string[] {
    return SCALARS;
  }

  /** @internal */
  protected override scalarStateBounds(name: string): NumberCheck {
    return name === "weightSum" ? WEIGHT_SUM : LR_MAX;
  }

  /** @internal weightSum starts at 0, lrMax at −1 (below any learning rate), as the source's group. */
  protected override initialScalarValue(name: string): number {
    return name === "weightSum" ? 0 : -1;
  }

  /** @internal */
  protected override prepareStep(group: ParamGroup<ScheduleFreeAdamWOptions>, state: ParamState): StepScalars {
    const step = state.step;
    const lr = group.lr * (step <= group.warmupSteps ? step / group.warmupSteps : 1);
    const saved = state.scalars;
    const lrMax = (saved[1] = Math.max(lr, saved[1]!));
    const weight = step ** group.rPower * lrMax ** group.weightLrPower;
    const weightSum = (saved[0] = saved[0]! + weight);
    const scalars = this.#scalars;
    scalars[0] = lr;
    // The source catches 0/0 (lr 0 with weightLrPower > 0) as ckp1 = 0.
    scalars[1] = weightSum === 0 ? 0 : weight / weightSum;
    scalars[2] = 1 / Math.sqrt(1 - group.betas[1] ** step);
    return scalars;
  }

  /** @internal */
  protected update(slice: Slice, group: ParamGroup<ScheduleFreeAdamWOptions>, _state: ParamState, scalars: StepScalars): void {
    const lr = scalars[0]!;
    const ckp1 = scalars[1]!;
    const s = stepScalars();
    s[0] = group.betas[1]; s[1] = group.eps; s[2] = group.weightDecay; s[3] = scalars[2]!;
    s[4] = ckp1; s[5] = lr * (group.betas[0] * (1 - ckp1) - 1); s[6] = lr;
    kernels().scheduleFreeStep(slice.param, slice.grad, slice.buffers[0]!, slice.buffers[1]!, slice.length, slice.firstUse);
  }
}
