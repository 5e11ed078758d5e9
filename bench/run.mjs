// `npm run bench [family ...]`: runs every benchmark family (or the named ones) in one process,
// prints their tables, and writes them with the machine they ran on to bench/results.json (the
// README's performance tables are generated from that file: `npm run bench:readme`) and a chart
// of the ratios to bench/results.svg. A run of some families replaces only those families'
// tables in results.json.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem, platform, release, arch } from "node:os";
import { createRequire } from "node:module";
import { beginFamily, printedTables } from "./harness.mjs";
import { ratioChart } from "./chart.mjs";

const FAMILIES = ["optim", "ema", "muon", "sparse", "ftrl", "matmul", "batchnorm", "tfjs", "state-dtype", "threads"];
const wanted = process.argv.slice(2).length > 0 ? process.argv.slice(2) : FAMILIES;
const unknown = wanted.filter((name) => !existsSync(new URL(`./${name}.mjs`, import.meta.url)));
if (unknown.length > 0) throw new RangeError(`unknown bench families: ${unknown.join(", ")}; there are ${FAMILIES.join(", ")}`);

const require = createRequire(import.meta.url);
const versionOf = (name) => {
  try {
    return require(`${name}/package.json`).version;
  } catch {
    return null;
  }
};
/** The CPU's model name; on Linux also its family/model numbers, which tell generations apart. */
function cpuName() {
  const model = cpus()[0]?.model.trim() ?? "unknown";
  try {
    const info = readFileSync("/proc/cpuinfo", "utf8");
    const field = (name) => new RegExp(`^${name}\\s*:\\s*(.+)$`, "m").exec(info)?.[1]?.trim();
    const family = field("cpu family"), number = field("model");
    return family && number ? `${model} (family ${family}, model ${number})` : model;
  } catch {
    return model;
  }
}
const machine = {
  cpu: cpuName(),
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  os: `${platform()} ${release()} ${arch()}`,
};
const runtime = {
  node: process.version,
  v8: process.versions.v8,
  simdopt: JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version,
  tfjs: versionOf("@tensorflow/tfjs-core"),
};

console.log(`simdopt benchmarks — ${machine.cpu}, ${machine.cores} cores; node ${runtime.node}; ${new Date().toISOString()}`);
for (const name of wanted) {
  beginFamily(name);
  const { run } = await import(new URL(`./${name}.mjs`, import.meta.url).href);
  await run();
}

const file = new URL("./results.json", import.meta.url);
const previous = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : { families: {} };
const families = { ...previous.families };
const date = new Date().toISOString();
for (const name of wanted) {
  families[name] = { date, machine, runtime, tables: printedTables().filter((table) => table.family === name).map(({ family: _, ...table }) => table) };
}
const results = { note: "Written by `npm run bench`; the README's performance tables are generated from it (npm run bench:readme).", families };
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(new URL("./results.svg", import.meta.url), ratioChart(results));
console.log(`\nwrote bench/results.json and bench/results.svg (${wanted.join(", ")})`);
