// Counts garbage collections while stepping each optimizer many times on a small parameter.
// Run with a tiny young generation (--max-semi-space-size=1): a step that allocated even a few
// bytes would, over 300,000 steps, fill it many times over and trigger scavenges.
// Prints JSON { name: scavengesDuringSteps }.
import { PerformanceObserver, constants } from "node:perf_hooks";
import * as simdopt from "../../dist/index.js";
import { OPTIMIZERS } from "../optim/spec.mjs";

await simdopt.init();
// THREADS=n: the same with n threads on a parameter large enough that every step is split
// across them (the recorded step list, its dispatch and the spin-wait must allocate nothing too).
const THREADS = Number(process.env.THREADS ?? 1);
// TENSORS=n: each optimizer holds n parameters, so that its dense steps are multi-tensor calls
// over the group's table (and, with threads, that table is split across them).
const TENSORS = Number(process.env.TENSORS ?? 1);
const SHAPE = THREADS > 1 ? [Math.ceil(256 / TENSORS), 160] : [7, 3];
if (THREADS > 1 && (await simdopt.initThreads(THREADS)) !== THREADS) throw new Error("threads did not start");
// Every optimizer of the spec table under its first variant's options (defaults for those the
// machinery tests leave out; ScheduleFreeAdamW starts in eval mode: train() first), gradient
// accumulation and EMA.update. The tests run one entry per process (ONLY, see run-probe.ts):
// a process that steps many classes in turn can lose inlining at shared call sites, whichever
// class comes late in the sequence.
const fromSpec = (entry) => (p) => {
  const optimizer = new simdopt[entry.name](p, entry.variants?.[0]?.[1] ?? {});
  optimizer.train?.();
  return optimizer;
};
const makers = {
  ...Object.fromEntries(OPTIMIZERS.map((entry) => [entry.name, fromSpec(entry)])),
  "Adam accumulate 4": (p) => new simdopt.Adam(p, { accumulate: 4 }),
  "Adam bfloat16": (p) => new simdopt.Adam(p, { stateDtype: "bfloat16" }),
  "AdamW int8": (p) => new simdopt.AdamW(p, { stateDtype: "int8" }),
  "EMA update": (p) => {
    const ema = new simdopt.EMA(p, { decay: 0.999 });
    return { step: () => ema.update() };
  },
};

let scavenges = 0;
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = entry.detail?.kind ?? entry.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges++;
  }
});
observer.observe({ entryTypes: ["gc"] });
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
const STEPS = Number(process.env.STEPS ?? 300_000);
/** The stepping loop, in a plain function (the module's async top level is a poor place for hot loops). */
function steps(optimizer, count) {
  for (let i = 0; i < count; i++) optimizer.step();
}

const result = {};
// ONLY=Adam,SGD: just those optimizers (each in a process of its own, as the tests run them).
const only = process.env.ONLY?.split(",");
for (const [name, make] of Object.entries(makers)) {
  if (only !== undefined && !only.includes(name)) continue;
  const p = Array.from({ length: TENSORS }, (_, i) => simdopt.parameter(SHAPE, { init: "xavierUniform", seed: 1 + i }));
  for (const each of p) each.grad.fill(1e-3);
  const optimizer = make(p);
  if (!optimizer) continue;
  steps(optimizer, 20_000); // warm up: optimised code, state created
  // The fewest scavenges over three windows: a step that allocates does so in every window, while
  // a one-off (a deoptimisation running a while in the interpreter, which boxes doubles) does not.
  let fewest = Infinity;
  for (let window = 0; window < 3; window++) {
    await settle();
    const before = scavenges;
    steps(optimizer, STEPS);
    await settle(); // GC entries are delivered asynchronously
    fewest = Math.min(fewest, scavenges - before);
  }
  result[name] = fewest;
}
observer.disconnect();
simdopt.terminateThreads();
console.log(JSON.stringify(result));
