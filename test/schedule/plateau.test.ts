// ReduceLROnPlateau: hand-worked cases of PyTorch's patience / cooldown counters, a simulator of
// the documented rule over long noisy metric sequences, minLr / eps, state dicts and checks.
import { describe, expect, it } from "vitest";
import { ReduceLROnPlateau, type ReduceLROnPlateauOptions } from "../../src/index.js";
import { seededRandom } from "../reference/random.js";
import { checkRoundTrip, sgdLike } from "./helpers.js";

function lrsAfterEach(optimizer: { paramGroups: { lr: number }[] }, scheduler: ReduceLROnPlateau, metrics: number[]): number[] {
  return metrics.map((metric) => {
    scheduler.step(metric);
    return optimizer.paramGroups[0]!.lr;
  });
}

/** The rule as PyTorch documents it, one group at a time. */
function simulate(lrs: number[], options: ReduceLROnPlateauOptions, metrics: number[]): number[][] {
  const mode = options.mode ?? "min";
  const factor = options.factor ?? 0.1;
  const patience = options.patience ?? 10;
  const threshold = options.threshold ?? 1e-4;
  const thresholdMode = options.thresholdMode ?? "rel";
  const cooldown = options.cooldown ?? 0;
  const minLr = Array.isArray(options.minLr) ? options.minLr : lrs.map(() => (options.minLr as number | undefined) ?? 0);
  const eps = options.eps ?? 1e-8;
  const current = [...lrs];
  let best = mode === "min" ? Infinity : -Infinity;
  let bad = 0;
  let cooldownLeft = 0;
  const rows: number[][] = [];
  for (const metric of metrics) {
    let better: boolean;
    // The documented dynamic threshold: best·(1 ∓ threshold) ("rel") or best ∓ threshold ("abs").
    if (mode === "min") better = metric < (thresholdMode === "rel" ? best * (1 - threshold) : best - threshold);
    else better = metric > (thresholdMode === "rel" ? best * (1 + threshold) : best + threshold);
    if (better) {
      best = metric;
      bad = 0;
    } else bad++;
    if (cooldownLeft > 0) {
      cooldownLeft--;
      bad = 0;
    }
    if (bad > patience) {
      current.forEach((lr, g) => {
        const next = Math.max(lr * factor, minLr[g]!);
        if (lr - next > eps) current[g] = next;
      });
      cooldownLeft = cooldown;
      bad = 0;
    }
    rows.push([...current]);
  }
  return rows;
}

