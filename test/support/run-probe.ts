// Runs the allocation probe (allocation-probe.mjs) once per entry, each in a process of its own
// with a 1 MiB young generation, and returns { entry: scavenges }. One process per entry: when a
// single process steps many optimizer classes in turn, V8's shared call sites in the base class
// grow megamorphic and can lose the inlining that keeps a step's float arguments unboxed — a
// property of that test process, not of any optimizer — so the guarantee is checked per class.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const probe = fileURLToPath(new URL("./allocation-probe.mjs", import.meta.url));

export function probeEach(names: readonly string[], env: Record<string, string> = {}): Record<string, number> {
  const result: Record<string, number> = {};
  for (const name of names) {
    const output = execFileSync(process.execPath, ["--max-semi-space-size=1", probe], {
      encoding: "utf8", env: { ...process.env, ...env, ONLY: name }, timeout: 120_000,
    });
    Object.assign(result, JSON.parse(output) as Record<string, number>);
  }
  return result;
}
