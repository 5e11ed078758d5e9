// loadStateDict of optimizers and schedulers: every value is validated (not only its JS type),
// buffer names must be exactly the optimizer's, nothing is changed by a call that throws, the
// loaded state keeps no reference to the caller's arrays, and an own "__proto__" key (as
// JSON.parse makes) cannot replace a prototype.

import { beforeAll, describe, expect, it } from "vitest";
import {
  Adam, ChainedScheduler, CosineAnnealingWarmRestarts, CyclicLR, ExponentialLR, init, LinearLR, NAdam, OneCycleLR,
  parameter, ReduceLROnPlateau, SequentialLR, SGD, StepLR, type OptimizerStateDict, type Parameter,
} from "../../src/index.js";

beforeAll(async () => {
  await init();
});

function adamWithState(amsgrad = false): { p: Parameter; q: Parameter; optimizer: Adam } {
  const p = parameter([2, 3], { init: [1, 2, 3, 4, 5, 6] });
  const q = parameter([2], { init: [1, -1] });
  const optimizer = new Adam([p, q], { lr: 0.1, amsgrad });
  p.grad.fill(0.5);
  q.grad.fill(-0.25);
  optimizer.step();
  optimizer.step();
  return { p, q, optimizer };
}

/** Loading `mutate(good)` throws `pattern` and leaves parameters, state and options as they were. */
function expectRejected(mutate: (dict: OptimizerStateDict) => unknown, pattern: RegExp, amsgrad = false): void {
  const { p, q, optimizer } = adamWithState(amsgrad);
  const before = optimizer.stateDict();
  const bad = mutate(structuredClone(before)) as OptimizerStateDict;
  expect(() => optimizer.loadStateDict(bad)).toThrow(pattern);
  expect(optimizer.stateDict()).toEqual(before);
  // The optimizer still steps as before the failed load.
  optimizer.step();
  expect(optimizer.stateDict().state[0]!.step).toBe(3);
  optimizer.dispose();
  p.dispose();
  q.dispose();
}

