// Shared bits of the benchmark files: a benchmark.js wrapper and a table printer.
import Benchmark from "benchmark";

/**
 * Runs `fn` under benchmark.js and returns its mean time per call in seconds (and the relative
 * margin of error). `maxTime` bounds the sampling time per case, in seconds.
 */
export function measure(name, fn, { maxTime = 1.5, minSamples = 10 } = {}) {
  const bench = new Benchmark(name, fn, { maxTime, minSamples });
  bench.run();
  if (bench.error) throw bench.error;
  return { seconds: bench.stats.mean, rme: bench.stats.rme, samples: bench.stats.sample.length };
}

/** Every table printed in this process, for bench/results.json (see run.mjs). */
const tables = [];
let family = null;

/** Tables printed from now on belong to `name` (a bench family: optim, matmul, ...). */
export function beginFamily(name) {
  family = name;
}

/** The tables printed so far: `{ family, title, header, rows }` with every cell a string. */
export function printedTables() {
  return tables;
}

/** Prints rows (arrays of cells) as an aligned Markdown table, and records it for results.json. */
export function printTable(title, header, rows) {
  const cells = [header, ...rows].map((row) => row.map(String));
  tables.push({ family, title, header: cells[0], rows: cells.slice(1) });
  const widths = header.map((_, c) => Math.max(...cells.map((row) => row[c].length)));
  const line = (row) => "| " + row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join(" | ") + " |";
  console.log(`\n### ${title}\n`);
  console.log(line(cells[0]));
  console.log("| " + widths.map((w, c) => (c === 0 ? "-".repeat(w) : "-".repeat(w - 1) + ":")).join(" | ") + " |");
  for (const row of cells.slice(1)) console.log(line(row));
}

/** Formats a ratio such as 7.31×. */
export const ratio = (x) => `${x.toFixed(2)}×`;

/** True when the module is run directly (node bench/x.mjs) rather than imported by bench/run.mjs. */
export function isMain(importMetaUrl) {
  return process.argv[1] !== undefined && new URL(importMetaUrl).pathname === new URL(`file://${process.argv[1]}`).pathname;
}

/** Loads tfjs-core with the wasm backend (XNNPACK, SIMD, one thread) or the cpu backend. */
export async function loadTfjs(backend) {
  const tf = await import("@tensorflow/tfjs-core");
  if (backend === "wasm") {
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    const { createRequire } = await import("node:module");
    const require = createRequire(import.meta.url);
    const { dirname } = await import("node:path");
    const dist = dirname(require.resolve("@tensorflow/tfjs-backend-wasm")) + "/";
    wasm.setWasmPaths(dist);
    wasm.setThreadsCount(1);
  } else {
    await import("@tensorflow/tfjs-backend-cpu");
  }
  await tf.setBackend(backend);
  await tf.ready();
  return tf;
}
