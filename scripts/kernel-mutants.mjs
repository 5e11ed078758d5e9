// Kernel mutation testing (`npm run test:mutation:kernels`): applies a fixed list of realistic
// single-fault mutants to the AssemblyScript kernels one at a time, rebuilds the wasm and runs
// the test files that cover the kernel; every mutant must make them fail. StrykerJS covers src/
// (`npm run test:mutation`) but cannot mutate AssemblyScript, hence this script.
//
// The work happens in a scratch copy of the repository (node_modules linked, not copied), so the
// working tree, its build and dist/ are never touched, whatever happens to this process.
//
// A mutant is a file, an exact search string and its replacement. When the search string is not
// found exactly once (the kernel was rewritten), or when the mutated source compiles to the same
// wasm as the original, the mutant is reported "not applicable" and the script fails, so that
// the list below is updated rather than silently passing.
//
// Usage: node scripts/kernel-mutants.mjs [--only id,id,...] [--list]
// Exit status: 0 when every mutant is killed; 1 when any survives; 2 when any is not applicable
// (or the unmutated baseline fails).

import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const OPTIM = ["test/optim/sgd-adam.test.ts"];
const EXTRA = ["test/optim/extra.test.ts"];
const MATMUL = ["test/ops/matmul.test.ts"];

/** @type {Array<{ id: string, file: string, search: string, replace: string, tests: string[], what: string }>} */
const MUTANTS = [
  {
    id: "sgd-nesterov", file: "assembly/optim/sgd.ts", tests: OPTIM, what: "Nesterov adds buf instead of momentum·buf",
    search: "g = nesterov ? f32x4.add(g, f32x4.mul(momentum, buf)) : buf;",
    replace: "g = nesterov ? f32x4.add(g, buf) : buf;",
  },
  {
    id: "sgd-dampening", file: "assembly/optim/sgd.ts", tests: OPTIM, what: "dampening ignored",
    search: "f32x4.add(f32x4.mul(momentum, v128.load(momentumBuffer)), f32x4.mul(oneMinusDampening, g))",
    replace: "f32x4.add(f32x4.mul(momentum, v128.load(momentumBuffer)), g)",
  },
  {
    id: "adam-eps-inside-sqrt", file: "assembly/optim/adam.ts", tests: OPTIM, what: "ε inside the square root",
    search: "f32x4.add(f32x4.mul(f32x4.sqrt(vHat), invBiasCorrection2Sqrt), eps)",
    replace: "f32x4.mul(f32x4.sqrt(f32x4.add(vHat, eps)), invBiasCorrection2Sqrt)",
  },
  {
    id: "adam-amsgrad-v", file: "assembly/optim/adam.ts", tests: OPTIM, what: "amsgrad divides by v, not max(vMax, v)",
    search: "f32x4.mul(f32x4.sqrt(vHat), invBiasCorrection2Sqrt)",
    replace: "f32x4.mul(f32x4.sqrt(v), invBiasCorrection2Sqrt)",
  },
  {
    id: "adam-no-decoupled-decay", file: "assembly/optim/adam.ts", tests: OPTIM, what: "AdamW's decoupled decay skipped",
    search: "if (hasDecoupled) p = f32x4.mul(p, paramScale);",
    replace: "if (hasDecoupled) p = p;",
  },
  {
    id: "moving-average-swapped", file: "assembly/optim/common.ts", tests: [...OPTIM, ...EXTRA], what: "EMA weights swapped (1−β)·avg + β·x",
    search: "f32x4.add(f32x4.mul(decay, average), f32x4.mul(oneMinusDecay, x))",
    replace: "f32x4.add(f32x4.mul(oneMinusDecay, average), f32x4.mul(decay, x))",
  },
  {
    id: "tail-slot-not-zeroed", file: "assembly/tail.ts", tests: ["test/optim/clip.test.ts", ...OPTIM], what: "tail slot keeps stale lanes",
    search: "  v128.store(slot, i32x4.splat(0));\n",
    replace: "",
  },
  {
    id: "tail-short-copy-out", file: "assembly/tail.ts", tests: OPTIM, what: "tail copies one float too few back",
    search: "memory.copy(destination, SLOTS + (<usize>stream << 4), bytes);",
    replace: "memory.copy(destination, SLOTS + (<usize>stream << 4), bytes - 4);",
  },
  {
    id: "adagrad-eps-inside-sqrt", file: "assembly/optim/adagrad.ts", tests: EXTRA, what: "ε inside the square root",
    search: "const denom = f32x4.add(f32x4.sqrt(sum), eps);",
    replace: "const denom = f32x4.sqrt(f32x4.add(sum, eps));",
  },
  {
    id: "rmsprop-centered-mean", file: "assembly/optim/rmsprop.ts", tests: EXTRA, what: "centered: subtracts mean, not mean²",
    search: "variance = f32x4.sub(square, f32x4.mul(mean, mean));",
    replace: "variance = f32x4.sub(square, mean);",
  },
  {
    id: "adadelta-no-eps-numerator", file: "assembly/optim/adadelta.ts", tests: EXTRA, what: "ε dropped from √(Δ + ε)",
    search: "f32x4.sqrt(f32x4.add(accumulated, eps))",
    replace: "f32x4.sqrt(accumulated)",
  },
  {
    id: "adamax-no-decay", file: "assembly/optim/adamax.ts", tests: EXTRA, what: "infinity norm not decayed by β2",
    search: "f32x4.max(f32x4.mul(beta2, v128.load(expInf))",
    replace: "f32x4.max(v128.load(expInf)",
  },
  {
    id: "nadam-coefficients-swapped", file: "assembly/optim/nadam.ts", tests: EXTRA, what: "gradient and moment coefficients swapped",
    search: "f32x4.add(f32x4.mul(gradCoeff, g), f32x4.mul(momentCoeff, m))",
    replace: "f32x4.add(f32x4.mul(momentCoeff, g), f32x4.mul(gradCoeff, m))",
  },
  {
    id: "radam-always-adaptive", file: "assembly/optim/radam.ts", tests: EXTRA, what: "adaptive step even when not rectified",
    search: "if (rectified) update = f32x4.div(m, f32x4.add(f32x4.sqrt(v), eps));",
    replace: "update = f32x4.div(m, f32x4.add(f32x4.sqrt(v), eps));",
  },
  {
    id: "lion-beta2-direction", file: "assembly/optim/lion.ts", tests: EXTRA, what: "update direction interpolated with β2",
    search: "const direction = movingAverage(m, g, beta1, oneMinusBeta1);",
    replace: "const direction = movingAverage(m, g, beta2, oneMinusBeta2);",
  },
  {
    id: "mask-tail-off-by-one", file: "assembly/ops/mask.ts", tests: ["test/optim/sparse.test.ts"], what: "first tail element of a masked step not restored",
    search: "for (let i = length & ~3; i < length; i++) {",
    replace: "for (let i = (length & ~3) + 1; i < length; i++) {",
  },
  {
    id: "finite-exponent-mask", file: "assembly/ops/reduce.ts", tests: ["test/optim/sparse.test.ts"], what: "allFinite tests a wrong exponent mask",
    search: "const exponent = i32x4.splat(0x7f800000);",
    replace: "const exponent = i32x4.splat(0x7f000000);",
  },
  {
    id: "sum-squares-tail-twice", file: "assembly/ops/reduce.ts", tests: ["test/optim/clip.test.ts"], what: "Σx² counts the tail into a lane pair twice",
    search: "    c = f64x2.add(c, f64x2.mul(x0, x0));\n    d = f64x2.add(d, f64x2.mul(x1, x1));\n  }\n  const total",
    replace: "    c = f64x2.add(c, f64x2.mul(x0, x0));\n    d = f64x2.add(d, f64x2.mul(x0, x0));\n  }\n  const total",
  },
  {
    id: "matmul-beta-every-slice", file: "assembly/ops/matmul.ts", tests: MATMUL, what: "beta applied on every k-slice",
    search: "const betaHere: f32 = pc > 0 ? 1 : beta;",
    replace: "const betaHere: f32 = beta;",
  },
  {
    id: "matmul-edge-beta", file: "assembly/ops/matmul.ts", tests: MATMUL, what: "edge tiles ignore beta",
    search: "if (readC) value += beta * load<f32>(at);",
    replace: "if (readC) value += load<f32>(at);",
  },
  {
    id: "matmul-packb-trans-tail", file: "assembly/ops/matmul.ts", tests: MATMUL, what: "transposed B packing reads the previous step in its tail",
    search: "store<f32>(out + (<usize>c << 2), load<f32>(col0 + ((<usize>c * ldb + p) << 2)));",
    replace: "store<f32>(out + (<usize>c << 2), load<f32>(col0 + ((<usize>c * ldb + p - 1) << 2)));",
  },
  {
    id: "matmul-relaxed-row5", file: "assembly/ops/matmul.ts", tests: MATMUL, what: "6×8 kernel (relaxed build only) reads row 4 for row 5",
    search: "if (MR == 6) a5 = a + aStride * <usize>min(5, last);",
    replace: "if (MR == 6) a5 = a + aStride * <usize>min(4, last);",
  },
  {
    id: "batchnorm-merge-no-delta", file: "assembly/ops/batchnorm.ts", tests: ["test/ops/batchnorm.test.ts"], what: "Chan merge drops the δ² term of M2",
    search: "store<f64>(m2Ptr, load<f64>(m2Ptr) + pieceM2 + delta * delta * (before * count / total));",
    replace: "store<f64>(m2Ptr, load<f64>(m2Ptr) + pieceM2);",
  },
  {
    id: "batchnorm-running-var-biased", file: "assembly/ops/batchnorm.ts", tests: ["test/ops/batchnorm.test.ts"], what: "running variance biased (M2/n, not M2/(n−1))",
    search: "momentum * (m2 / (count - 1))",
    replace: "momentum * (m2 / count)",
  },
  {
    id: "batchnorm-backward-centred-sign", file: "assembly/ops/batchnorm.ts", tests: ["test/ops/batchnorm.test.ts"], what: "dx centred term with the wrong sign",
    search: "training ? <f32>(-p * inv * inv * (sdx / count)) : <f32>0",
    replace: "training ? <f32>(p * inv * inv * (sdx / count)) : <f32>0",
  },
];

