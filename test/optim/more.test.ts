// ADOPT, ScheduleFreeAdamW and Muon against float64 references written from their sources' code
// (test/reference/optimizers-more.ts): option combinations, awkward sizes and shapes, the
// deliberate mistakes that must be caught.
import { beforeAll, describe, expect, it } from "vitest";
import { init } from "../../src/index.js";
import { MISTAKES_MORE } from "../reference/optimizers-more.js";
import { runMore, type MoreComparison, type Options } from "./more-harness.js";

beforeAll(async () => {
  await init();
});

const SIZES = [1, 3, 5, 17, 1037];
const SHAPES = [[7, 13], [13, 7], [64, 64], [1, 5], [5, 1], [3, 3]];
// Muon's Newton–Schulz runs in float32 through three GEMMs per iteration: each product sums
// up to 64 terms (a few ulps), and the quintic with |a|, |b|, |c| ≈ 2–5 amplifies them about
// tenfold per iteration, so the orthogonalised update agrees to ~1e-5 relative. Its step is
// lr·O, so the parameter (judged on its own scale, floor 1) stays within 1e-5 even at lr 0.05:
// measured ≤ 0.09 of that bound below (ADOPT and ScheduleFreeAdamW ≤ 0.19), while every
// mistake is off by more than 10 times the bound.

function expectAgreement(result: MoreComparison, what: string): void {
  expect(result.param, `${what}: parameter`).toBeLessThanOrEqual(1);
  expect(result.buffers, `${what}: state buffers`).toBeLessThanOrEqual(1);
  expect(result.scalars, `${what}: scalar state`).toBeLessThan(1e-12);
}

const CASES: Record<"ADOPT" | "ScheduleFreeAdamW", Options[]> = {
  ADOPT: [
    {}, { lr: 0.01, weightDecay: 0.1 }, { lr: 0.01, weightDecay: 0.1, decoupled: true },
    { lr: 0.02, betas: [0.5, 0.9], eps: 0.05 }, { lr: 0.01, betas: [0, 0.99] },
  ],
  ScheduleFreeAdamW: [
    {}, { lr: 0.01, weightDecay: 0.1 }, { lr: 0.02, warmupSteps: 10 }, { lr: 0.01, warmupSteps: 7, rPower: 1, weightLrPower: 0 },
    { lr: 0.01, betas: [0.5, 0.9], eps: 1e-3, rPower: 0.5 }, { lr: 0 },
  ],
};

describe.each(Object.keys(CASES) as (keyof typeof CASES)[])("%s matches its float64 reference", (algorithm) => {
  it.each(CASES[algorithm].map((c) => [JSON.stringify(c), c] as const))("%s", (_label, overrides) => {
    for (const size of SIZES) expectAgreement(runMore(algorithm, [size], overrides, size * 31 + 7), `size ${size}`);
  });

  it("on 100003 elements", () => {
    expectAgreement(runMore(algorithm, [100003], CASES[algorithm][1]!, 5, { steps: 10 }), "large");
  });
});

describe("Muon matches its float64 reference", () => {
  const cases: Options[] = [
    { lr: 0.05 }, { lr: 0.05, nesterov: false, weightDecay: 0 }, { lr: 0.02, adjustLrFn: "match_rms_adamw" },
    { lr: 0.05, momentum: 0.5, nsSteps: 3, nsCoefficients: [2, -1.5, 0.5] }, { lr: 0.05, eps: 0.5 },
  ];
  it.each(cases.map((c) => [JSON.stringify(c), c] as const))("%s", (_label, overrides) => {
    for (const shape of SHAPES) {
      expectAgreement(runMore("Muon", shape, overrides, shape[0]! * 101 + shape[1]!, { steps: 20 }), `shape ${shape.join("×")}`);
    }
  });
});

// A configuration in which each mistake makes a clear difference, and the shape or size to run.
const MISTAKE_CASES: Record<string, [Options, number[]]> = {
  "ADOPT clipByIncrementedStep": [{ lr: 0.01, betas: [0.9, 0.5] }, [37]],
  "ADOPT currentSecondMoment": [{ lr: 0.01 }, [37]],
  "ADOPT firstStepUpdates": [{ lr: 0.01 }, [37]],
  "ADOPT epsAdded": [{ lr: 0.01, eps: 0.1 }, [37]],
  "ADOPT swappedWeightDecayForms": [{ lr: 0.01, weightDecay: 0.5 }, [37]],
  "ScheduleFreeAdamW noBiasCorrection2": [{ lr: 0.01 }, [37]],
  "ScheduleFreeAdamW warmupCountsFromZero": [{ lr: 0.01, warmupSteps: 10 }, [37]],
  "ScheduleFreeAdamW decayAtZ": [{ lr: 0.01, weightDecay: 0.5 }, [37]],
  "ScheduleFreeAdamW yStepWithoutBeta1": [{ lr: 0.01 }, [37]],
  "ScheduleFreeAdamW uniformAverage": [{ lr: 0.01, warmupSteps: 10 }, [37]],
  "Muon noNesterov": [{ lr: 0.05 }, [7, 13]],
  "Muon adjustByColsOverRows": [{ lr: 0.05 }, [7, 13]],
  "Muon decayWithAdjustedLr": [{ lr: 0.05, weightDecay: 0.5 }, [13, 7]],
  "Muon oneFewerIteration": [{ lr: 0.05 }, [13, 7]],
};

describe("every deliberate mistake is caught", () => {
  const all = Object.entries(MISTAKES_MORE).flatMap(([algorithm, mistakes]) => mistakes.map((m) => `${algorithm} ${m}`));
  it("has a case for each listed mistake", () => {
    expect(Object.keys(MISTAKE_CASES).sort()).toEqual([...all].sort());
  });
  it.each(all)("%s", (label) => {
    const [algorithm, mistake] = label.split(" ") as ["ADOPT", string];
    const [overrides, shape] = MISTAKE_CASES[label]!;
    const result = runMore(algorithm, shape, overrides, 99, { steps: 20, mistake });
    expect(Math.max(result.param, result.buffers)).toBeGreaterThan(10);
  });
});
