import type { CircuitSnapshot } from "../core/circuit-breaker.ts";
import { OutboundRegistry } from "../core/resilient-fetch.ts";
import { Type } from "@sinclair/typebox";
import { type AnyElysia, Elysia } from "elysia";
import type { Driver } from "../db/driver.ts";
import { addRoute } from "./_route.ts";
import type { Readiness } from "./readiness.ts";
import type { CheckResult, HealthCheck } from "./module.ts";
import { routeDetail } from "./route-doc.ts";
import { pollIntervalMs, sleepUnlessAborted, sseResponse } from "./sse.ts";

/**
 * Milliseconds within which every health answer is sent (default of
 * {@link HealthRoutesOptions.timeoutMs}): probes of load balancers and
 * Kubernetes commonly time out after 1 s, and a probe that times out marks the
 * instance dead rather than unhealthy.
 */
export const HEALTH_TIMEOUT_MS = 900;

/** Options of {@link healthRoutes}. */
export interface HealthRoutesOptions {
  /** Path (default `/api/v1/health`). */
  prefix?: string;
  /** The instance's readiness: while it drains, the answer is 503 without running the checks. */
  readiness?: Readiness;
  /** OpenAPI tags (default `["Observability"]`). */
  tags?: string[];
  /** Checks, in the order they appear in the answer. */
  checks?: HealthCheck[];
  /**
   * Milliseconds the whole answer may take (default {@link HEALTH_TIMEOUT_MS}):
   * a check still running then is reported unhealthy; a check's own
   * `timeoutMs` can only shorten it.
   */
  timeoutMs?: number;
  /** Outbound breakers to report (see {@link HealthReportOptions.circuits}). */
  circuits?: () => readonly CircuitSnapshot[];
  /** Answer 503 while something holds the readiness back ({@link Readiness.hold}); the readiness probe does. */
  gated?: boolean;
  /** Adds `GET {prefix}/$stream`: the answer as server-sent events every `poll_interval` seconds, never ending (chapkit 1.x). */
  stream?: boolean;
}

/** Options of {@link healthReport}. */
export interface HealthReportOptions {
  /** Outbound breakers to report: each one not closed adds a `degraded` entry `outbound:<origin>`. */
  circuits?: () => readonly CircuitSnapshot[];
  /** Upper bound on every check's time, in milliseconds (default {@link HEALTH_TIMEOUT_MS}). */
  timeoutMs?: number;
}

/** The health answer: overall state plus each check (null keys omitted). */
export interface HealthReport {
  /** The worst state of any check (`healthy` with no checks); `unhealthy` answers 503. */
  status: CheckResult["state"];
  /** Each check's outcome by name; absent when the service has no checks. */
  checks?: Record<string, CheckResult>;
}

const CHECK_NAME = /^[A-Za-z0-9_-]+$/;

/** Whether a health-check name is valid: letters, digits, `_` and `-` only. */
export function isValidCheckName(name: string): boolean {
  return CHECK_NAME.test(name);
}

/** Options of {@link cachedCheck}. */
export interface CachedCheckOptions {
  /** Milliseconds a result is reused before the check runs again (default 1000). */
  ttlMs?: number;
}

/** A health check that keeps its last result; see {@link cachedCheck}. */
export interface CachedHealthCheck extends HealthCheck {
  /** The last result and when it was taken (epoch ms), or undefined before the first run. */
  last(): { result: CheckResult; at: number } | undefined;
  /** Forgets the last result, so the next report runs the check (e.g. when a breaker changes state). */
  invalidate(): void;
}

/**
 * Wraps a check so that frequent probes do not each hit the dependency: the
 * last result is reused for `ttlMs`, and callers arriving while the check runs
 * share that one run (a hung dependency never collects a pile of checks).
 */
export function cachedCheck(check: HealthCheck, options: CachedCheckOptions = {}): CachedHealthCheck {
  const ttlMs = options.ttlMs ?? 1000;
  let last: { result: CheckResult; at: number } | undefined;
  let running: Promise<CheckResult> | undefined;
  let generation = 0;
  const run = (): Promise<CheckResult> => {
    const started = generation;
    const settled = Promise.resolve()
      .then(() => check.check())
      .catch((error: unknown): CheckResult => ({ state: "unhealthy", message: `Check failed: ${messageOf(error)}` }))
      .then((result) => {
        // A result that raced an invalidation is stale: keep it out of the cache.
        if (started === generation) last = { result, at: Date.now() };
        return result;
      })
      .finally(() => {
        if (running === settled) running = undefined;
      });
    running = settled;
    return settled;
  };
  const wrapped: CachedHealthCheck = {
    name: check.name,
    check(): Promise<CheckResult> {
      if (last && Date.now() - last.at < ttlMs) return Promise.resolve(last.result);
      return running ?? run();
    },
    last: () => last,
    invalidate(): void {
      generation++;
      last = undefined;
      running = undefined;
    },
  };
  if (check.timeoutMs !== undefined) wrapped.timeoutMs = check.timeoutMs;
  return wrapped;
}