const began = Date.now();
const root = fileURLToPath(new URL("../", import.meta.url));
const args = process.argv.slice(2);
if (args.includes("--list")) {
  for (const m of MUTANTS) console.log(`${m.id.padEnd(34)} ${m.file.padEnd(28)} ${m.what}`);
  process.exit(0);
}
const onlyAt = args.indexOf("--only");
const only = onlyAt >= 0 ? new Set(args[onlyAt + 1].split(",")) : null;
const selected = only === null ? MUTANTS : MUTANTS.filter((m) => only.has(m.id));
if (only !== null && selected.length !== only.size) {
  console.error(`unknown mutant id(s): ${[...only].filter((id) => !MUTANTS.some((m) => m.id === id)).join(", ")}`);
  process.exit(2);
}

// The scratch copy: sources, tests, scripts and configs; node_modules linked.
const work = mkdtempSync(join(tmpdir(), "simdopt-kernel-mutants-"));
const cleanUp = () => rmSync(work, { recursive: true, force: true });
process.on("exit", cleanUp);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(130));
const SKIP = new Set(["node_modules", ".git", "dist", "build", "reports", ".stryker-tmp"]);
cpSync(root, work, { recursive: true, filter: (source) => !SKIP.has(source.slice(root.length).split("/")[0]) });
symlinkSync(join(root, "node_modules"), join(work, "node_modules"), "dir");

