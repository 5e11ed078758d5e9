// validateGroup runs on every step, so each numeric option is tested in place
// (`typeof x === "number" && x >= 0 && x < Infinity`) and handed to a checks.ts helper only when
// that test fails, for the message (see validateGroup in src/optim/optimizer.ts). Two properties
// follow, checked here for every such option at the edges of its range: a valid value never
// reaches the helper (a boxed float on a call V8 may not inline), and an invalid one always
// throws the helper's error. The helpers are wrapped in spies to see the first.
import { beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import * as checks from "../../src/checks.js";
import * as simdopt from "../../src/index.js";
import { init, parameter, type Parameter } from "../../src/index.js";

vi.mock("../../src/checks.js", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../../src/checks.js")>();
  return {
    ...actual,
    checkNonNegative: vi.fn(actual.checkNonNegative),
    checkPositive: vi.fn(actual.checkPositive),
    checkFinite: vi.fn(actual.checkFinite),
    checkBounded: vi.fn(actual.checkBounded),
    checkUnitInterval: vi.fn(actual.checkUnitInterval),
  };
});

beforeAll(async () => {
  await init();
});

const SPIES = [checks.checkNonNegative, checks.checkPositive, checks.checkFinite, checks.checkBounded, checks.checkUnitInterval]
  .map((fn) => vi.mocked(fn));

beforeEach(() => {
  for (const spy of SPIES) spy.mockClear();
});

/** The names the helpers were asked about since the last clear. */
function checkedNames(): string[] {
  return SPIES.flatMap((spy) => spy.mock.calls.map((call) => call[1] as string));
}

/** Valid edge values first, then invalid ones (a numeric string passes every comparison). */
const RANGES = {
  nonNegative: { valid: [0, -0, 1e-300, 3, 1e300], invalid: [-1e-300, -1, Infinity, -Infinity, NaN, "0", "1"] },
  positive: { valid: [1e-300, 3, 1e300], invalid: [0, -0, -1, Infinity, -Infinity, NaN, "1"] },
  unitClosed: { valid: [0, 0.5, 1], invalid: [-1e-300, 1 + 2 ** -52, Infinity, -Infinity, NaN, "0.5"] },
  atMostZero: { valid: [0, -0, -0.5, -1e300], invalid: [1e-300, 1, Infinity, -Infinity, NaN, "-0.5"] },
  finite: { valid: [0, -1e300, 1e300, 2], invalid: [Infinity, -Infinity, NaN, "2"] },
} as const satisfies Record<string, { valid: readonly number[]; invalid: readonly unknown[] }>;

type Range = keyof typeof RANGES;
/** [class, option name as messages print it, its range, the options that set it to a value]. */
type Target = [string, string, Range, ((value: unknown) => Record<string, unknown>)?];

const NON_NEGATIVE: Record<string, string[]> = {
  SGD: ["lr", "momentum", "dampening", "weightDecay", "l1"],
  Adam: ["lr", "eps", "weightDecay"],
  AdamW: ["lr", "eps", "weightDecay"],
  Adagrad: ["lr", "lrDecay", "weightDecay", "initialAccumulatorValue", "eps", "l1"],
  RMSprop: ["lr", "alpha", "eps", "weightDecay", "momentum"],
  Adadelta: ["lr", "eps", "weightDecay"],
  Adamax: ["lr", "eps", "weightDecay"],
  NAdam: ["lr", "eps", "weightDecay", "momentumDecay"],
  RAdam: ["lr", "eps", "weightDecay"],
  Lion: ["lr", "weightDecay"],
  Ftrl: ["initialAccumulatorValue", "l1", "l2", "l2Shrinkage", "beta"],
  Adafactor: ["lr", "weightDecay"],
  LAMB: ["lr", "eps", "weightDecay"],
  ADOPT: ["lr", "eps", "weightDecay"],
  ScheduleFreeAdamW: ["lr", "eps", "weightDecay"],
  Muon: ["lr", "weightDecay", "momentum", "eps"],
};

const TARGETS: Target[] = [
  ...Object.entries(NON_NEGATIVE).flatMap(([name, options]) => options.map((option): Target => [name, option, "nonNegative"])),
  ["Ftrl", "lr", "positive"],
  ["Ftrl", "lrPower", "atMostZero"],
  ["Adadelta", "rho", "unitClosed"],
  ["Adafactor", "beta2Decay", "atMostZero"],
  ["Adafactor", "eps[0]", "nonNegative", (value) => ({ eps: [value, 1e-3] })],
  ["Adafactor", "eps[1]", "nonNegative", (value) => ({ eps: [1e-30, value] })],
  ["ScheduleFreeAdamW", "rPower", "finite"],
  ["ScheduleFreeAdamW", "weightLrPower", "finite"],
  ...[0, 1, 2].map((i): Target => ["Muon", `nsCoefficients[${i}]`, "finite", (value) => {
    const c: unknown[] = [3.4445, -4.775, 2.0315];
    c[i] = value;
    return { nsCoefficients: c };
  }]),
];

type Constructor = new (params: Parameter[], options?: Record<string, unknown>) => unknown;

function make(className: string, options: Record<string, unknown>): unknown {
  const Class = (simdopt as unknown as Record<string, Constructor>)[className]!;
  // A 2-D parameter suits every optimizer (Muon takes matrices only).
  return new Class([parameter([2, 3])], options);
}

describe("step-time option checks", () => {
  for (const [className, name, range, set = (value: unknown) => ({ [name]: value })] of TARGETS) {
    it(`${className} ${name}: valid values skip the helper, invalid ones throw its error`, () => {
      for (const value of RANGES[range].valid) {
        expect(() => make(className, set(value)), `${name} = ${String(value)}`).not.toThrow();
        expect(checkedNames(), `${name} = ${String(value)} reached a checks.ts helper`).not.toContain(name);
      }
      for (const value of RANGES[range].invalid) {
        const shown = typeof value === "string" ? `${JSON.stringify(value)} (string)` : Object.is(value, -0) ? "-0" : String(value);
        const ErrorType = typeof value === "number" && !Number.isNaN(value) ? RangeError : TypeError;
        expect(() => make(className, set(value)), `${name} = ${shown}`).toThrow(ErrorType);
        expect(() => make(className, set(value)), `${name} = ${shown}`).toThrow(new RegExp(`^simdopt: ${name.replace(/[[\]]/g, "\\$&")} must be .*, got ${shown.replace(/[.()]/g, "\\$&")}$`));
      }
    });
  }
});
