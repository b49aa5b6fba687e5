import { type TObject, Type } from "@sinclair/typebox";
import { UlidSchema } from "../../core/schema.ts";
import type { Operation } from "../../http/crud/operation.ts";
import type { RegistryTarget } from "../ml/ml-jobs.ts";
import { DataFrameSchema } from "../ml/schema.ts";
import type { HyperparameterSearch } from "./search.ts";
import { type SearchSpace, SearchSpaceProperties } from "./search-space.ts";

const ModelName = Type.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$" });

/** Body of `POST /api/v1/runs/$tune`. */
export const TuneRequestSchema: TObject = Type.Object({
  config_id: UlidSchema,
  data: DataFrameSchema,
  ...SearchSpaceProperties,
  metric: Type.String({ minLength: 1, maxLength: 250, description: "The metric that ranks trials" }),
  goal: Type.Optional(Type.Union([Type.Literal("minimize"), Type.Literal("maximize")], { description: "Default minimize" })),
  concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: "Trials training at once (default 2)" })),
  model: Type.Optional(Type.Union([
    ModelName,
    Type.Object({
      name: ModelName,
      version: Type.Optional(Type.String()),
      description: Type.Optional(Type.String({ maxLength: 10_000 })),
      tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 100 })),
    }, { additionalProperties: false }),
  ], { description: "Registers the best trial as a version of this model" })),
  experiment: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  tags: Type.Optional(Type.Record(Type.String({ minLength: 1, maxLength: 250 }), Type.String({ maxLength: 5000 }))),
}, { title: "TuneRequest", additionalProperties: false });

/** 202 answer of `$tune`. */
export const TuneResponseSchema: TObject = Type.Object({
  search_run_id: UlidSchema,
  trial_job_ids: Type.Array(UlidSchema),
  select_job_id: UlidSchema,
  trials: Type.Array(Type.Record(Type.String(), Type.Unknown())),
}, { title: "TuneResponse" });

interface TuneRequest extends SearchSpace {
  config_id: string;
  data: unknown;
  metric: string;
  goal?: "minimize" | "maximize";
  concurrency?: number;
  model?: string | RegistryTarget;
  experiment?: string;
  name?: string;
  tags?: Record<string, string>;
}

/** `POST /api/v1/runs/$tune`: submits a hyperparameter search (202). */
export function tuneOperation(search: HyperparameterSearch): Operation {
  return {
    name: "$tune",
    method: "POST",
    summary: "Start a hyperparameter search",
    description: "A grid or random search over config values: one trial job per combination, `concurrency` at a time; " +
      "the best trial by `metric` is registered as a version of `model`. The search is a run (`search_run_id`); its trials are its child runs.",
    body: TuneRequestSchema,
    coerceBody: false,
    response: TuneResponseSchema,
    status: 202,
    handler: ({ body }) => {
      const request = body as TuneRequest;
      const model = request.model;
      return search.submit({
        configId: request.config_id,
        data: request.data,
        strategy: request.strategy,
        space: request.space,
        ...(request.trials === undefined ? {} : { trials: request.trials }),
        ...(request.seed === undefined ? {} : { seed: request.seed }),
        metric: request.metric,
        ...(request.goal ? { goal: request.goal } : {}),
        ...(request.concurrency ? { concurrency: request.concurrency } : {}),
        register: model === undefined ? null : typeof model === "string" ? { name: model } : model,
        ...(request.experiment ? { experiment: request.experiment } : {}),
        ...(request.name ? { name: request.name } : {}),
        ...(request.tags ? { tags: request.tags } : {}),
      });
    },
  };
}
