// Multi-tensor tables (src/optim/tables.ts): a table stays in use only while it describes its
// group. Regroupings that keep the optimizer's parameters in the same step order (moving the
// boundary between two groups, shifting a group to another first index) or keep every group's
// first index and length (swapping members between groups) must each rebuild the tables, so
// every tensor steps with its own group's options: bit for bit what optimizers of one tensor
// each give. And LENGTH_ARG, which the thread pool splits kernel calls by, must name each
// kernel's `length` argument.
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { Adam, init, parameter, RMSprop, SGD, type Parameter } from "../../src/index.js";
import { LENGTH_ARG } from "../../src/optim/tables.js";
import { bits, randomFill, type AnyOptimizer } from "./factories.js";

beforeAll(async () => {
  await init();
});

type Make = (params: Parameter[], lr: number) => AnyOptimizer;
const MAKERS: Record<string, Make> = {
  Adam: (params, lr) => new Adam(params, { lr }) as unknown as AnyOptimizer,
  SGD: (params, lr) => new SGD(params, { lr, momentum: 0.9 }) as unknown as AnyOptimizer,
};

function makeParams(count: number, seed: number): Parameter[] {
  return Array.from({ length: count }, (_, i) => {
    const p = parameter([5 + 3 * i]);
    randomFill(p.data, seed + i);
    return p;
  });
}

/**
 * Gives `together` (stepped by `optimizer`) and `alone` (one optimizer each, `singles`) the same
 * gradients, steps both, and expects the parameters to agree bit for bit.
 */
function stepBoth(optimizer: AnyOptimizer, singles: AnyOptimizer[], together: Parameter[], alone: Parameter[], seed: number): void {
  for (let i = 0; i < together.length; i++) {
    randomFill(together[i]!.grad, seed + i);
    alone[i]!.grad.set(together[i]!.grad);
  }
  optimizer.step();
  for (const single of singles) single.step();
  expect(together.map((p) => bits(p.data))).toEqual(alone.map((p) => bits(p.data)));
}

/**
 * Groups `before` for three steps, then `after` (the same parameters, regrouped) for three more,
 * against one single-tensor optimizer per parameter given its group's lr at each point.
 */
function regroup(make: Make, before: number[][], after: number[][]): void {
  const count = before.flat().length;
  const together = makeParams(count, 3);
  const alone = makeParams(count, 3);
  const lrs = [0.01, 0.2, 0.05];
  const optimizer = make(together, lrs[0]!);
  optimizer.paramGroups.length = 0;
  before.forEach((members, g) => optimizer.addParamGroup({ params: members.map((i) => together[i]!), lr: lrs[g]! } as never));
  const singles = alone.map((p) => make([p], 0));
  const setLrs = (groups: number[][]) => groups.forEach((members, g) => { for (const i of members) singles[i]!.paramGroups[0]!.lr = lrs[g]!; });
  setLrs(before);
  for (let t = 0; t < 6; t++) {
    if (t === 3) {
      after.forEach((members, g) => { optimizer.paramGroups[g]!.params = members.map((i) => together[i]!); });
      setLrs(after);
    }
    stepBoth(optimizer, singles, together, alone, 100 * t);
  }
  for (const o of [optimizer, ...singles]) o.dispose();
  for (const p of [...together, ...alone]) p.dispose();
}

describe.each(Object.keys(MAKERS))("%s: tables after regrouping", (name) => {
  const make = MAKERS[name]!;

  it("moving the last tensor of one group to the front of the next (step order unchanged)", () => {
    regroup(make, [[0, 1, 2], [3, 4]], [[0, 1], [2, 3, 4]]);
  });

  it("moving the first tensor of the second group to the end of the first (step order unchanged)", () => {
    regroup(make, [[0, 1], [2, 3, 4]], [[0, 1, 2], [3, 4]]);
  });

  it("shifting a group of unchanged size to another first index (step order unchanged)", () => {
    regroup(make, [[0, 1], [2, 3], [4]], [[0], [1, 2], [3, 4]]);
  });

  it("swapping tensors between groups of unchanged sizes", () => {
    regroup(make, [[0, 1], [2, 3]], [[0, 2], [1, 3]]);
  });
});

describe("tables after an option drops a state buffer (no state is made, so only the names change)", () => {
  const cases: Array<[string, (params: Parameter[]) => AnyOptimizer, Record<string, unknown>]> = [
    ["Adam amsgrad off", (params) => new Adam(params, { lr: 0.01, amsgrad: true }) as unknown as AnyOptimizer, { amsgrad: false }],
    ["SGD momentum off", (params) => new SGD(params, { lr: 0.1, momentum: 0.9 }) as unknown as AnyOptimizer, { momentum: 0 }],
    // [squareAvg, gradAvg, momentumBuffer] becomes [squareAvg, momentumBuffer]: a buffer moves up a slot.
    ["RMSprop centered off", (params) => new RMSprop(params, { lr: 0.01, centered: true, momentum: 0.9 }) as unknown as AnyOptimizer, { centered: false }],
  ];
  it.each(cases)("%s", (_, make, change) => {
    const together = makeParams(3, 7);
    const alone = makeParams(3, 7);
    const optimizer = make(together);
    const singles = alone.map((p) => make([p]));
    for (let t = 0; t < 6; t++) {
      if (t === 3) for (const o of [optimizer, ...singles]) Object.assign(o.paramGroups[0]!, change);
      stepBoth(optimizer, singles, together, alone, 10 * t);
    }
    for (const o of [optimizer, ...singles]) o.dispose();
    for (const p of [...together, ...alone]) p.dispose();
  });
});

describe("LENGTH_ARG", () => {
  it("is the position of each kernel's length argument, every argument before it a pointer", () => {
    const dir = fileURLToPath(new URL("../../assembly/optim/", import.meta.url));
    const source = readdirSync(dir).filter((f) => f.endsWith(".ts")).map((f) => readFileSync(dir + f, "utf8")).join("\n");
    const found: Record<string, number> = {};
    for (const match of source.matchAll(/export function (\w+)\(([^)]*)\)/g)) {
      const args = match[2]!.split(",").map((a) => a.trim()).filter((a) => a !== "");
      const at = args.findIndex((a) => /^length\s*:/.test(a));
      if (!(match[1]! in LENGTH_ARG)) continue;
      expect(args.slice(0, at).every((a) => /:\s*usize$/.test(a))).toBe(true);
      found[match[1]!] = at;
    }
    expect(Object.keys(found).length).toBe(12);
    expect(LENGTH_ARG).toEqual(found);
  });
});
