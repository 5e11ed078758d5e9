// SequentialLR and ChainedScheduler refusals, message by message, with nothing written first.
import { describe, expect, it } from "vitest";
import { ChainedScheduler, ConstantLR, ExponentialLR, SequentialLR, StepLR } from "../../src/index.js";
import { messageOf, sgdLike } from "./helpers.js";

describe("composite scheduler checks", () => {
  it("SequentialLR constructor refusals", () => {
    const optimizer = sgdLike();
    const a = new StepLR(optimizer, { stepSize: 2 });
    const b = new ExponentialLR(optimizer, { gamma: 0.9 });
    const inner = new ChainedScheduler([a, b]);
    const lrs = optimizer.paramGroups.map((g) => g.lr);
    const messages = [
      messageOf(() => new SequentialLR(optimizer, { schedulers: [a, inner], milestones: [2] })),
      messageOf(() => new SequentialLR(optimizer, { schedulers: [a, b] } as never)),
      messageOf(() => new SequentialLR(optimizer, { schedulers: [a, b], milestones: [2, 4] })),
      messageOf(() => new SequentialLR(optimizer, { schedulers: [a, b, a], milestones: [4, 4] })),
      messageOf(() => new SequentialLR(optimizer, { schedulers: [a, b], milestones: [0] })),
    ];
    expect(messages).toMatchSnapshot();
    expect(optimizer.paramGroups.map((g) => g.lr)).toEqual(lrs);
    const bare = { paramGroups: [{ lr: 0.1 }] };
    expect(messageOf(() => new SequentialLR(bare, { schedulers: [a, b], milestones: [2] }))).toMatchSnapshot();
    expect(messageOf(() => new ChainedScheduler([a, b], bare))).toMatchSnapshot();
    expect(messageOf(() => new ChainedScheduler([a, b], null as never))).toMatchSnapshot();
  });

  it("SequentialLR.loadStateDict refusals name the member and change nothing", () => {
    const make = () => {
      const optimizer = sgdLike();
      return new SequentialLR(optimizer, {
        schedulers: [new StepLR(optimizer, { stepSize: 2 }), new ExponentialLR(optimizer, { gamma: 0.9 })], milestones: [3],
      });
    };
    const source = make();
    source.step();
    const saved = source.stateDict() as Record<string, unknown> & { schedulers: Array<Record<string, unknown>> };
    const target = make();
    const before = target.stateDict();
    const messages = [
      messageOf(() => target.loadStateDict({ ...saved, schedulers: [saved.schedulers[0]] })),
      messageOf(() => target.loadStateDict({ ...saved, schedulers: "x" })),
      messageOf(() => target.loadStateDict({ ...saved, schedulers: [saved.schedulers[0], { ...saved.schedulers[1], gamma: "0.9" }] })),
      messageOf(() => target.loadStateDict({ ...saved, milestones: [0] })),
      messageOf(() => target.loadStateDict({ ...saved, milestones: [3, 4] })),
    ];
    expect(messages).toMatchSnapshot();
    expect(target.stateDict()).toEqual(before);
    const { schedulers: _omitted, ...withoutMembers } = saved;
    target.loadStateDict(withoutMembers);
    expect(target.lastEpoch).toBe(source.lastEpoch);
  });

  it("a member must be a scheduler, even one that points at the same optimizer", () => {
    const optimizer = sgdLike();
    const a = new StepLR(optimizer, { stepSize: 2 });
    const lookalike = { optimizer, lastEpoch: 0, step() {}, getLastLr: () => [0.1, 0.025] };
    expect(messageOf(() => new ChainedScheduler([a, lookalike as never]))).toBe(
      "TypeError: simdopt: ChainedScheduler schedulers[1] is not a scheduler");
    expect(messageOf(() => new SequentialLR(optimizer, { schedulers: [lookalike as never, a], milestones: [2] }))).toBe(
      "TypeError: simdopt: SequentialLR schedulers[0] is not a scheduler");
  });

  it("SequentialLR needs initialLr in every group, including a group added after its members", () => {
    const optimizer = sgdLike();
    const members = [new StepLR(optimizer, { stepSize: 2 }), new ExponentialLR(optimizer, { gamma: 0.9 })];
    optimizer.paramGroups.push({ lr: 0.5, momentum: 0.9 });
    expect(messageOf(() => new SequentialLR(optimizer, { schedulers: members, milestones: [2] }))).toBe(
      "TypeError: simdopt: SequentialLR needs paramGroups[2].initialLr (set by the member schedulers)");
    expect(optimizer.paramGroups.map((g) => g.lr)).toEqual([0.1, 0.025, 0.5]);
  });

  it("SequentialLR takes a lastEpoch option as PyTorch does (its own lastEpoch is lastEpoch + 1)", () => {
    const optimizer = sgdLike();
    const members = [new ConstantLR(optimizer, { factor: 0.5, totalIters: 2 }), new ExponentialLR(optimizer, { gamma: 0.9 })];
    const s = new SequentialLR(optimizer, { schedulers: members, milestones: [2], lastEpoch: -1 });
    expect(s.lastEpoch).toBe(0);
    expect(s.getLastLr()).toEqual([0.05, 0.0125]);
  });

  it("SequentialLR.loadStateDict: milestones must increase strictly, checked pairwise", () => {
    const optimizer = sgdLike();
    const make = () => new SequentialLR(optimizer, {
      schedulers: [new StepLR(optimizer, { stepSize: 2 }), new ExponentialLR(optimizer, { gamma: 0.9 }), new StepLR(optimizer, { stepSize: 3 })],
      milestones: [2, 5],
    });
    const target = make();
    const before = target.stateDict();
    const where = "RangeError: simdopt: SequentialLR.loadStateDict: milestones must be increasing, got";
    expect(messageOf(() => target.loadStateDict({ ...before, milestones: [4, 4] }))).toBe(`${where} 4, 4`);
    expect(messageOf(() => target.loadStateDict({ ...before, milestones: [6, 3] }))).toBe(`${where} 6, 3`);
    expect(target.stateDict()).toEqual(before);
    target.loadStateDict({ ...before, milestones: [3, 4] });
    expect(target.milestones).toEqual([3, 4]);
  });
});
