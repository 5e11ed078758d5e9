// Starts threads, steps, and ends without terminateThreads: the process must exit on its own.
const entry = (globalThis.Deno?.args ?? globalThis.process?.argv.slice(2) ?? [])[0] ?? "../../dist/index.js";
const s = await import(new URL(entry, import.meta.url).href);
await s.init();
const threads = await s.initThreads(2);
const p = s.parameter([100000], { init: "ones" });
p.grad.fill(0.5);
new s.Adam([p]).step();
console.log(`stepped on ${threads} threads`);
