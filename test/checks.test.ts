// The argument and option checks every public entry point uses, one by one: each accepts its
// boundary values, refuses the values just outside with the exact message and error type, and
// the message shows the offending value as given.

import { describe, expect, it } from "vitest";
import {
  checkBetas, checkBoolean, checkBounded, checkChoice, checkFinite, checkInteger, checkNoNearMisses, checkNonNegative,
  checkNumber, checkObject, checkOptionKeys, checkPositive, checkUnitInterval, describe as show, nearMiss,
  optionalBoolean, readOptions, reject,
} from "../src/checks.js";

const W = "Foo: ";

describe("describe (the value as a message shows it)", () => {
  it("numbers, strings, and the other primitive types", () => {
    expect(show(-0)).toBe("-0");
    expect(show(0)).toBe("0");
    expect(show(-1.5)).toBe("-1.5");
    expect(show(Infinity)).toBe("Infinity");
    expect(show("x".repeat(60))).toBe(`"${"x".repeat(60)}" (string)`);
    expect(show("y".repeat(61))).toBe(`"${"y".repeat(57)}..." (string)`);
    expect(show("")).toBe('"" (string)');
    expect(show(false)).toBe("false (boolean)");
    expect(show(12n)).toBe("12n (bigint)");
    expect(show(Symbol("s"))).toBe("Symbol(s) (symbol)");
    expect(show(() => 1)).toBe("a function");
    expect(show(undefined)).toBe("undefined");
    expect(show(null)).toBe("null");
  });

  it("typed arrays and DataViews by type and length, arrays by contents when short and flat", () => {
    expect(show(new Float32Array(3))).toBe("a Float32Array of length 3");
    expect(show(new DataView(new ArrayBuffer(7)))).toBe("a DataView of length 7");
    expect(show([1, 2, 3, 4, 5, 6])).toBe("[1, 2, 3, 4, 5, 6]");
    expect(show([1, 2, 3, 4, 5, 6, 7])).toBe("an array of length 7");
    expect(show([null, "a"])).toBe('[null, "a" (string)]');
    expect(show([1, [2]])).toBe("an array of length 2");
    expect(show([{}])).toBe("an array of length 1");
    expect(show([])).toBe("[]");
  });

  it("objects by their class, plain and prototype-less objects as 'an object'", () => {
    class Thing {}
    expect(show(new Thing())).toBe("a Thing");
    expect(show({ a: 1 })).toBe("an object");
    expect(show(Object.create(null))).toBe("an object");
    expect(show(Object.create({}))).toBe("an object");
    const noName = Object.create({ constructor: {} }) as object;
    expect(show(noName)).toBe("an object");
  });
});

describe("reject", () => {
  it("throws RangeError for a number, TypeError for anything else (NaN included) unless told", () => {
    expect(() => reject(W, "x", 5, "small")).toThrow(new RangeError("simdopt: Foo: x must be small, got 5"));
    expect(() => reject(W, "x", NaN, "small")).toThrow(new TypeError("simdopt: Foo: x must be small, got NaN"));
    expect(() => reject(W, "x", "5", "small")).toThrow(new TypeError('simdopt: Foo: x must be small, got "5" (string)'));
    expect(() => reject(W, "x", 5, "small", true)).toThrow(new TypeError("simdopt: Foo: x must be small, got 5"));
    expect(() => reject(W, "x", "5", "small", false)).toThrow(new RangeError('simdopt: Foo: x must be small, got "5" (string)'));
  });
});

