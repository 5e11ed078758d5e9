// EMA.update() at 10^6 parameters: the SIMD lerp kernel vs the same update as a plain-JS loop.
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
  const mps = (seconds) => (SIZE / seconds / 1e6).toFixed(0);
  printTable("EMA update throughput (Mparams/s; higher is better)",
    ["operation", "simdopt", "plain JS", "vs plain JS"],
    [["EMA.update (decay 0.999)", mps(ours.seconds), mps(js.seconds), ratio(js.seconds / ours.seconds)]]);
}

if (isMain(import.meta.url)) await run();
