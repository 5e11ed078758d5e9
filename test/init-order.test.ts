// Before init(): features() works, everything else says to call init(). (Own file: init is global
// per module instance, and every other test file calls it first.)
import { describe, expect, it } from "vitest";
import { Adam, features, init, initSync, parameter } from "../src/index.js";

describe("before and after init", () => {
  it("features() reports the runtime before init", () => {
    const before = features();
    expect(before.simd).toBe(true);
    expect(typeof before.relaxedSimd).toBe("boolean");
    expect(before.threads).toBe(true);
    expect(before.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("using the library before init throws an Error saying to call init()", () => {
    expect(() => parameter([3])).toThrow(/call `await init\(\)`/);
  });

  it("rejects bad start-up options and sources without loading", async () => {
    await expect(init(undefined, { initialMemoryMiB: -1 })).rejects.toThrow(/initialMemoryMiB/);
    await expect(init(undefined, { initialMemoryMiB: 64, maximumMemoryMiB: 32 })).rejects.toThrow(/maximumMemoryMiB/);
    await expect(init(42 as never)).rejects.toThrow(TypeError);
    expect(() => parameter([3])).toThrow(/init\(\)/);
  });

  it("init is idempotent; initSync after init is a no-op", async () => {
    await init(undefined, { initialMemoryMiB: 32 });
    await init();
    initSync();
    const p = parameter([3], { init: [1, 2, 3] });
    p.grad.fill(1);
    new Adam([p], { lr: 0.5 }).step();
    expect(p.data[0]).toBeCloseTo(0.5, 5);
    expect(features().relaxedSimd).toBe(false); // Node 20 needs a flag for relaxed SIMD
  });
});
