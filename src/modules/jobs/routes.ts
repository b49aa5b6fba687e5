import { Type } from "@sinclair/typebox";
import { type AnyElysia, Elysia } from "elysia";
import { InvalidQueryError, NotFoundError, ValidationError } from "../../core/errors.ts";
import { isFinishedStatus, JOB_STATUSES, type JobRecord, type JobRunner, type JobStatus } from "./types.ts";
import { parseUlid } from "../../core/ulid.ts";
import { routeDetail } from "../../http/route-doc.ts";
import { sleepUnlessAborted, sseResponse } from "../../http/sse.ts";
import { JobListQuerySchema, JobRecordSchema, JobStreamQuerySchema } from "./schema.ts";

/** Options of {@link jobsRoutes}. */
export interface JobsRoutesOptions {
  /** Path prefix (default `/api/v1/jobs`). */
  prefix?: string;
  /** OpenAPI tags (default `["jobs"]`). */
  tags?: string[];
}

const STATUS_LIST = JOB_STATUSES.map((status) => `'${status}'`);
const STATUS_MESSAGE = `Input should be ${STATUS_LIST.slice(0, -1).join(", ")} or ${STATUS_LIST.at(-1)}`;

function statusFilter(query: Record<string, unknown>): JobStatus | undefined {
  for (const name of Object.keys(query)) {
    if (name !== "status_filter" && !name.startsWith("_")) {
      throw new InvalidQueryError(`Unknown query parameter "${name}"; the job list accepts status_filter only`);
    }
  }
  const raw = Array.isArray(query.status_filter) ? query.status_filter.at(-1) : query.status_filter;
  if (raw === undefined) return undefined;
  if (!(JOB_STATUSES as readonly unknown[]).includes(raw)) {
    throw new ValidationError([{ loc: ["query", "status_filter"], msg: STATUS_MESSAGE, type: "enum" }]);
  }
  return raw as JobStatus;
}

function pollIntervalMs(query: Record<string, unknown>): number {
  for (const name of Object.keys(query)) {
    if (name !== "poll_interval" && !name.startsWith("_")) {
      throw new InvalidQueryError(`Unknown query parameter "${name}"; the job stream accepts poll_interval only`);
    }
  }
  const raw = Array.isArray(query.poll_interval) ? query.poll_interval.at(-1) : query.poll_interval;
  if (raw === undefined) return 500;
  const seconds = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN;
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
    throw new ValidationError([{
      loc: ["query", "poll_interval"],
      msg: "Input should be a number of seconds greater than 0 and at most 3600",
      type: "value_error",
    }]);
  }
  return seconds * 1000;
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

async function located<T>(instance: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof NotFoundError) throw new NotFoundError("Job not found", { instance });
    throw error;
  }
}

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
    .get(prefix, ({ query }) => runner.list({ status: statusFilter(query) }), {
      detail: routeDetail({
        summary: "List jobs",
        description: "Job records, newest `submitted_at` first; `status_filter` keeps one status.",
        tags,
        query: JobListQuerySchema,
        response: Type.Array(JobRecordSchema),
      }),
    })
    .get(`${prefix}/:job_id`, ({ params }) => {
      const job = id(params.job_id);
      return located(job.instance, () => runner.get(job.id));
    }, { detail: routeDetail({ summary: "Get job by id", tags, response: JobRecordSchema }) })
    .get(`${prefix}/:job_id/$stream`, async ({ params, query, request }) => {
      const job = id(params.job_id);
      const intervalMs = pollIntervalMs(query);
      const first = await located(job.instance, () => runner.get(job.id));
      return jobStream(runner, first, intervalMs, request.signal);
    }, {
      detail: routeDetail({
        summary: "Stream job status",
        description: "Server-sent events: the job record at once, then one every `poll_interval` seconds, " +
          "closing after the first finished record; a deleted job sends `{\"status\": \"deleted\"}`.",
        tags,
        query: JobStreamQuerySchema,
        response: Type.String({ description: "`data:` events, each a JobRecord as compact JSON" }),
        responseType: "text/event-stream",
      }),
    })
    .delete(`${prefix}/:job_id`, async ({ params }) => {
      const job = id(params.job_id);
      await located(job.instance, () => runner.delete(job.id));
      return new Response(null, { status: 204 });
    }, {
      detail: routeDetail({
        summary: "Cancel and delete job",
        description: "Cancels the job if it is pending or running, waits for it, then removes its record.",
        tags,
        status: 204,
      }),
    })
    .post(`${prefix}/:job_id/$cancel`, ({ params }) => {
      const job = id(params.job_id);
      return located(job.instance, () => runner.cancel(job.id));
    }, {
      detail: routeDetail({
        summary: "Cancel job",
        description: "Cancels a pending or running job and keeps its record (`canceled`); a finished job answers 409.",
        tags,
        response: JobRecordSchema,
      }),
    }) as unknown as AnyElysia;
}
