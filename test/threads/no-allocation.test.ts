// "No allocation in step()" with threads on: the probe of test/support steps each optimizer whose
// kernels the threads split, on a parameter that every step splits across two threads, with a
// 1 MiB young generation (one process per optimizer; see run-probe.ts).
import { describe, expect, it } from "vitest";
import { probeEach } from "../support/run-probe.js";

const THREADED = ["SGD", "Adam", "Adam accumulate 4", "EMA update", "AdamW", "Adagrad", "RMSprop", "Adadelta", "Adamax", "NAdam", "RAdam", "Lion", "Ftrl"];

describe("threaded optimizer steps allocate nothing", () => {
  it.each([1, 6])("20,000 two-thread steps of every threaded optimizer over %i tensors trigger no scavenge", (tensors) => {
    const scavenges = probeEach(THREADED, { THREADS: "2", STEPS: "20000", TENSORS: String(tensors) });
    expect(Object.keys(scavenges)).toEqual(THREADED);
    // 16 bytes per step would be ~0.3 MiB per window: a scavenge within three windows at most.
    for (const [optimizer, count] of Object.entries(scavenges)) expect(count, optimizer).toBe(0);
  }, 600_000);
});
