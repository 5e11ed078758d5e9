// The README's main job (`npm run demo`) must keep working and keep learning.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

describe("npm run demo", () => {
  it("trains the MLP: the loss falls tenfold and held-out accuracy passes 90%", () => {
    const demo = fileURLToPath(new URL("../examples/demo.mjs", import.meta.url));
    const output = execFileSync(process.execPath, [demo], { encoding: "utf8" });
    const epochs = [...output.matchAll(/train loss ([\d.]+) .* held-out acc ([\d.]+)%/g)].map((m) => ({ loss: Number(m[1]), heldOut: Number(m[2]) }));
    expect(epochs.length).toBeGreaterThanOrEqual(5);
    expect(epochs.at(-1)!.loss).toBeLessThan(epochs[0]!.loss / 10);
    expect(epochs.at(-1)!.heldOut).toBeGreaterThan(90);
  });
});