function build() {
  const result = spawnSync("npm", ["run", "build"], { cwd: work, encoding: "utf8" });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}
function wasmBytes() {
  return ["simd", "relaxed"].map((target) => readFileSync(join(work, "build", `simdopt-${target}.wasm`)));
}
function runTests(files) {
  const started = Date.now();
  const result = spawnSync(process.execPath, [join(work, "node_modules", "vitest", "vitest.mjs"), "run", "--bail=1", ...files], {
    cwd: work, encoding: "utf8", env: { ...process.env, CI: "1", NO_COLOR: "1" },
  });
  return { ok: result.status === 0, seconds: (Date.now() - started) / 1000, output: result.stdout + result.stderr };
}

// Baseline: the unmutated build must pass every test file the mutants use.
const allTests = [...new Set(selected.flatMap((m) => m.tests))];
const baseBuild = build();
if (!baseBuild.ok) {
  console.error(`baseline build failed:\n${baseBuild.output}`);
  process.exit(2);
}
const baseWasm = wasmBytes();
const baseline = runTests(allTests);
if (!baseline.ok) {
  console.error(`baseline tests fail without any mutant (${allTests.join(" ")}):\n${baseline.output.slice(-4000)}`);
  process.exit(2);
}
console.log(`baseline: ${allTests.length} test files pass in ${baseline.seconds.toFixed(0)} s; ${selected.length} mutants\n`);

