import { Type } from "@sinclair/typebox";
import { type AnyElysia, Elysia } from "elysia";
import { InvalidQueryError, NotFoundError, ValidationError } from "../../core/errors.ts";
import {
  type EnqueueOptions,
  isFinishedStatus,
  type JobBackoff,
  type JobListOptions,
  type JobRecord,
  type JobRunner,
  JOB_STATUSES,
  type JobStatus,
} from "./types.ts";
import { validateValue } from "../../core/validation.ts";
import { parseUlid } from "../../core/ulid.ts";
import { routeDetail } from "../../http/route-doc.ts";
import { located } from "./_located.ts";
import { pollIntervalMs, sleepUnlessAborted, sseResponse } from "../../http/sse.ts";
import { JobEnqueueSchema, JobListQuerySchema, JobRecordSchema, JobStreamQuerySchema } from "./schema.ts";

/** Options of {@link jobsRoutes}. */
export interface JobsRoutesOptions {
  /** Path prefix (default `/api/v1/jobs`). */
  prefix?: string;
  /** OpenAPI tags (default `["jobs"]`). */
  tags?: string[];
}

const STATUS_LIST = JOB_STATUSES.map((status) => `'${status}'`);
const STATUS_MESSAGE = `Input should be ${STATUS_LIST.slice(0, -1).join(", ")} or ${STATUS_LIST.at(-1)}`;

function lastValue(query: Record<string, unknown>, name: string): unknown {
  const raw = query[name];
  return Array.isArray(raw) ? raw.at(-1) : raw;
}

function listFilter(query: Record<string, unknown>): JobListOptions {
  for (const name of Object.keys(query)) {
    if (name !== "status_filter" && name !== "dead_letter" && !name.startsWith("_")) {
      throw new InvalidQueryError(
        `Unknown query parameter "${name}"; the job list accepts status_filter and dead_letter only`,
      );
    }
  }
  const options: JobListOptions = {};
  const status = lastValue(query, "status_filter");
  if (status !== undefined) {
    if (!(JOB_STATUSES as readonly unknown[]).includes(status)) {
      throw new ValidationError([{ loc: ["query", "status_filter"], msg: STATUS_MESSAGE, type: "enum" }]);
    }
    options.status = status as JobStatus;
  }
  const deadLetter = lastValue(query, "dead_letter");
  if (deadLetter !== undefined) {
    if (deadLetter !== "true" && deadLetter !== "false") {
      throw new ValidationError([{ loc: ["query", "dead_letter"], msg: "Input should be true or false", type: "bool_parsing" }]);
    }
    options.deadLetter = deadLetter === "true";
  }
  return options;
}

/** `POST {prefix}`'s body as {@link JobRunner.enqueue} arguments. */
function enqueueArguments(body: Record<string, unknown>): { name: string; payload: unknown; options: EnqueueOptions } {
  const options: EnqueueOptions = {};
  if (body.priority !== undefined) options.priority = body.priority as number;
  if (body.run_at !== undefined) options.runAt = body.run_at as string;
  if (body.delay_ms !== undefined) options.delayMs = body.delay_ms as number;
  if (body.max_attempts !== undefined) options.maxAttempts = body.max_attempts as number;
  if (body.backoff !== undefined) options.backoff = body.backoff as JobBackoff;
  if (body.timeout_ms !== undefined) options.timeoutMs = body.timeout_ms as number;
  if (body.dedup_key !== undefined) options.dedupKey = body.dedup_key as string;
  if (body.depends_on !== undefined) options.dependsOn = body.depends_on as string[];
  return { name: body.name as string, payload: body.payload ?? {}, options };
}


/** The deleted-job event of contract-chapcore §7.3, byte for byte (Python's `json.dumps` spacing). */
const DELETED_EVENT = '{"status": "deleted"}';

/**
 * The SSE stream of one job (contract-chapcore §7.3): its record at once,
 * then one per interval, ending after the first finished record, or with
 * `{"status": "deleted"}` when the job disappears.
 */
function jobStream(runner: JobRunner, first: JobRecord, intervalMs: number, signal: AbortSignal): Response {
  return sseResponse(async ({ send, signal: ended }) => {
    let record = first;
    while (send({ data: record }) && !isFinishedStatus(record.status)) {
      await sleepUnlessAborted(intervalMs, ended);
      if (ended.aborted) return;
      try {
        record = await runner.get(record.id);
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error;
        send({ data: DELETED_EVENT });
        return;
      }
    }
  }, { signal });
}

const JOB_NOT_FOUND = "Job not found";

