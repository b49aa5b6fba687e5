import { Type } from "@sinclair/typebox";
import type { EntityRecord } from "../../core/entity.ts";
import { ConflictError, NotFoundError } from "../../core/errors.ts";
import type { Logger } from "../../core/logging.ts";
import type { Manager } from "../../core/manager.ts";
import type { JobScheduler } from "../jobs/scheduler.ts";
import type { JobBackoff, JobHandler, JobHandlerContext, JobRunner } from "../jobs/types.ts";
import { checkPipeline, normalised } from "./_check.ts";
import { loadObjects } from "./load.ts";
import type { EtlLoad, EtlPipelineSpec, EtlRunRecord, EtlTransform } from "./schema.ts";
import { readSource, reason } from "./sources.ts";
import type { EtlStore, StoredPipeline } from "./store.ts";

/** The job handler that runs a pipeline once. */
export const ETL_RUN_JOB = "etl.run";

/** The schedule name of a pipeline's cron (listed under `/api/v1/schedules`). */
export function etlScheduleName(pipeline: string): string {
  return `etl:${pipeline}`;
}

// deno-lint-ignore no-explicit-any
type AnyManager = Manager<EntityRecord, any, any>;

/** A pipeline as clients see it: its definition, where it came from, and its next tick. */
export interface EtlPipelineView extends EtlPipelineSpec {
  origin: "code" | "api";
  /** The next scheduled run, or null when it has no schedule. */
  next_run_at: string | null;
  created_at: string;
  updated_at: string;
}

/** What an {@link EtlManager} works with. */
export interface EtlManagerOptions {
  store: EtlStore;
  jobs: JobRunner;
  scheduler: JobScheduler;
  /** Registered transforms by name. */
  transforms: Readonly<Record<string, EtlTransform>>;
  /** The collections rows may load into: name → manager (looked up at each use, so later modules count). */
  collections: () => ReadonlyMap<string, AnyManager>;
  /** S3 keys for `s3` sources. */
  credentials?: () => { accessKeyId?: string | undefined; secretAccessKey?: string | undefined };
  /** Attempts per run (default 3); a source that is down fails the attempt. */
  maxAttempts?: number;
  /** Back-off between attempts (default 5 s doubling, at most 5 min). */
  backoff?: JobBackoff;
  /** Milliseconds an HTTP source may take to answer (default 30 000). */
  timeoutMs?: number;
  /** Directories file sources of pipelines created over HTTP must be under (none: no file sources over HTTP). */
  fileRoots?: readonly string[];
  logger?: Logger;
}

const RunPayload = Type.Object({
  pipeline: Type.String(),
  trigger: Type.Optional(Type.Union([Type.Literal("schedule"), Type.Literal("manual")])),
  force: Type.Optional(Type.Boolean()),
});

type RunPayload = { pipeline: string; trigger?: "schedule" | "manual"; force?: boolean };

/**
 * Declared imports and their runs: definitions kept in `etl_pipelines`,
 * each scheduled pipeline a cron schedule of the job queue (`etl:<name>`,
 * firing once across instances), each run a job `etl.run` whose record in
 * `etl_runs` has the job's id. Works without HTTP.
 */
export class EtlManager {
  readonly #options: EtlManagerOptions;

  /** A manager over a migrated store; {@link EtlManager.handler} must be registered on the runner before runs are enqueued. */
  constructor(options: EtlManagerOptions) {
    this.#options = options;
  }

