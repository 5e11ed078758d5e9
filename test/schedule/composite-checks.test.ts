// SequentialLR and ChainedScheduler refusals, message by message, with nothing written first.
import { describe, expect, it } from "vitest";
import { ChainedScheduler, ExponentialLR, SequentialLR, StepLR } from "../../src/index.js";
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
});
