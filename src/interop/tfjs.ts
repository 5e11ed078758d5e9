// `simdopt/tfjs`: simdopt's optimizers and schedulers inside TensorFlow.js training code.
//
// tfjs is an optional peer dependency and is never imported here: the caller passes its `tf`
// namespace, and the optimizer class is made from that namespace's `tf.Optimizer` at call time
// (so `instanceof tf.Optimizer`, `model.compile` and `model.save` see one of their own).

import * as core from "../index.js";
import { Optimizer } from "../optim/optimizer.js";
import type { Parameter } from "../parameter.js";
import { ReduceLROnPlateau } from "../schedule/plateau.js";
import { AdapterState, checkOptionKeys, decodeConfig, encodeConfig, type SavedState, type Tf, type TfTensor, type TfVariable } from "./tfjs-adapter.js";

/**
 * The TensorFlow.js namespace (`import * as tf from "@tensorflow/tfjs"`, or tfjs-core with a
 * backend): loosely typed so that any tfjs 4.x build fits; checked at run time.
 */
export interface TfNamespace {
  /** `tf.Optimizer`, the class the adapter extends. */
  Optimizer: abstract new (...args: never[]) => object;
  /** `tf.engine()`, for the backend and tensor bookkeeping. */
  engine(): unknown;
  /** `tf.backend()`, the active backend (cpu and wasm are written in place). */
  backend(): unknown;
  /** `tf.tensor`, for values on backends written through the public API. */
  tensor(...args: never[]): unknown;
  /** `tf.keep`, for the weights `getWeights()` returns. */
  keep(...args: never[]): unknown;
  /** `tf.serialization`, to register the adapter's class for `loadLayersModel`. */
  serialization: { registerClass(...args: never[]): unknown };
}

/** Options of the adapter itself (the optimizer's own options are the third argument). */
export interface TfAdapterOptions {
  /** Variables whose name matches go to a second group with `weightDecay: 0` (biases, norms). */
  noDecay?: RegExp | null;
  /** Clip the global L2 norm of the step's gradients to this value before each step. */
  clipGradNorm?: number | null;
}

/** A simdopt optimizer constructor, as `tfOptimizer` takes it. */
export type SimdoptOptimizerClass<O extends Optimizer<object>> = new (params: never, options?: never) => O;

/** What `tfOptimizer` adds to the tfjs optimizer it returns. */
export interface TfSimdoptExtras<O extends Optimizer<object>> {
  /** The simdopt optimizer: its `paramGroups` exist from construction (schedulers drive them). */
  readonly simdopt: O;
  /** The Parameter a variable joined as, or undefined before its first gradient. */
  parameterOf(variable: object): Parameter | undefined;
}

type NamedTensor = { name: string; tensor: TfTensor };
type Instance<T> = T extends abstract new (...args: never[]) => infer I ? I : never;

const ADAPTER_KEYS = ["noDecay", "clipGradNorm"] as const;
const classes = new WeakMap<object, Map<Function, Function>>();

/**
 * An instance of the given `tf`'s `tf.Optimizer` that steps with a simdopt optimizer.
 * @param tf the TensorFlow.js namespace (`import * as tf from "@tensorflow/tfjs"`)
 * @param OptimizerClass a simdopt optimizer class (AdamW, SGD, ...)
 * @param options that optimizer's options
 * @param adapterOptions `{ noDecay, clipGradNorm }`
 */
export function tfOptimizer<TF extends TfNamespace, O extends Optimizer<object>>(
  tf: TF,
  OptimizerClass: SimdoptOptimizerClass<O>,
  options?: Record<string, unknown>,
  adapterOptions?: TfAdapterOptions,
): Instance<TF["Optimizer"]> & TfSimdoptExtras<O> {
  checkTf(tf);
  checkOptimizerClass(OptimizerClass);
  const Adapter = adapterClass(tf, OptimizerClass as unknown as OptimizerConstructor);
  return new Adapter(options, adapterOptions) as unknown as Instance<TF["Optimizer"]> & TfSimdoptExtras<O>;
}

