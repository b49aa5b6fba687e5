// Server-rendered SVG line charts for the status page: no script, no external asset.

/** One line of a chart; null points are gaps (no data). */
export interface ChartSeries {
  label: string;
  color: string;
  points: readonly (number | null)[];
}

/** Escapes text for HTML and SVG. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

/** A short number for axis labels: 3 significant digits. */
export function shortNumber(value: number): string {
  if (value === 0) return "0";
  if (Math.abs(value) >= 1000) return `${Number((value / 1000).toPrecision(3))}k`;
  return String(Number(value.toPrecision(3)));
}

const WIDTH = 560;
const HEIGHT = 160;
const LEFT = 48;
const BOTTOM = 20;

/**
 * A line chart of equally spaced points (oldest left), y from 0 to the
 * largest value (or `max`), with a label on the top gridline and a legend.
 */
export function lineChart(title: string, series: readonly ChartSeries[], options: { unit?: string; max?: number } = {}): string {
  const values = series.flatMap((s) => s.points.filter((p): p is number => p !== null));
  const largest = options.max ?? Math.max(0, ...values);
  const top = largest > 0 ? largest : 1;
  const scale = top;
  const length = Math.max(2, ...series.map((s) => s.points.length));
  const plotWidth = WIDTH - LEFT - 8;
  const plotHeight = HEIGHT - BOTTOM - 8;
  const x = (i: number): number => LEFT + (i * plotWidth) / (length - 1);
  const y = (v: number): number => 8 + plotHeight - (v / scale) * plotHeight;
  const unit = options.unit ? ` ${options.unit}` : "";
  let body = "";
  for (const fraction of [0, 0.5, 1]) {
    const gy = y(scale * fraction);
    body += `<line x1="${LEFT}" y1="${gy.toFixed(1)}" x2="${WIDTH - 8}" y2="${gy.toFixed(1)}" stroke="#ddd"/>`;
    body += `<text x="${LEFT - 4}" y="${(gy + 4).toFixed(1)}" text-anchor="end" font-size="10" fill="#555">${escapeHtml(shortNumber(top * fraction))}</text>`;
  }
  body += `<text x="${LEFT}" y="${HEIGHT - 4}" font-size="10" fill="#555">-60 min</text>`;
  body += `<text x="${WIDTH - 8}" y="${HEIGHT - 4}" font-size="10" fill="#555" text-anchor="end">now</text>`;
  for (const s of series) {
    let path = "";
    let pen = false;
    s.points.forEach((point, i) => {
      if (point === null) {
        pen = false;
        return;
      }
      path += `${pen ? "L" : "M"}${x(i).toFixed(1)},${y(point).toFixed(1)}`;
      pen = true;
    });
    if (path) body += `<path d="${path}" fill="none" stroke="${s.color}" stroke-width="1.5"/>`;
    // A point with no neighbour draws no line: mark it.
    s.points.forEach((point, i) => {
      if (point === null || (s.points[i - 1] ?? null) !== null || (s.points[i + 1] ?? null) !== null) return;
      body += `<circle cx="${x(i).toFixed(1)}" cy="${y(point).toFixed(1)}" r="2.5" fill="${s.color}"/>`;
    });
  }
  const legend = series.map((s) => `<span style="color:${s.color}">■</span> ${escapeHtml(s.label)}`).join(" &nbsp; ");
  return `<figure><figcaption>${escapeHtml(title)}${escapeHtml(unit)} <small>${legend}</small></figcaption>` +
    `<svg role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" xmlns="http://www.w3.org/2000/svg">${body}</svg></figure>`;
}
