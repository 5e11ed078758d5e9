// Online logistic regression with FTRL-Proximal on a hashed sparse feature table — the
// click-through workload of edge and serverless runtimes, where a model is updated per request.
//
// A synthetic click log: every event has NF categorical fields (site, device, hour, ...); each
// (field, value) pair is hashed into one row of a [BUCKETS, TASKS] weight table, and the event
// carries a click label for each of TASKS ad slots (multi-task logistic regression:
// logit[k] = bias[k] + Σ_fields w[row, k]). Only a few feature values truly matter. Training
// reads the log once, in mini-batches: the loss of each batch is taken before training on it
// (progressive validation), the gradient lands in the rows the batch touched, and
// Ftrl.step({ rows }) updates only those rows. L1 keeps the weights of uninformative features at
// exactly 0. A plain-JavaScript FTRL runs in lockstep on the same gradients, to time it per row.
//
//   node examples/online-logreg.mjs [events]      (default 200000)
import { init, parameter, Ftrl } from "../dist/index.js";

const EVENTS = Number(process.argv[2] ?? 200_000);
const BUCKETS = 1 << 18;
const TASKS = 16;
const FIELDS = 12;
const VOCAB = 5000; // values per field
const BATCH = 256;
const FTRL = { lr: 0.5, l1: 3, l2: 0.1, initialAccumulatorValue: 0.1 };

await init();

// ---- the synthetic click log ----
let seed = 2024;
const random = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
/** Feature hashing: (field, value) → row (a 32-bit mix, then the bucket). */
function bucket(field, value) {
  let h = Math.imul(field + 1, 0x9e3779b1) ^ Math.imul(value + 1, 0x85ebca77);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  return ((h ^ (h >>> 15)) >>> 0) % BUCKETS;
}
// True effects: 5% of the feature values matter, each for about half of the tasks.
const truth = new Map();
for (let field = 0; field < FIELDS; field++) {
  for (let value = 0; value < VOCAB; value++) {
    if (random() < 0.05) {
      const effect = new Float64Array(TASKS);
      for (let k = 0; k < TASKS; k++) if (random() < 0.5) effect[k] = (random() - 0.5) * 8;
      truth.set(field * VOCAB + value, effect);
    }
  }
}
/** Zipf-like popularity: a few values are common, most are rare (as in real logs). */
const drawValue = () => Math.floor(VOCAB * random() ** 3);
const rows = new Int32Array(EVENTS * FIELDS);
let trueLoss = 0; // log-loss of the true model over the second half of the log
const labels = new Uint8Array(EVENTS * TASKS);
for (let e = 0; e < EVENTS; e++) {
  const logit = new Float64Array(TASKS).fill(-2); // ~12% base click rate
  for (let field = 0; field < FIELDS; field++) {
    const value = drawValue();
    rows[e * FIELDS + field] = bucket(field, value);
    const effect = truth.get(field * VOCAB + value);
    if (effect !== undefined) for (let k = 0; k < TASKS; k++) logit[k] += effect[k];
  }
  for (let k = 0; k < TASKS; k++) {
    const p = 1 / (1 + Math.exp(-logit[k]));
    const y = random() < p ? 1 : 0;
    labels[e * TASKS + k] = y;
    if (e >= EVENTS / 2) trueLoss -= y ? Math.log(p) : Math.log(1 - p);
  }
}

// ---- the model: the hashed table (FTRL, rows) and a dense per-task bias (FTRL, dense) ----
const table = parameter([BUCKETS, TASKS], { name: "hashed weights" });
const bias = parameter([TASKS], { name: "bias" });
const optimizer = new Ftrl([{ params: [table] }, { params: [bias], l1: 0 }], FTRL);

// The plain-JS FTRL (Keras's update, lrPower −0.5) on its own copy of the table's state.
const js = { w: new Float32Array(BUCKETS * TASKS), n: new Float32Array(BUCKETS * TASKS).fill(FTRL.initialAccumulatorValue), z: new Float32Array(BUCKETS * TASKS) };
function ftrlRowsPlainJs(state, grad, rowList) {
  const { lr, l1, l2 } = FTRL;
  const { w, n, z } = state;
  for (let r = 0; r < rowList.length; r++) {
    const base = rowList[r] * TASKS;
    for (let i = base; i < base + TASKS; i++) {
      const g = grad[i];
      const nNew = n[i] + g * g;
      const sigma = (Math.sqrt(nNew) - Math.sqrt(n[i])) / lr;
      z[i] += g - sigma * w[i];
      n[i] = nNew;
      w[i] = Math.abs(z[i]) <= l1 ? 0 : (Math.sign(z[i]) * l1 - z[i]) / (Math.sqrt(nNew) / lr + 2 * l2);
    }
  }
}

