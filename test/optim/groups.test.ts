// Parameter groups as the constructor, addParamGroup and step() see them: every refusal by its
// exact message, with nothing kept or changed; options merged over the defaults with undefined
// entries ignored; the step() options checked.

import { beforeAll, describe, expect, it } from "vitest";
import { Adam, init, parameter, SGD, type Parameter } from "../../src/index.js";

beforeAll(async () => {
  await init();
});

function param(name: string, values = [1, 2]): Parameter {
  const p = parameter([values.length], { name, init: values });
  p.grad.fill(1);
  return p;
}

describe("groups made by the constructor and addParamGroup", () => {
  it("refuses a missing or empty parameter list, naming the class", () => {
    for (const bad of [[], undefined, "p", {}]) {
      expect(() => new SGD(bad as never)).toThrow(new TypeError("simdopt: SGD needs a non-empty array of parameters or parameter groups"));
    }
  });

  it("refuses a group that is not { params: [...] }, by index", () => {
    const p = param("p");
    const message = (i: number) => new TypeError(`simdopt: paramGroups[${i}] must be a Parameter or an object { params: Parameter[], ...options }`);
    expect(() => new SGD([{ params: [p] }, null] as never)).toThrow(message(1));
    expect(() => new SGD([{ params: [p] }, 3] as never)).toThrow(message(1));
    expect(() => new SGD([{ params: p }] as never)).toThrow(message(0));
    // Not an object, even with an array under params.
    const callable = Object.assign(() => 0, { params: [p] });
    expect(() => new SGD([{ params: [p] }, callable] as never)).toThrow(message(1));
    expect(() => new SGD([callable, callable] as never)).toThrow(message(0));
    expect(() => new SGD([{ params: [p] }, { params: [] }])).toThrow(new RangeError("simdopt: paramGroups[1].params is empty"));
    const q = param("q");
    expect(() => new SGD([{ params: [p, q, 7] }] as never)).toThrow(new TypeError("simdopt: paramGroups[0].params[2] is not a Parameter"));
    expect(() => new SGD([{ params: [p, p] }])).toThrow(new RangeError("simdopt: paramGroups[0].params lists a parameter twice"));
    expect(() => new SGD([{ params: [q] }, { params: [p] }, { params: [p] }])).toThrow(
      new RangeError('simdopt: parameter "p" appears in more than one group (group 2)'));
    expect(() => new SGD([{ params: [q] }, { params: [p], lR: 1 }] as never)).toThrow(
      new TypeError('simdopt: paramGroups[1] has no option "lR"; did you mean "lr"? (options: lr, momentum, dampening, weightDecay, nesterov, maximize, l1, params)'));
    q.dispose();
    expect(() => new SGD([{ params: [p, q] }])).toThrow(new TypeError('simdopt: parameter "q" has been disposed'));
    expect(() => new SGD([p, q])).toThrow(new TypeError('simdopt: parameter "q" has been disposed'));
    p.dispose();
  });

  it("a bare list of parameters is one group; a list mixing parameters and groups is a list of groups", () => {
    const p = param("p");
    const q = param("q");
    const sgd = new SGD([p, q], { lr: 0.5 });
    expect(sgd.paramGroups).toHaveLength(1);
    expect(sgd.paramGroups[0]!.params).toEqual([p, q]);
    expect(() => new SGD([p, { params: [q] }] as never)).toThrow(
      new TypeError("simdopt: paramGroups[0] must be a Parameter or an object { params: Parameter[], ...options }"));
    sgd.dispose();
    p.dispose();
    q.dispose();
  });

  it("group options override the defaults; undefined entries keep the default; extra keys and a copy of params are kept", () => {
    const p = param("p");
    const q = param("q");
    const list = [q];
    const sgd = new SGD([{ params: [p], lr: 0.25, momentum: undefined }, { params: list, tag: "head" } as never], { lr: 0.5, momentum: 0.9 });
    expect(sgd.paramGroups[0]!.lr).toBe(0.25);
    expect(sgd.paramGroups[0]!.momentum).toBe(0.9);
    expect(sgd.paramGroups[1]!.lr).toBe(0.5);
    expect(sgd.paramGroups[1]!.tag).toBe("head");
    expect(sgd.paramGroups[1]!.params).not.toBe(list);
    expect(sgd.defaults.lr).toBe(0.5);
    const defaults = new SGD([param("r")], { lr: 0.5, momentum: undefined }).defaults;
    expect(defaults.momentum).toBe(0);
    expect(Object.keys(defaults)).toEqual(["lr", "momentum", "dampening", "weightDecay", "nesterov", "maximize", "l1"]);
    sgd.dispose();
  });

  it("a group's option is validated with its index as prefix, and nothing is kept", () => {
    const p = param("p");
    const q = param("q");
    expect(() => new SGD([{ params: [p] }, { params: [q], lr: -1 }])).toThrow(
      new RangeError("simdopt: paramGroups[1].lr must be a finite number ≥ 0, got -1"));
    const sgd = new SGD([p], { lr: 0.1 });
    expect(() => sgd.addParamGroup({ params: [q], momentum: -2 })).toThrow(new RangeError("simdopt: paramGroups[1].momentum must be a finite number ≥ 0, got -2"));
    expect(() => sgd.addParamGroup({ params: [p] })).toThrow(new RangeError('simdopt: parameter "p" is already in a group of this optimizer'));
    expect(() => sgd.addParamGroup({ params: [] })).toThrow(new RangeError("simdopt: paramGroups[1].params is empty"));
    expect(sgd.paramGroups).toHaveLength(1);
    sgd.addParamGroup({ params: [q], lr: 0.5 });
    expect(sgd.paramGroups[1]!.lr).toBe(0.5);
    expect(sgd.paramGroups[1]!.momentum).toBe(0);
    sgd.dispose();
  });
});