describe("number checks", () => {
  it("checkNumber: any number but NaN, returned as given", () => {
    expect(checkNumber(W, "n", -Infinity)).toBe(-Infinity);
    expect(checkNumber(W, "n", 2.5)).toBe(2.5);
    expect(() => checkNumber(W, "n", NaN)).toThrow(new TypeError("simdopt: Foo: n must be a number, got NaN"));
    expect(() => checkNumber(W, "n", "1")).toThrow(new TypeError('simdopt: Foo: n must be a number, got "1" (string)'));
  });

  it("checkFinite", () => {
    expect(checkFinite(W, "f", -3)).toBe(-3);
    expect(checkFinite(W, "f", Number.MAX_VALUE)).toBe(Number.MAX_VALUE);
    expect(checkFinite(W, "f", -Number.MAX_VALUE)).toBe(-Number.MAX_VALUE);
    expect(() => checkFinite(W, "f", Infinity)).toThrow(new RangeError("simdopt: Foo: f must be a finite number, got Infinity"));
    expect(() => checkFinite(W, "f", -Infinity)).toThrow(new RangeError("simdopt: Foo: f must be a finite number, got -Infinity"));
    expect(() => checkFinite(W, "f", NaN)).toThrow(new TypeError("simdopt: Foo: f must be a finite number, got NaN"));
    expect(() => checkFinite(W, "f", null)).toThrow(new TypeError("simdopt: Foo: f must be a finite number, got null"));
  });

  it("checkNonNegative and checkPositive", () => {
    expect(() => checkNonNegative(W, "a", 0)).not.toThrow();
    expect(() => checkNonNegative(W, "a", Number.MAX_VALUE)).not.toThrow();
    expect(() => checkNonNegative(W, "a", -1e-300)).toThrow(new RangeError("simdopt: Foo: a must be a finite number ≥ 0, got -1e-300"));
    expect(() => checkNonNegative(W, "a", Infinity)).toThrow(new RangeError("simdopt: Foo: a must be a finite number ≥ 0, got Infinity"));
    expect(() => checkNonNegative(W, "a", "0")).toThrow(new TypeError('simdopt: Foo: a must be a finite number ≥ 0, got "0" (string)'));
    expect(() => checkPositive(W, "b", 5e-324)).not.toThrow();
    expect(() => checkPositive(W, "b", Number.MAX_VALUE)).not.toThrow();
    expect(() => checkPositive(W, "b", 0)).toThrow(new RangeError("simdopt: Foo: b must be a finite number > 0, got 0"));
    expect(() => checkPositive(W, "b", Infinity)).toThrow(new RangeError("simdopt: Foo: b must be a finite number > 0, got Infinity"));
    expect(() => checkPositive(W, "b", true)).toThrow(new TypeError("simdopt: Foo: b must be a finite number > 0, got true (boolean)"));
  });

  it("checkUnitInterval: [0, 1), or [0, 1] when closed", () => {
    expect(() => checkUnitInterval(W, "u", 0)).not.toThrow();
    expect(() => checkUnitInterval(W, "u", 0.999)).not.toThrow();
    expect(() => checkUnitInterval(W, "u", 1)).toThrow(new RangeError("simdopt: Foo: u must be in [0, 1), got 1"));
    expect(() => checkUnitInterval(W, "u", -0.001)).toThrow(new RangeError("simdopt: Foo: u must be in [0, 1), got -0.001"));
    expect(() => checkUnitInterval(W, "u", "0.5")).toThrow(new TypeError('simdopt: Foo: u must be in [0, 1), got "0.5" (string)'));
    expect(() => checkUnitInterval(W, "u", 1, true)).not.toThrow();
    expect(() => checkUnitInterval(W, "u", 0, true)).not.toThrow();
    expect(() => checkUnitInterval(W, "u", 1.001, true)).toThrow(new RangeError("simdopt: Foo: u must be in [0, 1], got 1.001"));
    expect(() => checkUnitInterval(W, "u", -1, true)).toThrow(new RangeError("simdopt: Foo: u must be in [0, 1], got -1"));
  });

  it("checkBetas: a pair, each in [0, 1), named by index", () => {
    expect(() => checkBetas(W, "betas", [0, 0.999])).not.toThrow();
    expect(() => checkBetas(W, "betas", [0.9, 0])).not.toThrow();
    expect(() => checkBetas(W, "betas", [0.9])).toThrow(new TypeError("simdopt: Foo: betas must be a pair [beta1, beta2], got [0.9]"));
    expect(() => checkBetas(W, "betas", [0.9, 0.9, 0.9])).toThrow(new TypeError("simdopt: Foo: betas must be a pair [beta1, beta2], got [0.9, 0.9, 0.9]"));
    expect(() => checkBetas(W, "betas", new Float64Array(2))).toThrow(new TypeError("simdopt: Foo: betas must be a pair [beta1, beta2], got a Float64Array of length 2"));
    expect(() => checkBetas(W, "betas", [1, 0.5])).toThrow(new RangeError("simdopt: Foo: betas[0] must be in [0, 1), got 1"));
    expect(() => checkBetas(W, "betas", [-0.1, 0.5])).toThrow(new RangeError("simdopt: Foo: betas[0] must be in [0, 1), got -0.1"));
    expect(() => checkBetas(W, "betas", ["0.9", 0.5])).toThrow(new TypeError('simdopt: Foo: betas[0] must be in [0, 1), got "0.9" (string)'));
    expect(() => checkBetas(W, "betas", [0.5, 1])).toThrow(new RangeError("simdopt: Foo: betas[1] must be in [0, 1), got 1"));
    expect(() => checkBetas(W, "betas", [0.5, -0.1])).toThrow(new RangeError("simdopt: Foo: betas[1] must be in [0, 1), got -0.1"));
    expect(() => checkBetas(W, "betas", [0.5, null])).toThrow(new TypeError("simdopt: Foo: betas[1] must be in [0, 1), got null"));
  });

  it("checkInteger: within [min, max], the safe maximum spelt 2^53 − 1", () => {
    expect(checkInteger(W, "k", 3, 3, 5)).toBe(3);
    expect(checkInteger(W, "k", 5, 3, 5)).toBe(5);
    expect(checkInteger(W, "k", Number.MAX_SAFE_INTEGER, 0)).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => checkInteger(W, "k", 2, 3, 5)).toThrow(new RangeError("simdopt: Foo: k must be an integer in [3, 5], got 2"));
    expect(() => checkInteger(W, "k", 6, 3, 5)).toThrow(new RangeError("simdopt: Foo: k must be an integer in [3, 5], got 6"));
    expect(() => checkInteger(W, "k", 3.5, 3, 5)).toThrow(new RangeError("simdopt: Foo: k must be an integer in [3, 5], got 3.5"));
    expect(() => checkInteger(W, "k", 2 ** 53, 0)).toThrow(new RangeError("simdopt: Foo: k must be an integer in [0, 2^53 − 1], got 9007199254740992"));
    expect(() => checkInteger(W, "k", "4", 0)).toThrow(new TypeError('simdopt: Foo: k must be an integer in [0, 2^53 − 1], got "4" (string)'));
  });

  it("checkBounded: fallback, bounds inclusive or exclusive, integer, and the message naming them", () => {
    expect(checkBounded(W, "b", undefined, {}, 7)).toBe(7);
    expect(() => checkBounded(W, "b", undefined, {})).toThrow(new TypeError("simdopt: Foo: requires the option b"));
    expect(checkBounded(W, "b", 1e300, {})).toBe(1e300);
    expect(() => checkBounded(W, "b", Infinity, {})).toThrow(new RangeError("simdopt: Foo: b must be a finite number, got Infinity"));
    expect(() => checkBounded(W, "b", "1", {})).toThrow(new TypeError('simdopt: Foo: b must be a finite number, got "1" (string)'));
    const closed = { min: 1, max: 2 };
    expect(checkBounded(W, "b", 1, closed)).toBe(1);
    expect(checkBounded(W, "b", 2, closed)).toBe(2);
    expect(() => checkBounded(W, "b", 0.5, closed)).toThrow(new RangeError("simdopt: Foo: b must be a finite number ≥ 1 and ≤ 2, got 0.5"));
    expect(() => checkBounded(W, "b", 2.5, closed)).toThrow(new RangeError("simdopt: Foo: b must be a finite number ≥ 1 and ≤ 2, got 2.5"));
    const open = { min: 1, minExclusive: true, max: 2, maxExclusive: true };
    expect(checkBounded(W, "b", 1.5, open)).toBe(1.5);
    expect(() => checkBounded(W, "b", 1, open)).toThrow(new RangeError("simdopt: Foo: b must be a finite number > 1 and < 2, got 1"));
    expect(() => checkBounded(W, "b", 2, open)).toThrow(new RangeError("simdopt: Foo: b must be a finite number > 1 and < 2, got 2"));
    expect(() => checkBounded(W, "b", -1, { min: 0 })).toThrow(new RangeError("simdopt: Foo: b must be a finite number ≥ 0, got -1"));
    expect(() => checkBounded(W, "b", 3, { max: 2 })).toThrow(new RangeError("simdopt: Foo: b must be a finite number ≤ 2, got 3"));
    expect(checkBounded(W, "b", 2 ** 60, { integer: false })).toBe(2 ** 60);
    expect(checkBounded(W, "b", 4, { integer: true, min: 4 })).toBe(4);
    expect(() => checkBounded(W, "b", 4.5, { integer: true, min: 4 })).toThrow(new RangeError("simdopt: Foo: b must be a finite integer ≥ 4, got 4.5"));
    expect(() => checkBounded(W, "b", 2 ** 53, { integer: true })).toThrow(new RangeError("simdopt: Foo: b must be a finite integer, got 9007199254740992"));
  });
});