function timed(fn) {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

const seen = new Uint8Array(BUCKETS);
const touched = new Int32Array(BATCH * FIELDS);
const probability = new Float64Array(TASKS);
const report = [];
let lossSum = 0, lossCount = 0, simdTime = 0, jsTime = 0, rowSteps = 0, maxDiff = 0;
const t0 = performance.now();
for (let start = 0; start < EVENTS; start += BATCH) {
  const end = Math.min(start + BATCH, EVENTS);
  const w = table.data, g = table.grad, b = bias.data, bg = bias.grad;
  let count = 0;
  bg.fill(0);
  for (let e = start; e < end; e++) {
    for (let k = 0; k < TASKS; k++) probability[k] = b[k];
    for (let f = 0; f < FIELDS; f++) {
      const base = rows[e * FIELDS + f] * TASKS;
      for (let k = 0; k < TASKS; k++) probability[k] += w[base + k];
    }
    for (let k = 0; k < TASKS; k++) {
      const p = 1 / (1 + Math.exp(-probability[k]));
      const y = labels[e * TASKS + k];
      lossSum -= y ? Math.log(Math.max(p, 1e-12)) : Math.log(Math.max(1 - p, 1e-12));
      probability[k] = p - y; // d(log-loss)/d(logit)
      bg[k] += probability[k];
    }
    lossCount += TASKS;
    for (let f = 0; f < FIELDS; f++) {
      const row = rows[e * FIELDS + f];
      if (seen[row] === 0) { seen[row] = 1; touched[count++] = row; }
      const base = row * TASKS;
      for (let k = 0; k < TASKS; k++) g[base + k] += probability[k];
    }
  }
  const rowList = touched.subarray(0, count);
  // Alternate which goes first, so that neither always finds the gradient rows in cache.
  const jsFirst = (start / BATCH) % 2 === 1;
  if (jsFirst) jsTime += timed(() => ftrlRowsPlainJs(js, g, rowList));
  simdTime += timed(() => optimizer.step({ rows: new Map([[table, rowList]]) }));
  if (!jsFirst) jsTime += timed(() => ftrlRowsPlainJs(js, g, rowList));
  rowSteps += count;
  for (let r = 0; r < count; r++) {
    const base = rowList[r] * TASKS;
    for (let i = base; i < base + TASKS; i++) maxDiff = Math.max(maxDiff, Math.abs(js.w[i] - w[i]));
    g.fill(0, base, base + TASKS);
    seen[rowList[r]] = 0;
  }
  if ((end / BATCH) % Math.ceil(EVENTS / BATCH / 8) === 0 || end === EVENTS) {
    report.push({ events: end, loss: lossSum / lossCount });
    lossSum = 0;
    lossCount = 0;
  }
}
const seconds = (performance.now() - t0) / 1e3;

// Sparsity over the rows the log ever touched (untouched rows are trivially 0).
let used = 0, zeros = 0;
const everTouched = new Uint8Array(BUCKETS);
for (let i = 0; i < rows.length; i++) everTouched[rows[i]] = 1;
for (let row = 0; row < BUCKETS; row++) {
  if (everTouched[row] === 0) continue;
  for (let k = 0; k < TASKS; k++) {
    used++;
    if (table.data[row * TASKS + k] === 0) zeros++;
  }
}
let base = 0;
for (let i = 0; i < EVENTS * TASKS; i++) base += labels[i];
const rate = base / (EVENTS * TASKS);
const constantLoss = -(rate * Math.log(rate) + (1 - rate) * Math.log(1 - rate));

console.log(`Online logistic regression, FTRL-Proximal (l1 ${FTRL.l1}, l2 ${FTRL.l2}, lr ${FTRL.lr}): ${EVENTS.toLocaleString("en")} events × ${TASKS} tasks,`);
console.log(`${FIELDS} hashed fields in a ${BUCKETS.toLocaleString("en")} × ${TASKS} table, mini-batches of ${BATCH}\n`);
for (const { events, loss } of report) console.log(`after ${String(events).padStart(8)} events: progressive log-loss ${loss.toFixed(4)}`);
console.log(`(always predicting the base rate ${(rate * 100).toFixed(1)}%: log-loss ${constantLoss.toFixed(4)}; the true model: ${(trueLoss / ((EVENTS - Math.ceil(EVENTS / 2)) * TASKS)).toFixed(4)})`);
console.log(`\nsparsity: ${(zeros / used * 100).toFixed(1)}% of the ${used.toLocaleString("en")} weights of touched rows are exactly 0`);
console.log(`step cost per row (${TASKS} weights): simdopt ${(simdTime / rowSteps * 1e6).toFixed(0)} ns, plain-JS FTRL ${(jsTime / rowSteps * 1e6).toFixed(0)} ns (${(jsTime / simdTime).toFixed(2)}× ); max |Δw| between them ${maxDiff.toExponential(1)}`);
console.log(`total ${seconds.toFixed(1)} s`);
optimizer.dispose();
table.dispose();
bias.dispose();
