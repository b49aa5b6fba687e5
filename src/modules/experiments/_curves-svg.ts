// A metric's curves of several runs as one SVG line chart: x the step, y the value.

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
const WIDTH = 640;
const HEIGHT = 320;
const LEFT = 56;
const RIGHT = 16;
const TOP = 28;
const BOTTOM = 36;

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

function label(value: number): string {
  if (value === 0) return "0";
  const abs = Math.abs(value);
  return abs >= 1e5 || abs < 1e-3 ? value.toExponential(2) : String(Number(value.toPrecision(4)));
}

/** One run's series of a metric. */
export interface Curve {
  label: string;
  points: readonly [number, number][];
}

/** An SVG document plotting `curves` of `metric`, with axes, a legend and a `<title>` per line. */
export function curvesSvg(metric: string, curves: readonly Curve[]): string {
  const all = curves.flatMap((curve) => curve.points);
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => y);
  const xMin = xs.length ? Math.min(...xs) : 0;
  let xMax = xs.length ? Math.max(...xs) : 1;
  let yMin = ys.length ? Math.min(...ys) : 0;
  let yMax = ys.length ? Math.max(...ys) : 1;
  if (xMax === xMin) xMax = xMin + 1;
  if (yMax === yMin) {
    yMin -= Math.abs(yMin) * 0.1 || 1;
    yMax += Math.abs(yMax) * 0.1 || 1;
  }
  const plotW = WIDTH - LEFT - RIGHT;
  const plotH = HEIGHT - TOP - BOTTOM;
  const x = (v: number): string => (LEFT + ((v - xMin) / (xMax - xMin)) * plotW).toFixed(1);
  const y = (v: number): string => (TOP + plotH - ((v - yMin) / (yMax - yMin)) * plotH).toFixed(1);
  let body = `<text x="${LEFT}" y="16" font-size="13" font-weight="bold">${escape(metric)}</text>`;
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    const value = yMin + (yMax - yMin) * f;
    body += `<line x1="${LEFT}" y1="${y(value)}" x2="${WIDTH - RIGHT}" y2="${y(value)}" stroke="#e5e5e5"/>`;
    body += `<text x="${LEFT - 4}" y="${(Number(y(value)) + 4).toFixed(1)}" font-size="10" text-anchor="end" fill="#555">${label(value)}</text>`;
  }
  body += `<line x1="${LEFT}" y1="${TOP + plotH}" x2="${WIDTH - RIGHT}" y2="${TOP + plotH}" stroke="#999"/>`;
  body += `<text x="${LEFT}" y="${HEIGHT - 20}" font-size="10" fill="#555">${label(xMin)}</text>`;
  body += `<text x="${WIDTH - RIGHT}" y="${HEIGHT - 20}" font-size="10" text-anchor="end" fill="#555">${label(xMax)}</text>`;
  body += `<text x="${LEFT + plotW / 2}" y="${HEIGHT - 20}" font-size="10" text-anchor="middle" fill="#555">step</text>`;
  curves.forEach((curve, i) => {
    const color = COLORS[i % COLORS.length]!;
    const points = [...curve.points].sort((a, b) => a[0] - b[0]);
    if (points.length === 1) {
      body += `<circle cx="${x(points[0]![0])}" cy="${y(points[0]![1])}" r="3" fill="${color}"><title>${escape(curve.label)}</title></circle>`;
    } else if (points.length > 1) {
      const d = points.map(([px, py], j) => `${j === 0 ? "M" : "L"}${x(px)},${y(py)}`).join("");
      body += `<path d="${d}" fill="none" stroke="${color}" stroke-width="1.5"><title>${escape(curve.label)}</title></path>`;
    }
    const lx = LEFT + (i % 4) * 150;
    const ly = HEIGHT - 2 + Math.floor(i / 4) * 12;
    body += `<rect x="${lx}" y="${ly - 8}" width="10" height="3" fill="${color}"/>` +
      `<text x="${lx + 14}" y="${ly - 4}" font-size="10">${escape(curve.label.length > 22 ? curve.label.slice(0, 21) + "…" : curve.label)}</text>`;
  });
  // Legend rows of four below the plot.
  const height = HEIGHT + Math.max(0, Math.ceil(curves.length / 4) - 1) * 12;
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${escape(metric)}" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}">` +
    `<rect width="100%" height="100%" fill="#fff"/>${body}</svg>`;
}
