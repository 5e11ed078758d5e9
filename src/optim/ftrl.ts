import { kernels } from "../bindings/instance.js";
import { stepScalars } from "../bindings/memory.js";
import type { Parameter } from "../parameter.js";
import { checkFinite, checkNonNegative, checkPositive, reject } from "../checks.js";
import { Optimizer, type AccumulateOption, type ParamGroup, type ParamGroupInput } from "./optimizer.js";
import type { Slice } from "./types.js";
import { ftrlGeneralPower } from "./ftrl-power.js";

/** Options of Ftrl (keras.optimizers.Ftrl). */
export interface FtrlOptions {
  /** Learning rate. Default 1e-3. */
  lr: number;
  /** How the per-element rate falls with the accumulated squared gradient (≤ 0; 0 = fixed rate). Default −0.5. */
  lrPower: number;
  /** The value the accumulator starts from (every element, rows first touched late included). Default 0.1. */
  initialAccumulatorValue: number;
  /** L1 strength: weights whose linear term stays within ±l1 are exactly 0. Default 0. */
  l1: number;
  /** Online L2 strength (in the denominator). Default 0. */
  l2: number;
  /** Shrinkage-type L2: 2·l2Shrinkage·p is added to the gradient of the linear term. Default 0. */
  l2Shrinkage: number;
  /** Added to the denominator as beta/lr (Keras's beta). Default 0. */
  beta: number;
}

const FTRL_DEFAULTS: FtrlOptions = { lr: 1e-3, lrPower: -0.5, initialAccumulatorValue: 0.1, l1: 0, l2: 0, l2Shrinkage: 0, beta: 0 };
const BUFFERS = ["accumulator", "linear"] as const;

/**
 * FTRL-Proximal (follow the regularised leader) with Keras 3's semantics: per-coordinate rates
 * and L1/L2 regularisation that drives weights to exactly 0. Works with `step({ rows })` for
 * sparse online learning on feature tables.
 */
export class Ftrl extends Optimizer<FtrlOptions> {
  constructor(params: Parameter[] | ParamGroupInput<FtrlOptions>[], options?: Partial<FtrlOptions> & AccumulateOption) {
    super(params, options, FTRL_DEFAULTS);
  }

  /** @internal */
  protected validateGroup(group: FtrlOptions, prefix: string): void {
    if (!(typeof group.lr === "number" && group.lr > 0 && group.lr < Infinity)) checkPositive(prefix, "lr", group.lr);
    if (!(typeof group.lrPower === "number" && group.lrPower > -Infinity && group.lrPower <= 0)) {
      checkFinite(prefix, "lrPower", group.lrPower);
      reject(prefix, "lrPower", group.lrPower, "≤ 0");
    }
    if (!(typeof group.initialAccumulatorValue === "number" && group.initialAccumulatorValue >= 0 && group.initialAccumulatorValue < Infinity)) checkNonNegative(prefix, "initialAccumulatorValue", group.initialAccumulatorValue);
    if (!(typeof group.l1 === "number" && group.l1 >= 0 && group.l1 < Infinity)) checkNonNegative(prefix, "l1", group.l1);
    if (!(typeof group.l2 === "number" && group.l2 >= 0 && group.l2 < Infinity)) checkNonNegative(prefix, "l2", group.l2);
    if (!(typeof group.l2Shrinkage === "number" && group.l2Shrinkage >= 0 && group.l2Shrinkage < Infinity)) checkNonNegative(prefix, "l2Shrinkage", group.l2Shrinkage);
    if (!(typeof group.beta === "number" && group.beta >= 0 && group.beta < Infinity)) checkNonNegative(prefix, "beta", group.beta);
  }

  /** @internal */
  protected stateBufferNames(): readonly string[] {
    return BUFFERS;
  }

  /** @internal */
  protected override initialStateValue(buffer: string, group: ParamGroup<FtrlOptions>): number {
    return buffer === "accumulator" ? group.initialAccumulatorValue : 0;
  }

  /** @internal The scalar slow path (other powers) reads its slice in TypeScript: no table. */
  protected override multiTensor(group: ParamGroup<FtrlOptions>): boolean {
    const p = group.lrPower;
    return p === -0.5 || p === 0 || p === -1;
  }

  /** @internal */
  protected update(slice: Slice, group: ParamGroup<FtrlOptions>): void {
    // The kernel takes the three common powers; any other runs the scalar slow path.
    const p = group.lrPower;
    const step = p === -0.5 || p === 0 || p === -1 ? kernels().ftrlStep : ftrlGeneralPower;
    const s = stepScalars();
    s[0] = group.lr; s[1] = p; s[2] = group.l1; s[3] = group.l2; s[4] = group.l2Shrinkage; s[5] = group.beta;
    step(slice.param, slice.grad, slice.buffers[0]!, slice.buffers[1]!, slice.length);
  }
}