describe("ReduceLROnPlateau", () => {
  it("leaves the lr alone on construction (no initial step), lastEpoch 0", () => {
    const optimizer = sgdLike([0.1, 0.02]);
    const scheduler = new ReduceLROnPlateau(optimizer);
    expect(scheduler.lastEpoch).toBe(0);
    expect(scheduler.getLastLr()).toEqual([0.1, 0.02]);
    expect(optimizer.paramGroups.every((g) => !("initialLr" in g))).toBe(true);
    scheduler.step(1);
    expect(scheduler.lastEpoch).toBe(1);
  });

  it("patience 2: the third bad step in a row reduces (hand-worked)", () => {
    const optimizer = sgdLike([1, 1]);
    const scheduler = new ReduceLROnPlateau(optimizer, { patience: 2, factor: 0.5, threshold: 0 });
    expect(lrsAfterEach(optimizer, scheduler, [5, 4, 4, 4, 4, 4, 4, 3, 3, 3])).toEqual([1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
  });

  it("cooldown 2: bad steps during the cooldown do not count (hand-worked)", () => {
    const optimizer = sgdLike([1, 1]);
    const scheduler = new ReduceLROnPlateau(optimizer, { patience: 2, factor: 0.5, threshold: 0, cooldown: 2 });
    expect(lrsAfterEach(optimizer, scheduler, [5, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4])).toEqual([1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25]);
    expect(scheduler.inCooldown).toBe(true);
  });

  it("patience 0: the first step is the baseline, each worse step then reduces", () => {
    const optimizer = sgdLike([1, 1]);
    const scheduler = new ReduceLROnPlateau(optimizer, { patience: 0, factor: 0.5 });
    expect(lrsAfterEach(optimizer, scheduler, [3, 4, 5, 2, 2])).toEqual([1, 0.5, 0.25, 0.25, 0.125]);
  });

  it("threshold rel needs best·(1 − threshold) to count as better; abs needs best − threshold", () => {
    const rel = sgdLike([1, 1]);
    const relSched = new ReduceLROnPlateau(rel, { patience: 0, factor: 0.5, threshold: 0.1 });
    expect(lrsAfterEach(rel, relSched, [10, 9.5, 8.9, 8.5])).toEqual([1, 0.5, 0.5, 0.25]);
    const abs = sgdLike([1, 1]);
    const absSched = new ReduceLROnPlateau(abs, { patience: 0, factor: 0.5, threshold: 0.5, thresholdMode: "abs" });
    expect(lrsAfterEach(abs, absSched, [10, 9.6, 9.4, 9.0])).toEqual([1, 0.5, 0.5, 0.25]);
  });

  it("mode max reduces when the metric stops increasing", () => {
    const optimizer = sgdLike([1, 1]);
    const scheduler = new ReduceLROnPlateau(optimizer, { mode: "max", patience: 1, factor: 0.1, threshold: 0 });
    expect(lrsAfterEach(optimizer, scheduler, [0.5, 0.6, 0.6, 0.6, 0.7, 0.65, 0.65])).toEqual([1, 1, 1, 0.1, 0.1, 0.1, 0.010000000000000002]);
  });

  it("mode max, rel: a metric must beat best·(1 + threshold) (boundary)", () => {
    // 1.05 is above best = 1 but not above 1·(1 + 0.1) = 1.1: a bad step, and patience 0 reduces.
    const optimizer = sgdLike([1, 1]);
    const scheduler = new ReduceLROnPlateau(optimizer, { mode: "max", patience: 0, threshold: 0.1, factor: 0.5 });
    expect(lrsAfterEach(optimizer, scheduler, [1.0, 1.05])).toEqual([1, 0.5]);
    // 1.11 beats 1·1.1: no reduction.
    const again = sgdLike([1, 1]);
    const next = new ReduceLROnPlateau(again, { mode: "max", patience: 0, threshold: 0.1, factor: 0.5 });
    expect(lrsAfterEach(again, next, [1.0, 1.11])).toEqual([1, 1]);
  });

  it("NaN metrics count as bad steps", () => {
    const optimizer = sgdLike([1, 1]);
    const scheduler = new ReduceLROnPlateau(optimizer, { patience: 1, factor: 0.5 });
    expect(lrsAfterEach(optimizer, scheduler, [1, NaN, NaN])).toEqual([1, 1, 0.5]);
  });

  it("minLr per group bounds the reduction; a reduction smaller than eps is skipped", () => {
    const optimizer = { paramGroups: [{ lr: 1e-3 }, { lr: 1e-7 }, { lr: 5e-8 }, { lr: 1e-8 }] };
    const scheduler = new ReduceLROnPlateau(optimizer, { patience: 0, minLr: [2e-4, 1e-7, 0, 0] });
    scheduler.step(1);
    scheduler.step(2);
    expect(optimizer.paramGroups.map((g) => g.lr)).toEqual([2e-4, 1e-7, 5e-8 * 0.1, 1e-8]);
    expect(scheduler.getLastLr()).toEqual(optimizer.paramGroups.map((g) => g.lr));
  });

  it.each<ReduceLROnPlateauOptions>([
    {},
    { patience: 3, factor: 0.5, cooldown: 2 },
    { mode: "max", patience: 5, threshold: 0.01, thresholdMode: "abs", minLr: [1e-4, 1e-3] },
    { mode: "max", patience: 2, threshold: 0.01, factor: 0.5 },
    { mode: "max", patience: 1, threshold: 0.002, thresholdMode: "rel", cooldown: 2, minLr: 1e-3 },
    { patience: 0, factor: 0.7, cooldown: 1, threshold: 0.05, eps: 1e-4, minLr: 1e-5 },
  ])("%o over 300 noisy steps matches the documented rule", (options) => {
    const random = seededRandom(1234);
    const metrics: number[] = [];
    let level = 5;
    for (let t = 0; t < 300; t++) {
      level += (options.mode === "max" ? 1 : -1) * 0.02 * random() * (t < 150 ? 1 : 0.1);
      metrics.push(level + 0.05 * (random() - 0.5));
    }
    const optimizer = sgdLike([0.1, 0.05]);
    const scheduler = new ReduceLROnPlateau(optimizer, options);
    const expected = simulate([0.1, 0.05], options, metrics);
    let reductions = 0;
    metrics.forEach((metric, t) => {
      const before = optimizer.paramGroups[0]!.lr;
      scheduler.step(metric);
      if (optimizer.paramGroups[0]!.lr !== before) reductions++;
      expect(optimizer.paramGroups.map((g) => g.lr), `step ${t}`).toEqual(expected[t]);
    });
    expect(reductions).toBeGreaterThan(0);
  });

  it("round-trips its state mid-sequence (counters, best = ±Infinity included)", () => {
    const random = seededRandom(7);
    const metrics = Array.from({ length: 80 }, (_, t) => 1 / (1 + t / 20) + 0.05 * random());
    const step = (s: { step(metric?: number): void }, t: number) => s.step(metrics[t]!);
    checkRoundTrip(() => sgdLike(), (o) => new ReduceLROnPlateau(o, { patience: 2, cooldown: 3, factor: 0.5 }), 25, 50, step as never);
    checkRoundTrip(() => sgdLike(), (o) => new ReduceLROnPlateau(o, { mode: "max", patience: 1 }), 0, 30, step as never);
    const sd = structuredClone(new ReduceLROnPlateau(sgdLike()).stateDict());
    expect(sd.best).toBe(Infinity);
    expect(() => new ReduceLROnPlateau(sgdLike()).loadStateDict({ ...sd, mode: "median" })).toThrow(RangeError);
  });

  it.each([
    ["factor 1", { factor: 1 }, RangeError, /factor/],
    ["negative factor", { factor: -0.1 }, RangeError, /factor/],
    ["unknown mode", { mode: "minimum" }, RangeError, /mode/],
    ["unknown thresholdMode", { thresholdMode: "relative" }, RangeError, /thresholdMode/],
    ["negative patience", { patience: -1 }, RangeError, /patience/],
    ["fractional cooldown", { cooldown: 1.5 }, RangeError, /cooldown/],
    ["negative threshold", { threshold: -1e-4 }, RangeError, /threshold/],
    ["minLr of wrong length", { minLr: [0, 0, 0] }, RangeError, /minLr/],
    ["negative minLr", { minLr: [0, -1] }, RangeError, /minLr\[1\]/],
    ["negative eps", { eps: -1 }, RangeError, /eps/],
    ["snake_case option", { min_lr: 0 }, TypeError, /min_lr/],
  ] as const)("rejects %s", (_name, options, errorClass, pattern) => {
    const make = () => new ReduceLROnPlateau(sgdLike(), options as never);
    expect(make).toThrow(errorClass);
    expect(make).toThrow(pattern);
  });

  it("step() needs a numeric metric", () => {
    const scheduler = new ReduceLROnPlateau(sgdLike());
    expect(() => scheduler.step()).toThrow(TypeError);
    expect(() => scheduler.step("0.5" as never)).toThrow(/metric/);
    expect(scheduler.lastEpoch).toBe(0);
  });
});
