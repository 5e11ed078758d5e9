import { kernels } from "../bindings/instance.js";
import { stepScalars } from "../bindings/memory.js";
import type { Parameter } from "../parameter.js";
import { checkBoolean, checkNonNegative } from "../checks.js";
import { Optimizer, type AccumulateOption, type ParamGroup, type ParamGroupInput } from "./optimizer.js";
import type { Slice } from "./types.js";

/** Options of SGD (torch.optim.SGD). */
export interface SGDOptions {
  /** Learning rate. Default 1e-3. */
  lr: number;
  /** Momentum factor; 0 keeps no state. Default 0. */
  momentum: number;
  /** Dampening of the momentum's gradient term. Default 0. */
  dampening: number;
  /** L2 penalty added to the gradient. Default 0. */
  weightDecay: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0). Default false. */
  nesterov: boolean;
  /** Maximise the objective instead of minimising it. Default false. */
  maximize: boolean;
  /**
   * Proximal L1 strength (TensorFlow's ProximalGradientDescent): after the step,
   * p ← sign(p)·max(|p| − lr·l1, 0), so small weights become exactly 0. Default 0.
   */
  l1: number;
}

const SGD_DEFAULTS: SGDOptions = { lr: 1e-3, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false, l1: 0 };
const MOMENTUM_BUFFER = ["momentumBuffer"] as const;
const NO_BUFFERS = [] as const;

/** Stochastic gradient descent with optional (Nesterov) momentum. */
export class SGD extends Optimizer<SGDOptions> {
  constructor(params: Parameter[] | ParamGroupInput<SGDOptions>[], options?: Partial<SGDOptions> & AccumulateOption) {
    super(params, options, SGD_DEFAULTS);
  }

  /** @internal */
  protected validateGroup(group: SGDOptions, prefix: string): void {
    if (!(typeof group.lr === "number" && group.lr >= 0 && group.lr < Infinity)) checkNonNegative(prefix, "lr", group.lr);
    if (!(typeof group.momentum === "number" && group.momentum >= 0 && group.momentum < Infinity)) checkNonNegative(prefix, "momentum", group.momentum);
    if (!(typeof group.dampening === "number" && group.dampening >= 0 && group.dampening < Infinity)) checkNonNegative(prefix, "dampening", group.dampening);
    if (!(typeof group.weightDecay === "number" && group.weightDecay >= 0 && group.weightDecay < Infinity)) checkNonNegative(prefix, "weightDecay", group.weightDecay);
    checkBoolean(prefix, "nesterov", group.nesterov);
    checkBoolean(prefix, "maximize", group.maximize);
    if (!(typeof group.l1 === "number" && group.l1 >= 0 && group.l1 < Infinity)) checkNonNegative(prefix, "l1", group.l1);
    if (group.nesterov && (group.momentum <= 0 || group.dampening !== 0)) {
      throw new RangeError(`simdopt: ${prefix}nesterov requires momentum > 0 and dampening 0 (got momentum ${group.momentum}, dampening ${group.dampening})`);
    }
  }

  /** @internal */
  protected stateBufferNames(group: ParamGroup<SGDOptions>): readonly string[] {
    return group.momentum !== 0 ? MOMENTUM_BUFFER : NO_BUFFERS;
  }

  /** @internal One kernel call over the group's table. */
  protected override multiTensor(): boolean {
    return true;
  }

  /** @internal */
  protected update(slice: Slice, group: ParamGroup<SGDOptions>): void {
    const s = stepScalars();
    s[0] = group.lr; s[1] = group.momentum; s[2] = group.dampening; s[3] = group.weightDecay; s[4] = group.l1;
    kernels().sgdStep(slice.param, slice.grad, group.momentum !== 0 ? slice.buffers[0]! : 0, slice.length,
      group.maximize, group.nesterov, slice.firstUse);
  }
}
