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
const L1 = ["test/optim/l1.test.ts"];
const MATMUL = ["test/ops/matmul.test.ts"];
const CLIP = ["test/optim/clip.test.ts"];
const BN = ["test/ops/batchnorm.test.ts"];
const FTRL = ["test/optim/ftrl.test.ts"];
const SCALER = ["test/data/scaler.test.ts"];

/** A mutant: `search` must occur exactly once in `file`. */
const m = (id, file, tests, what, search, replace) => ({ id, file, tests, what, search, replace });
const O = (name) => `assembly/optim/${name}.ts`;
const BNF = (name) => `assembly/ops/batchnorm/${name}.ts`;

/** @type {Array<{ id: string, file: string, search: string, replace: string, tests: string[], what: string }>} */
const MUTANTS = [
  // The elementwise driver and lane math every optimizer shares (assembly/optim/common.ts).
  m("pairs-second-vector-reread", O("common"), OPTIM, "second vector of a pair reads the first one's lanes",
    "return next ? v128.load(ptr, 16) : v128.load(ptr);", "return v128.load(ptr);"),
  m("pairs-loop-short", O("common"), [...OPTIM, ...EXTRA], "pairs loop stops at a multiple of 16, leaving up to 8 floats unstepped",
    "const end = <usize>(length & ~7) << 2;\n  for (let at: usize = 0; at < end; at += 32) {\n    // Both",
    "const end = <usize>(length & ~15) << 2;\n  for (let at: usize = 0; at < end; at += 32) {\n    // Both"),
  m("tail-third-lane-not-stored", O("common"), OPTIM, "in-place tail of 3 elements: the third lane never stored",
    "if (tailBytes == 12) v128.store32_lane(ptr, value, 2, 8);", ""),
  m("tail-third-lane-not-loaded", O("common"), OPTIM, "in-place tail of 3 elements: the third lane read as zero",
    "return tailBytes == 12 ? v128.load32_lane(ptr, low, 2, 8) : low;", "return low;"),
  m("maximize-ignored", O("common"), [...OPTIM, ...EXTRA], "maximize does not flip the gradient",
    "const g = maximize ? v128.xor(raw, signBit) : raw;", "const g = raw;"),
  m("l2-decay-sign", O("common"), [...OPTIM, ...EXTRA], "coupled weight decay subtracts l2·p",
    "return hasL2 ? f32x4.add(g, f32x4.mul(l2, p)) : g;", "return hasL2 ? f32x4.sub(g, f32x4.mul(l2, p)) : g;"),
  m("moving-average-swapped", O("common"), [...OPTIM, ...EXTRA], "EMA weights swapped (1−β)·avg + β·x",
    "f32x4.add(f32x4.mul(decay, average), f32x4.mul(oneMinusDecay, x))",
    "f32x4.add(f32x4.mul(oneMinusDecay, average), f32x4.mul(decay, x))"),
  m("shrink-keeps-small", O("common"), L1, "proximal L1 step lets |x| ≤ threshold through",
    "f32x4.pmax(f32x4.sub(f32x4.abs(x), threshold), f32x4.splat(0))", "f32x4.abs(x)"),
  // The scalar slots the step kernels read their floats from (assembly/scratch.ts).
  m("scalar-slot-stride", "assembly/scratch.ts", [...OPTIM, ...EXTRA], "scalar i read 4 bytes apart instead of 8 (halves of two f64)",
    "return load<f64>(scratchBase + SCALARS_AT + (<usize>i << 3));", "return load<f64>(scratchBase + SCALARS_AT + (<usize>i << 2));"),
  m("adam-scalars-swapped", O("adam"), OPTIM, "Adam reads beta2 for beta1 and beta1 for beta2",
    "adamConstants(scalar(0), scalar(1), <f32>scalar(2), l2WeightDecay, paramScale, <f32>scalar(5), <f32>scalar(6));\n  elementwise<AdamRule>",
    "adamConstants(scalar(1), scalar(0), <f32>scalar(2), l2WeightDecay, paramScale, <f32>scalar(5), <f32>scalar(6));\n  elementwise<AdamRule>"),
  m("ema-decay-slot", O("ema"), ["test/optim/ema.test.ts"], "EMA update reads its decay from the second slot",
    "const weight = <f32>(1 - scalar(0));", "const weight = <f32>(1 - scalar(1));"),
  // One or more per optimizer.
  m("sgd-nesterov", O("sgd"), OPTIM, "Nesterov adds buf instead of momentum·buf",
    "g = nesterov ? f32x4.add(g, f32x4.mul(k3, buf)) : buf;", "g = nesterov ? f32x4.add(g, buf) : buf;"),
  m("sgd-dampening", O("sgd"), OPTIM, "dampening ignored",
    "f32x4.add(f32x4.mul(k3, ld(momentumBuffer, next)), f32x4.mul(k4, g))", "f32x4.add(f32x4.mul(k3, ld(momentumBuffer, next)), g)"),
  m("sgd-l1-threshold", O("sgd"), L1, "proximal threshold l1 instead of lr·l1",
    "setConstant(5, <f32>(<f64>lr * l1));", "setConstant(5, <f32>l1);"),
  m("adam-eps-inside-sqrt", O("adam"), OPTIM, "ε inside the square root",
    "return f32x4.add(f32x4.mul(f32x4.sqrt(v), k8), k9);", "return f32x4.mul(f32x4.sqrt(f32x4.add(v, k9)), k8);"),
  m("adam-amsgrad-wrong-stream", O("adam"), OPTIM, "amsgrad takes the max with v itself, not vMax",
    "v = f32x4.max(ld(maxSecondMoments, next), v);", "v = f32x4.max(ld(secondMoments, next), v);"),
  m("adamw-no-decoupled-decay", O("adam"), OPTIM, "AdamW's decoupled decay skipped",
    "const p = decoupled(ld(param, next), k2, hasDecoupled);", "const p = ld(param, next);"),
  m("adagrad-eps-inside-sqrt", O("adagrad"), EXTRA, "ε inside the square root",
    "const denom = f32x4.add(f32x4.sqrt(sum), k3);", "const denom = f32x4.sqrt(f32x4.add(sum, k3));"),
  m("adagrad-l1-threshold", O("adagrad"), L1, "proximal threshold l1 instead of lr_eff·l1",
    "f32x4.mul(lrEff, k4), k0)", "k4, k0)"),
  m("rmsprop-centered-mean", O("rmsprop"), [...EXTRA, "test/optim/rmsprop-centered.test.ts"], "centered: subtracts mean, not mean²",
    "f32x4.sub(square, f32x4.mul(mean, mean))", "f32x4.sub(square, mean)"),
  m("rmsprop-momentum", O("rmsprop"), EXTRA, "momentum buffer not scaled by momentum",
    "update = f32x4.add(f32x4.mul(k6, buffer), update);", "update = f32x4.add(buffer, update);"),
  m("adadelta-no-eps-numerator", O("adadelta"), EXTRA, "ε dropped from √(Δ + ε)",
    "f32x4.sqrt(f32x4.add(accumulated, k5))", "f32x4.sqrt(accumulated)"),
  m("adadelta-delta-unsquared", O("adadelta"), EXTRA, "accumulates Δ instead of Δ²",
    "movingAverage(accumulated, f32x4.mul(delta, delta), k3, k4)", "movingAverage(accumulated, delta, k3, k4)"),
  m("adamax-no-decay", O("adamax"), EXTRA, "infinity norm not decayed by β2",
    "f32x4.max(f32x4.mul(k4, ld(infinityNorm, next))", "f32x4.max(ld(infinityNorm, next)"),
  m("nadam-coefficients-swapped", O("nadam"), EXTRA, "gradient and moment coefficients swapped",
    "f32x4.add(f32x4.mul(k9, g), f32x4.mul(k10, m))", "f32x4.add(f32x4.mul(k10, g), f32x4.mul(k9, m))"),
  m("radam-always-adaptive", O("radam"), EXTRA, "adaptive step even when not rectified",
    "const update = rectified ? f32x4.div(m, pending) : m;",
    "const update = f32x4.div(m, f32x4.add(f32x4.sqrt(ld(secondMoments, next)), k7));"),
  m("lion-beta2-direction", O("lion"), EXTRA, "update direction interpolated with β2",
    "const m = ld(firstMoment, next);\n    const direction = movingAverage(m, g, k3, k4);",
    "const m = ld(firstMoment, next);\n    const direction = movingAverage(m, g, k5, k6);"),
  m("lion-sign-of-zero", O("lion"), EXTRA, "sign(0) taken as ±1",
    "let sign = v128.and(unit, f32x4.ne(direction, k9));", "let sign = unit;"),
  m("ftrl-sigma-new-only", O("ftrl"), FTRL, "σ from the new accumulator only, not its increase",
    "f32x4.mul(f32x4.sub(powNew, powOld), k0)", "f32x4.mul(powNew, k0)"),
  m("ftrl-beta-not-over-lr", O("ftrl"), FTRL, "quadratic term uses β, not β/lr",
    "setConstant(2, <f32>(2 * l2 + beta / lr));", "setConstant(2, <f32>(2 * l2 + beta));"),
  // Staging tail, masks and reductions.
  m("tail-slot-not-zeroed", "assembly/tail.ts", [...CLIP, ...OPTIM], "tail slot keeps stale lanes",
    "  v128.store(slot, i32x4.splat(0));\n", ""),
  m("tail-short-copy-out", "assembly/tail.ts", BN, "batch-norm tail copies one float too few back",
    "memory.copy(destination, scratchBase + TAIL_SLOTS_AT + (<usize>stream << 4), bytes);",
    "memory.copy(destination, scratchBase + TAIL_SLOTS_AT + (<usize>stream << 4), bytes - 4);"),
  m("mask-tail-off-by-one", "assembly/ops/mask.ts", ["test/optim/sparse.test.ts"], "first tail element of a masked step not restored",
    "for (let i = length & ~3; i < length; i++) {", "for (let i = (length & ~3) + 1; i < length; i++) {"),
  m("finite-exponent-mask", "assembly/ops/reduce.ts", ["test/optim/sparse.test.ts", ...CLIP], "allFinite tests a wrong exponent mask",
    "const exponent = i32x4.splat(0x7f800000);", "const exponent = i32x4.splat(0x7f000000);"),
  m("sum-squares-tail-twice", "assembly/ops/reduce.ts", CLIP, "Σx² counts a tail lane pair twice",
    "    c = f64x2.add(c, f64x2.mul(x0, x0));\n    d = f64x2.add(d, f64x2.mul(x1, x1));\n  }\n  const total",
    "    c = f64x2.add(c, f64x2.mul(x0, x0));\n    d = f64x2.add(d, f64x2.mul(x0, x0));\n  }\n  const total"),
  m("sum-abs-high-half", "assembly/ops/reduce.ts", CLIP, "Σ|x| adds the low lanes twice in the 8-float body",
    "d = f64x2.add(d, f64x2.promote_low_f32x4(highHalf(y)));", "d = f64x2.add(d, f64x2.promote_low_f32x4(y));"),
  m("max-abs-half-lanes", "assembly/ops/reduce.ts", CLIP, "max|x| ignores lanes 2 and 3",
    "const m2 = i32x4.max_u(m, highHalf(m));", "const m2 = m;"),
  m("scale-tail-not-written", "assembly/ops/reduce.ts", CLIP, "clip-by-norm scaling leaves the tail unscaled",
    "    scaleLanes(tailIn(0, data + body, tailBytes), factorV);\n    tailOut(0, data + body, tailBytes);",
    "    scaleLanes(tailIn(0, data + body, tailBytes), factorV);"),
  m("clamp-low-zero", "assembly/ops/reduce.ts", CLIP, "clip-by-value clamps below at 0, not −bound",
    "const lowV = f32x4.splat(-bound);", "const lowV = f32x4.splat(0);"),
  // GEMM.
  m("matmul-beta-every-slice", "assembly/ops/matmul.ts", MATMUL, "beta applied on every k-slice",
    "const betaHere: f32 = pc > 0 ? 1 : beta;", "const betaHere: f32 = beta;"),
  m("matmul-unit-beta-always", "assembly/ops/matmul.ts", MATMUL, "full tiles add C unscaled whatever beta",
    "if (readC) value = unitBeta ? f32x4.add(v128.load(c), value) : madd(beta, v128.load(c), value);",
    "if (readC) value = f32x4.add(v128.load(c), value);"),
  m("matmul-edge-beta", "assembly/ops/matmul.ts", MATMUL, "edge tiles ignore beta",
    "if (readC) value += beta * load<f32>(at);", "if (readC) value += load<f32>(at);"),
  m("matmul-packb-trans-tail", "assembly/ops/matmul.ts", MATMUL, "transposed B packing reads the previous step in its tail",
    "store<f32>(out + (<usize>c << 2), load<f32>(col0 + ((<usize>c * ldb + p) << 2)));",
    "store<f32>(out + (<usize>c << 2), load<f32>(col0 + ((<usize>c * ldb + p - 1) << 2)));"),
  m("matmul-relaxed-row5", "assembly/ops/matmul.ts", MATMUL, "6×8 kernel (relaxed build only) reads row 4 for row 5",
    "if (MR == 6) a5 = a + aStride * <usize>min(5, last);", "if (MR == 6) a5 = a + aStride * <usize>min(4, last);"),
  m("matmul-relaxed-pack-a", "assembly/ops/matmul.ts", MATMUL, "transposed-A packing (relaxed build only) copies rows 4–5 from 4 bytes early",
    "if (MR == 6) v128.store64_lane(out, v128.load64_zero(src, 16), 0, 16);", "if (MR == 6) v128.store64_lane(out, v128.load64_zero(src, 12), 0, 16);"),
  // Batch norm: moments (both layouts), NCHW and NHWC forward and backward.
  m("batchnorm-merge-no-delta", BNF("moments"), BN, "Chan merge drops the δ² term of M2",
    "store<f64>(m2Ptr, load<f64>(m2Ptr) + pieceM2 + delta * delta * (before * count / total));", "store<f64>(m2Ptr, load<f64>(m2Ptr) + pieceM2);"),
  m("batchnorm-running-var-biased", BNF("moments"), BN, "running variance biased (M2/n, not M2/(n−1))",
    "momentum * (m2 / (count - 1))", "momentum * (m2 / count)"),
  m("batchnorm-offset-no-rounding-fold", BNF("moments"), [...BN, "test/ops/batchnorm-range.test.ts"], "f32 rounding of a large mean not folded into the offset",
    "store<f32>(offset + at, <f32>(b - (mean64 - <f64>mean32) * s));", "store<f32>(offset + at, <f32>b);"),
  m("batchnorm-eval-no-eps", BNF("moments"), BN, "eval invStd without ε",
    "const inv32 = <f32>(1 / Math.sqrt(<f64>load<f32>(runningVar + at) + eps));", "const inv32 = <f32>(1 / Math.sqrt(<f64>load<f32>(runningVar + at)));"),
  m("batchnorm-backward-centred-sign", BNF("moments"), BN, "dx centred term with the wrong sign",
    "const q = training ? -p * inv * inv * (sdx / count) : 0;", "const q = training ? p * inv * inv * (sdx / count) : 0;"),
  m("batchnorm-backward-centred-unscaled", BNF("moments"), [...BN, "test/ops/batchnorm-range.test.ts"], "dx centred coefficient kept unscaled: subnormal or zero in float32 for |x| ≳ 1e19",
    "if (q == 0 || Math.abs(q) >= 1.1754943508222875e-38) return 1;", "return 1;"),
  m("nchw-stats-tail-unsquared", BNF("nchw"), BN, "NCHW piece moments: scalar tail adds d, not d², to Σd²",
    "    sumD += d;\n    sumD2 += d * d;", "    sumD += d;\n    sumD2 += d;"),
  m("nchw-normalize-second-vector", BNF("nchw"), BN, "NCHW forward: unrolled second vector reads the first",
    "normalizeLanes(xRun + i + 16, yRun + i + 16, cv, sv, ov);", "normalizeLanes(xRun + i, yRun + i + 16, cv, sv, ov);"),
  m("nchw-backward-reduce-second-vector", BNF("nchw"), BN, "NCHW backward: Σdy·(x−mean) pairs dy[i+4] with x[i]",
    "b1 = madd(g1, f32x4.sub(v128.load(xPiece + i, 16), mv), b1);", "b1 = madd(g1, f32x4.sub(v128.load(xPiece + i), mv), b1);"),
  m("nchw-dx-no-constant", BNF("nchw"), BN, "NCHW dx drops the −p·Σdy/n term",
    "const rv = v128.load32_splat(coefConst + at);", "const rv = f32x4.splat(0);"),
  m("nhwc-stats-fourth-row", BNF("nhwc"), BN, "NHWC stats: fourth row of a 4-row block reads the third",
    "const d3 = f32x4.sub(v128.load(row3 + offset), c);", "const d3 = f32x4.sub(v128.load(row2 + offset), c);"),
  m("nhwc-stats-partial-unsquared", BNF("nhwc"), BN, "NHWC stats: scalar part of the partial super row adds d to Σd²",
    "store<f32>(sumD2 + offset, load<f32>(sumD2 + offset) + d * d);", "store<f32>(sumD2 + offset, load<f32>(sumD2 + offset) + d);"),
  m("nhwc-normalize-fourth-row", BNF("nhwc"), BN, "NHWC forward: fourth row of a block normalises the third",
    "normalizeLanes(xRow + 3 * superBytes + j, yRow + 3 * superBytes + j, cv, sv, ov);", "normalizeLanes(xRow + 2 * superBytes + j, yRow + 3 * superBytes + j, cv, sv, ov);"),
  m("nhwc-backward-reduce-product", BNF("nhwc"), BN, "NHWC backward: Σdy·(x−mean) pairs dy of row 3 with x of row 2",
    "f32x4.mul(g3, d3)", "f32x4.mul(g3, d2)"),
  m("nhwc-dx-tail-coefficients", BNF("nhwc"), BN, "NHWC dx tail uses position 0's q",
    "v128.load(qs + body)", "v128.load(qs)"),
  // Feature scaler.
  m("scaler-sums-high-shift", "assembly/ops/scaler.ts", SCALER, "shifted sums: lanes 2–3 shifted by lanes 0–1's shift",
    "f64x2.promote_low_f32x4(i32x4.shuffle(s, s, 2, 3, 0, 1)));", "f64x2.promote_low_f32x4(s));"),
  m("scaler-minmax-tail", "assembly/ops/scaler.ts", SCALER, "min/max tail takes the min for hi",
    "store<f32>(hi + k, max(load<f32>(hi + k), v));", "store<f32>(hi + k, min(load<f32>(hi + k), v));"),
  m("scaler-invert-sign", "assembly/ops/scaler.ts", SCALER, "invert subtracts the offset",
    "f32x4.add(f32x4.mul(v128.load(x + at), v128.load(scale + k)), v128.load(offset + k))",
    "f32x4.sub(f32x4.mul(v128.load(x + at), v128.load(scale + k)), v128.load(offset + k))"),
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
