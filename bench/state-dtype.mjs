// Reduced-precision optimizer state (option stateDtype): Adam, AdamW and Lion steps with float32,
// bfloat16 and int8 moments, measured side by side (interleaved rounds, so machine load hits every
// variant alike; each variant's best round, the least disturbed one on a shared host), plus the
// state bytes per parameter. The goal: at 1e7 parameters, bfloat16 and int8 Adam ≥ 1.3× the
// float32-state step (the traffic drops from 28 to 16 or ~14 bytes per parameter).
//
// A second table measures the two limits no storage format removes, with probe kernels compiled
// here from bench/probes/lowp.ts (never shipped): Adam's square root and division alone (the
// divide unit's bound on any exact Adam step), and the cost of one int8 table lookup (wasm has no
// SIMD gather; int8 Adam makes four per element: two decodes, two encodes).
// `npm run bench state-dtype` records both tables in bench/results.json.
import { readFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import asc from "assemblyscript/asc";
import { printTable, ratio, isMain } from "./harness.mjs";
import * as simdopt from "../dist/index.js";

const DTYPES = ["float32", "bfloat16", "int8"];
const SIZES = [1e5, 1e7];
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 31);
const GOAL = 1.3;

function setup(Optimizer, size, stateDtype) {
  const p = simdopt.parameter([size], { init: "zeros" });
  for (let i = 0; i < size; i++) { p.data[i] = Math.sin(i); p.grad[i] = Math.cos(i * 1.3) * 1e-2; }
  const optimizer = new Optimizer([p], { lr: 1e-3, stateDtype });
  optimizer.step();
  const buffers = Object.values(optimizer.stateDict().state[0].buffers);
  const stateBytes = buffers.reduce((sum, b) => sum + b.byteLength, 0) / size;
  return { p, stateBytes, fn: () => optimizer.step(), dispose: () => { optimizer.dispose(); p.dispose(); } };
}

/** Best seconds per call of each function, timed in interleaved rounds of ~`elements` elements each. */
function interleaved(fns, size, elements = 2e7) {
  const calls = Math.max(1, Math.round(elements / size));
  const best = fns.map(() => Infinity);
  for (let round = 0; round < ROUNDS; round++) {
    fns.forEach((fn, v) => {
      const start = performance.now();
      for (let s = 0; s < calls; s++) fn();
      best[v] = Math.min(best[v], (performance.now() - start) / 1e3 / calls);
    });
  }
  return best;
}

async function probes() {
  const out = fileURLToPath(new URL("../build/probes-lowp.wasm", import.meta.url));
  mkdirSync(fileURLToPath(new URL("../build", import.meta.url)), { recursive: true });
  // The package's asconfig.json applies (an imported shared memory), as for the other probes.
  const { error, stderr } = await asc.main([fileURLToPath(new URL("./probes/lowp.ts", import.meta.url)), "-o", out,
    "-O3", "--runtime", "stub", "--noAssert", "--use", "abort=", "--importMemory", "--noExportMemory", "--sharedMemory",
    "--initialMemory", "64", "--maximumMemory", "65536", "--enable", "simd", "--enable", "threads"]);
  if (error) throw new Error(`probe build failed: ${error.message}\n${stderr.toString()}`);
  const memory = new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true });
  return { memory, ...(await WebAssembly.instantiate(readFileSync(out), { env: { memory } })).instance.exports };
}

export async function run() {
  await simdopt.init();
  const rows = [];
  let adamFloat32At1e7 = 0;
  for (const Optimizer of [simdopt.Adam, simdopt.AdamW, simdopt.Lion]) {
    for (const size of SIZES) {
      if (Optimizer !== simdopt.Adam && size !== 1e7) continue;
      const variants = DTYPES.map((dtype) => setup(Optimizer, size, dtype));
      const seconds = interleaved(variants.map((v) => v.fn), size);
      if (Optimizer === simdopt.Adam && size === 1e7) adamFloat32At1e7 = seconds[0];
      DTYPES.forEach((dtype, d) => {
        const speedUp = seconds[0] / seconds[d];
        const goal = Optimizer === simdopt.Adam && size === 1e7 && d > 0;
        rows.push([`${Optimizer.name} ${size.toExponential(0)} ${dtype}`, (size / seconds[d] / 1e6).toFixed(0),
          variants[d].stateBytes.toFixed(3), ratio(speedUp), goal ? `≥ ${GOAL}×` : "", goal ? (speedUp >= GOAL ? "met" : "missed") : ""]);
      });
      for (const v of variants) v.dispose();
    }
  }
  printTable("Optimizer steps by stateDtype (interleaved, best round; Mparams/s, higher is better)",
    ["optimizer, size, stateDtype", "Mparams/s", "state bytes/param", "vs float32 state", "goal", "result"], rows);

  // The limits, in cache (1e5 elements), against float32-state Adam at 1e7.
  const k = await probes();
  const n = 1e5;
  const f32 = new Float32Array(k.memory.buffer, k.heapBase(), 5 * n);
  const [param, m, v, keys, table] = [0, 1, 2, 3, 4].map((i) => f32.byteOffset + i * n * 4);
  for (let i = 0; i < n; i++) { f32[n + i] = Math.sin(i); f32[2 * n + i] = 1 + (i % 97); f32[4 * n + (i % 3072)] = i; }
  // Keys: byte offsets into a 3072-entry table (the int8 search table's size), in a scattered order.
  const keyView = new Uint32Array(k.memory.buffer, keys, n);
  for (let i = 0; i < n; i++) keyView[i] = (((i * 2654435761) >>> 0) % 3072) * 4;
  const [bound, withLookups, without] = interleaved([() => k.sqrtDiv(param, m, v, n), () => k.lookups(keys, table, param, n),
    () => k.noLookups(keys, table, param, n)], n, 1e7);
  const perLookup = (withLookups - without) / n;
  const adamPerElement = adamFloat32At1e7 / 1e7;
  printTable("Limits of a reduced-precision Adam step (probes, 1e5 elements in cache)",
    ["limit", "measured", "against float32 Adam's step at 1e7"], [
      ["√ and ÷ alone: the most any exact Adam step reaches", `${(n / bound / 1e6).toFixed(0)} Mparams/s`,
        `${ratio(adamPerElement / (bound / n))} as fast`],
      ["4 int8 table lookups (one int8 Adam element's)", `${(4 * perLookup * 1e9).toFixed(3)} ns`,
        `${ratio((4 * perLookup) / adamPerElement)} its time per element`],
    ]);
}

if (isMain(import.meta.url)) await run();
