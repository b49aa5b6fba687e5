import { type FieldError, ValidationError } from "../../core/errors.ts";
import { isUlid } from "../../core/ulid.ts";
import type { EnqueueOptions, JobBackoff, JobHandler } from "./types.ts";

/** Enqueue options after defaults and range checks. */
export interface ResolvedEnqueue {
  priority: number;
  runAt: string;
  maxAttempts: number;
  backoff: JobBackoff | null;
  timeoutMs: number | null;
  dedupKey: string | null;
  dependsOn: string[];
}

/** The most attempts a job may have. */
export const MAX_ATTEMPTS = 100;

function integer(
  errors: FieldError[],
  field: string,
  value: number | undefined,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    errors.push({
      loc: ["body", field],
      msg: `Input should be an integer from ${min} to ${max}`,
      type: "value_error",
    });
    return undefined;
  }
  return value;
}

/**
 * Applies the handler's defaults to `options` and checks every range; the
 * field names in errors are those of `POST /api/v1/jobs`.
 *
 * @throws {ValidationError} listing every bad option.
 */
export function resolveEnqueue(
  handler: Pick<JobHandler, "maxAttempts" | "backoff" | "timeoutMs" | "priority">,
  options: EnqueueOptions,
  now: number,
): ResolvedEnqueue {
  const errors: FieldError[] = [];
  const priority = integer(errors, "priority", options.priority ?? handler.priority, -1000, 1000) ?? 0;
  const maxAttempts = integer(errors, "max_attempts", options.maxAttempts ?? handler.maxAttempts, 1, MAX_ATTEMPTS) ?? 1;
  const timeoutMs = integer(errors, "timeout_ms", options.timeoutMs ?? handler.timeoutMs, 1, 2 ** 31 - 1) ?? null;
  const delayMs = integer(errors, "delay_ms", options.delayMs, 0, 2 ** 31 - 1);
  let runAt = now + (delayMs ?? 0);
  if (options.runAt !== undefined) {
    const at = options.runAt instanceof Date ? options.runAt.getTime() : Date.parse(options.runAt);
    if (options.delayMs !== undefined) {
      errors.push({ loc: ["body", "run_at"], msg: "Give run_at or delay_ms, not both", type: "value_error" });
    } else if (!Number.isFinite(at)) {
      errors.push({ loc: ["body", "run_at"], msg: "Input should be an ISO 8601 date-time", type: "value_error" });
    } else {
      runAt = Math.max(now, at);
    }
  }
  const backoff = options.backoff ?? handler.backoff ?? null;
  if (backoff !== null) {
    integer(errors, "backoff.delay_ms", backoff.delay_ms, 0, 2 ** 31 - 1);
    integer(errors, "backoff.max_ms", backoff.max_ms, 0, 2 ** 31 - 1);
    if (backoff.factor !== undefined && !(Number.isFinite(backoff.factor) && backoff.factor >= 1 && backoff.factor <= 10)) {
      errors.push({ loc: ["body", "backoff", "factor"], msg: "Input should be a number from 1 to 10", type: "value_error" });
    }
  }
  const dedupKey = options.dedupKey ?? null;
  if (dedupKey !== null && (typeof dedupKey !== "string" || dedupKey.length === 0 || dedupKey.length > 200)) {
    errors.push({ loc: ["body", "dedup_key"], msg: "Input should be 1 to 200 characters", type: "value_error" });
  }
  const dependsOn = [...new Set(options.dependsOn ?? [])];
  dependsOn.forEach((id, index) => {
    if (!isUlid(id)) errors.push({ loc: ["body", "depends_on", index], msg: "Input should be a ULID", type: "value_error" });
  });
  if (errors.length > 0) throw new ValidationError(errors);
  return { priority, runAt: new Date(runAt).toISOString(), maxAttempts, backoff, timeoutMs, dedupKey, dependsOn };
}

/**
 * The wait before retry number `attempt` (the attempt that failed, from 1):
 * `delay_ms × factor^(attempt−1)` capped at `max_ms`, with jitter drawn
 * uniformly from the upper half so that many failing jobs do not retry in
 * step.
 */
export function backoffDelay(backoff: JobBackoff | null, attempt: number, random: () => number = Math.random): number {
  const base = backoff?.delay_ms ?? 1_000;
  const factor = backoff?.factor ?? 2;
  const max = backoff?.max_ms ?? 300_000;
  const delay = Math.min(max, base * factor ** Math.max(0, attempt - 1));
  return backoff?.jitter === false ? delay : delay / 2 + random() * (delay / 2);
}
