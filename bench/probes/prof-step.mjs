// Steps one case for a CPU profile: CASE=list (1000 × 64) or small (n = 100); POOL=1 installs the paused pool.
const s = await import(process.env.SRC ?? "../../dist/index.js");
await s.init();
if (process.env.POOL === "1") { await s.initThreads(2); s.threadsInternal().pauseThreads(true); }
const sizes = process.env.CASE === "small" ? [100] : Array(1000).fill(64);
const params = sizes.map((n) => { const p = s.parameter([n]); p.grad.fill(0.01); return p; });
const opt = new s[process.env.OPT ?? "Adam"](params, { lr: 1e-4 });
const reps = process.env.CASE === "small" ? 5e6 : 2e4;
for (let i = 0; i < reps; i++) opt.step();
s.terminateThreads();