/**
 * The job routes (contract §10.3 with chapkit's changes): list (newest
 * first, `status_filter`), get, delete (cancel, wait, remove; 204) and
 * `POST {prefix}/{job_id}/$cancel` (cancel and keep the record). Malformed
 * ids answer 400 `invalid-ulid`, unknown ones 404 problems.
 */
export function jobsRoutes(runner: JobRunner, options: JobsRoutesOptions = {}): AnyElysia {
  const prefix = options.prefix ?? "/api/v1/jobs";
  const tags = options.tags ?? ["jobs"];
  const id = (raw: string): { id: string; instance: string } => {
    const instance = `${prefix}/${raw}`;
    return { id: parseUlid(raw, instance), instance };
  };
  return new Elysia({ name: `chapkit:jobs:${prefix}` })
    .get(prefix, ({ query }) => runner.list(listFilter(query)), {
      detail: routeDetail({
        summary: "List jobs",
        description: "Job records, newest `submitted_at` first; `status_filter` keeps one status, " +
          "`dead_letter=true` the jobs that failed after their last attempt.",
        tags,
        query: JobListQuerySchema,
        response: Type.Array(JobRecordSchema),
      }),
    })
    .post(prefix, async ({ body: raw }) => {
      const body = validateValue<Record<string, unknown>>(JobEnqueueSchema, raw ?? undefined);
      const { name, payload, options } = enqueueArguments(body);
      const { record, created } = await runner.enqueue(name, payload, options);
      return new Response(JSON.stringify(record), {
        status: created ? 202 : 200,
        headers: { "content-type": "application/json" },
      });
    }, {
      detail: routeDetail({
        summary: "Enqueue a job",
        description: "Adds a job for a registered handler: 202 with its record, or 200 with the pending or " +
          "running job that already holds `dedup_key`.",
        tags,
        body: JobEnqueueSchema,
        response: JobRecordSchema,
        status: 202,
      }),
    })
    .get(`${prefix}/:job_id`, ({ params }) => {
      const job = id(params.job_id);
      return located(JOB_NOT_FOUND, job.instance, () => runner.get(job.id));
    }, { detail: routeDetail({ summary: "Get job by id", tags, response: JobRecordSchema }) })
    .get(`${prefix}/:job_id/$stream`, async ({ params, query, request }) => {
      const job = id(params.job_id);
      const intervalMs = pollIntervalMs(query, 500, "the job stream");
      const first = await located(JOB_NOT_FOUND, job.instance, () => runner.get(job.id));
      return jobStream(runner, first, intervalMs, request.signal);
    }, {
      detail: routeDetail({
        summary: "Stream job status",
        description: "Server-sent events: the job record at once, then one every `poll_interval` seconds, " +
          "closing after the first finished record; a deleted job sends `{\"status\": \"deleted\"}`.",
        tags,
        query: JobStreamQuerySchema,
        response: Type.String({
          description: "`data:` events, each a JobRecord as compact JSON",
          examples: ['data: {"id":"01K79YAHJ7BR4E87VVTG8FNBMA","status":"running"}\n\ndata: {"id":"01K79YAHJ7BR4E87VVTG8FNBMA","status":"completed"}\n\n'],
        }),
        responseType: "text/event-stream",
      }),
    })
    .delete(`${prefix}/:job_id`, async ({ params }) => {
      const job = id(params.job_id);
      await located(JOB_NOT_FOUND, job.instance, () => runner.delete(job.id));
      return new Response(null, { status: 204 });
    }, {
      detail: routeDetail({
        summary: "Cancel and delete job",
        description: "Cancels the job if it is pending or running, waits for it, then removes its record.",
        tags,
        status: 204,
      }),
    })
    .post(`${prefix}/:job_id/$retry`, ({ params }) => {
      const job = id(params.job_id);
      return located(JOB_NOT_FOUND, job.instance, () => runner.retry(job.id));
    }, {
      detail: routeDetail({
        summary: "Retry job",
        description: "Puts a failed or canceled queue job (a dead letter, say) back in the queue with fresh attempts; " +
          "an active job, or one submitted as a function, answers 409.",
        tags,
        response: JobRecordSchema,
      }),
    })
    .post(`${prefix}/:job_id/$cancel`, ({ params }) => {
      const job = id(params.job_id);
      return located(JOB_NOT_FOUND, job.instance, () => runner.cancel(job.id));
    }, {
      detail: routeDetail({
        summary: "Cancel job",
        description: "Cancels a pending or running job and keeps its record (`canceled`); a finished job answers 409.",
        tags,
        response: JobRecordSchema,
      }),
    }) as unknown as AnyElysia;
}
