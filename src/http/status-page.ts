import { Type } from "@sinclair/typebox";
import { type AnyElysia, Elysia } from "elysia";
import type { Monitoring } from "../observability/monitoring.ts";
import type { SeriesSummary } from "../observability/request-series.ts";
import { addRoute } from "./_route.ts";
import { escapeHtml, lineChart, shortNumber } from "./_svg-chart.ts";
import { withPermission } from "./auth-guard-permissions.ts";
import { healthReport, type HealthReport } from "./health.ts";
import type { HealthCheck } from "./module.ts";
import { routeDetail } from "./route-doc.ts";

/** Options of {@link statusPage}. */
export interface StatusPageOptions {
  /** Path (default `/status`). */
  path?: string;
  /** The service's name, in the title. */
  title: string;
  /** The health checks of `/api/v1/health` (none: the health section says health is not served). */
  checks?: readonly HealthCheck[];
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

interface MinutePoint {
  rate: number | null;
  p50: number | null;
  p95: number | null;
  errorRatio: number | null;
}

/** Sixty one-minute points of the last hour, oldest first. */
function minutes(monitoring: Monitoring, now: number): MinutePoint[] {
  const slots = monitoring.requests.slots(HOUR, now);
  const end = now - (now % MINUTE) + MINUTE;
  return Array.from({ length: 60 }, (_, i) => {
    const start = end - (60 - i) * MINUTE;
    const inMinute = slots.filter((slot) => slot.start >= start && slot.start < start + MINUTE);
    const summary = monitoring.requests.summarise(inMinute, MINUTE);
    if (summary.count === 0) return { rate: i === 59 ? null : 0, p50: null, p95: null, errorRatio: null };
    return { rate: summary.rate, p50: summary.p50 * 1000, p95: summary.p95 * 1000, errorRatio: summary.errorRatio * 100 };
  });
}

function metricTotal(series: { child: { get?(): number; count?(): number } }[]): number {
  return series.reduce((sum, { child }) => sum + (child.count ? child.count() : child.get!()), 0);
}

function stat(label: string, metric: string, value: string): string {
  return `<div class="stat"><dt>${escapeHtml(label)}</dt><dd data-metric="${metric}">${escapeHtml(value)}</dd></div>`;
}

function healthSection(report: HealthReport | null): string {
  if (!report) return `<p>Health checks are not served (<code>withHealth()</code> is off).</p>`;
  const rows = Object.entries(report.checks ?? {}).map(([name, result]) =>
    `<tr><td>${escapeHtml(name)}</td><td class="${result.state}">${result.state}</td><td>${escapeHtml(result.message ?? "")}</td></tr>`
  ).join("");
  return `<p>Overall: <strong class="${report.status}" data-health="${report.status}">${report.status}</strong></p>` +
    (rows ? `<table><thead><tr><th>check</th><th>state</th><th>message</th></tr></thead><tbody>${rows}</tbody></table>` : "");
}

function modelsSection(monitoring: Monitoring): string {
  const models = monitoring.ml.report();
  if (models.length === 0) return "<p>No model has been trained or used by this process.</p>";
  const rows = models.map((m) =>
    `<tr data-model="${escapeHtml(m.model_artifact_id)}"><td><code>${escapeHtml(m.model_artifact_id)}</code></td>` +
    `<td>${m.predictions}</td><td>${shortNumber(m.error_rate * 100)}%</td>` +
    `<td>${shortNumber(m.latency_p50_seconds * 1000)}</td><td>${shortNumber(m.latency_p95_seconds * 1000)}</td>` +
    `<td>${m.feedback ? shortNumber(m.feedback.mae) : "–"}</td></tr>`
  ).join("");
  return `<table><thead><tr><th>model</th><th>predictions</th><th>errors</th><th>p50 ms</th><th>p95 ms</th><th>MAE</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function slowQueriesSection(monitoring: Monitoring): string {
  const entries = [...(monitoring.slowQueries?.entries() ?? [])].reverse().slice(0, 10);
  if (!monitoring.slowQueries) return "<p>The slow-query log is off.</p>";
  if (entries.length === 0) return `<p>No statement took ${monitoring.slowQueries.thresholdMs} ms or more.</p>`;
  const rows = entries.map((q) =>
    `<tr><td>${escapeHtml(q.at)}</td><td>${escapeHtml(q.store)}</td><td>${shortNumber(q.durationMs)}</td>` +
    `<td><code>${escapeHtml(q.sql.length > 300 ? `${q.sql.slice(0, 300)}…` : q.sql)}</code>` +
    `${q.plan.length ? `<pre>${escapeHtml(q.plan.join("\n"))}</pre>` : ""}</td></tr>`
  ).join("");
  return `<table data-slow-queries="${entries.length}"><thead><tr><th>at</th><th>store</th><th>ms</th><th>statement and plan</th></tr></thead><tbody>${rows}</tbody></table>`;
}

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#222;max-width:1200px}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.5rem}dl{display:flex;flex-wrap:wrap;gap:1rem}
.stat{border:1px solid #ddd;border-radius:6px;padding:.5rem .8rem;min-width:8rem}dt{color:#666;font-size:.8rem}
dd{margin:0;font-size:1.3rem;font-weight:600}.charts{display:flex;flex-wrap:wrap;gap:1rem}figure{margin:0}
figcaption{font-weight:600;margin-bottom:.25rem}table{border-collapse:collapse}td,th{border-bottom:1px solid #eee;padding:.25rem .6rem;text-align:left}
.healthy{color:#1a7f37}.degraded{color:#9a6700}.unhealthy{color:#cf222e}`;

/** Renders the status page HTML now. */
export async function renderStatusPage(monitoring: Monitoring, options: StatusPageOptions): Promise<string> {
  const now = Date.now();
  const report = options.checks ? await healthReport(options.checks) : null;
  await monitoring.jobs.refresh();
  const hour: SeriesSummary = monitoring.requests.summary(HOUR, now);
  const points = minutes(monitoring, now);
  const jobs = (status: string): number => monitoring.jobs.child(status).get();
  const stats = [
    stat("requests (since start)", "requests_total", String(metricTotal(monitoring.httpDuration.series()))),
    stat("problems (since start)", "errors_total", String(metricTotal(monitoring.errors.series()))),
    stat("requests / s (last hour)", "request_rate", shortNumber(hour.rate)),
    stat("p50 latency (last hour)", "latency_p50_ms", `${shortNumber(hour.p50 * 1000)} ms`),
    stat("p95 latency (last hour)", "latency_p95_ms", `${shortNumber(hour.p95 * 1000)} ms`),
    stat("5xx ratio (last hour)", "error_ratio", `${shortNumber(hour.errorRatio * 100)}%`),
    stat("jobs pending", "jobs_pending", String(jobs("pending"))),
    stat("jobs running", "jobs_running", String(jobs("running"))),
    stat("rows predicted", "predict_rows_total", String(monitoring.mlPredictRows.child().get())),
  ].join("");
  const charts = [
    lineChart("Request rate", [{ label: "requests/s", color: "#0969da", points: points.map((p) => p.rate) }], { unit: "req/s" }),
    lineChart("Latency", [
      { label: "p50", color: "#1a7f37", points: points.map((p) => p.p50) },
      { label: "p95", color: "#9a6700", points: points.map((p) => p.p95) },
    ], { unit: "ms" }),
    lineChart("Server errors", [{ label: "5xx share", color: "#cf222e", points: points.map((p) => p.errorRatio) }], { unit: "%" }),
  ].join("");
  const title = `${options.title}: status`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
    `<meta http-equiv="refresh" content="60"><link rel="icon" href="data:,"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>` +
    `<h1>${escapeHtml(title)}</h1><p><small>Rendered ${new Date(now).toISOString()}; refreshes every minute.</small></p>` +
    `<h2>Health</h2>${healthSection(report)}` +
    `<h2>Traffic</h2><dl>${stats}</dl><div class="charts">${charts}</div>` +
    `<h2>Models</h2>${modelsSection(monitoring)}` +
    `<h2>Slow statements</h2>${slowQueriesSection(monitoring)}</body></html>`;
}

/**
 * `GET /status`: a server-rendered page (HTML with inline SVG charts, no
 * script and no external asset) of health, request rate, p50/p95 latency and
 * error ratio over the last hour by minute, job queue depth and per-model
 * run times. Under auth it needs `metrics:read`.
 */
export function statusPage(monitoring: Monitoring, options: StatusPageOptions): AnyElysia {
  const app = new Elysia();
  addRoute(app, "GET", options.path ?? "/status", async () =>
    new Response(await renderStatusPage(monitoring, options), {
      headers: {
        "content-type": "text/html; charset=utf-8",
        "cache-control": "no-store",
        "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
      },
    }), {
    detail: withPermission(routeDetail({
      summary: "Status page",
      description: "Health, traffic, latency, errors, jobs and models over the last hour, as HTML with SVG charts.",
      tags: ["Observability"],
      response: Type.String({ examples: ["<!doctype html><html><head><title>Status</title></head><body>…</body></html>"] }),
      responseType: "text/html",
    }), "metrics:read"),
  });
  return app;
}