/**
 * Registers an adapter class for every simdopt optimizer with `tf.serialization`, so that
 * `tf.loadLayersModel` can rebuild the optimizer of a model saved with `includeOptimizer: true`
 * in a process that has not called `tfOptimizer` yet.
 */
export function registerTfOptimizers(tf: TfNamespace): void {
  checkTf(tf);
  for (const value of Object.values(core)) {
    if (typeof value === "function" && value.prototype instanceof Optimizer) adapterClass(tf, value as unknown as OptimizerConstructor);
  }
}

/** Options of `tfSchedulerCallback`. */
export interface TfSchedulerCallbackOptions {
  /** Step the scheduler after every batch (default) or every epoch. ReduceLROnPlateau: per epoch. */
  per?: "batch" | "epoch";
  /** ReduceLROnPlateau only: the log value passed to `step(metric)` (default "val_loss", else "loss"). */
  monitor?: string;
}

/** The callback object `model.fit` takes. */
export interface TfSchedulerCallback {
  /** Steps the scheduler after each batch (with `per: "batch"`). */
  onBatchEnd?: (batch: number, logs?: Record<string, number>) => Promise<void>;
  /** Steps the scheduler after each epoch (with `per: "epoch"`, and always for ReduceLROnPlateau with the monitored value). */
  onEpochEnd?: (epoch: number, logs?: Record<string, number>) => Promise<void>;
}

/** A `model.fit` callback that steps a simdopt scheduler per batch or per epoch. */
export function tfSchedulerCallback(
  scheduler: { step(metric?: number): void },
  options: TfSchedulerCallbackOptions = {},
): TfSchedulerCallback {
  const at = "simdopt: tfSchedulerCallback";
  if (typeof scheduler?.step !== "function") throw new TypeError(`${at} scheduler must be a simdopt scheduler, got ${describe(scheduler)}`);
  checkOptionKeys("tfSchedulerCallback options", options, ["per", "monitor"]);
  const plateau = scheduler instanceof ReduceLROnPlateau;
  const { per = plateau ? "epoch" : "batch", monitor } = options;
  if (per !== "batch" && per !== "epoch") throw new RangeError(`${at} per must be "batch" or "epoch", got ${String(per)}`);
  if (monitor !== undefined && typeof monitor !== "string") throw new TypeError(`${at} monitor must be a string, got ${describe(monitor)}`);
  if (plateau ? per !== "epoch" : monitor !== undefined) {
    throw new RangeError(`${at}: ReduceLROnPlateau steps per epoch on a monitored value; other schedulers take no monitor`);
  }
  const step = async (_index: number, logs: Record<string, number> = {}): Promise<void> => {
    if (!plateau) return scheduler.step();
    const key = monitor ?? ("val_loss" in logs ? "val_loss" : "loss");
    if (typeof logs[key] !== "number") throw new RangeError(`${at} monitor "${key}" is not in the epoch logs (${Object.keys(logs).join(", ")})`);
    scheduler.step(logs[key]);
  };
  return per === "batch" ? { onBatchEnd: step } : { onEpochEnd: step };
}

// ---- the adapter class ----

type OptimizerConstructor = new (params: unknown, options?: unknown) => Optimizer<object>;

interface AdapterConfig {
  optimizer: string;
  options: Record<string, unknown>;
  groups: Array<Record<string, unknown>>;
  noDecay: [string, string] | null;
  clipGradNorm: number | null;
}

