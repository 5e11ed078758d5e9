// EMA.update() at 10^6 parameters: the SIMD lerp kernel vs the same update as a plain-JS loop;
// and an accumulating step (accumulate: 4, a step that only adds the gradient to the sums) vs
// the plain-JS sum.
import { measure, printTable, ratio, isMain } from "./harness.mjs";
import * as simdopt from "../dist/index.js";

const SIZE = 1_000_000;

/** average ← average + (1 − decay)·(param − average), as a user would write it. */
function plainUpdate(average, param, decay) {
  const weight = 1 - decay;
  for (let i = 0; i < average.length; i++) average[i] += weight * (param[i] - average[i]);
}

export async function run() {
  await simdopt.init();
  const p = simdopt.parameter([SIZE], { init: "ones" });
  const ema = new simdopt.EMA([p], { decay: 0.999 });
  ema.update();
  const ours = measure("EMA simdopt", () => ema.update());
  ema.dispose();
  p.dispose();
  const average = new Float32Array(SIZE);
  const param = new Float32Array(SIZE).fill(1);
  const js = measure("EMA plain JS", () => plainUpdate(average, param, 0.999));
  // accumulate: 4 — steps 1..3 of every 4 only add; time a whole cycle of 4 minus one Adam step.
  const q = simdopt.parameter([SIZE], { init: "ones" });
  q.grad.fill(1e-3);
  const accumulating = new simdopt.Adam([q], { accumulate: 4 });
  const plainAdam = new simdopt.Adam([q]);
  const cycle = measure("Adam accumulate 4, four steps", () => { for (let i = 0; i < 4; i++) accumulating.step(); });
  const adam = measure("Adam step", () => plainAdam.step());
  accumulating.dispose();
  plainAdam.dispose();
  q.dispose();
  const sums = new Float32Array(SIZE);
  const grad = new Float32Array(SIZE).fill(1e-3);
  const jsSum = measure("plain JS sum", () => { for (let i = 0; i < SIZE; i++) sums[i] += grad[i]; });
  // Three adding steps per cycle: the cycle minus the applying step, per adding step.
  const adding = Math.max((cycle.seconds - adam.seconds) / 3, 1e-9);
  const mps = (seconds) => (SIZE / seconds / 1e6).toFixed(0);
  printTable("EMA update and gradient accumulation throughput (Mparams/s; higher is better)",
    ["operation", "simdopt", "plain JS", "vs plain JS"],
    [["EMA.update (decay 0.999)", mps(ours.seconds), mps(js.seconds), ratio(js.seconds / ours.seconds)],
      ["accumulating step (accumulate 4, Adam)", mps(adding), mps(jsSum.seconds), ratio(jsSum.seconds / adding)]]);
}

if (isMain(import.meta.url)) await run();
