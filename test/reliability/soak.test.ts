// The soak script's short mode (bench/soak.mjs --short; `npm run soak` runs the long one): many
// steps with schedulers, create/dispose cycles (half disposed, half dropped for the collector),
// and flat wasm memory, allocated bytes, heap top and JS heap at every cycle boundary.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

interface Checkpoint { phase: string; cycle: number; wasmBytes: number; allocatedBytes: number; heapTop: number; jsHeap: number }

describe("soak (short)", () => {
  it("memory stays flat over create/step/dispose cycles and freed memory is reused", () => {
    // Runs the per-module build (build/js/, made with dist/ by `npm test`'s pretest build) in its own process.
    const script = fileURLToPath(new URL("../../bench/soak.mjs", import.meta.url));
    const output = execFileSync(process.execPath, [script, "--short"], { encoding: "utf8" });
    const report = JSON.parse(output.trim().split("\n").at(-1)!) as { failures: string[]; records: Checkpoint[] };
    expect(report.failures).toEqual([]);
    const small = report.records.filter((r) => r.phase === "small");
    const large = report.records.filter((r) => r.phase === "large");
    expect(small.length).toBeGreaterThanOrEqual(10);
    expect(large.length).toBeGreaterThanOrEqual(10);
    // Everything of a small cycle is gone at its end, whether disposed or dropped.
    const baseline = small[0]!.allocatedBytes;
    for (const r of small) expect(r.allocatedBytes).toBe(baseline);
    // Large cycles leave only the reused scratch behind, and the heap top stops at its peak.
    const settled = large.slice(4);
    for (const r of settled) {
      expect(r.allocatedBytes).toBe(settled[0]!.allocatedBytes);
      expect(r.heapTop).toBeLessThanOrEqual(settled[0]!.heapTop);
      expect(r.wasmBytes).toBe(settled[0]!.wasmBytes);
    }
  });
});
