// Regenerates the performance tables of README.md and docs/performance.md from
// bench/results.json (written by `npm run bench`), so every figure there comes from one recorded
// run on a named machine.
//
// Each file marks each generated table with `<!-- bench FAMILY INDEX -->` … `<!-- /bench -->`
// (the INDEX-th table that family printed). Columns are reordered so that ratios come first;
// `<!-- bench FAMILY INDEX cols 0,6,1 -->` shows only those columns, in that order.
//   node scripts/bench-readme.mjs          rewrite the files
//   node scripts/bench-readme.mjs --check  exit 1 when a file differs from what it would write
import { readFileSync, writeFileSync } from "node:fs";

const root = new URL("../", import.meta.url);
/** The files whose marked tables come from bench/results.json. */
export const FILES = ["README.md", "docs/performance.md", "docs/sparse-and-scaling.md", "docs/threads.md"];
const MARKED = /<!-- bench ([\w-]+) (\d+)((?: cols [\d,]+)?) -->\n[\s\S]*?<!-- \/bench -->/g;
const isRatioCell = (cell) => /×$/.test(cell);

/**
 * A Markdown table: the label column, then ratio columns, then the rest (or the columns `only`
 * names, in that order); a line naming the run.
 */
export function renderTable(table, { machine, runtime, date }, only = null) {
  const ratioColumns = table.header.map((_, c) => c).filter((c) => c > 0 && table.rows.some((row) => isRatioCell(row[c])));
  const order = only ?? [0, ...ratioColumns, ...table.header.map((_, c) => c).filter((c) => c > 0 && !ratioColumns.includes(c))];
  const missing = order.filter((c) => c >= table.header.length);
  if (missing.length > 0) throw new RangeError(`"${table.title}" has no column ${missing.join(", ")}`);
  const line = (cells) => `| ${order.map((c) => cells[c]).join(" | ")} |`;
  return [
    `*${table.title}* — ${machine.cpu}, ${machine.cores} cores, Node ${runtime.node}, ${date.slice(0, 10)}:`,
    "",
    line(table.header),
    `| ${order.map((c) => (c === 0 ? "---" : "---:")).join(" | ")} |`,
    ...table.rows.map(line),
  ].join("\n");
}

/** README text with every marked table regenerated from `results`. */
export function renderReadme(readme, results) {
  return readme.replace(MARKED, (_, family, index, cols) => {
    const run = results.families[family];
    const table = run?.tables[Number(index)];
    if (table === undefined) throw new RangeError(`a file marks table ${index} of bench family "${family}", which bench/results.json does not have`);
    const only = cols ? cols.trim().slice("cols ".length).split(",").map(Number) : null;
    return `<!-- bench ${family} ${index}${cols} -->\n${renderTable(table, run, only)}\n<!-- /bench -->`;
  });
}

const isMain = process.argv[1] !== undefined && new URL(import.meta.url).pathname === new URL(`file://${process.argv[1]}`).pathname;
if (isMain) {
  const results = JSON.parse(readFileSync(new URL("bench/results.json", root), "utf8"));
  let stale = false;
  for (const name of FILES) {
    const file = new URL(name, root);
    const text = readFileSync(file, "utf8");
    const updated = renderReadme(text, results);
    if (process.argv.includes("--check")) {
      if (updated !== text) {
        stale = true;
        console.error(`${name}: performance tables differ from bench/results.json: run \`npm run bench:readme\``);
      }
    } else {
      writeFileSync(file, updated);
      console.log(`${name}: performance tables regenerated from bench/results.json`);
    }
  }
  process.exit(stale ? 1 : 0);
}
