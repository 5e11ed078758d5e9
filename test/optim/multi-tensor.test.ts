// Multi-tensor steps (one kernel call per group over a table of tensors) give exactly the bits
// of stepping each tensor alone, across the events that invalidate the table: a scheduler
// changing lr, a parameter pushed into the group, a rows step, a state dict loaded, an option
// that adds a state buffer.
import { beforeAll, describe, expect, it } from "vitest";
import {
  init, Optimizer, parameter, SGD, Adam, AdamW, Adagrad, RMSprop, Adadelta, Adamax, NAdam, RAdam, Lion, Ftrl, type Parameter,
} from "../../src/index.js";
import { randomArray, seededRandom } from "../reference/random.js";
import type { Slice, StateBufferLayout } from "../../src/optim/types.js";

beforeAll(async () => {
  await init();
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Make = (params: Parameter[]) => any;
const MAKERS: Record<string, Make> = {
  SGD: (p) => new SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 }),
  SGDL1: (p) => new SGD(p, { lr: 0.05, l1: 1e-3 }),
  Adam: (p) => new Adam(p, { lr: 0.01, weightDecay: 0.1 }),
  AdamW: (p) => new AdamW(p, { lr: 0.01, maximize: true }),
  Adagrad: (p) => new Adagrad(p, { lr: 0.05, lrDecay: 0.01, l1: 1e-3 }),
  RMSprop: (p) => new RMSprop(p, { lr: 0.01, momentum: 0.9, centered: true }),
  RMSpropMomentum: (p) => new RMSprop(p, { lr: 0.01, momentum: 0.9 }),
  AdamAmsgrad: (p) => new Adam(p, { lr: 0.01, amsgrad: true }),
  Adadelta: (p) => new Adadelta(p, { weightDecay: 0.01 }),
  Adamax: (p) => new Adamax(p, { lr: 0.01 }),
  NAdam: (p) => new NAdam(p, { lr: 0.01, weightDecay: 0.01 }),
  RAdam: (p) => new RAdam(p, { lr: 0.01 }),
  Lion: (p) => new Lion(p, { lr: 1e-3, weightDecay: 0.1 }),
  Ftrl: (p) => new Ftrl(p, { lr: 0.05, l1: 1e-3, l2Shrinkage: 1e-3 }),
  FtrlPower: (p) => new Ftrl(p, { lr: 0.05, lrPower: -0.7 }),
};
const SHAPES = [[9, 7], [5], [64], [1], [33, 3], [130]];

function makeParams(seed: number): Parameter[] {
  const random = seededRandom(seed);
  return SHAPES.map((shape) => parameter(shape, { init: Array.from(randomArray(random, shape.reduce((a, b) => a * b), 1)) }));
}

describe.each(Object.keys(MAKERS))("%s: one call per group", (name) => {
  it("matches stepping every tensor alone, bit for bit, across table rebuilds", () => {
    const make = MAKERS[name]!;
    const together = makeParams(1);
    const alone = makeParams(1);
    const extraTogether = parameter([17], { init: Array.from({ length: 17 }, (_, i) => i / 17 - 0.5) });
    const extraAlone = parameter([17], { init: Array.from({ length: 17 }, (_, i) => i / 17 - 0.5) });
    const group = make(together);
    const singles = alone.map((p) => make([p]));
    const random = seededRandom(7);
    let extraSingle: ReturnType<Make> | null = null;
    for (let step = 0; step < 12; step++) {
      if (step === 4) {
        // A scheduler's change of lr: the next call must use it.
        for (const opt of [group, ...singles]) opt.paramGroups[0].lr *= 0.5;
      }
      if (step === 6) {
        // A parameter pushed into the group (fresh state: that step goes tensor by tensor).
        group.paramGroups[0].params.push(extraTogether);
        extraSingle = make([extraAlone]);
        extraSingle.paramGroups[0].lr = group.paramGroups[0].lr;
      }
      if (step === 8) {
        const dict = group.stateDict();
        group.loadStateDict(dict);
      }
      const grads = together.map((p) => randomArray(random, p.size, 1));
      together.forEach((p, i) => p.grad.set(grads[i]!));
      alone.forEach((p, i) => p.grad.set(grads[i]!));
      const extraGrad = randomArray(random, 17, 1);
      extraTogether.grad.set(extraGrad);
      extraAlone.grad.set(extraGrad);
      if (step === 9) {
        // A rows step on the first (2-D) tensor: rows history, then dense again.
        const rows = new Int32Array([1, 4]);
        group.step({ rows: new Map([[together[0]!, rows]]) });
        singles[0].step({ rows: new Map([[alone[0]!, rows]]) });
        singles.slice(1).forEach((opt: { step(): void }) => opt.step());
      } else {
        group.step();
        singles.forEach((opt: { step(): void }) => opt.step());
      }
      if (extraSingle !== null) extraSingle.step();
      for (let i = 0; i < together.length; i++) {
        expect(Array.from(together[i]!.data), `tensor ${i} after step ${step}`).toEqual(Array.from(alone[i]!.data));
      }
      expect(Array.from(extraTogether.data)).toEqual(Array.from(extraAlone.data));
    }
  });
});

