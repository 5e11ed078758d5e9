// `npm run bench [family ...]`: runs every benchmark family (or the named ones) in one process
// and prints their tables. Families: optim, ema, sparse, matmul, batchnorm, tfjs.
import { existsSync } from "node:fs";

const FAMILIES = ["optim", "ema", "sparse", "matmul", "batchnorm", "tfjs"];
const wanted = process.argv.slice(2).length > 0 ? process.argv.slice(2) : FAMILIES;

console.log(`simdopt benchmarks — node ${process.version}, ${new Date().toISOString()}`);
for (const family of wanted) {
  const file = new URL(`./${family}.mjs`, import.meta.url);
  if (!existsSync(file)) {
    console.log(`\n(${family}: no bench/${family}.mjs yet)`);
    continue;
  }
  const { run } = await import(file.href);
  await run();
}