describe("optimizer loadStateDict validates every value", () => {
  it.each([
    ["NaN", NaN], ["-Infinity", -Infinity], ["negative", -1], ["fractional", 1.5], ["a string", "2"], ["2^53", 2 ** 53],
  ])("step %s throws and changes nothing", (_, step) => {
    expectRejected((d) => { (d.state[0] as { step: unknown }).step = step; return d; }, /stateDict\.state\[0\]\.step must be a finite integer ≥ 0/);
  });

  it("step 0 is a valid resume point (the next step is step 1, as in PyTorch)", () => {
    const { p, q, optimizer } = adamWithState();
    const dict = optimizer.stateDict();
    dict.state[0]!.step = 0;
    optimizer.loadStateDict(dict);
    optimizer.step();
    expect(optimizer.stateDict().state[0]!.step).toBe(1);
    expect(Array.from(p.data).every(Number.isFinite)).toBe(true);
    optimizer.dispose(); p.dispose(); q.dispose();
  });

  it("NAdam's muProduct must be finite and in [0, 1]", () => {
    const p = parameter([3], { init: [1, 2, 3] });
    const optimizer = new NAdam([p]);
    p.grad.fill(1);
    optimizer.step();
    const good = optimizer.stateDict();
    for (const bad of [NaN, Infinity, -0.5, 1.5, "0.9"]) {
      const dict = structuredClone(good);
      dict.state[0]!.scalars = { muProduct: bad as number };
      expect(() => optimizer.loadStateDict(dict), String(bad)).toThrow(/scalars\.muProduct must be a finite number ≥ 0 and ≤ 1/);
    }
    const unknown = structuredClone(good);
    unknown.state[0]!.scalars = { muProdcut: 0.5 };
    expect(() => optimizer.loadStateDict(unknown)).toThrow(/did you mean "muProduct"/);
    expect(optimizer.stateDict()).toEqual(good);
    optimizer.dispose(); p.dispose();
  });

  it("buffers must be exactly the optimizer's names for the group's options", () => {
    expectRejected((d) => { delete d.state[0]!.buffers.secondMoment; return d; }, /lacks "secondMoment"/);
    expectRejected((d) => { d.state[1]!.buffers.velocity = new Float32Array(2); return d; }, /has "velocity", which Adam does not keep/);
    // maxSecondMoment only with amsgrad, and then it is required.
    expectRejected((d) => { d.state[1]!.buffers.maxSecondMoment = new Float32Array(2); return d; }, /"maxSecondMoment"/);
    expectRejected((d) => { delete d.state[1]!.buffers.maxSecondMoment; return d; }, /lacks "maxSecondMoment"/, true);
    expectRejected((d) => { d.paramGroups[0]!.amsgrad = true; return d; }, /lacks "maxSecondMoment"/);
  });

  it("a state saved after an option was switched off loads again (the unused buffer is not saved)", () => {
    const { p, q, optimizer } = adamWithState(true);
    optimizer.paramGroups[0]!.amsgrad = false;
    optimizer.step();
    const dict = optimizer.stateDict();
    expect(Object.keys(dict.state[0]!.buffers).sort()).toEqual(["firstMoment", "secondMoment"]);
    optimizer.loadStateDict(dict);
    expect(optimizer.stateDict()).toEqual(dict);
    optimizer.dispose(); p.dispose(); q.dispose();
    const r = parameter([2]);
    const sgd = new SGD([r], { lr: 0.1, momentum: 0.9 });
    r.grad.fill(1);
    sgd.step();
    sgd.paramGroups[0]!.momentum = 0;
    sgd.loadStateDict(sgd.stateDict());
    expect(sgd.stateDict().state[0]!.buffers).toEqual({});
    sgd.dispose(); r.dispose();
  });

  it("a buffer of the wrong type or length is named with its type", () => {
    expectRejected((d) => { (d.state[1]!.buffers as Record<string, unknown>).firstMoment = new Float64Array(2); return d; },
      /buffers\.firstMoment must be a Float32Array, got a Float64Array of length 2/);
    expectRejected((d) => { d.state[1]!.buffers.firstMoment = new Float32Array(3); return d; }, /has 3 values, parameter "param\d+" has 2/);
  });

  it("malformed entries get a message, not a property-access crash", () => {
    expectRejected((d) => { (d.state as unknown[])[0] = undefined; return d; }, /stateDict\.state\[0\] must be null or an object .* got undefined/);
    expectRejected((d) => { (d.state as unknown[])[1] = 7; return d; }, /got 7/);
    expectRejected((d) => { (d.state[0] as Record<string, unknown>).stepp = 1; return d; }, /did you mean "step"/);
    expectRejected((d) => { (d.paramGroups as unknown[])[0] = null; return d; }, /paramGroups\[0\] must be an object/);
  });

  it("touchedRows must be a 0/1 Uint8Array with one flag per row of a 2-D parameter", () => {
    expectRejected((d) => { d.state[0]!.touchedRows = new Uint8Array(3); return d; }, /touchedRows has 3 flags/);
    expectRejected((d) => { d.state[1]!.touchedRows = new Uint8Array(2); return d; }, /needs one per row of a 2-D shape/);
    expectRejected((d) => { d.state[0]!.touchedRows = Uint8Array.from([1, 2]); return d; }, /touchedRows\[1\] must be 0 or 1/);
    expectRejected((d) => { (d.state[0] as Record<string, unknown>).touchedRows = [1, 1]; return d; }, /must be null or a Uint8Array/);
  });

  it("group options: near-misses and bad values throw, extra keys load", () => {
    expectRejected((d) => { (d.paramGroups[0] as Record<string, unknown>).weight_decay = 0.1; return d; }, /did you mean "weightDecay"/);
    expectRejected((d) => { d.paramGroups[0]!.lr = NaN; return d; }, /stateDict\.paramGroups\[0\]\.lr/);
    const { p, q, optimizer } = adamWithState();
    const dict = optimizer.stateDict();
    dict.paramGroups[0]!.initialLr = 0.05;
    optimizer.loadStateDict(dict);
    expect(optimizer.paramGroups[0]!.initialLr).toBe(0.05);
    optimizer.dispose(); p.dispose(); q.dispose();
  });

  it("an own __proto__ in a JSON-parsed group neither loads nor replaces the group's prototype", () => {
    const { p, q, optimizer } = adamWithState();
    const before = optimizer.stateDict();
    const json = JSON.stringify({ ...before, state: before.state.map(() => null) })
      .replace('"paramGroups":[{', '"paramGroups":[{"__proto__":{"polluted":true,"lr":99},');
    const parsed = JSON.parse(json) as OptimizerStateDict;
    expect(Object.prototype.hasOwnProperty.call(parsed.paramGroups[0], "__proto__")).toBe(true);
    expect(() => optimizer.loadStateDict(parsed)).toThrow(/__proto__/);
    expect(Object.getPrototypeOf(optimizer.paramGroups[0])).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(optimizer.stateDict()).toEqual(before);
    optimizer.dispose(); p.dispose(); q.dispose();
  });

  it("the loaded state shares no array with the caller's dict", () => {
    const p = parameter([2, 2], { init: [1, 2, 3, 4] });
    const optimizer = new SGD([p], { lr: 0.1, momentum: 0.9 });
    p.grad.fill(1);
    optimizer.step({ rows: new Map([[p, Int32Array.from([0])]]) });
    const dict = optimizer.stateDict();
    expect(dict.state[0]!.touchedRows).toEqual(Uint8Array.from([1, 0]));
    optimizer.loadStateDict(dict);
    dict.state[0]!.touchedRows!.fill(1);
    dict.state[0]!.buffers.momentumBuffer!.fill(123);
    const after = optimizer.stateDict();
    expect(after.state[0]!.touchedRows).toEqual(Uint8Array.from([1, 0]));
    expect(after.state[0]!.buffers.momentumBuffer![0]).not.toBe(123);
    optimizer.dispose(); p.dispose();
  });
});