describe("kernel calls per step", () => {
  it("after the first step (fresh state), a group's dense step is one kernel call; a masked step goes tensor by tensor", async () => {
    const { kernels, setKernelOverride } = await import("../../src/bindings/instance.js");
    const real = kernels();
    let calls = 0;
    const counting = { ...real, adamStep: (...args: Parameters<typeof real.adamStep>) => { calls++; real.adamStep(...args); } };
    const params = makeParams(3);
    const optimizer = new Adam(params, { lr: 0.01 });
    params.forEach((p) => p.grad.fill(0.5));
    setKernelOverride(counting);
    try {
      optimizer.step();
      expect(calls).toBe(SHAPES.length);
      calls = 0;
      optimizer.step();
      optimizer.step();
      expect(calls).toBe(2);
      calls = 0;
      optimizer.step({ mask: new Map([[params[1]!, new Uint8Array(5).fill(1)]]) });
      expect(calls).toBe(SHAPES.length);
    } finally {
      setKernelOverride(null);
    }
  });

  // Every optimizer above takes the table form (FtrlPower's −0.7 runs the scalar path instead).
  const KERNEL: Record<string, string> = {
    SGD: "sgdStep", SGDL1: "sgdStep", Adam: "adamStep", AdamW: "adamStep", AdamAmsgrad: "adamStep", Adagrad: "adagradStep",
    RMSprop: "rmspropStep", RMSpropMomentum: "rmspropStep", Adadelta: "adadeltaStep", Adamax: "adamaxStep", NAdam: "nadamStep",
    RAdam: "radamStep", Lion: "lionStep", Ftrl: "ftrlStep",
  };
  it.each(Object.keys(KERNEL))("%s: a dense step after the first is one kernel call for the group", async (name) => {
    const { kernels, setKernelOverride } = await import("../../src/bindings/instance.js");
    const real = kernels() as unknown as Record<string, (...args: unknown[]) => unknown>;
    const kernel = KERNEL[name]!;
    let calls = 0;
    const counting = { ...real, [kernel]: (...args: unknown[]) => { calls++; return real[kernel]!(...args); } };
    const params = makeParams(4);
    const optimizer = MAKERS[name]!(params);
    params.forEach((p) => p.grad.fill(0.25));
    optimizer.step();
    setKernelOverride(counting as unknown as ReturnType<typeof kernels>);
    try {
      optimizer.step();
      optimizer.step();
      expect(calls).toBe(2);
    } finally {
      setKernelOverride(null);
    }
  });
});

