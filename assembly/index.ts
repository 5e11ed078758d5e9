// Every exported kernel of the module, and nothing else. Kernels take byte pointers into linear
// memory and element counts; the TypeScript side owns allocation, validation and views.

/** First byte after the module's static data; the TypeScript allocator starts here. */
export function heapBase(): usize { return __heap_base; }

/** 1 in the relaxed-SIMD build, 0 in the plain one: tells the loader which build it was handed. */
export function relaxedBuild(): i32 { return ASC_FEATURE_RELAXED_SIMD ? 1 : 0; }

export { sgdStep } from "./optim/sgd";
export { adamStep } from "./optim/adam";
export { restoreMaskedOut } from "./ops/mask";
export { allFinite } from "./ops/reduce";
