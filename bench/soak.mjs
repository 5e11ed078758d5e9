// Soak: many steps with schedulers, and create/dispose cycles, checking that nothing creeps (on
// build/js, the per-module build of the code dist/ bundles).
//   node bench/soak.mjs            10^6 small steps + 10^4 large steps (npm run soak; minutes)
//   node bench/soak.mjs --short    the same cycles, shortened (CI runs it: a few seconds)
// At every cycle boundary — everything of the cycle disposed or dropped, garbage collected — it
// records the wasm memory size, the bytes allocated, the heap top (the highest live byte: if
// freed memory were not reused, or fragmentation grew, it would creep up) and the JS heap, then
// asserts they stay flat. Prints a table and a final JSON line; exits 1 if a check fails.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { setTimeout as sleep } from "node:timers/promises";
// The per-module build (tsc output under build/js, not shipped): the published dist/ is bundled,
// so the allocator counters this reads are only importable here.
import * as simdopt from "../build/js/index.js";
import { allocatedBytes, currentBuffer, heapTopBytes } from "../build/js/bindings/memory.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc");
const short = process.argv.includes("--short");

const plan = short
  ? { smallSteps: 20_000, smallCycle: 2_000, largeSteps: 60, largeCycle: 6, largeSize: 1 << 16 }
  : { smallSteps: 1_000_000, smallCycle: 50_000, largeSteps: 10_000, largeCycle: 500, largeSize: 1 << 18 };

/** Collects until the finalizers of dropped objects have run (allocatedBytes stops changing). */
async function settle() {
  let last = -1;
  for (let i = 0; i < 40 && allocatedBytes() !== last; i++) {
    last = allocatedBytes();
    gc();
    await sleep(2);
  }
  gc();
}

async function checkpoint(phase, cycle) {
  await settle();
  return {
    phase, cycle,
    wasmBytes: currentBuffer().byteLength,
    allocatedBytes: allocatedBytes(),
    heapTop: heapTopBytes(),
    jsHeap: process.memoryUsage().heapUsed,
  };
}

function fillGrad(p, seed) {
  const g = p.grad;
  for (let i = 0; i < g.length; i++) g[i] = Math.sin(seed + i * 0.013) * 1e-2;
}

/** One small cycle: a little MLP-sized set of parameters, AdamW, warm-up + cosine restarts. */
function smallCycle(cycle, steps) {
  const params = [simdopt.parameter([7, 3], { init: "xavierUniform", seed: cycle }), simdopt.parameter([3])];
  params.forEach((p, i) => fillGrad(p, cycle + i));
  const optimizer = new simdopt.AdamW(params, { lr: 1e-3 });
  const warmUp = new simdopt.LinearLR(optimizer, { startFactor: 0.1, totalIters: 100 });
  const cosine = new simdopt.CosineAnnealingWarmRestarts(optimizer, { t0: 500, tMult: 2 });
  const scheduler = new simdopt.SequentialLR(optimizer, { schedulers: [warmUp, cosine], milestones: [100] });
  for (let i = 0; i < steps; i++) {
    optimizer.step();
    scheduler.step();
  }
  // Half the cycles dispose explicitly, half drop everything for the collector to reclaim.
  if (cycle % 2 === 0) {
    optimizer.dispose();
    for (const p of params) p.dispose();
  }
  return optimizer.paramGroups[0].lr;
}

