// A dependency-free SVG line chart: loss and accuracy per epoch, side by side.

const WIDTH = 900;
const HEIGHT = 340;

function panel(x0, title, series, yLabel, { min, max }) {
  const left = x0 + 56, top = 36, width = 360, height = 240;
  const epochs = Math.max(...series.map((s) => s.values.length));
  const sx = (i) => left + (epochs <= 1 ? width / 2 : (i / (epochs - 1)) * width);
  const sy = (v) => top + height - ((v - min) / (max - min || 1)) * height;
  const parts = [`<text x="${left + width / 2}" y="22" text-anchor="middle" font-weight="bold">${title}</text>`,
    `<rect x="${left}" y="${top}" width="${width}" height="${height}" fill="none" stroke="#999"/>`];
  for (let t = 0; t <= 4; t++) {
    const v = min + ((max - min) * t) / 4;
    parts.push(`<line x1="${left}" x2="${left + width}" y1="${sy(v)}" y2="${sy(v)}" stroke="#eee"/>`,
      `<text x="${left - 6}" y="${sy(v) + 4}" text-anchor="end" font-size="11">${v.toFixed(max - min < 1 ? 3 : 1)}</text>`);
  }
  parts.push(`<text x="${left + width / 2}" y="${top + height + 32}" text-anchor="middle" font-size="12">epoch</text>`,
    `<text x="${x0 + 14}" y="${top + height / 2}" font-size="12" transform="rotate(-90 ${x0 + 14} ${top + height / 2})" text-anchor="middle">${yLabel}</text>`);
  for (let i = 0; i < epochs; i++) {
    if (epochs <= 12 || i % Math.ceil(epochs / 12) === 0 || i === epochs - 1) {
      parts.push(`<text x="${sx(i)}" y="${top + height + 16}" text-anchor="middle" font-size="11">${i + 1}</text>`);
    }
  }
  series.forEach((s, k) => {
    const points = s.values.map((v, i) => `${sx(i).toFixed(1)},${sy(v).toFixed(1)}`).join(" ");
    parts.push(`<polyline points="${points}" fill="none" stroke="${s.color}" stroke-width="2"/>`,
      `<text x="${left + 8}" y="${top + 16 + 16 * k}" font-size="12" fill="${s.color}">${s.name}</text>`);
  });
  return parts.join("\n");
}

/** An SVG document: per-epoch loss (train, test) and accuracy (train, test) curves. */
export function trainingPlot({ title, trainLoss, testLoss, trainAccuracy, testAccuracy }) {
  const losses = [...trainLoss, ...testLoss];
  const accuracies = [...trainAccuracy, ...testAccuracy];
  const lossRange = { min: 0, max: Math.max(...losses) * 1.05 };
  const accuracyRange = { min: Math.floor(Math.min(...accuracies) / 5) * 5, max: 100 };
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${WIDTH / 2}" y="${HEIGHT - 8}" text-anchor="middle" font-size="12" fill="#555">${title}</text>
${panel(0, "loss", [{ name: "train", values: trainLoss, color: "#1f77b4" }, { name: "test", values: testLoss, color: "#d62728" }], "cross-entropy", lossRange)}
${panel(450, "accuracy", [{ name: "train", values: trainAccuracy, color: "#1f77b4" }, { name: "test", values: testAccuracy, color: "#d62728" }], "%", accuracyRange)}
</svg>
`;
}
