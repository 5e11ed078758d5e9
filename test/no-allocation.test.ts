// "No allocation in step()": a design guarantee, checked by counting young-generation GCs.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { OPTIMIZERS } from "./optim/spec.mjs";

describe("optimizer steps allocate nothing", () => {
  it("300,000 steps of every optimizer trigger no scavenge with a 1 MiB young generation", () => {
    // The probe runs the built package (dist/, made by `npm test`'s pretest build) in its own
    // process so that nothing else allocates meanwhile. 16 bytes per step would be ~5 scavenges.
    const probe = fileURLToPath(new URL("./support/allocation-probe.mjs", import.meta.url));
    const output = execFileSync(process.execPath, ["--max-semi-space-size=1", probe], { encoding: "utf8" });
    const scavenges = JSON.parse(output) as Record<string, number>;
    const names = OPTIMIZERS.map((entry) => entry.name);
    expect(Object.keys(scavenges)).toEqual([...names.slice(0, 2), "Adam accumulate 4", "EMA update", ...names.slice(2)]);
    for (const [optimizer, count] of Object.entries(scavenges)) expect(count, optimizer).toBe(0);
  });

  it("multi-tensor steps (8 tensors, one kernel call per step) trigger no scavenge either", () => {
    const probe = fileURLToPath(new URL("./support/allocation-probe.mjs", import.meta.url));
    const output = execFileSync(process.execPath, ["--max-semi-space-size=1", probe], {
      encoding: "utf8", env: { ...process.env, TENSORS: "8", STEPS: "100000" },
    });
    const scavenges = JSON.parse(output) as Record<string, number>;
    expect(Object.keys(scavenges)).toHaveLength(OPTIMIZERS.length + 2);
    for (const [optimizer, count] of Object.entries(scavenges)) expect(count, optimizer).toBe(0);
  });
});