const rows = [];
const record = (mutant, result, detail) => {
  rows.push({ mutant, result, detail });
  console.log(`${result.padEnd(15)} ${mutant.id} (${detail})`);
};
for (const mutant of selected) {
  const path = join(work, mutant.file);
  let original;
  try {
    original = readFileSync(path, "utf8");
  } catch {
    record(mutant, "not applicable", "file not found");
    continue;
  }
  const count = original.split(mutant.search).length - 1;
  if (count !== 1) {
    record(mutant, "not applicable", count === 0 ? "search string not found" : `search string found ${count} times`);
    continue;
  }
  writeFileSync(path, original.replace(mutant.search, () => mutant.replace));
  try {
    const built = build();
    if (!built.ok) {
      record(mutant, "not applicable", "does not compile");
      continue;
    }
    const wasm = wasmBytes();
    if (wasm.every((bytes, i) => bytes.equals(baseWasm[i]))) {
      record(mutant, "not applicable", "same wasm as the original");
      continue;
    }
    const run = runTests(mutant.tests);
    record(mutant, run.ok ? "SURVIVED" : "killed",
      run.ok ? `${mutant.tests.join(" ")} pass` : `killed by ${mutant.tests.join(" ")} in ${run.seconds.toFixed(0)} s`);
  } finally {
    writeFileSync(path, original);
  }
}

const killed = rows.filter((r) => r.result === "killed").length;
const survived = rows.filter((r) => r.result === "SURVIVED").length;
const notApplicable = rows.filter((r) => r.result === "not applicable").length;
const applicable = killed + survived;
console.log("\n| mutant | file | fault | result | detail |\n|---|---|---|---|---|");
for (const { mutant, result, detail } of rows) console.log(`| ${mutant.id} | ${mutant.file} | ${mutant.what} | ${result} | ${detail} |`);
const score = applicable === 0 ? 0 : (100 * killed) / applicable;
console.log(`\nkernel mutation score: ${killed}/${applicable} killed (${score.toFixed(1)}%) in ${Math.round((Date.now() - began) / 60000)} min` +
  (notApplicable > 0 ? `; ${notApplicable} not applicable: update their search strings in scripts/kernel-mutants.mjs` : ""));
process.exit(survived > 0 ? 1 : notApplicable > 0 ? 2 : 0);
