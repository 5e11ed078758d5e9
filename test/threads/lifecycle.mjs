// Thread start/stop cycles, calls after terminateThreads, and the failure paths (workers
// unavailable, a worker that fails to start, workers that die), in one Node process. Prints one
// JSON line; test/threads/threads.test.ts checks it.
import * as s from "../../dist/index.js";

const warnings = [];
console.warn = (message) => warnings.push(String(message));
const report = {};
try {
  await s.initThreads(2);
  report.beforeInit = "resolved";
} catch (error) {
  report.beforeInit = error.message;
}
await s.init();
await s.initThreads(1); // loads the pool
const { crashWorkersForTest, setSimulatedFailure } = s.threadsInternal();

const param = s.parameter([50000], { init: "ones" });
param.grad.fill(0.25);
const optimizer = new s.Adam([param], { lr: 0.01 });
const expected = (() => {
  // One thread: the reference trajectory of the same steps.
  const p = s.parameter([50000], { init: "ones" });
  p.grad.fill(0.25);
  const o = new s.Adam([p], { lr: 0.01 });
  const out = [];
  for (let i = 0; i < 8; i++) { o.step(); out.push(p.data[49999]); }
  return out;
})();
const got = [];
report.cycles = [];
for (let cycle = 0; cycle < 4; cycle++) {
  report.cycles.push(await s.initThreads(2));
  optimizer.step(); got.push(param.data[49999]);
  s.terminateThreads();
  optimizer.step(); got.push(param.data[49999]); // a step after terminateThreads
  report.cycles.push(s.features().workers);
}
s.terminateThreads(); // twice is fine
report.trajectoryMatches = got.length === expected.length && got.every((value, i) => Object.is(value, expected[i]));

setSimulatedFailure("unavailable");
report.unavailable = await s.initThreads(2);
setSimulatedFailure("start");
warnings.length = 0;
report.failedStart = await s.initThreads(3);
report.failedStartWarning = warnings.join(" | ");
setSimulatedFailure("");

// Workers that die after starting: calls still complete (the caller claims their work), then the
// pool learns of the exits and drops to one thread with a warning.
report.beforeCrash = await s.initThreads(2);
warnings.length = 0;
crashWorkersForTest();
const a = new Float32Array(256 * 256).fill(1);
report.matmulAfterCrash = s.matmul(a, a, { m: 256, k: 256, n: 256 })[0];
await new Promise((resolve) => setTimeout(resolve, 500));
report.afterCrashWorkers = s.features().workers;
report.crashWarning = warnings.join(" | ");
report.matmulLater = s.matmul(a, a, { m: 256, k: 256, n: 256 })[65535];

for (const bad of [0, 1.5, -1, "2", NaN]) {
  try {
    await s.initThreads(bad);
    report[`bad ${String(bad)}`] = "resolved";
  } catch (error) {
    report[`bad ${String(bad)}`] = `${error.constructor.name}: ${error.message}`;
  }
}
console.log(JSON.stringify(report));
