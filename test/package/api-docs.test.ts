// The API reference (docs/API.md) is generated from the TSDoc comments: every export of every
// entry, every public member of an exported class and every property of an exported interface
// must carry a comment, and the committed reference must be what the generator writes today.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
// @ts-expect-error -- plain ESM script (no declarations)
import { generate } from "../../scripts/api-docs.mjs";
// @ts-expect-error -- plain ESM helper (no declarations)
import { repoRoot } from "../runtimes/pack.mjs";

describe("API reference", () => {
  const { markdown, problems } = generate() as { markdown: string; problems: string[] };

  it("every export, public member and option is documented", () => {
    expect(problems).toEqual([]);
  });

  it("docs/API.md is current (npm run docs)", () => {
    expect(readFileSync(join(repoRoot, "docs", "API.md"), "utf8")).toBe(markdown);
  });

  it("covers the core entry and simdopt/tfjs, every optimizer and scheduler included", () => {
    for (const name of ["init", "parameter", "Adam", "AdamW", "Lion", "CosineAnnealingLR", "ReduceLROnPlateau", "matmul", "BatchNorm", "mirror", "tfOptimizer", "tfSchedulerCallback"]) {
      expect(markdown).toMatch(new RegExp(`#### \\w+ \`${name}\``));
    }
  });
});
