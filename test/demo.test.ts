// The README's main job (`npm run demo`) must keep working and reach its accuracy goal.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const demo = fileURLToPath(new URL("../examples/demo.mjs", import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "simdopt-demo-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function run(args: string[]): { epochs: Array<{ trainLoss: number; testAccuracy: number }>; final: number; output: string } {
  const output = execFileSync(process.execPath, [demo, ...args], { encoding: "utf8" });
  const epochs = [...output.matchAll(/train loss ([\d.]+) .* test acc ([\d.]+)%/g)].map((m) => ({ trainLoss: Number(m[1]), testAccuracy: Number(m[2]) }));
  const final = Number(/final test accuracy \(eval mode[^:]*: ([\d.]+)%/.exec(output)?.[1]);
  return { epochs, final, output };
}

describe("npm run demo (MLP on MNIST)", () => {
  it("with the defaults reaches ≥ 96.5% test accuracy in eval mode and writes the SVG plot", () => {
    const plot = join(scratch, "demo.svg");
    const { epochs, final } = run(["--plot", plot]);
    expect(epochs).toHaveLength(12);
    expect(epochs.at(-1)!.trainLoss).toBeLessThan(epochs[0]!.trainLoss / 3);
    expect(final).toBeGreaterThanOrEqual(96.5);
    const svg = readFileSync(plot, "utf8");
    expect(svg).toMatch(/^<svg /);
    expect(svg.match(/<polyline points="([^"]+)"/g)).toHaveLength(4); // train/test × loss/accuracy
    expect(svg).toContain(`test accuracy ${final.toFixed(2)}%`);
  });

  it("takes its flags: another optimizer, schedule, batch size and split size", () => {
    const { epochs, final, output } = run(["--optimizer", "sgd", "--schedule", "onecycle", "--epochs", "2", "--batch-size", "100",
      "--train", "3000", "--test", "1000", "--plot", join(scratch, "sgd.svg")]);
    expect(output).toMatch(/SGD lr 0\.05 .*onecycle schedule.*2 epochs × 30 batches of 100/);
    expect(epochs).toHaveLength(2);
    expect(final).toBeGreaterThan(85);
  });

  it("--threads 2 trains on two threads and says so in the epoch and summary lines", () => {
    const { epochs, final, output } = run(["--threads", "2", "--epochs", "1", "--batch-size", "100",
      "--train", "2000", "--test", "500", "--plot", join(scratch, "threads.svg")]);
    expect(output).toMatch(/build, 2 threads\)/);
    expect(output).toMatch(/test acc [\d.]+%  [\d,]+ samples\/s on 2 threads/);
    expect(output).toMatch(/trained 1 epochs \(20 steps\) in [\d.]+ s on 2 threads:/);
    expect(epochs).toHaveLength(1);
    expect(final).toBeGreaterThan(80);
  });

  it("rejects a bad flag with a message naming it", () => {
    expect(() => execFileSync(process.execPath, [demo, "--optimizer", "adamm"], { encoding: "utf8", stdio: "pipe" })).toThrow(/--optimizer must be one of/);
  });
});
