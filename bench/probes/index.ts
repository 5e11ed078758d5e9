// Probe kernels for bench/optim-kernels.mjs only (never shipped): the optimizer kernels as they
// were before the shared driver ("old"), hand-written same-math ideals and an Adam-shaped stream.

/** First byte after the probe module's static data: the bench allocates from here. */
export function heapBase(): usize { return __heap_base; }

export { sgdStep as sgdOld } from "./old/sgd";
export { adamStep as adamOld } from "./old/adam";
export { adagradStep as adagradOld } from "./old/adagrad";
export { rmspropStep as rmspropOld } from "./old/rmsprop";
export { adadeltaStep as adadeltaOld } from "./old/adadelta";
export { adamaxStep as adamaxOld } from "./old/adamax";
export { nadamStep as nadamOld } from "./old/nadam";
export { radamStep as radamOld } from "./old/radam";
export { lionStep as lionOld } from "./old/lion";
export {
  sgdIdeal, adamIdeal, adagradIdeal, rmspropIdeal, adadeltaIdeal, adamaxIdeal, nadamIdeal, radamIdeal, lionIdeal,
  adamStream, sqrtDivBound,
} from "./ideal";
