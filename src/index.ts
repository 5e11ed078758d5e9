// The public surface of simdopt (shared/spec/API.md), and nothing more.

export { init, initSync, features } from "./bindings/instance.js";
export type { InitSource, InitOptions, Features } from "./bindings/instance.js";
export { parameter, Parameter } from "./parameter.js";
export type { ParameterOptions } from "./parameter.js";
export type { InitScheme } from "./init.js";

export { Optimizer } from "./optim/optimizer.js";
export type { ParamGroup, ParamGroupInput, StepOptions, OptimizerStateDict } from "./optim/optimizer.js";
export { SGD } from "./optim/sgd.js";
export type { SGDOptions } from "./optim/sgd.js";
export { Adam, AdamW } from "./optim/adam.js";
export type { AdamOptions, AdamWOptions } from "./optim/adam.js";
