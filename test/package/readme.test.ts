// The README is part of the product: its quick start runs as written against the packed
// package, its links stay inside the repository, and its performance tables are exactly what
// bench/results.json (the recorded `npm run bench` run) says.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error -- plain ESM helper shared with the runtime runners (no declarations)
import { preparePackage, repoRoot } from "../runtimes/pack.mjs";
// @ts-expect-error -- plain ESM script (no declarations)
import { FILES, renderReadme } from "../../scripts/bench-readme.mjs";

const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
let packDir: string;
beforeAll(() => { packDir = (preparePackage() as { dir: string }).dir; }, 60_000);
afterAll(() => { if (packDir !== undefined) rmSync(join(packDir, "quick-start.mjs"), { force: true }); });

/** The first fenced code block after the heading `title`. */
function codeAfter(title: string): string {
  const section = readme.slice(readme.indexOf(`## ${title}`));
  const match = /```(?:js|ts)\n([\s\S]*?)```/.exec(section);
  if (match === null) throw new Error(`README has no code block under "## ${title}"`);
  return match[1]!;
}

describe("README", () => {
  it("the quick start runs as written against the packed package and prints the fitted weights", () => {
    writeFileSync(join(packDir, "quick-start.mjs"), codeAfter("Quick start"));
    const output = execFileSync(process.execPath, [join(packDir, "quick-start.mjs")], { cwd: packDir, encoding: "utf8" });
    expect(output.trim()).toBe("[ '1.000', '2.000', '3.000' ]");
  });

  it("links only to files inside the repository, and names no file outside it", () => {
    expect(readme).not.toMatch(/\.\.\/shared|shared\/spec/);
    const links = [...readme.matchAll(/\]\(([^)#][^)]*)\)/g)].map((m) => m[1]!).filter((link) => !/^[a-z]+:/.test(link));
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) expect(existsSync(join(repoRoot, link)), `README links to ${link}`).toBe(true);
  });

  it("its performance tables, and docs/performance.md's, are generated from bench/results.json (npm run bench:readme)", () => {
    const results = JSON.parse(readFileSync(join(repoRoot, "bench", "results.json"), "utf8"));
    expect(readme).toMatch(/<!-- bench \w+ \d+ -->/);
    for (const file of FILES as string[]) {
      const text = readFileSync(join(repoRoot, file), "utf8");
      expect(renderReadme(text, results), file).toBe(text);
    }
  });

  it("names the machine its figures come from, as recorded with them", () => {
    const results = JSON.parse(readFileSync(join(repoRoot, "bench", "results.json"), "utf8")) as { families: Record<string, { machine: { cpu: string; cores: number } }> };
    for (const { machine } of Object.values(results.families)) {
      expect(readme).toContain(`${machine.cpu}, ${machine.cores} cores`);
    }
  });
});
