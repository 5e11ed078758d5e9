// "No allocation in step()": a design guarantee, checked by counting young-generation GCs.
import { describe, expect, it } from "vitest";
import { OPTIMIZERS } from "./optim/spec.mjs";
import { probeEach } from "./support/run-probe.js";

// Every optimizer of the spec table, gradient accumulation and EMA.update.
const ENTRIES = [...OPTIMIZERS.map((entry) => entry.name), "Adam accumulate 4", "Adam bfloat16", "AdamW int8", "EMA update"];

describe("optimizer steps allocate nothing", () => {
  it("300,000 steps of every optimizer trigger no scavenge with a 1 MiB young generation", () => {
    // The probe runs the built package (dist/, made by `npm test`'s pretest build). 16 bytes per
    // step would be ~5 scavenges.
    const scavenges = probeEach(ENTRIES);
    expect(Object.keys(scavenges).sort()).toEqual([...ENTRIES].sort());
    for (const [optimizer, count] of Object.entries(scavenges)) expect(count, optimizer).toBe(0);
  }, 600_000);

  it("multi-tensor steps (8 tensors, one kernel call per step) trigger no scavenge either", () => {
    const scavenges = probeEach(ENTRIES, { TENSORS: "8", STEPS: "100000" });
    expect(Object.keys(scavenges).sort()).toEqual([...ENTRIES].sort());
    for (const [optimizer, count] of Object.entries(scavenges)) expect(count, optimizer).toBe(0);
  }, 600_000);
});
