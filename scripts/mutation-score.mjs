// Mutation score of src/ from StrykerJS JSON reports (mutation-testing-report-schema), per file
// and in total, with the equivalent mutants of test/mutation/equivalent-mutants.json left out.
//
// Usage: node scripts/mutation-score.mjs [report.json ...]   (default reports/mutation/mutation.json)
// Several reports (e.g. runs over different files) are merged; a file in more than one report
// counts from the last one given.
//
// Score = (killed + timeout) / (killed + timeout + survived + no coverage), as Stryker's own;
// compile and runtime errors (mutants the type checker rejects) do not count either way.
// Survivors that match no entry of the equivalent list are printed, to be killed or listed.

import { readFileSync } from "node:fs";
import { relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const reports = process.argv.slice(2);
if (reports.length === 0) reports.push(resolve(root, "reports/mutation/mutation.json"));

/** @type {Array<{ file: string, line: number, column?: number, mutator: string, replacement?: string, why: string }>} */
const equivalents = JSON.parse(readFileSync(resolve(root, "test/mutation/equivalent-mutants.json"), "utf8")).mutants;

const files = new Map();
for (const report of reports) {
  const json = JSON.parse(readFileSync(report, "utf8"));
  for (const [name, file] of Object.entries(json.files)) {
    files.set(relative(root, resolve(root, name)), file.mutants);
  }
}

const isEquivalent = (file, mutant) => equivalents.some((e) =>
  e.file === file && e.line === mutant.location.start.line && e.mutator === mutant.mutatorName &&
  (e.replacement === undefined || e.replacement === mutant.replacement) &&
  (e.column === undefined || e.column === mutant.location.start.column));

const rows = [];
const unexplained = [];
const total = { killed: 0, survived: 0, equivalent: 0, errors: 0 };
for (const [file, mutants] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
  const row = { file, killed: 0, survived: 0, equivalent: 0, errors: 0 };
  for (const mutant of mutants) {
    if (mutant.status === "Killed" || mutant.status === "Timeout") row.killed++;
    else if (mutant.status === "Survived" || mutant.status === "NoCoverage") {
      if (isEquivalent(file, mutant)) row.equivalent++;
      else {
        row.survived++;
        unexplained.push(`${file}:${mutant.location.start.line}:${mutant.location.start.column} ${mutant.mutatorName} ` +
          `${mutant.status} → ${JSON.stringify(mutant.replacement ?? "")}`);
      }
    } else row.errors++;
  }
  for (const key of Object.keys(total)) total[key] += row[key];
  rows.push(row);
}

const percent = (killed, survived) => (killed + survived === 0 ? "—" : `${((100 * killed) / (killed + survived)).toFixed(1)}%`);
const rawPercent = (r) => percent(r.killed, r.survived + r.equivalent);
console.log("| file | killed | survived | equivalent | invalid | score | score without equivalents |");
console.log("|---|---:|---:|---:|---:|---:|---:|");
for (const r of [...rows, { file: "**all**", ...total }]) {
  console.log(`| ${r.file} | ${r.killed} | ${r.survived} | ${r.equivalent} | ${r.errors} | ${rawPercent(r)} | ${percent(r.killed, r.survived)} |`);
}
if (unexplained.length > 0) {
  console.log(`\n${unexplained.length} surviving mutants not listed as equivalent:`);
  for (const line of unexplained) console.log(`  ${line}`);
}