  /** The names of the registered transforms. */
  get transforms(): string[] {
    return Object.keys(this.#options.transforms).sort();
  }

  /**
   * Checks a definition against what this service has: a valid cron and
   * time zone, a registered transform, an installed collection (with the
   * upsert key among its fields), a readable source URL or path, a format
   * that is given or implied by the path. @throws {ValidationError} listing each problem.
   */
  check(raw: EtlPipelineSpec, loc: (string | number)[] = ["body"], origin: "code" | "api" = "api"): EtlPipelineSpec {
    return checkPipeline(raw, loc, origin, this.#options);
  }

  /** Creates the pipeline. @throws {ValidationError} @throws {ConflictError} when the name is taken. */
  async create(raw: EtlPipelineSpec, origin: "code" | "api" = "api"): Promise<EtlPipelineView> {
    const spec = this.check(raw, ["body"], origin);
    if (await this.#options.store.pipeline(spec.name)) throw new ConflictError(`ETL pipeline ${spec.name} already exists`);
    await this.#schedule(spec);
    if (!(await this.#options.store.insertPipeline(spec, origin))) throw new ConflictError(`ETL pipeline ${spec.name} already exists`);
    return await this.get(spec.name);
  }

  /** Creates or replaces the pipeline (code pipelines are put at start-up). @throws {ValidationError} */
  async put(raw: EtlPipelineSpec, origin: "code" | "api" = "api"): Promise<{ view: EtlPipelineView; created: boolean }> {
    const spec = this.check(raw, ["body"], origin);
    await this.#schedule(spec);
    const created = await this.#options.store.putPipeline(spec, origin);
    return { view: await this.get(spec.name), created };
  }

  /** Removes the pipeline and its schedule; its runs stay. @throws {NotFoundError} */
  async delete(name: string): Promise<void> {
    if (!(await this.#options.store.deletePipeline(name))) throw new NotFoundError(`ETL pipeline ${name} not found`);
    await this.#unschedule(name);
  }

  /** The pipeline. @throws {NotFoundError} */
  async get(name: string): Promise<EtlPipelineView> {
    const stored = await this.#options.store.pipeline(name);
    if (!stored) throw new NotFoundError(`ETL pipeline ${name} not found`);
    return await this.#view(stored);
  }

  /** Every pipeline, by name. */
  async list(): Promise<EtlPipelineView[]> {
    return await Promise.all((await this.#options.store.pipelines()).map((stored) => this.#view(stored)));
  }

  /**
   * Enqueues a run now (`force`: even when the source looks unchanged).
   * While a run of the pipeline is pending or running, answers that one.
   * @throws {NotFoundError}
   */
  async run(name: string, options: { force?: boolean } = {}): Promise<EtlRunRecord> {
    if (!(await this.#options.store.pipeline(name))) throw new NotFoundError(`ETL pipeline ${name} not found`);
    const payload: RunPayload = { pipeline: name, trigger: "manual", ...(options.force ? { force: true } : {}) };
    const { record } = await this.#options.jobs.enqueue(ETL_RUN_JOB, payload, { dedupKey: `etl:${name}` });
    await this.#options.store.openRun(record.id, name, "manual");
    return (await this.#options.store.run(record.id))!;
  }

  /** A page of the pipeline's runs, newest first. @throws {NotFoundError} for an unknown pipeline with no runs */
  async runs(name: string, page = 1, size = 50): Promise<{ items: EtlRunRecord[]; total: number; page: number; size: number; pages: number }> {
    const { items, total } = await this.#options.store.runs(name, page, size);
    if (total === 0 && !(await this.#options.store.pipeline(name))) throw new NotFoundError(`ETL pipeline ${name} not found`);
    return { items, total, page, size, pages: total === 0 ? 0 : Math.ceil(total / size) };
  }

  /** One run. @throws {NotFoundError} */
  async getRun(name: string, id: string): Promise<EtlRunRecord> {
    const run = await this.#options.store.run(id);
    if (!run || run.pipeline !== name) throw new NotFoundError(`ETL run ${id} not found`);
    return run;
  }

  /** The job handler of runs (`etl.run`), with the module's attempts and back-off. */
  handler(): JobHandler<RunPayload> {
    return {
      payload: RunPayload,
      maxAttempts: this.#options.maxAttempts ?? 3,
      backoff: this.#options.backoff ?? { delay_ms: 5_000, factor: 2, max_ms: 300_000 },
      run: (payload, context) => this.#execute(payload, context),
    };
  }

  async #execute(payload: RunPayload, context: JobHandlerContext): Promise<void> {
    const { store } = this.#options;
    const trigger = payload.trigger ?? "schedule";
    await store.openRun(context.jobId, payload.pipeline, trigger);
    const stored = await store.pipeline(payload.pipeline);
    if (!stored) {
      await store.finishRun(context.jobId, { status: "failed", error: `ETL pipeline ${payload.pipeline} no longer exists` });
      return;
    }
    const spec = normalised(stored.spec);
    if (trigger === "schedule" && !spec.enabled) {
      await store.finishRun(context.jobId, { status: "skipped", error: "The pipeline is disabled" });
      return;
    }
    // Two loads of one pipeline at once would race on the same rows: a tick during a long run waits for the next tick.
    const busy = await this.#runningJob(spec.name, context.jobId);
    if (busy) {
      await store.finishRun(context.jobId, { status: "skipped", error: `Run ${busy} of this pipeline is still running` });
      return;
    }
    await store.startRun(context.jobId, context.attempt);
    const logger = this.#options.logger;
    try {
      const manager = this.#options.collections().get(spec.load.collection);
      if (!manager) throw new Error(`No collection named "${spec.load.collection}" is installed`);
      const transform = spec.transform ? this.#options.transforms[spec.transform] : undefined;
      if (spec.transform && !transform) throw new Error(`No transform named "${spec.transform}" is registered on this instance`);
      const previous = await store.lastFingerprint(spec.name);
      const state = await readSource(spec.source, {
        previous,
        force: payload.force === true,
        loaded: (keys) => store.loadedObjects(spec.name, keys),
        ...(this.#options.credentials ? { credentials: this.#options.credentials() } : {}),
        signal: context.signal,
        ...(this.#options.timeoutMs === undefined ? {} : { timeoutMs: this.#options.timeoutMs }),
      });
      if (state.unchanged) {
        await store.finishRun(context.jobId, { status: "skipped", fingerprint: state.fingerprint, error: "The source has not changed since the last completed run" });
        logger?.info("etl.run.unchanged", { pipeline: spec.name, run: context.jobId });
        return;
      }
      const report = await loadObjects({
        pipeline: spec.name,
        objects: state.objects,
        format: spec.format ?? null,
        jsonPath: spec.json_path ?? null,
        transform: transform ? { name: spec.transform!, fn: transform } : null,
        load: spec.load as Required<EtlLoad>,
        manager,
        signal: context.signal,
        commit: () => store.markObjects(spec.name, context.jobId, state.keys),
      });
      await store.finishRun(context.jobId, {
        status: report.refused ? "failed" : "completed",
        counts: report.counts,
        fingerprint: state.fingerprint,
        errors: report.errors,
        error: report.refused,
      });
      logger?.info("etl.run.finished", { pipeline: spec.name, run: context.jobId, ...report.counts, refused: report.refused !== null });
    } catch (error) {
      const message = reason(error);
      await store.finishRun(context.jobId, { status: "failed", error: message });
      logger?.warn("etl.run.failed", { pipeline: spec.name, run: context.jobId, attempt: context.attempt, error: message });
      // The queue retries the attempt per the handler's policy; the run's record shows each attempt.
      throw error;
    }
  }

  /** Another run of the pipeline whose job is still running (a run left `running` by a stopped instance does not count). */
  async #runningJob(pipeline: string, self: string): Promise<string | null> {
    for (const id of await this.#options.store.runningRuns(pipeline, self)) {
      const job = await this.#options.jobs.get(id).catch(() => null);
      if (job?.status === "running") return id;
    }
    return null;
  }

  async #schedule(spec: EtlPipelineSpec): Promise<void> {
    if (!spec.schedule) return await this.#unschedule(spec.name);
    await this.#options.scheduler.schedule(etlScheduleName(spec.name), {
      cron: spec.schedule,
      job: ETL_RUN_JOB,
      payload: { pipeline: spec.name, trigger: "schedule" },
      timezone: spec.timezone ?? null,
    });
  }

  /** Drops the pipeline's schedule; one that is not there is already gone. */
  async #unschedule(pipeline: string): Promise<void> {
    await this.#options.scheduler.unschedule(etlScheduleName(pipeline)).catch((error) => {
      if (!(error instanceof NotFoundError)) throw error;
    });
  }

  async #view(stored: StoredPipeline): Promise<EtlPipelineView> {
    const spec = normalised(stored.spec);
    let next: string | null = null;
    if (spec.schedule) next = await this.#options.scheduler.get(etlScheduleName(spec.name)).then((s) => s.next_run_at, () => null);
    return { ...spec, origin: stored.origin, next_run_at: next, created_at: stored.created_at, updated_at: stored.updated_at };
  }
}
