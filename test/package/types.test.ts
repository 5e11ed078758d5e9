// The shipped declarations of every entry compile in a strict consumer that checks library types too
// (`skipLibCheck: false`): a declaration that names a type `stripInternal` removed, or a type
// only the DOM or Node has, breaks such a project even though the package's own build passes.
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error -- plain ESM helper shared with the runtime runners (no declarations)
import { preparePackage, repoRoot } from "../runtimes/pack.mjs";

interface Pack { dir: string }
let consumer: string;

beforeAll(() => {
  const pack = preparePackage() as Pack;
  consumer = join(pack.dir, "strict-consumer");
  mkdirSync(consumer, { recursive: true });
  // The packed package is installed one level up (pack.dir/node_modules/simdopt), which Node's
  // resolution finds from here.
  writeFileSync(join(consumer, "tsconfig.json"), JSON.stringify({
    compilerOptions: {
      target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", lib: ["ES2022", "DOM"],
      strict: true, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true,
      skipLibCheck: false, noEmit: true, types: [],
    },
    files: ["consumer.ts"],
  }, null, 2));
  writeFileSync(join(consumer, "consumer.ts"), `
import * as simdopt from "simdopt";
import * as slim from "simdopt/slim";
import { tfOptimizer, tfSchedulerCallback, type TfNamespace } from "simdopt/tfjs";
import { init, parameter, AdamW, SGD, CosineAnnealingLR, OneCycleLR, CyclicLR, clipGradNorm, matmul, BatchNorm,
  type OptimizerStateDict, type SchedulerStateDict } from "simdopt";

export function withTf(tf: TfNamespace): unknown {
  const optimizer = tfOptimizer(tf, AdamW, { lr: 1e-3 }, { clipGradNorm: 1 });
  const scheduler = new CosineAnnealingLR(optimizer.simdopt, { tMax: 10 });
  return [optimizer, tfSchedulerCallback(scheduler, { per: "epoch" }), slim.features().simd];
}

export async function main(): Promise<number> {
  await init();
  const w = parameter([4, 3], { init: "heNormal", seed: 1 });
  const opt = new AdamW([w], { lr: 1e-3 });
  const sgd = new SGD([parameter([3])], { lr: 0.1, momentum: 0.9 });
  const oneCycle = new OneCycleLR(opt, { maxLr: 0.01, totalSteps: 10 });
  const cyclic = new CyclicLR(sgd, { baseLr: 0.01, maxLr: 0.1 });
  const cosine = new CosineAnnealingLR(opt, { tMax: 10 });
  const norm: number = clipGradNorm([w], 1);
  const product: Float32Array = matmul(w.data, w.data, { m: 4, k: 3, n: 4, transB: true });
  const bn = new BatchNorm(3, { layout: "NHWC" });
  const saved: OptimizerStateDict = opt.stateDict();
  const schedule: SchedulerStateDict = cosine.stateDict();
  opt.step();
  return norm + product.length + (bn.runningMean?.length ?? 0) + oneCycle.getLastLr().length + cyclic.lastEpoch
    + saved.state.length + Object.keys(schedule).length + Object.keys(simdopt).length;
}
`);
}, 60_000);

afterAll(() => {
  if (consumer !== undefined) rmSync(consumer, { recursive: true, force: true });
});

describe("the packed declarations", () => {
  it("compile in a strict consumer with skipLibCheck: false (simdopt, simdopt/slim, simdopt/tfjs)", () => {
    let output = "";
    try {
      execFileSync(process.execPath, [join(repoRoot, "node_modules", "typescript", "bin", "tsc"), "-p", consumer], { encoding: "utf8" });
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? error);
    }
    expect(output).toBe("");
  });
});
