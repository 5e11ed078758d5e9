// The chart beside bench/results.json: for every table with a ratio column (cells such as
// "7.31×"), one horizontal bar per row on a log scale, with 1× marked. No dependencies.

const ROW = 18;
const LABEL = 300;
const BAR = 420;

const isRatio = (cell) => /^\d+(\.\d+)?×$/.test(cell);

/** The first column whose cells are all ratios (or "—"), or −1. */
export function ratioColumn(table) {
  return table.header.findIndex((_, c) => c > 0 && table.rows.some((row) => isRatio(row[c]))
    && table.rows.every((row) => isRatio(row[c]) || row[c] === "—"));
}

const escape = (text) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** An SVG document charting the first ratio column of every table in `results`. */
export function ratioChart(results) {
  const panels = [];
  for (const [family, { machine, tables }] of Object.entries(results.families)) {
    for (const table of tables) {
      const column = ratioColumn(table);
      if (column < 0) continue;
      const rows = table.rows.filter((row) => isRatio(row[column])).map((row) => ({ label: row[0], value: Number.parseFloat(row[column]) }));
      panels.push({ title: `${family}: ${table.title} — ${table.header[column]}`, machine, rows });
    }
  }
  const all = panels.flatMap((panel) => panel.rows.map((row) => row.value));
  const low = Math.min(0.5, ...all), high = Math.max(2, ...all);
  const x = (value) => LABEL + (Math.log10(value / low) / Math.log10(high / low)) * BAR;
  let y = 10;
  const parts = [];
  for (const panel of panels) {
    parts.push(`<text x="8" y="${y + 14}" font-weight="bold" font-size="13">${escape(panel.title)}</text>`);
    y += 22;
    const top = y;
    for (const row of panel.rows) {
      parts.push(`<text x="${LABEL - 6}" y="${y + 13}" text-anchor="end" font-size="12">${escape(row.label)}</text>`,
        `<rect x="${LABEL}" y="${y + 3}" width="${Math.max(1, x(row.value) - LABEL).toFixed(1)}" height="${ROW - 6}" fill="${row.value >= 1 ? "#2a7ab9" : "#c0504d"}"/>`,
        `<text x="${(x(row.value) + 4).toFixed(1)}" y="${y + 13}" font-size="11">${row.value.toFixed(2)}×</text>`);
      y += ROW;
    }
    parts.push(`<line x1="${x(1).toFixed(1)}" x2="${x(1).toFixed(1)}" y1="${top}" y2="${y}" stroke="#333" stroke-dasharray="3,3"/>`);
    y += 16;
  }
  const machine = Object.values(results.families)[0]?.machine;
  parts.push(`<text x="8" y="${y + 10}" font-size="11" fill="#555">${escape(machine ? `${machine.cpu}, ${machine.cores} cores` : "")}; log scale, dashed line = 1×</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${LABEL + BAR + 90}" height="${y + 24}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
${parts.join("\n")}
</svg>
`;
}
