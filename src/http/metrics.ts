import { Type } from "@sinclair/typebox";
import { type AnyElysia, Elysia } from "elysia";
import { UnauthorizedError } from "../core/errors.ts";
import type { HistogramChild } from "../observability/metrics.ts";
import { CONTENT_TYPES, negotiateExposition } from "../observability/metrics.ts";
import { type Monitoring, UNMATCHED_ROUTE } from "../observability/monitoring.ts";
import { parseTraceparent } from "../observability/trace-context.ts";
import { type Span, SpanKind } from "../observability/tracing.ts";
import { addRoute } from "./_route.ts";
import { withPermission } from "./auth-guard-permissions.ts";
import { isUnderBasePath, requestPath } from "./base-path.ts";
import { routeDetail } from "./route-doc.ts";

const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

interface MeasuredContext {
  chapkitMetricsStart?: number;
  chapkitMetricsMethod?: string;
  chapkitSpan?: Span;
  chapkitSample?: { cpu: { user: number; system: number }; heap: number };
}

interface ProcessUsage {
  cpuUsage?(previous?: { user: number; system: number }): { user: number; system: number };
  memoryUsage?(): { heapUsed: number };
}

const usage = (globalThis as { process?: ProcessUsage }).process ?? {};

/** The `route` label: the route template Elysia matched; the catch-all and no match collapse to `unmatched`. */
function routeLabel(route: string | undefined): string {
  return route === undefined || route === "" || route === "/*" || route === "*" ? UNMATCHED_ROUTE : route;
}

/**
 * Times every request into `http_server_request_duration_seconds` (labels:
 * method, the route template never the raw path, status code) and counts
 * the requests in flight in `http_server_active_requests`. Unknown methods
 * are `_OTHER` and unknown paths `unmatched`, so label cardinality is
 * bounded by the route table. With `basePath`, only requests under it count.
 */
export function httpMetrics(monitoring: Monitoring, basePath = ""): Elysia {
  const children = new Map<string, HistogramChild>();
  const histogram = (method: string, route: string, status: number): HistogramChild => {
    const key = `${method} ${status} ${route}`;
    let child = children.get(key);
    if (!child) children.set(key, child = monitoring.httpDuration.child(method, route, String(status)));
    return child;
  };
  const tracer = monitoring.tracer;
  const every = monitoring.resourceSampleEvery;
  let counter = 0;
  return new Elysia({ name: "chapkit-http-metrics" })
    .onRequest((context) => {
      // Embedded under a prefix, a host app's own requests are not the service's to measure.
      if (basePath && !isUnderBasePath(requestPath(context.request.url), basePath)) return;
      const method = KNOWN_METHODS.has(context.request.method) ? context.request.method : "_OTHER";
      const measured = context as unknown as MeasuredContext;
      measured.chapkitMetricsStart = performance.now();
      measured.chapkitMetricsMethod = method;
      monitoring.httpActive.child(method).inc();
      // One request in `every`: process CPU and heap before it, compared after it.
      if (every > 0 && ++counter % every === 0 && usage.cpuUsage && usage.memoryUsage) {
        measured.chapkitSample = { cpu: usage.cpuUsage(), heap: usage.memoryUsage().heapUsed };
      }
      if (tracer) {
        const headers = context.request.headers;
        const remote = parseTraceparent(headers.get("traceparent"), headers.get("tracestate"));
        const span = tracer.startSpan(method, {
          kind: SpanKind.SERVER,
          parent: remote,
          attributes: { "http.request.method": method, "url.path": requestPath(context.request.url) },
        });
        measured.chapkitSpan = span;
        // Handlers, store queries and jobs submitted by this request run under its span.
        tracer.enter(span);
      }
    })
    .onAfterResponse({ as: "global" }, (context) => {
      const measured = context as unknown as MeasuredContext;
      const start = measured.chapkitMetricsStart;
      const method = measured.chapkitMetricsMethod;
      if (start === undefined || method === undefined) return;
      measured.chapkitMetricsStart = undefined;
      monitoring.httpActive.child(method).dec();
      const value = (context as { responseValue?: unknown }).responseValue;
      const status = value instanceof Response ? value.status : Number(context.set.status ?? 200) || 200;
      const route = routeLabel((context as { route?: string }).route);
      const seconds = (performance.now() - start) / 1000;
      histogram(method, route, status).observe(seconds);
      monitoring.requests.record(seconds, status);
      const sample = measured.chapkitSample;
      if (sample) {
        const cpu = usage.cpuUsage!(sample.cpu);
        monitoring.recordResourceSample(route, (cpu.user + cpu.system) / 1e6, usage.memoryUsage!().heapUsed - sample.heap);
      }
      const span = measured.chapkitSpan;
      if (span) {
        span.name = route === UNMATCHED_ROUTE ? method : `${method} ${route}`;
        if (route !== UNMATCHED_ROUTE) span.setAttribute("http.route", route);
        span.setAttribute("http.response.status_code", status);
        if (status >= 500) {
          span.statusCode = 2;
          span.setAttribute("error.type", String(status));
        }
        span.end();
      }
    }) as unknown as Elysia;
}

/** Options of {@link metricsRoutes}. */
export interface MetricsRoutesOptions {
  /** Path (default `/metrics`). */
  path?: string;
  /**
   * A scrape token: requests with `Authorization: Bearer <token>` may read
   * the metrics. When set, a request without it (and without the
   * `metrics:read` permission under auth) is refused.
   */
  token?: string;
}

/** The default path of the metrics endpoint. */
export const METRICS_PATH = "/metrics";

/** Whether a request carries the scrape token. */
export function hasScrapeToken(request: Request, token: string | undefined): boolean {
  if (!token) return false;
  const header = request.headers.get("authorization");
  return header !== null && header.length === token.length + 7 && header.slice(0, 7).toLowerCase() === "bearer " &&
    timingSafeEqual(header.slice(7), token);
}

function timingSafeEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length && i < b.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * `GET /metrics`: every metric of the registry in the Prometheus text format,
 * or OpenMetrics 1.0 when `Accept` asks for `application/openmetrics-text`.
 * Under auth the route needs `metrics:read` (or the scrape token, which the
 * auth guard admits); without auth but with a token, the token is required.
 */
export function metricsRoutes(monitoring: Monitoring, options: MetricsRoutesOptions & { authEnabled?: boolean } = {}): AnyElysia {
  const path = options.path ?? METRICS_PATH;
  const app = new Elysia();
  addRoute(app, "GET", path, async ({ request }: { request: Request }) => {
    if (options.token && !options.authEnabled && !hasScrapeToken(request, options.token)) {
      throw new UnauthorizedError("A scrape token is required to read the metrics");
    }
    const format = negotiateExposition(request.headers.get("accept"));
    return new Response(await monitoring.registry.expose(format), {
      headers: { "content-type": CONTENT_TYPES[format], "cache-control": "no-store" },
    });
  }, {
    detail: withPermission(routeDetail({
      summary: "Prometheus metrics",
      description: "Prometheus text format, or OpenMetrics 1.0 when Accept asks for application/openmetrics-text.",
      tags: ["Observability"],
      response: Type.String({ examples: ["# TYPE http_requests_total counter\nhttp_requests_total{method=\"GET\",status=\"200\"} 42\n"] }),
      responseType: "text/plain",
    }), "metrics:read"),
  });
  return app;
}
