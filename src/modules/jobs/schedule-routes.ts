import { type TObject, Type } from "@sinclair/typebox";
import { type AnyElysia, Elysia } from "elysia";
import { ValidationError } from "../../core/errors.ts";
import { validateValue } from "../../core/validation.ts";
import { routeDetail } from "../../http/route-doc.ts";
import { located } from "./_located.ts";
import type { JobScheduler, ScheduleSpec } from "./scheduler.ts";

const NAME_PATTERN = "^[A-Za-z0-9_.:-]{1,100}$";

/** TypeBox schema of a schedule's body (`PUT` takes it without `name`). */
export const ScheduleInSchema: TObject = Type.Object({
  name: Type.String({ pattern: NAME_PATTERN, description: "Unique name: letters, digits, _ . : -" }),
  cron: Type.String({ minLength: 1, description: "Five fields, or six with seconds first" }),
  job: Type.String({ minLength: 1, description: "A registered handler's name" }),
  payload: Type.Optional(Type.Unknown()),
  timezone: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Null()], { description: "IANA zone (default UTC)" })),
  missed: Type.Optional(Type.Union([Type.Literal("skip"), Type.Literal("run_once")], { default: "skip" })),
}, { additionalProperties: false, title: "ScheduleIn" });

const ScheduleReplaceSchema: TObject = Type.Omit(ScheduleInSchema, ["name"], { additionalProperties: false });

/** TypeBox schema of a stored schedule. */
export const ScheduleSchema: TObject = Type.Object({
  name: Type.String(),
  cron: Type.String(),
  job: Type.String(),
  payload: Type.Unknown(),
  timezone: Type.Union([Type.String(), Type.Null()]),
  missed: Type.Union([Type.Literal("skip"), Type.Literal("run_once")]),
  next_run_at: Type.String({ format: "date-time" }),
  following_runs: Type.Array(Type.String({ format: "date-time" })),
  last_run_at: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  last_job_id: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: "date-time" }),
  updated_at: Type.String({ format: "date-time" }),
}, { title: "Schedule" });

function spec(body: Record<string, unknown>): ScheduleSpec {
  return {
    cron: body.cron as string,
    job: body.job as string,
    payload: body.payload ?? {},
    timezone: (body.timezone as string | null | undefined) ?? null,
    missed: (body.missed as ScheduleSpec["missed"]) ?? "skip",
  };
}

function named(raw: string): string {
  if (!new RegExp(NAME_PATTERN).test(raw)) {
    throw new ValidationError([{ loc: ["path", "name"], msg: "Invalid schedule name", type: "value_error" }]);
  }
  return raw;
}

const SCHEDULE_NOT_FOUND = "Schedule not found";

/**
 * `/api/v1/schedules`: list, get, create (201; 409 when the name exists),
 * replace (`PUT`, creating when missing) and delete (204) cron schedules.
 * Every answer shows the next tick and the three after it.
 */
export function scheduleRoutes(scheduler: JobScheduler, options: { prefix?: string; tags?: string[] } = {}): AnyElysia {
  const prefix = options.prefix ?? "/api/v1/schedules";
  const tags = options.tags ?? ["schedules"];
  return new Elysia({ name: `chapkit:schedules:${prefix}` })
    .get(prefix, () => scheduler.list(), {
      detail: routeDetail({ summary: "List schedules", tags, response: Type.Array(ScheduleSchema) }),
    })
    .post(prefix, async ({ body }) => {
      const checked = validateValue<Record<string, unknown>>(ScheduleInSchema, body ?? undefined);
      const record = await scheduler.create(checked.name as string, spec(checked));
      return new Response(JSON.stringify(record), { status: 201, headers: { "content-type": "application/json" } });
    }, {
      detail: routeDetail({ summary: "Create schedule", tags, body: ScheduleInSchema, response: ScheduleSchema, status: 201 }),
    })
    .get(`${prefix}/:name`, ({ params }) => {
      const instance = `${prefix}/${params.name}`;
      return located(SCHEDULE_NOT_FOUND, instance, () => scheduler.get(named(params.name)));
    }, { detail: routeDetail({ summary: "Get schedule", tags, response: ScheduleSchema }) })
    .put(`${prefix}/:name`, ({ params, body }) => {
      const instance = `${prefix}/${params.name}`;
      const checked = validateValue<Record<string, unknown>>(ScheduleReplaceSchema, body ?? undefined);
      return scheduler.schedule(named(params.name), spec(checked));
    }, {
      detail: routeDetail({ summary: "Create or replace schedule", tags, body: ScheduleReplaceSchema, response: ScheduleSchema }),
    })
    .delete(`${prefix}/:name`, async ({ params }) => {
      const instance = `${prefix}/${params.name}`;
      await located(SCHEDULE_NOT_FOUND, instance, () => scheduler.unschedule(named(params.name)));
      return new Response(null, { status: 204 });
    }, { detail: routeDetail({ summary: "Delete schedule", description: "Jobs it enqueued stay.", tags, status: 204 }) }) as unknown as AnyElysia;
}