describe("accumulate and per-buffer layouts", () => {
  it.each([["Adam", 3], ["NAdam", 2]] as const)("%s with accumulate %i: one call per group reads the averaged sums, bit for bit as tensor by tensor", (name, k) => {
    const make = (p: Parameter[]) => (name === "Adam" ? new Adam(p, { lr: 0.01, accumulate: k }) : new NAdam(p, { lr: 0.01, accumulate: k }));
    const together = makeParams(5);
    const alone = makeParams(5);
    const group = make(together);
    const singles = alone.map((p) => make([p]));
    const random = seededRandom(9);
    for (let step = 0; step < 4 * k; step++) {
      together.forEach((p, i) => {
        const grad = randomArray(random, p.size, 1);
        p.grad.set(grad);
        alone[i]!.grad.set(grad);
      });
      const applied = group.step();
      expect(applied).toBe((step + 1) % k === 0);
      singles.forEach((opt) => opt.step());
      for (let i = 0; i < together.length; i++) expect(Array.from(together[i]!.data), `tensor ${i} after step ${step}`).toEqual(Array.from(alone[i]!.data));
    }
    expect(Array.from(together[0]!.data)).not.toEqual(Array.from(makeParams(5)[0]!.data));
  });

  it("a group with a buffer not shaped like its parameters steps tensor by tensor, with whole buffers", () => {
    class PerTensor extends Optimizer<{ lr: number }> {
      readonly lengths: number[] = [];
      constructor(params: Parameter[]) { super(params, undefined, { lr: 1 }); }
      protected validateGroup(): void {}
      protected stateBufferNames(): readonly string[] { return ["full", "norm"]; }
      protected override stateBufferLayout(name: string): StateBufferLayout {
        return name === "norm" ? { length: 1, sliceable: false } : { sliceable: true };
      }
      protected update(slice: Slice): void { this.lengths.push(slice.length); }
    }
    const params = makeParams(11);
    const optimizer = new PerTensor(params);
    for (let step = 0; step < 3; step++) optimizer.step();
    const sizes = params.map((p) => p.size);
    expect(optimizer.lengths).toEqual([...sizes, ...sizes, ...sizes]);
  });
});

describe("table reuse", () => {
  it("parameters swapped between groups of one tensor each step with their new group's options", () => {
    // The same shapes, so the swapped groups keep their lengths and first indices.
    const make = (seed: number) => parameter([17], { init: Array.from(randomArray(seededRandom(seed), 17, 1)) });
    const [a, b, a1, b1] = [make(1), make(2), make(1), make(2)];
    const optimizer = new SGD([{ params: [a!], lr: 0.1 }, { params: [b!], lr: 0.01 }]);
    const singleA = new SGD([a1!], { lr: 0.1 });
    const singleB = new SGD([b1!], { lr: 0.01 });
    const grads = [a!, b!].map((p, i) => randomArray(seededRandom(20 + i), p.size, 1));
    const step = () => {
      a!.grad.set(grads[0]!); a1!.grad.set(grads[0]!);
      b!.grad.set(grads[1]!); b1!.grad.set(grads[1]!);
      optimizer.step(); singleA.step(); singleB.step();
    };
    step();
    step();
    optimizer.paramGroups[0]!.params = [b!];
    optimizer.paramGroups[1]!.params = [a!];
    singleA.paramGroups[0]!.lr = 0.01;
    singleB.paramGroups[0]!.lr = 0.1;
    step();
    expect(Array.from(a!.data)).toEqual(Array.from(a1!.data));
    expect(Array.from(b!.data)).toEqual(Array.from(b1!.data));
  });

  it("a parameter made after a table is built does not overlap it", () => {
    const together = makeParams(8);
    const alone = makeParams(8);
    const group = new SGD(together, { lr: 0.05, momentum: 0.9 });
    const singles = alone.map((p) => new SGD([p], { lr: 0.05, momentum: 0.9 }));
    const random = seededRandom(9);
    const extras: Parameter[] = [];
    for (let step = 0; step < 4; step++) {
      const grads = together.map((p) => randomArray(random, p.size, 1));
      together.forEach((p, i) => p.grad.set(grads[i]!));
      alone.forEach((p, i) => p.grad.set(grads[i]!));
      group.step();
      singles.forEach((opt) => opt.step());
      // Allocated right after the table (made on the second step), then filled.
      extras.push(parameter([64], { init: "ones" }));
      extras[extras.length - 1]!.grad.fill(1);
    }
    together.forEach((p, i) => expect(Array.from(p.data), `tensor ${i}`).toEqual(Array.from(alone[i]!.data)));
    for (const extra of extras) expect(Array.from(extra.data)).toEqual(new Array(64).fill(1));
  });
});