describe("live groups, checked on every step", () => {
  it("names what replaced a parameter or the list, by kind", () => {
    const p = param("p");
    const sgd = new SGD([p], { lr: 1 });
    const group = sgd.paramGroups[0]! as { params: unknown };
    const kinds: Array<[unknown, string]> = [
      [null, "null"], [Object.create(null), "an object"], [new Map(), "Map"], [true, "boolean true"], [undefined, "undefined"],
    ];
    for (const [value, shown] of kinds) {
      group.params = value;
      expect(() => sgd.step()).toThrow(new TypeError(`simdopt: paramGroups[0].params must be an array of Parameters, got ${shown}`));
      group.params = [p, value];
      expect(() => sgd.step()).toThrow(new TypeError(`simdopt: paramGroups[0].params[1] must be a Parameter, got ${shown}`));
    }
    group.params = [p];
    expect([...p.data]).toEqual([1, 2]);
    expect(sgd.step()).toBe(true);
    expect([...p.data]).toEqual([0, 1]);
    sgd.dispose();
  });

  it("after a step, a sole member replaced by something else is refused (not taken for the validated one)", () => {
    const p = param("p");
    const q = param("q");
    const sgd = new SGD([p], { lr: 1 });
    expect(sgd.step()).toBe(true);
    const params = sgd.paramGroups[0]!.params as unknown[];
    params[0] = {};
    expect(() => sgd.step()).toThrow(new TypeError("simdopt: paramGroups[0].params[0] must be a Parameter, got Object"));
    q.dispose();
    params[0] = q;
    expect(() => sgd.step()).toThrow(new TypeError('simdopt: parameter "q" has been disposed'));
    params[0] = p;
    expect(sgd.step()).toBe(true);
    expect([...p.data]).toEqual([-1, 0]);
    sgd.dispose();
    p.dispose();
  });

  it("options changed between steps are checked with the group's index in the message, the first group's too", () => {
    const [p, q, r] = [param("p"), param("q"), param("r")];
    const sgd = new SGD([{ params: [p] }, { params: [q] }, { params: [r] }], { lr: 1 });
    for (const g of [0, 2, 1]) {
      sgd.paramGroups[g]!.lr = -2;
      expect(() => sgd.step()).toThrow(new RangeError(`simdopt: paramGroups[${g}].lr must be a finite number ≥ 0, got -2`));
      sgd.paramGroups[g]!.lr = 1;
    }
    expect(sgd.step()).toBe(true);
    expect([...p.data, ...q.data, ...r.data]).toEqual([0, 1, 0, 1, 0, 1]);
    sgd.dispose();
    for (const x of [p, q, r]) x.dispose();
  });

  it("a parameter disposed or listed twice across groups is refused by name and place", () => {
    const p = param("p");
    const q = param("q");
    const r = param("r");
    const sgd = new SGD([{ params: [p] }, { params: [q] }], { lr: 1 });
    sgd.step();
    sgd.paramGroups[1]!.params.push(p);
    expect(() => sgd.step()).toThrow(new RangeError('simdopt: parameter "p" appears more than once in paramGroups (again at paramGroups[1].params[1])'));
    sgd.paramGroups[1]!.params.pop();
    // Back to the validated members: the fast path, which still sees disposal.
    q.dispose();
    expect(() => sgd.step()).toThrow(new TypeError('simdopt: parameter "q" has been disposed'));
    sgd.paramGroups[1]!.params[0] = r;
    sgd.paramGroups[1]!.params.push(q);
    expect(() => sgd.step()).toThrow(new TypeError('simdopt: parameter "q" has been disposed'));
    sgd.paramGroups[1]!.params.pop();
    expect(sgd.step()).toBe(true);
    expect([...p.data, ...r.data]).toEqual([-1, 0, 0, 1]);
    // A member removed: the shorter list is validated again, and stepping goes on.
    sgd.paramGroups[1]!.params.length = 0;
    sgd.paramGroups[0]!.params.push(r);
    expect(sgd.step()).toBe(true);
    expect([...p.data, ...r.data]).toEqual([-2, -1, -1, 0]);
    sgd.paramGroups.pop();
    expect(sgd.step()).toBe(true);
    expect([...p.data, ...r.data]).toEqual([-3, -2, -2, -1]);
    sgd.dispose();
  });
});

describe("step() options", () => {
  it("unknown keys, a non-object and a non-boolean skipIfNonfinite throw before anything changes", () => {
    const p = param("p");
    const adam = new Adam([p], { lr: 0.1 });
    expect(() => adam.step(3 as never)).toThrow(new TypeError("simdopt: step() options must be an object, got 3"));
    expect(() => adam.step({ row: new Map() } as never)).toThrow(
      new TypeError('simdopt: step() options has no option "row"; did you mean "rows"? (options: mask, rows, skipIfNonfinite)'));
    expect(() => adam.step({ skipIfNonfinite: 0 } as never)).toThrow(
      new TypeError("simdopt: step() options.skipIfNonfinite must be a boolean (true or false), got 0"));
    expect([...p.data]).toEqual([1, 2]);
    expect(adam.stateDict().state).toEqual([null]);
    expect(adam.step({ skipIfNonfinite: false })).toBe(true);
    expect(adam.step({})).toBe(true);
    adam.dispose();
  });
});