describe("other checks", () => {
  it("checkBoolean and optionalBoolean", () => {
    expect(checkBoolean(W, "on", false)).toBe(false);
    expect(checkBoolean(W, "on", true)).toBe(true);
    expect(() => checkBoolean(W, "on", 1)).toThrow(new TypeError("simdopt: Foo: on must be a boolean (true or false), got 1"));
    expect(optionalBoolean(W, "on", undefined, true)).toBe(true);
    expect(optionalBoolean(W, "on", undefined, false)).toBe(false);
    expect(optionalBoolean(W, "on", false, true)).toBe(false);
    expect(() => optionalBoolean(W, "on", null, true)).toThrow(new TypeError("simdopt: Foo: on must be a boolean (true or false), got null"));
  });

  it("checkChoice", () => {
    const choices = ["min", "max"] as const;
    expect(checkChoice(W, "mode", undefined, choices, "max")).toBe("max");
    expect(checkChoice(W, "mode", "min", choices, "max")).toBe("min");
    expect(() => checkChoice(W, "mode", undefined, choices)).toThrow(new TypeError('simdopt: Foo: mode must be one of "min", "max", got undefined'));
    expect(() => checkChoice(W, "mode", "mid", choices, "max")).toThrow(new RangeError('simdopt: Foo: mode must be one of "min", "max", got "mid" (string)'));
    expect(() => checkChoice(W, "mode", 1, choices)).toThrow(new TypeError('simdopt: Foo: mode must be one of "min", "max", got 1'));
  });

  it("checkObject", () => {
    expect(() => checkObject("Foo options", undefined)).not.toThrow();
    expect(() => checkObject("Foo options", {})).not.toThrow();
    expect(() => checkObject("Foo options", undefined, false)).toThrow(new TypeError("simdopt: Foo options must be an object, got undefined"));
    expect(() => checkObject("Foo options", null)).toThrow(new TypeError("simdopt: Foo options must be an object, got null"));
    expect(() => checkObject("Foo options", [1])).toThrow(new TypeError("simdopt: Foo options must be an object, got [1]"));
    expect(() => checkObject("Foo options", "x")).toThrow(new TypeError('simdopt: Foo options must be an object, got "x" (string)'));
  });
});

