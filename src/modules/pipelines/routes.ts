import { Type } from "@sinclair/typebox";
import { type AnyElysia, Elysia } from "elysia";
import { addRoute } from "../../http/_route.ts";
import { routeDetail } from "../../http/route-doc.ts";
import type { JobScheduler, ScheduleRecord } from "../jobs/scheduler.ts";
import { metricOf, type PipelineDefinition } from "./pipeline.ts";
import type { PipelineRunner, PipelineRunView } from "./runner.ts";

/** The schedule name of a pipeline's cron. */
export function pipelineScheduleName(pipeline: string): string {
  return `pipeline:${pipeline}`;
}

/** A declared pipeline as clients see it. */
export interface PipelineView {
  name: string;
  model: string;
  config: string;
  alias: string;
  metric: string;
  goal: "minimize" | "maximize";
  search: boolean;
  /** Its cron schedule with the next ticks, or null. */
  schedule: { cron: string; timezone: string | null; next_run_at: string; last_run_at: string | null } | null;
  /** Its newest run, or null. */
  last_run: PipelineRunView | null;
}

const StepSchema = Type.Object({
  name: Type.String(),
  job_id: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
  started_at: Type.Union([Type.String(), Type.Null()]),
  finished_at: Type.Union([Type.String(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  outcome: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
});

const RunSchema = Type.Object({
  id: Type.String(),
  pipeline: Type.String(),
  status: Type.String(),
  trigger: Type.String(),
  start_job_id: Type.Union([Type.String(), Type.Null()]),
  started_at: Type.String(),
  finished_at: Type.Union([Type.String(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  steps: Type.Array(StepSchema),
}, { title: "PipelineRun" });

const PipelineSchema = Type.Object({
  name: Type.String(),
  model: Type.String(),
  config: Type.String(),
  alias: Type.String(),
  metric: Type.String(),
  goal: Type.String(),
  search: Type.Boolean(),
  schedule: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
  last_run: Type.Union([RunSchema, Type.Null()]),
}, { title: "Pipeline" });

/** Options of {@link pipelinesRoutes}. */
export interface PipelinesRoutesOptions {
  /** Path prefix (default `/api/v1/pipelines`). */
  prefix?: string;
}

/**
 * `GET {prefix}` (the declared pipelines with their schedules and last
 * runs), `GET {prefix}/{name}`, `POST {prefix}/{name}/$run` (202),
 * `GET {prefix}/{name}/runs` and `GET {prefix}/{name}/runs/{id}`: each run
 * with every step's job, state, timing, error and outcome.
 */
export function pipelinesRoutes(runner: PipelineRunner, scheduler: JobScheduler, options: PipelinesRoutesOptions = {}): AnyElysia {
  const prefix = options.prefix ?? "/api/v1/pipelines";
  const tags = ["pipelines"];
  const describe = async (definition: PipelineDefinition): Promise<PipelineView> => {
    const { name: metric, goal } = metricOf(definition.metric);
    let schedule: ScheduleRecord | null = null;
    if (definition.schedule) schedule = await scheduler.get(pipelineScheduleName(definition.name)).catch(() => null);
    const [last] = await runner.runs(definition.name, 1);
    return {
      name: definition.name,
      model: definition.model,
      config: definition.config,
      alias: definition.alias ?? "champion",
      metric,
      goal,
      search: definition.search !== undefined,
      schedule: schedule
        ? { cron: schedule.cron, timezone: schedule.timezone, next_run_at: schedule.next_run_at, last_run_at: schedule.last_run_at }
        : null,
      last_run: last ?? null,
    };
  };
  const app = new Elysia({ name: `chapkit:pipelines:${prefix}` });
  addRoute(app, "GET", prefix, () => Promise.all(runner.definitions.map(describe)), {
    detail: routeDetail({ summary: "List pipelines", tags, response: Type.Array(PipelineSchema) }),
  });
  addRoute(app, "GET", `${prefix}/:name`, ({ params }: { params: { name: string } }) => describe(runner.definition(params.name)), {
    detail: routeDetail({ summary: "Get a pipeline", tags, response: PipelineSchema }),
  });
  addRoute(app, "POST", `${prefix}/:name/$run`, async ({ params, set }: { params: { name: string }; set: { status?: number | string } }) => {
    const run = await runner.run(params.name);
    set.status = 202;
    return run;
  }, {
    detail: routeDetail({
      summary: "Run a pipeline now",
      description: "Records a run and enqueues its start job, which loads the data and enqueues the steps (202).",
      tags,
      response: RunSchema,
      status: 202,
    }),
  });
  addRoute(app, "GET", `${prefix}/:name/runs`, ({ params }: { params: { name: string } }) => runner.runs(params.name), {
    detail: routeDetail({ summary: "List a pipeline's runs", description: "Newest first, at most 50.", tags, response: Type.Array(RunSchema) }),
  });
  addRoute(app, "GET", `${prefix}/:name/runs/:id`, ({ params }: { params: { name: string; id: string } }) => runner.view(params.id, params.name), {
    detail: routeDetail({ summary: "Get a pipeline run", description: "Each step's job, state, timing, error and outcome.", tags, response: RunSchema }),
  });
  return app as unknown as AnyElysia;
}