describe("scheduler loadStateDict validates every value", () => {
  function sgd(groups = 1): SGD {
    const params = Array.from({ length: groups }, () => parameter([2]));
    return new SGD(params.map((param) => ({ params: [param] })), { lr: 0.1, momentum: 0.9 });
  }

  it.each([
    ["StepLR lastEpoch NaN", () => new StepLR(sgd(), { stepSize: 2 }), { lastEpoch: NaN }, /lastEpoch/],
    ["StepLR lastEpoch 1.5", () => new StepLR(sgd(), { stepSize: 2 }), { lastEpoch: 1.5 }, /lastEpoch must be a finite integer ≥ -1/],
    ["StepLR stepSize 0", () => new StepLR(sgd(), { stepSize: 2 }), { stepSize: 0 }, /stepSize must be a finite integer ≥ 1, got 0/],
    ["ExponentialLR gamma -1", () => new ExponentialLR(sgd(), { gamma: 0.9 }), { gamma: -1 }, /gamma/],
    ["LinearLR startFactor 0", () => new LinearLR(sgd()), { startFactor: 0 }, /startFactor/],
    ["CyclicLR mode bogus", () => new CyclicLR(sgd(), { baseLr: 0.01, maxLr: 0.1 }), { mode: "bogus" }, /mode must be one of "triangular", "triangular2", "exp_range", got "bogus" \(string\)/],
    ["CyclicLR 1-group state into 2 groups", () => new CyclicLR(sgd(2), { baseLr: 0.01, maxLr: 0.1 }), { maxLrs: [0.1] }, /maxLrs has 1 values, expected 2/],
    ["StepLR 1-group state into 2 groups", () => new StepLR(sgd(2), { stepSize: 2 }), { baseLrs: [0.1], lastLr: [0.1] }, /baseLrs has 1 values, expected 2/],
    ["OneCycleLR totalSteps 0", () => new OneCycleLR(sgd(), { maxLr: 0.1, totalSteps: 10 }), { totalSteps: 0 }, /totalSteps/],
    ["OneCycleLR bad phase key", () => new OneCycleLR(sgd(), { maxLr: 0.1, totalSteps: 10 }), { phases: [{ endStep: 2, startLr: "initialLr", endLr: "nope", startMomentum: "maxMomentum", endMomentum: "baseMomentum" }, { endStep: 9, startLr: "maxLr", endLr: "minLr", startMomentum: "baseMomentum", endMomentum: "maxMomentum" }] }, /endLr must be one of/],
    ["CosineAnnealingWarmRestarts tI 0", () => new CosineAnnealingWarmRestarts(sgd(), { t0: 3 }), { tI: 0 }, /tI/],
    ["ReduceLROnPlateau patience -1", () => new ReduceLROnPlateau(sgd()), { patience: -1 }, /patience/],
    ["ReduceLROnPlateau best NaN", () => new ReduceLROnPlateau(sgd()), { best: NaN }, /best must be a number/],
  ])("%s throws and changes nothing", (_, make, patch, pattern) => {
    const scheduler = make();
    const before = scheduler.stateDict();
    expect(() => scheduler.loadStateDict({ ...structuredClone(before), ...patch })).toThrow(pattern);
    expect(scheduler.stateDict()).toEqual(before);
  });

  it("an own __proto__ key in a JSON-parsed scheduler state is rejected, also nested", () => {
    const scheduler = new OneCycleLR(sgd(), { maxLr: 0.1, totalSteps: 10 });
    const before = scheduler.stateDict();
    const top = JSON.parse(`{"__proto__": {"lastEpoch": 5}, ${JSON.stringify(before).slice(1)}`) as Record<string, unknown>;
    expect(() => scheduler.loadStateDict(top)).toThrow(/__proto__/);
    const nested = JSON.parse(JSON.stringify(before).replace('"phases":[{', '"phases":[{"__proto__":{"x":1},')) as Record<string, unknown>;
    expect(() => scheduler.loadStateDict(nested)).toThrow(/__proto__/);
    expect(scheduler.stateDict()).toEqual(before);
  });

  it("SequentialLR validates every member before writing anything", () => {
    const optimizer = sgd();
    const warmup = new LinearLR(optimizer, { totalIters: 2 });
    const decay = new StepLR(optimizer, { stepSize: 2 });
    const sequence = new SequentialLR(optimizer, { schedulers: [warmup, decay], milestones: [2] });
    sequence.step();
    const before = sequence.stateDict();
    const members = before.schedulers as Record<string, unknown>[];
    const bad = { ...structuredClone(before), lastEpoch: 7, schedulers: [{ ...members[0], lastEpoch: 5 }, { ...members[1], stepSize: 0 }] };
    expect(() => sequence.loadStateDict(bad)).toThrow(/SequentialLR\.loadStateDict: schedulers\[1\]: StepLR\.loadStateDict: stepSize/);
    expect(sequence.stateDict()).toEqual(before);
    expect(warmup.lastEpoch).toBe((members[0] as { lastEpoch: number }).lastEpoch);
    expect(() => sequence.loadStateDict({ ...structuredClone(before), milestones: [0] })).toThrow(/milestones\[0\]/);
  });

  it("ChainedScheduler validates every member before writing anything", () => {
    const optimizer = sgd();
    const a = new ExponentialLR(optimizer, { gamma: 0.9 });
    const b = new StepLR(optimizer, { stepSize: 3 });
    const chain = new ChainedScheduler([a, b]);
    chain.step();
    const before = chain.stateDict();
    const members = before.schedulers as Record<string, unknown>[];
    const bad = { ...structuredClone(before), schedulers: [{ ...members[0], lastEpoch: 9 }, { ...members[1], lastEpoch: NaN }] };
    expect(() => chain.loadStateDict(bad)).toThrow(/schedulers\[1\]/);
    expect(chain.stateDict()).toEqual(before);
    expect(a.lastEpoch).toBe(1);
  });
});
