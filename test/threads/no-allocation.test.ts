// "No allocation in step()" with threads on: the probe of test/support steps every optimizer on
// a parameter that each step splits across two threads, with a 1 MiB young generation.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

describe("threaded optimizer steps allocate nothing", () => {
  it.each([1, 6])("20,000 two-thread steps of every optimizer over %i tensors trigger no scavenge", (tensors) => {
    const probe = fileURLToPath(new URL("../support/allocation-probe.mjs", import.meta.url));
    const output = execFileSync(process.execPath, ["--max-semi-space-size=1", probe], {
      encoding: "utf8", env: { ...process.env, THREADS: "2", STEPS: "20000", TENSORS: String(tensors) }, timeout: 300_000,
    });
    const scavenges = JSON.parse(output) as Record<string, number>;
    expect(Object.keys(scavenges)).toEqual(["SGD", "Adam", "Adam accumulate 4", "EMA update", "AdamW", "Adagrad", "RMSprop", "Adadelta", "Adamax", "NAdam", "RAdam", "Lion", "Ftrl"]);
    // 16 bytes per step would be ~0.3 MiB per window: a scavenge within three windows at most.
    for (const [optimizer, count] of Object.entries(scavenges)) expect(count, optimizer).toBe(0);
  }, 320_000);
});