/** Options of {@link databaseCheck}. */
export interface DatabaseCheckOptions {
  /** Milliseconds the store has to answer its ping (default 500). */
  timeoutMs?: number;
  /** Milliseconds a result is reused (default 1000); a store breaker's state change drops it at once. */
  ttlMs?: number;
}

/**
 * The `database` check: the store answers its ping within a short timeout.
 * While the store's circuit breaker is open it answers unhealthy at once,
 * without touching the store; results are cached for `ttlMs` and dropped
 * whenever the breaker changes state, so recovery shows on the next probe.
 */
export function databaseCheck(db: Driver, options: DatabaseCheckOptions = {}): HealthCheck {
  const timeoutMs = options.timeoutMs ?? 500;
  const ping = cachedCheck({
    name: "database",
    async check(): Promise<CheckResult> {
      try {
        await db.ping(timeoutMs);
        return { state: "healthy" };
      } catch (error) {
        return { state: "unhealthy", message: `Database connection failed: ${messageOf(error)}` };
      }
    },
  }, options.ttlMs === undefined ? {} : { ttlMs: options.ttlMs });
  db.circuit?.onStateChange(() => ping.invalidate());
  return {
    name: "database",
    timeoutMs: timeoutMs + 100,
    check(): CheckResult | Promise<CheckResult> {
      const circuit = db.circuit;
      if (circuit && circuit.state !== "closed") {
        const why = circuit.snapshot().lastError ?? "unreachable";
        return {
          state: "unhealthy",
          message: `Database connection failed: ${why} (circuit ${circuit.state}, next probe in ${circuit.retryAfterMs()} ms)`,
        };
      }
      // A connection failure since the last answer makes a cached "healthy" stale.
      if (circuit && circuit.failures > 0) ping.invalidate();
      return ping.check();
    },
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function runCheck(check: HealthCheck, budgetMs: number): Promise<CheckResult> {
  const timeoutMs = Math.min(check.timeoutMs ?? budgetMs, budgetMs);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => resolve({ state: "unhealthy", message: `Check timed out after ${timeoutMs} ms` }), timeoutMs);
  });
  try {
    const result = await Promise.race([Promise.resolve().then(() => check.check()), timeout]);
    return result.message === undefined || result.message === null
      ? { state: result.state }
      : { state: result.state, message: result.message };
  } catch (error) {
    return { state: "unhealthy", message: `Check failed: ${messageOf(error)}` };
  } finally {
    clearTimeout(timer);
  }
}

/** The key under which a service provides its {@link OutboundRegistry}. */
export const OUTBOUND_KEY = "outbound";

/** The service's {@link OutboundRegistry}, provided on first use: add a policy to it to see its breakers in `/metrics` and health. */
export function outboundRegistryOf(context: { has(key: string): boolean; get<T>(key: string): T; provide<T>(key: string, value: T): void }): OutboundRegistry {
  if (!context.has(OUTBOUND_KEY)) context.provide(OUTBOUND_KEY, new OutboundRegistry());
  return context.get<OutboundRegistry>(OUTBOUND_KEY);
}

/**
 * One `degraded` entry per outbound breaker that is not closed, named
 * `outbound:<origin>`: the service still answers, but calls to that
 * dependency fail fast until its breaker closes.
 */
function openCircuitEntries(circuits: readonly CircuitSnapshot[]): [string, CheckResult][] {
  return circuits.filter((circuit) => circuit.state !== "closed").map((circuit) => [
    `outbound:${circuit.name}`,
    {
      state: "degraded",
      message: `Circuit ${circuit.state} after ${circuit.failures} failures${circuit.lastError ? ` (${circuit.lastError})` : ""}; next trial in ${Math.ceil(circuit.retryAfterMs / 1000)} s`,
    },
  ]);
}

/**
 * Runs every check (concurrently, each bounded by its own timeout and by
 * `options.timeoutMs`) and combines them: unhealthy if any is, else degraded
 * if any is, else healthy. Answers within the bound whatever the checks do.
 */
export async function healthReport(checks: readonly HealthCheck[], options: HealthReportOptions = {}): Promise<HealthReport> {
  const circuits = openCircuitEntries(options.circuits?.() ?? []);
  if (checks.length === 0 && circuits.length === 0) return { status: "healthy" };
  const budgetMs = options.timeoutMs ?? HEALTH_TIMEOUT_MS;
  const results = await Promise.all(checks.map((check) => runCheck(check, budgetMs)));
  const report: Record<string, CheckResult> = {};
  let status: CheckResult["state"] = "healthy";
  results.forEach((result, index) => {
    report[checks[index]!.name] = result;
    if (result.state === "unhealthy") status = "unhealthy";
    else if (result.state === "degraded" && status === "healthy") status = "degraded";
  });
  for (const [name, result] of circuits) {
    report[name] = result;
    if (status === "healthy") status = "degraded";
  }
  return { status, checks: report };
}

