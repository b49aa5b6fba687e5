import { Type } from "@sinclair/typebox";
import { type AnyElysia, Elysia } from "elysia";
import type { Driver } from "../db/driver.ts";
import { addRoute } from "./_route.ts";
import type { CheckResult, HealthCheck } from "./module.ts";
import { routeDetail } from "./route-doc.ts";

/** Options of {@link healthRoutes}. */
export interface HealthRoutesOptions {
  /** Path (default `/api/v1/health`). */
  prefix?: string;
  /** OpenAPI tags (default `["Observability"]`). */
  tags?: string[];
  /** Checks, in the order they appear in the answer. */
  checks?: HealthCheck[];
}

/** The health answer: overall state plus each check (null keys omitted). */
export interface HealthReport {
  status: CheckResult["state"];
  checks?: Record<string, CheckResult>;
}

const CHECK_NAME = /^[A-Za-z0-9_-]+$/;

/** Whether a health-check name is valid: letters, digits, `_` and `-` only. */
export function isValidCheckName(name: string): boolean {
  return CHECK_NAME.test(name);
}

/** A check that the store answers `SELECT 1`. */
export function databaseCheck(db: Driver, timeoutMs = 5000): HealthCheck {
  return {
    name: "database",
    timeoutMs,
    async check(): Promise<CheckResult> {
      try {
        await db.ping(timeoutMs);
        return { state: "healthy" };
      } catch (error) {
        return { state: "unhealthy", message: `Database connection failed: ${messageOf(error)}` };
      }
    },
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function runCheck(check: HealthCheck): Promise<CheckResult> {
  const timeoutMs = check.timeoutMs ?? 5000;
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

/** Runs every check (concurrently, each with its timeout) and combines them. */
export async function healthReport(checks: readonly HealthCheck[]): Promise<HealthReport> {
  if (checks.length === 0) return { status: "healthy" };
  const results = await Promise.all(checks.map(runCheck));
  const report: Record<string, CheckResult> = {};
  let status: CheckResult["state"] = "healthy";
  results.forEach((result, index) => {
    report[checks[index]!.name] = result;
    if (result.state === "unhealthy") status = "unhealthy";
    else if (result.state === "degraded" && status === "healthy") status = "degraded";
  });
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

/**
 * `GET /api/v1/health`: 200 when healthy or degraded, 503 when any check is
 * unhealthy (readiness semantics).
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
  addRoute(app, "GET", prefix, async ({ set }: { set: { status?: number } }) => {
    const report = await healthReport(checks);
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
