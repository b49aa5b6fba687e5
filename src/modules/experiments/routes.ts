import { Type } from "@sinclair/typebox";
import { type AnyElysia, Elysia } from "elysia";
import { ValidationError } from "../../core/errors.ts";
import { ULID_PATTERN } from "../../core/schema.ts";
import { crudRouter } from "../../http/crud/crud-router.ts";
import type { Operation } from "../../http/crud/operation.ts";
import { curvesSvg } from "./_curves-svg.ts";
import type { ExperimentManager, RunManager } from "./manager.ts";
import { toMlflowRun } from "./mlflow.ts";
import { MetricPointSchema, RunComparisonSchema } from "./schema.ts";
import type { ExperimentTracker } from "./tracker.ts";

/** Options of {@link experimentsRoutes}. */
export interface ExperimentsRoutesOptions {
  /** Prefix of the experiments (default `/api/v1/experiments`). */
  experimentsPrefix?: string;
  /** Prefix of the runs (default `/api/v1/runs`). */
  runsPrefix?: string;
  /** Further operations on the runs collection (the hyperparameter search's `$tune`). */
  runOperations?: Operation[];
}

const ULID = new RegExp(ULID_PATTERN);

/** The run ids of `?ids=a,b,c`, checked (422 naming `ids`). */
function runIds(raw: unknown): string[] {
  const ids = String(raw ?? "").split(",").map((id) => id.trim()).filter(Boolean);
  const bad = ids.filter((id) => !ULID.test(id));
  if (bad.length > 0) {
    throw new ValidationError([{ loc: ["query", "ids"], msg: `Not run ids: ${bad.slice(0, 5).join(", ")}`, type: "value_error" }]);
  }
  return ids;
}

const IdsQuery = Type.Object({
  ids: Type.String({ minLength: 1, description: "Comma-separated run ids (2 to 50)" }),
});

/**
 * `/api/v1/experiments` (CRUD; list queries) and `/api/v1/runs`: list
 * queries over runs (`filter=metrics.rmse < 2 && params.alpha = 0.1`,
 * `sort=metrics.rmse`, `experiment_id=…`), name and tags updates, delete,
 * and `$compare`, `$curves` (SVG), `{id}/$metrics` and `{id}/$mlflow`.
 */
export function experimentsRoutes(
  managers: { experiments: ExperimentManager; runs: RunManager },
  tracker: ExperimentTracker,
  options: ExperimentsRoutesOptions = {},
): AnyElysia {
  const experimentsPrefix = options.experimentsPrefix ?? "/api/v1/experiments";
  const runsPrefix = options.runsPrefix ?? "/api/v1/runs";
  const experiments = crudRouter({
    prefix: experimentsPrefix,
    manager: managers.experiments,
    tags: ["experiments"],
    entityName: "experiment",
    permissions: { delete: false },
    bulk: false,
  });
  const runs = crudRouter({
    prefix: runsPrefix,
    manager: managers.runs,
    tags: ["runs"],
    entityName: "run",
    permissions: { create: false },
    bulk: false,
    collectionOperations: [
      {
        name: "$compare",
        method: "GET",
        summary: "Compare runs",
        description: "Params that differ (and those equal in all), the last value of each metric per run, and each metric's series per run.",
        query: IdsQuery,
        response: RunComparisonSchema,
        handler: ({ query }) => tracker.compare(runIds(query.ids)),
      },
      {
        name: "$curves",
        method: "GET",
        summary: "Metric curves of runs as SVG",
        description: "One metric's logged series of each run as an SVG line chart (x: step, y: value).",
        query: Type.Object({
          ids: Type.String({ minLength: 1, description: "Comma-separated run ids (1 to 50)" }),
          metric: Type.String({ minLength: 1, maxLength: 250 }),
        }),
        async handler({ query }) {
          const ids = [...new Set(runIds(query.ids))];
          if (ids.length > 50) throw new ValidationError([{ loc: ["query", "ids"], msg: "At most 50 runs", type: "value_error" }]);
          const metric = String(query.metric);
          const curves = await Promise.all(ids.map(async (id) => {
            const run = await tracker.run(id);
            const points = await tracker.history(id, metric);
            return { label: run.name ?? id, points: points.map((p) => [p.step, p.value] as [number, number]) };
          }));
          return new Response(curvesSvg(metric, curves), { headers: { "content-type": "image/svg+xml; charset=utf-8" } });
        },
      },
      ...(options.runOperations ?? []),
    ],
    entityOperations: [
      {
        name: "$metrics",
        method: "GET",
        summary: "A run's metric series",
        description: "Every logged point (key, value, step, timestamp), by metric and step; `key` keeps one metric.",
        query: Type.Object({ key: Type.Optional(Type.String({ minLength: 1, maxLength: 250 })) }),
        response: Type.Array(MetricPointSchema),
        handler: ({ id, query }) => tracker.history(id, query.key === undefined ? undefined : String(query.key)),
      },
      {
        name: "$mlflow",
        method: "GET",
        summary: "A run in MLflow's REST shapes",
        description: "`{experiment, run: {info, data: {metrics, params, tags}}, metric_history}` as MLflow's API 2.0 names them; " +
          "`MlflowClient.pushRuns` pushes it to a tracking server.",
        response: Type.Object({}, { additionalProperties: true, title: "MlflowRunExport" }),
        async handler({ id }) {
          const run = await tracker.run(id);
          const experiment = await managers.experiments.require(run.experiment_id);
          return toMlflowRun(run, experiment, await tracker.history(id));
        },
      },
    ],
  });
  return new Elysia({ name: "chapkit:experiments" }).use(experiments).use(runs) as unknown as AnyElysia;
}
