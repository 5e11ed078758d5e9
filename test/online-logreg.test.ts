// examples/online-logreg.mjs must keep running and learning (a short log).
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

describe("examples/online-logreg.mjs", () => {
  it("learns (progressive log-loss falls below the base rate's) with sparse weights, matching plain-JS FTRL", () => {
    const example = fileURLToPath(new URL("../examples/online-logreg.mjs", import.meta.url));
    const output = execFileSync(process.execPath, [example, "60000"], { encoding: "utf8" });
    const losses = [...output.matchAll(/progressive log-loss ([\d.]+)/g)].map((m) => Number(m[1]));
    const baseRate = Number(/base rate [\d.]+%: log-loss ([\d.]+)/.exec(output)![1]);
    const sparsity = Number(/sparsity: ([\d.]+)%/.exec(output)![1]);
    const difference = Number(/max \|Δw\| between them ([\d.e+-]+)/.exec(output)![1]);
    expect(losses.length).toBeGreaterThanOrEqual(5);
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
    expect(losses.at(-1)!).toBeLessThan(baseRate - 0.01);
    expect(sparsity).toBeGreaterThan(50);
    expect(difference).toBeLessThan(1e-4);
  });
});
