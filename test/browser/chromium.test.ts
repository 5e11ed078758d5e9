// Headless Chromium (npm run test:browser; CI installs Debian's chromium first): the conformance
// suite on the main thread and in a module worker, cross-origin isolated (shared memory) and not
// (the plain-memory fallback), from the packed package. Kept out of `npm test` so that the test
// command needs nothing but Node and npm.

import { describe, expect, it } from "vitest";
import { expectReport, record, runRuntime, usePackedPackage } from "../runtimes/harness.js";

usePackedPackage();

describe("conformance in Chromium, from the packed package", () => {
  it("Chromium: main thread and worker, cross-origin isolated (shared memory) and not (plain-memory fallback)", async () => {
    const output = await runRuntime("browser");
    const runs = output.runs.map((r) => `${r.origin}/${r.context}/${r.mode}`);
    expect(runs).toEqual(["isolated/main/init", "isolated/worker/url", "plain/main/url", "plain/worker/init", "plain/main/initSync", "plain/worker/initSync"]);
    for (const report of output.runs) {
      const isolated = report.origin === "isolated";
      expect(report.runtime.name).toBe(report.context === "main" ? "browser-main" : "browser-worker");
      expect(report.probe.crossOriginIsolated).toBe(isolated);
      expect(report.problems, `${report.origin} page problems`).toEqual([]);
      expectReport(report, `chromium ${report.origin} ${report.context} ${report.mode}`, {
        relaxedSupported: true,
        threads: isolated,
        loadsRelaxed: report.mode !== "url",
      });
    }
    record(output, "main thread + module worker; init(), init(URL), initSync(); COOP/COEP → shared memory, without → plain-memory fallback");
  });

});