describe("option keys", () => {
  const options = ["lr", "weightDecay", "momentum", "maximize", "betas"];

  it("nearMiss: an exact key is no miss; case, snake/kebab case and one edit are", () => {
    expect(nearMiss("momentum", options)).toBeUndefined();
    expect(nearMiss("WEIGHTDECAY", options)).toBe("weightDecay");
    expect(nearMiss("weight-decay", options)).toBe("weightDecay");
    expect(nearMiss("weight__decay", options)).toBe("weightDecay");
    expect(nearMiss("weight_Decay", options)).toBe("weightDecay");
    expect(nearMiss("weight_decays", options)).toBe("weightDecay");
    expect(nearMiss("betsa", options)).toBe("betas");
    expect(nearMiss("ebtas", options)).toBe("betas");
    expect(nearMiss("bteas", options)).toBe("betas");
    expect(nearMiss("betaz", options)).toBe("betas");
    expect(nearMiss("xetas", options)).toBe("betas");
    expect(nearMiss("beta", options)).toBe("betas");
    expect(nearMiss("bettas", options)).toBe("betas");
    expect(nearMiss("betass", options)).toBe("betas");
    expect(nearMiss("abetas", options)).toBe("betas");
    expect(nearMiss("bet", options)).toBeUndefined();
    expect(nearMiss("betasxx", options)).toBeUndefined();
    expect(nearMiss("xbetasx", options)).toBeUndefined();
    expect(nearMiss("btesa", options)).toBeUndefined();
    expect(nearMiss("batas2", options)).toBeUndefined();
    expect(nearMiss("bxtxs", options)).toBeUndefined();
    expect(nearMiss("etasb", options)).toBeUndefined();
    // Half a swap is no swap: only the first or only the second pair crosses over.
    expect(nearMiss("btxas", options)).toBeUndefined();
    expect(nearMiss("bxeas", options)).toBeUndefined();
    // A run of separators counts as one.
    expect(nearMiss("weight___decay", options)).toBe("weightDecay");
    // The exact key wins over an earlier option one edit away.
    expect(nearMiss("lrs", ["lr", "lrs"])).toBeUndefined();
    expect(nearMiss("Lrs", ["lr", "lrs"])).toBe("lrs");
    expect(nearMiss("l", ["lr"])).toBe("lr");
  });

  it("checkOptionKeys: unknown own keys throw with a hint when one fits, inherited keys are ignored", () => {
    expect(() => checkOptionKeys({ lr: 1, betas: [0, 0] }, options, "Foo")).not.toThrow();
    expect(() => checkOptionKeys(Object.create({ bogus: 1 }) as object, options, "Foo")).not.toThrow();
    const list = "(options: lr, weightDecay, momentum, maximize, betas)";
    expect(() => checkOptionKeys({ momentun: 1 }, options, "Foo")).toThrow(new TypeError(`simdopt: Foo has no option "momentun"; did you mean "momentum"? ${list}`));
    // Not a near-miss, but an abbreviation of at least three letters or two edits from a long option.
    expect(() => checkOptionKeys({ max: true }, options, "Foo")).toThrow(new TypeError(`simdopt: Foo has no option "max"; did you mean "maximize"? ${list}`));
    expect(() => checkOptionKeys({ weight_d: 1 }, options, "Foo")).toThrow(new TypeError(`simdopt: Foo has no option "weight_d"; did you mean "weightDecay"? ${list}`));
    expect(() => checkOptionKeys({ ma: 1 }, options, "Foo")).toThrow(new TypeError(`simdopt: Foo has no option "ma" ${list}`));
    expect(() => checkOptionKeys({ momenXXm: 1 }, options, "Foo")).toThrow(new TypeError(`simdopt: Foo has no option "momenXXm"; did you mean "momentum"? ${list}`));
    expect(() => checkOptionKeys({ momXXXum: 1 }, options, "Foo")).toThrow(new TypeError(`simdopt: Foo has no option "momXXXum" ${list}`));
    expect(() => checkOptionKeys({ bXXas: 1 }, options, "Foo")).toThrow(new TypeError(`simdopt: Foo has no option "bXXas"; did you mean "betas"? ${list}`));
    // A near-miss too short for the other two rules: only nearMiss finds it.
    expect(() => checkOptionKeys({ LR: 1 }, options, "Foo")).toThrow(new TypeError(`simdopt: Foo has no option "LR"; did you mean "lr"? ${list}`));
    expect(() => checkOptionKeys({ l: 1 }, options, "Foo")).toThrow(new TypeError(`simdopt: Foo has no option "l"; did you mean "lr"? ${list}`));
    // Two edits from a three-letter option is too far to guess.
    expect(() => checkOptionKeys({ xyz: 1 }, ["abc", "xbcz"], "Foo")).toThrow(new TypeError('simdopt: Foo has no option "xyz" (options: abc, xbcz)'));
    expect(() => checkOptionKeys({ lr: 1, zzzz: 1 }, options, "Foo")).toThrow(new TypeError(`simdopt: Foo has no option "zzzz" ${list}`));
  });

  it("readOptions: undefined is {} unless required; the object is checked and returned", () => {
    expect(readOptions("Foo", undefined, options)).toEqual({});
    expect(() => readOptions("Foo", undefined, options, false)).toThrow(new TypeError("simdopt: Foo options must be an object, got undefined"));
    expect(() => readOptions("Foo", 3, options)).toThrow(new TypeError("simdopt: Foo options must be an object, got 3"));
    const given = { lr: 0.1 };
    expect(readOptions("Foo", given, options, false)).toBe(given);
    expect(() => readOptions("Foo", { lr: 1, mometum: 1 }, options)).toThrow(
      new TypeError('simdopt: Foo has no option "mometum"; did you mean "momentum"? (options: lr, weightDecay, momentum, maximize, betas)'));
  });

  it("checkNoNearMisses: extra keys pass, near-misses and an own __proto__ throw, inherited keys are ignored", () => {
    const group = ["params", "lr"];
    expect(() => checkNoNearMisses({ params: [], lr: 1, name: "head" }, group, "group 0")).not.toThrow();
    // The accepted extra key is remembered; the same object passes again.
    expect(() => checkNoNearMisses({ params: [], name: "head" }, group, "group 0")).not.toThrow();
    expect(() => checkNoNearMisses(Object.create({ Lr: 1 }) as object, group, "group 0")).not.toThrow();
    expect(() => checkNoNearMisses({ params: [], LR: 1 }, group, "group 1")).toThrow(
      new TypeError('simdopt: group 1 has no option "LR"; did you mean "lr"? (options: params, lr)'));
    const proto = JSON.parse('{"__proto__": 1}') as object;
    expect(() => checkNoNearMisses(proto, group, "group 2")).toThrow(
      new TypeError('simdopt: group 2 has an own "__proto__" key, which is not an option'));
  });
});
