// Per-tensor cost of step(), side by side in one process: 1000 × 64 Adam against one 64,000
// tensor, and n = 100 / n = 3 steps against a plain-JS loop. POOL=1 installs the thread pool
// and pauses it (as the threads bench's two-thread rows leave it); OPT=NAdam etc. picks the optimizer.
import { performance } from "node:perf_hooks";
import * as s from "../../dist/index.js";
import { plain } from "../optim.mjs";

await s.init();
if (process.env.POOL === "1") { await s.initThreads(2); s.threadsInternal().pauseThreads(true); }
if (process.env.POOL === "2") { await s.initThreads(2); s.terminateThreads(); }
const Opt = s[process.env.OPT ?? "Adam"];
const make = (sizes) => {
  const params = sizes.map((n, i) => { const p = s.parameter([n], { init: new Float32Array(n).fill(0.1 + i * 1e-3) }); p.grad.fill(0.01); return p; });
  return new Opt(params, { lr: 1e-4 });
};
function time(fn, ms = 150) {
  let reps = 1;
  for (;;) {
    const t = performance.now();
    for (let i = 0; i < reps; i++) fn();
    const e = performance.now() - t;
    if (e > ms) return (e / reps) * 1000; // µs
    reps *= e < 1 ? 10 : Math.ceil((ms * 1.2) / e);
  }
}
const list = make(Array(1000).fill(64)), bare = make([64000]), small = make([100]), tiny = make([3]);
const a = { p: new Float32Array(100), g: new Float32Array(100).fill(0.01), m: new Float32Array(100), v: new Float32Array(100) };
let step = 0;
const plainSmall = () => plain.adam(a.p, a.g, a.m, a.v, { lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: ++step });
const med = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
const r = { list: [], bare: [], small: [], tiny: [], plain: [] };
const MS = Number(process.env.MS ?? 20);
for (let round = 0; round < Number(process.env.ROUNDS ?? 21); round++) {
  r.list.push(time(() => list.step(), MS)); r.bare.push(time(() => bare.step(), MS));
  r.small.push(time(() => small.step(), MS)); r.tiny.push(time(() => tiny.step(), MS)); r.plain.push(time(plainSmall, MS));
}
// Medians of the per-round ratios: each round's sides ran within ~0.1 s of each other.
const ratioOf = (a, b) => med(r[a].map((x, i) => x / r[b][i]));
const m = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, med(v)]));
console.log(`1000×64 ${m.list.toFixed(1)} µs, bare ${m.bare.toFixed(1)} µs: ${ratioOf("list", "bare").toFixed(2)}×`);
console.log(`n=100 ${m.small.toFixed(3)} µs, n=3 ${m.tiny.toFixed(3)} µs, plain n=100 ${m.plain.toFixed(3)} µs: ${ratioOf("plain", "small").toFixed(2)}× faster`);
s.terminateThreads();