function adapterClass(tf: Tf, OptimizerClass: OptimizerConstructor): new (options?: unknown, adapterOptions?: unknown) => object {
  // Per namespace: the class's methods use the `tf` it was made from.
  let perTf = classes.get(tf);
  if (perTf === undefined) classes.set(tf, (perTf = new Map()));
  const cached = perTf.get(OptimizerClass);
  if (cached !== undefined) return cached as new (options?: unknown, adapterOptions?: unknown) => object;

  const Base = tf.Optimizer as unknown as new () => { iterations: number };
  class SimdoptTfOptimizer extends Base {
    static get className(): string {
      return `simdopt.${OptimizerClass.name}`;
    }

    readonly simdopt: Optimizer<object>;
    readonly #state: AdapterState;
    #lastWeights: TfTensor[] = [];

    constructor(options?: unknown, adapterOptions?: unknown) {
      super();
      const settings = checkAdapterOptions(adapterOptions);
      this.simdopt = makeOptimizer(OptimizerClass, options, settings.noDecay !== null);
      this.#state = new AdapterState(tf, this.simdopt, settings);
    }

    parameterOf(variable: object): Parameter | undefined {
      return this.#state.parameterOf(variable as TfVariable);
    }

    applyGradients(variableGradients: Record<string, TfTensor> | NamedTensor[]): void {
      this.#state.apply(gradientPairs(tf, variableGradients));
      (this as unknown as { iterations_: number }).iterations_ = this.iterations + 1;
    }

    async getWeights(): Promise<NamedTensor[]> {
      this.#disposeLastWeights();
      const weights: NamedTensor[] = [{ name: "iter", tensor: tf.tensor(Int32Array.of(this.iterations), [], "int32") }];
      for (const state of this.#state.savedStates()) weights.push(...encodeState(tf, state));
      // Owned by this optimizer until the next getWeights() or dispose(), as tfjs's optimizers
      // own the variables they return: model.save does not dispose what it is given.
      for (const { tensor } of weights) tf.keep(tensor);
      this.#lastWeights = weights.map(({ tensor }) => tensor);
      return weights;
    }

    async setWeights(weightValues: NamedTensor[]): Promise<void> {
      if (!Array.isArray(weightValues) || weightValues.length === 0) {
        throw new TypeError("simdopt: setWeights expects the array getWeights() returned (iter first)");
      }
      const decoded = await Promise.all(weightValues.map(async (weight, i) => {
        if (typeof weight !== "object" || weight === null || typeof weight.name !== "string" || typeof weight.tensor?.data !== "function") {
          throw new TypeError(`simdopt: setWeights entry ${i} must be { name, tensor }`);
        }
        return { name: weight.name, dtype: weight.tensor.dtype, shape: [...weight.tensor.shape], values: await weight.tensor.data() };
      }));
      const iterations = decoded[0]!.values[0];
      if (typeof iterations !== "number" || !Number.isInteger(iterations) || iterations < 0) {
        throw new RangeError(`simdopt: setWeights entry 0 must be the iteration count, got ${String(iterations)}`);
      }
      this.#state.restore(decodeStates(decoded.slice(1)));
      (this as unknown as { iterations_: number }).iterations_ = iterations;
    }

    getConfig(): Record<string, string> {
      const { noDecay, clipGradNorm } = this.#state.settings;
      const config: AdapterConfig = {
        optimizer: OptimizerClass.name,
        options: { ...this.simdopt.defaults },
        groups: this.simdopt.paramGroups.map(({ params: _params, ...options }) => options),
        noDecay: noDecay === null ? null : [noDecay.source, noDecay.flags],
        clipGradNorm,
      };
      return { simdopt: encodeConfig(config) };
    }

    static fromConfig(_cls: unknown, config: Record<string, unknown>): SimdoptTfOptimizer {
      const { options, groups, noDecay, clipGradNorm } = decodeConfig(config) as AdapterConfig;
      const made = new SimdoptTfOptimizer(options, { noDecay: noDecay === null ? null : new RegExp(...noDecay), clipGradNorm });
      made.simdopt.paramGroups.forEach((group, g) => Object.assign(group, groups[g] ?? {}, { params: group.params }));
      return made;
    }

    dispose(): void {
      this.#state.dispose();
      this.#disposeLastWeights();
    }

    #disposeLastWeights(): void {
      for (const tensor of this.#lastWeights) tensor.dispose();
      this.#lastWeights = [];
    }
  }
  tf.serialization.registerClass(SimdoptTfOptimizer);
  perTf.set(OptimizerClass, SimdoptTfOptimizer);
  return SimdoptTfOptimizer;
}

/**
 * The simdopt optimizer with its groups in place before any variable joins: built over
 * placeholder parameters (groups may not start empty), which are then taken out and freed.
 */
function makeOptimizer(OptimizerClass: OptimizerConstructor, options: unknown, withNoDecayGroup: boolean): Optimizer<object> {
  const placeholders = [core.parameter([1, 1]), ...(withNoDecayGroup ? [core.parameter([1, 1])] : [])];
  try {
    const groups = placeholders.map((placeholder, g) => (g === 0 ? { params: [placeholder] } : { params: [placeholder], weightDecay: 0 }));
    const optimizer = new OptimizerClass(groups, options);
    for (const group of optimizer.paramGroups) group.params.length = 0;
    return optimizer;
  } finally {
    for (const placeholder of placeholders) placeholder.dispose();
  }
}

function checkTf(tf: unknown): asserts tf is Tf {
  const t = tf as Record<string, unknown> | null;
  const ok = typeof t === "object" && t !== null && typeof (t.serialization as Tf["serialization"] | undefined)?.registerClass === "function"
    && ["Optimizer", "engine", "tensor", "backend", "keep"].every((name) => typeof t[name] === "function");
  if (!ok) throw new TypeError(`simdopt: tfOptimizer tf must be the TensorFlow.js namespace (import * as tf from "@tensorflow/tfjs"), got ${describe(tf)}`);
}

function checkOptimizerClass(OptimizerClass: unknown): void {
  if (typeof OptimizerClass !== "function" || !(OptimizerClass.prototype instanceof Optimizer)) {
    throw new TypeError(`simdopt: tfOptimizer OptimizerClass must be a simdopt optimizer class (AdamW, SGD, ...), got ${describe(OptimizerClass)}`);
  }
}

function checkAdapterOptions(adapterOptions: unknown): { noDecay: RegExp | null; clipGradNorm: number | null } {
  if (adapterOptions === undefined || adapterOptions === null) return { noDecay: null, clipGradNorm: null };
  checkOptionKeys("tfOptimizer adapterOptions", adapterOptions, ADAPTER_KEYS);
  const { noDecay = null, clipGradNorm = null } = adapterOptions as TfAdapterOptions;
  if (noDecay !== null && !(noDecay instanceof RegExp)) {
    throw new TypeError(`simdopt: tfOptimizer adapterOptions.noDecay must be a RegExp, got ${describe(noDecay)}`);
  }
  if (clipGradNorm !== null && (typeof clipGradNorm !== "number" || !(clipGradNorm > 0 && clipGradNorm < Infinity))) {
    const ErrorType = typeof clipGradNorm === "number" ? RangeError : TypeError;
    throw new ErrorType(`simdopt: tfOptimizer adapterOptions.clipGradNorm must be a finite number > 0, got ${describe(clipGradNorm)}`);
  }
  // Without the g/y flags: test() on such a RegExp is stateful and would skip every other match.
  return { noDecay: noDecay === null ? null : new RegExp(noDecay.source, noDecay.flags.replace(/[gy]/g, "")), clipGradNorm };
}

/** (variable, gradient) pairs, every one checked before the step changes anything. */
function gradientPairs(tf: Tf, variableGradients: unknown): Array<{ variable: TfVariable; gradient: TfTensor }> {
  let entries: Array<[string, unknown]>;
  if (Array.isArray(variableGradients)) {
    entries = variableGradients.map((entry, i) => {
      if (typeof entry !== "object" || entry === null || typeof entry.name !== "string") {
        throw new TypeError(`simdopt: applyGradients entry ${i} must be { name, tensor }, got ${describe(entry)}`);
      }
      return [entry.name, entry.tensor];
    });
  } else if (typeof variableGradients === "object" && variableGradients !== null) {
    entries = Object.entries(variableGradients);
  } else {
    throw new TypeError(`simdopt: applyGradients expects a NamedTensorMap or NamedTensor[], got ${describe(variableGradients)}`);
  }
  const registered = tf.engine().registeredVariables;
  const pairs: Array<{ variable: TfVariable; gradient: TfTensor }> = [];
  for (const [name, gradient] of entries) {
    if (gradient == null) continue;   // tfjs skips variables without a gradient
    const at = `simdopt: applyGradients: "${name}"`;
    const variable = registered[name];
    if (variable === undefined) throw new RangeError(`${at} is not a variable registered with tfjs`);
    if (pairs.some((pair) => pair.variable === variable)) throw new RangeError(`${at} is named twice`);
    const grad = gradient as TfTensor;
    if (!Array.isArray(grad.shape) || typeof grad.dataId !== "object") throw new TypeError(`${at}: the gradient must be a tensor, got ${describe(gradient)}`);
    if (variable.dtype !== "float32" || grad.dtype !== "float32") throw new TypeError(`${at} and its gradient must be float32, got ${variable.dtype} and ${grad.dtype}`);
    if (String(grad.shape) !== String(variable.shape)) {
      throw new RangeError(`${at}: the gradient has shape [${grad.shape}], the variable [${variable.shape}]`);
    }
    pairs.push({ variable, gradient: grad });
  }
  return pairs;
}

/** One variable's state as named tensors: `<name>/step`, `<name>/<buffer>`, `<name>/<scalar>`. */
function encodeState(tf: Tf, state: SavedState): NamedTensor[] {
  const out: NamedTensor[] = [{ name: `${state.name}/step`, tensor: tf.tensor(Int32Array.of(state.step), [], "int32") }];
  for (const [buffer, values] of Object.entries(state.buffers)) {
    const shape = state.shape !== undefined && state.shape.reduce((a, b) => a * b, 1) === values.length ? state.shape : [values.length];
    out.push({ name: `${state.name}/${buffer}`, tensor: tf.tensor(values.slice(), shape, "float32") });
  }
  // Scalars are float64 (e.g. NAdam's running product): kept exactly as their two 32-bit halves.
  for (const [scalar, value] of Object.entries(state.scalars)) {
    out.push({ name: `${state.name}/${scalar}`, tensor: tf.tensor(new Int32Array(Float64Array.of(value).buffer), [2], "int32") });
  }
  return out;
}

function decodeStates(weights: Array<{ name: string; dtype: string; shape: number[]; values: ArrayLike<number> }>): SavedState[] {
  const states = new Map<string, SavedState>();
  for (const { name: full, dtype, shape, values } of weights) {
    const cut = full.lastIndexOf("/");
    if (cut <= 0) throw new RangeError(`simdopt: setWeights entry "${full}" is not "<variable>/<state>"`);
    const name = full.slice(0, cut);
    const key = full.slice(cut + 1);
    let state = states.get(name);
    if (state === undefined) states.set(name, (state = { name, step: -1, buffers: {}, scalars: {}, shape }));
    if (key === "step" && dtype === "int32" && values.length === 1) state.step = values[0]!;
    else if (dtype === "float32") { state.buffers[key] = Float32Array.from(values); state.shape = shape; }
    else if (dtype === "int32" && values.length === 2) state.scalars[key] = new Float64Array(Int32Array.from(values).buffer)[0]!;
    else throw new TypeError(`simdopt: setWeights entry "${full}" (${dtype}, ${values.length} values) is not simdopt optimizer state`);
  }
  for (const state of states.values()) {
    if (!(Number.isInteger(state.step) && state.step >= 0)) throw new RangeError(`simdopt: setWeights has no "${state.name}/step" entry`);
  }
  return [...states.values()];
}

function describe(value: unknown): string {
  return typeof value === "function" ? `function ${value.name}` : Array.isArray(value) ? "an array" : String(value);
}
