// Prints the plain "N passed, N failed" line CI reads, summed over vitest's JSON reports (one per
// suite run). A missing report counts as a failure: that run did not complete.
import { readFileSync, existsSync } from "node:fs";

const files = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;
if (files.length === 0) {
  failed += 1;
  console.error("no vitest JSON report named");
}
for (const file of files) {
  if (!existsSync(file)) {
    failed += 1;
    console.error(`no vitest JSON report at ${file}: that test run did not complete`);
    continue;
  }
  const report = JSON.parse(readFileSync(file, "utf8"));
  // A test file that failed to load has no failing test of its own: count it as one failure.
  const brokenFiles = (report.testResults ?? []).filter(
    (result) => result.status === "failed" && !(result.assertionResults ?? []).some((test) => test.status === "failed"),
  ).length;
  passed += report.numPassedTests ?? 0;
  failed += (report.numFailedTests ?? 0) + brokenFiles;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
}
if (passed === 0 && failed === 0) {
  failed = 1;
  console.error("the test runs executed no test");
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 ? 1 : 0);
