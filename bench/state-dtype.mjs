// Reduced-precision optimizer state (option stateDtype): Adam, AdamW and Lion steps with float32,
// bfloat16 and int8 moments, measured side by side (interleaved rounds, so machine load hits every
// variant alike), plus the state bytes per parameter. `npm run bench state-dtype` records the
// table in bench/results.json.
import { printTable, ratio, isMain } from "./harness.mjs";
import * as simdopt from "../dist/index.js";

const DTYPES = ["float32", "bfloat16", "int8"];
const SIZES = [1e5, 1e7];
const ROUNDS = 9;

function setup(Optimizer, size, stateDtype) {
  const p = simdopt.parameter([size], { init: "zeros" });
  for (let i = 0; i < size; i++) { p.data[i] = Math.sin(i); p.grad[i] = Math.cos(i * 1.3) * 1e-2; }
  const optimizer = new Optimizer([p], { lr: 1e-3, stateDtype });
  optimizer.step();
  const buffers = Object.values(optimizer.stateDict().state[0].buffers);
  const stateBytes = buffers.reduce((sum, b) => sum + b.byteLength, 0) / size;
  return { p, optimizer, stateBytes };
}

/** Median seconds per step of each variant, timed in interleaved rounds. */
function interleaved(variants, size) {
  const steps = Math.max(1, Math.round(3e7 / size));
  const times = variants.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    variants.forEach((variant, v) => {
      const start = performance.now();
      for (let s = 0; s < steps; s++) variant.optimizer.step();
      times[v].push((performance.now() - start) / 1e3 / steps);
    });
  }
  return times.map((t) => t.sort((a, b) => a - b)[t.length >> 1]);
}

export async function run() {
  await simdopt.init();
  const rows = [];
  for (const Optimizer of [simdopt.Adam, simdopt.AdamW, simdopt.Lion]) {
    for (const size of SIZES) {
      if (Optimizer !== simdopt.Adam && size !== 1e7) continue;
      const variants = DTYPES.map((dtype) => setup(Optimizer, size, dtype));
      const seconds = interleaved(variants, size);
      DTYPES.forEach((dtype, d) => {
        const mps = size / seconds[d] / 1e6;
        rows.push([`${Optimizer.name} ${size.toExponential(0)} ${dtype}`, mps.toFixed(0), variants[d].stateBytes.toFixed(3), ratio(seconds[0] / seconds[d])]);
      });
      for (const v of variants) { v.optimizer.dispose(); v.p.dispose(); }
    }
  }
  printTable("Optimizer steps by stateDtype (interleaved; Mparams/s, higher is better)",
    ["optimizer, size, stateDtype", "Mparams/s", "state bytes/param", "vs float32 state"], rows);
}

if (isMain(import.meta.url)) await run();