/** One large cycle: sizes vary per cycle (fragmentation), masked and row steps, matmul, batch norm. */
function largeCycle(cycle, steps) {
  const size = plan.largeSize + ((cycle * 7919) % 5) * 4096;
  const rows = 256;
  const table = simdopt.parameter([rows, size / rows / 4 | 0 || 1], { init: "heNormal", seed: cycle });
  const dense = simdopt.parameter([size], { init: "ones" });
  fillGrad(table, cycle);
  fillGrad(dense, cycle + 1);
  const optimizer = new simdopt.Adam([{ params: [dense] }, { params: [table], lr: 1e-2 }], { amsgrad: cycle % 3 === 0 });
  const scheduler = new simdopt.OneCycleLR(optimizer, { maxLr: [1e-3, 1e-2], totalSteps: steps + 1 });
  const mask = new Map([[dense, Uint8Array.from({ length: size }, (_, i) => (i + cycle) % 3 === 0 ? 1 : 0)]]);
  const touched = new Map([[table, Int32Array.from({ length: 16 }, (_, i) => (i * 13 + cycle) % rows)]]);
  const layer = new simdopt.BatchNorm(8);
  const m = 16 + (cycle % 4) * 8, k = 64, n = 32;
  const a = new Float32Array(m * k).fill(0.5);
  const b = simdopt.parameter([k, n], { init: "xavierUniform", seed: cycle });
  const c = simdopt.parameter([m, n]);
  for (let i = 0; i < steps; i++) {
    if (i % 4 === 1) optimizer.step({ mask });
    else if (i % 4 === 2) optimizer.step({ rows: touched });
    else optimizer.step({ skipIfNonfinite: i % 4 === 3 });
    scheduler.step();
    simdopt.matmul(a, b.data, { m, k, n, out: c.data });
    const y = layer.forward(c.data, [(m * n) / 8, 8]);
    layer.backward(y);
  }
  optimizer.zeroGrad();
  if (cycle % 2 === 0) {
    optimizer.dispose();
    layer.dispose();
    for (const p of [table, dense, b, c]) p.dispose();
  }
}

await simdopt.init();
const records = [];
const failures = [];

async function phase(name, total, perCycle, run) {
  const cycles = Math.ceil(total / perCycle);
  const start = performance.now();
  for (let cycle = 0; cycle < cycles; cycle++) {
    run(cycle, Math.min(perCycle, total - cycle * perCycle));
    records.push(await checkpoint(name, cycle));
  }
  const mine = records.filter((r) => r.phase === name);
  // The first cycles size the reused scratch (sizes repeat every 4 cycles) and the memory; from
  // then on nothing may creep.
  const settled = mine.slice(Math.min(4, mine.length - 1));
  const first = settled[0];
  const last = mine[mine.length - 1];
  const maxOf = (key) => Math.max(...settled.map((r) => r[key]));
  const check = (ok, message) => { if (!ok) failures.push(`${name}: ${message}`); };
  check(maxOf("wasmBytes") === first.wasmBytes, `wasm memory grew from ${first.wasmBytes} to ${maxOf("wasmBytes")} bytes`);
  check(settled.every((r) => r.allocatedBytes === first.allocatedBytes), `allocatedBytes varied: ${[...new Set(settled.map((r) => r.allocatedBytes))].join(", ")}`);
  check(maxOf("heapTop") <= first.heapTop, `heap top crept from ${first.heapTop} to ${maxOf("heapTop")}`);
  check(last.jsHeap <= first.jsHeap + 4 * 2 ** 20, `JS heap grew from ${first.jsHeap} to ${last.jsHeap} bytes`);
  return { name, steps: total, cycles, seconds: (performance.now() - start) / 1000, ...last };
}

const summary = [
  await phase("small", plan.smallSteps, plan.smallCycle, smallCycle),
  await phase("large", plan.largeSteps, plan.largeCycle, largeCycle),
];

const mib = (bytes) => (bytes / 2 ** 20).toFixed(2);
console.log(`\n### Soak${short ? " (short)" : ""}\n`);
console.log("| phase | steps | cycles | seconds | wasm MiB | allocated MiB | heap top MiB | JS heap MiB |");
console.log("|---|--:|--:|--:|--:|--:|--:|--:|");
for (const s of summary) {
  console.log(`| ${s.name} | ${s.steps} | ${s.cycles} | ${s.seconds.toFixed(1)} | ${mib(s.wasmBytes)} | ${mib(s.allocatedBytes)} | ${mib(s.heapTop)} | ${mib(s.jsHeap)} |`);
}
console.log(failures.length === 0 ? "\nflat: wasm memory, allocated bytes, heap top and JS heap" : `\nFAILED:\n${failures.join("\n")}`);
console.log(JSON.stringify({ short, failures, summary, records }));
process.exitCode = failures.length === 0 ? 0 : 1;
