import type { TObject } from "@sinclair/typebox";
import { Manager, type ManagerEvents } from "../../core/manager.ts";
import type { Repository, UpdateValues } from "../../core/repository.ts";
import {
  type ExperimentRecord,
  ExperimentInSchema,
  ExperimentOutSchema,
  type RunRecord,
  RunInSchema,
  RunOutSchema,
} from "./schema.ts";

/** CRUD over experiments (`/api/v1/experiments`): a name, a description and tags. */
export class ExperimentManager extends Manager<ExperimentRecord, TObject, TObject> {
  /** A manager over the experiments repository, publishing `entity.*` events when given a bus. */
  constructor(repository: Repository<ExperimentRecord>, events?: ManagerEvents) {
    super({
      repository,
      input: ExperimentInSchema,
      output: ExperimentOutSchema,
      toValues: (input, existing): UpdateValues<ExperimentRecord> => ({
        name: input.name as string,
        description: input.description === undefined ? existing?.description ?? null : input.description as string | null,
        tags: (input.tags as Record<string, string> | undefined) ?? existing?.tags ?? {},
      }),
      ...(events ? { events } : {}),
    });
  }
}

/**
 * Runs as clients read them (`/api/v1/runs`). Runs are written by training
 * ({@link ExperimentTracker}); a client changes only a run's name and tags,
 * and may delete it (its metric series go with it).
 */
export class RunManager extends Manager<RunRecord, TObject, TObject> {
  /** A manager over the runs repository; `removed` runs after a delete (drops the metric series). */
  constructor(repository: Repository<RunRecord>, options: { events?: ManagerEvents; removed?: (run: RunRecord) => Promise<void> } = {}) {
    super({
      repository,
      input: RunInSchema,
      output: RunOutSchema,
      toValues: (input, existing): UpdateValues<RunRecord> => ({
        name: input.name === undefined ? existing?.name ?? null : input.name as string | null,
        tags: (input.tags as Record<string, string> | undefined) ?? existing?.tags ?? {},
      }),
      ...(options.events ? { events: options.events } : {}),
      ...(options.removed ? { hooks: { afterDelete: options.removed } } : {}),
    });
  }
}