const CheckSchema = Type.Object({
  state: Type.Union([Type.Literal("healthy"), Type.Literal("degraded"), Type.Literal("unhealthy")]),
  message: Type.Optional(Type.String()),
});

/** JSON schema of the health answer. */
export const HealthReportSchema = Type.Object({
  status: CheckSchema.properties.state,
  checks: Type.Optional(Type.Record(Type.String(), CheckSchema)),
}, { title: "HealthStatus" });

function drainingReport(readiness: Readiness): HealthReport {
  return { status: "unhealthy", checks: { draining: { state: "unhealthy", message: `The instance is draining (${readiness.reason})` } } };
}

/** Options of {@link probeRoutes}. */
export interface ProbeRoutesOptions {
  /** Checks of the readiness probe (the same as the health route's). */
  checks?: HealthCheck[];
  /** Outbound breakers to report, as on the health route. */
  circuits?: () => readonly CircuitSnapshot[];
  /** The instance's readiness. */
  readiness?: Readiness;
  /** Bound of the readiness answer in ms (default {@link HEALTH_TIMEOUT_MS}). */
  timeoutMs?: number;
  /** OpenAPI tags (default `["Observability"]`). */
  tags?: string[];
}

/**
 * Kubernetes-style probes: `GET /health/live` answers 200 while the process
 * serves at all (a failing liveness probe restarts the pod, so it checks no
 * dependency), `GET /health/ready` answers like the health route: 503 while
 * a check is unhealthy or the instance drains.
 */
export function probeRoutes(options: ProbeRoutesOptions = {}): AnyElysia {
  const tags = options.tags ?? ["Observability"];
  const app = new Elysia().use(healthRoutes({ ...options, prefix: "/health/ready", tags, gated: true }));
  addRoute(app, "GET", "/health/live", () => ({ status: "healthy" }), {
    detail: routeDetail({ summary: "Liveness probe", description: "200 while the process serves.", tags, response: HealthReportSchema }),
  });
  return app;
}

/**
 * `GET /api/v1/health`: 200 when healthy or degraded, 503 when any check is
 * unhealthy (readiness semantics), always within `timeoutMs` (default
 * {@link HEALTH_TIMEOUT_MS}).
 */
export function healthRoutes(options: HealthRoutesOptions = {}): AnyElysia {
  const prefix = options.prefix ?? "/api/v1/health";
  const checks = options.checks ?? [];
  for (const check of checks) {
    if (!isValidCheckName(check.name)) {
      throw new TypeError(`Invalid health check name ${JSON.stringify(check.name)}: use letters, digits, _ and -`);
    }
  }
  const app = new Elysia();
  const reportOptions: HealthReportOptions = {
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.circuits ? { circuits: options.circuits } : {}),
  };
  const readiness = options.readiness;
  const current = (): Promise<HealthReport> => {
    if (readiness?.draining) return Promise.resolve(drainingReport(readiness));
    const holds = options.gated ? readiness?.holds ?? [] : [];
    if (holds.length > 0) {
      return Promise.resolve({
        status: "unhealthy",
        checks: Object.fromEntries(holds.map((hold) => [hold.name, { state: "unhealthy", message: hold.reason }])),
      });
    }
    return healthReport(checks, reportOptions);
  };
  if (options.stream) {
    addRoute(app, "GET", `${prefix}/$stream`, ({ query, request }: { query: Record<string, unknown>; request: Request }) => {
      const intervalMs = pollIntervalMs(query, 1000, "the health stream");
      return sseResponse(async ({ send, signal }) => {
        while (send({ data: await current() })) {
          await sleepUnlessAborted(intervalMs, signal);
          if (signal.aborted) return;
        }
      }, { signal: request.signal });
    }, {
      detail: routeDetail({
        summary: "Stream health",
        description: "Server-sent events: the health answer at once, then one every `poll_interval` seconds (default 1), until the client leaves.",
        tags: options.tags ?? ["Observability"],
        query: Type.Object({ poll_interval: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 3600, default: 1 })) }),
        response: Type.String({ description: "`data:` events, each a health answer as compact JSON", examples: ['data: {"status":"healthy"}\n\n'] }),
        responseType: "text/event-stream",
      }),
    });
  }
  addRoute(app, "GET", prefix, async ({ set }: { set: { status?: number } }) => {
    const report = await current();
    if (report.status === "unhealthy") set.status = 503;
    return report;
  }, {
    detail: routeDetail({
      summary: "Health check",
      description: "200 when healthy or degraded, 503 when unhealthy.",
      tags: options.tags ?? ["Observability"],
      response: HealthReportSchema,
    }),
  });
  return app;
}
