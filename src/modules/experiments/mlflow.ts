/**
 * Runs in MLflow's REST shapes (API 2.0: `Run`, `RunInfo`, `Metric`,
 * `Param`, `RunTag`), and a client that pushes them to an MLflow tracking
 * server through `experiments/get-by-name`, `experiments/create`,
 * `runs/create`, `runs/log-batch` and `runs/update`.
 *
 * @module
 */
import { resilientFetch } from "../../core/resilient-fetch.ts";
import type { ExperimentRecord, MetricPoint, RunRecord, RunStatus } from "./schema.ts";

/** MLflow's `Metric`: times in milliseconds since the epoch. */
export interface MlflowMetric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

/** MLflow's `Param` and `RunTag`: string values. */
export interface MlflowKeyValue {
  key: string;
  value: string;
}

/** MLflow's `RunInfo`. */
export interface MlflowRunInfo {
  run_id: string;
  run_uuid: string;
  run_name: string;
  experiment_id: string;
  user_id: string;
  status: "RUNNING" | "FINISHED" | "FAILED" | "KILLED" | "SCHEDULED";
  start_time: number;
  end_time?: number;
  artifact_uri: string;
  lifecycle_stage: "active" | "deleted";
}

/** MLflow's `Run`: its info, and its data (the last value of each metric, params and tags). */
export interface MlflowRun {
  info: MlflowRunInfo;
  data: { metrics: MlflowMetric[]; params: MlflowKeyValue[]; tags: MlflowKeyValue[] };
}

/** A run exported for MLflow: its experiment, the run, and every logged point of its metrics. */
export interface MlflowRunExport {
  experiment: { experiment_id: string; name: string; lifecycle_stage: "active"; tags: MlflowKeyValue[] };
  run: MlflowRun;
  metric_history: MlflowMetric[];
}

/** MLflow refuses param values longer than this (characters); longer values are cut. */
export const MLFLOW_PARAM_VALUE_LIMIT = 6000;

const STATUS: Record<RunStatus, MlflowRunInfo["status"]> = { running: "RUNNING", completed: "FINISHED", failed: "FAILED" };

function keyValues(record: Record<string, unknown>): MlflowKeyValue[] {
  return Object.entries(record).sort(([a], [b]) => a.localeCompare(b)).map(([key, value]) => {
    const text = typeof value === "string" ? value : JSON.stringify(value ?? null);
    return { key, value: text.length > MLFLOW_PARAM_VALUE_LIMIT ? text.slice(0, MLFLOW_PARAM_VALUE_LIMIT) : text };
  });
}

/**
 * A run in MLflow's shapes. Tags carry `mlflow.runName`, `mlflow.parentRunId`
 * (a search's trials), `mlflow.note.content` (a failure) and the `chapkit.*`
 * links back (run, model artifact, registered version). A metric set without
 * a logged series (`ctx.metrics.rmse = …`) becomes one point at the run's end.
 */
export function toMlflowRun(run: RunRecord, experiment: ExperimentRecord, points: readonly MetricPoint[]): MlflowRunExport {
  const start = Date.parse(run.started_at);
  const end = run.finished_at === null ? undefined : Date.parse(run.finished_at);
  const history: MlflowMetric[] = points.map((p) => ({ key: p.key, value: p.value, timestamp: Date.parse(p.timestamp), step: p.step }));
  const latest = new Map<string, MlflowMetric>();
  for (const point of history) {
    const seen = latest.get(point.key);
    if (!seen || point.step > seen.step || (point.step === seen.step && point.timestamp >= seen.timestamp)) latest.set(point.key, point);
  }
  for (const [key, value] of Object.entries(run.metrics)) {
    const seen = latest.get(key);
    if (seen && seen.value === value) continue;
    const point = { key, value, timestamp: end ?? start, step: seen ? seen.step + 1 : 0 };
    latest.set(key, point);
    history.push(point);
  }
  const tags: Record<string, string> = {
    ...run.tags,
    "mlflow.runName": run.name ?? run.id,
    "chapkit.run_id": run.id,
    "chapkit.kind": run.kind,
  };
  if (run.parent_run_id) tags["mlflow.parentRunId"] = run.parent_run_id;
  if (run.model_artifact_id) tags["chapkit.model_artifact_id"] = run.model_artifact_id;
  if (run.model_name && run.model_version) tags["chapkit.model_version"] = `${run.model_name}@${run.model_version}`;
  if (run.error) tags["mlflow.note.content"] = run.error;
  return {
    experiment: { experiment_id: experiment.id, name: experiment.name, lifecycle_stage: "active", tags: keyValues(experiment.tags) },
    run: {
      info: {
        run_id: run.id,
        run_uuid: run.id,
        run_name: run.name ?? run.id,
        experiment_id: experiment.id,
        user_id: "chapkit",
        status: STATUS[run.status],
        start_time: start,
        ...(end === undefined ? {} : { end_time: end }),
        artifact_uri: run.model_artifact_id ? `chapkit:/artifacts/${run.model_artifact_id}` : "",
        lifecycle_stage: "active",
      },
      data: {
        metrics: [...latest.values()].sort((a, b) => a.key.localeCompare(b.key)),
        params: keyValues(run.params),
        tags: keyValues(tags),
      },
    },
    metric_history: history.sort((a, b) => a.key.localeCompare(b.key) || a.step - b.step || a.timestamp - b.timestamp),
  };
}

/** An MLflow server's refusal: its HTTP status and `error_code`. */
export class MlflowError extends Error {
  /** The HTTP status (0 when no answer came). */
  readonly status: number;
  /** MLflow's `error_code`, e.g. `RESOURCE_DOES_NOT_EXIST`, or null. */
  readonly errorCode: string | null;

  /** An error of an MLflow call. */
  constructor(message: string, status: number, errorCode: string | null) {
    super(message);
    this.name = "MlflowError";
    this.status = status;
    this.errorCode = errorCode;
  }
}

/** Options of {@link MlflowClient}. */
export interface MlflowClientOptions {
  /** The tracking server, e.g. `http://mlflow:5000` (the API lives under `/api/2.0/mlflow/`). */
  url: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Further headers on every call. */
  headers?: Record<string, string>;
  /** The fetch to use (default `resilientFetch`: timeouts and a breaker per origin). */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
}

/** MLflow's limits on one `runs/log-batch`. */
const BATCH = { metrics: 1000, params: 100, tags: 100, total: 1000 };

/**
 * Pushes exported runs to an MLflow tracking server: the experiment is found
 * by name (created when missing), each run is created with its start time and
 * tags, its params, tags and whole metric history are logged in batches
 * within MLflow's limits, then its status and end time are set. A search's
 * trials point at their parent's new id.
 *
 * @example
 * ```ts ignore
 * const client = new MlflowClient({ url: "http://mlflow:5000" });
 * const ids = await client.pushRuns([exported]); // local run id → MLflow run id
 * ```
 */
export class MlflowClient {
  readonly #base: string;
  readonly #headers: Record<string, string>;
  readonly #fetch: (input: string, init: RequestInit) => Promise<Response>;
  readonly #experiments = new Map<string, string>();

  /** A client of one tracking server. */
  constructor(options: MlflowClientOptions) {
    this.#base = options.url.replace(/\/+$/, "") + "/api/2.0/mlflow";
    this.#headers = {
      "content-type": "application/json",
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    };
    this.#fetch = options.fetch ?? resilientFetch;
  }

  async #call<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await this.#fetch(`${this.#base}/${path}`, {
        method,
        headers: this.#headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new MlflowError(`MLflow ${path}: no answer (${(error as Error).message})`, 0, null);
    }
    const text = await response.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = text ? JSON.parse(text) as Record<string, unknown> : {};
    } catch {
      // A non-JSON answer (a proxy's error page) is reported by status.
    }
    if (!response.ok) {
      const code = typeof parsed.error_code === "string" ? parsed.error_code : null;
      const message = typeof parsed.message === "string" ? parsed.message : text.slice(0, 200);
      throw new MlflowError(`MLflow ${path} answered ${response.status}${code ? ` ${code}` : ""}: ${message}`, response.status, code);
    }
    return parsed as T;
  }

  /** The id of the experiment named `name` on the server, created when it does not exist. */
  async experimentId(name: string): Promise<string> {
    const known = this.#experiments.get(name);
    if (known) return known;
    let id: string;
    try {
      const found = await this.#call<{ experiment: { experiment_id: string } }>(
        "GET",
        `experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`,
      );
      id = found.experiment.experiment_id;
    } catch (error) {
      if (!(error instanceof MlflowError) || error.errorCode !== "RESOURCE_DOES_NOT_EXIST") throw error;
      id = (await this.#call<{ experiment_id: string }>("POST", "experiments/create", { name })).experiment_id;
    }
    this.#experiments.set(name, id);
    return id;
  }

  /**
   * Pushes one exported run (into `experimentName`, default its own
   * experiment's name) and returns its MLflow run id. `parentRunId` is the
   * MLflow id of its parent, when it has one there.
   */
  async pushRun(exported: MlflowRunExport, options: { experimentName?: string; parentRunId?: string } = {}): Promise<string> {
    const experimentId = await this.experimentId(options.experimentName ?? exported.experiment.name);
    const { info, data } = exported.run;
    const tags = data.tags.filter((tag) => tag.key !== "mlflow.parentRunId");
    if (options.parentRunId) tags.push({ key: "mlflow.parentRunId", value: options.parentRunId });
    const created = await this.#call<{ run: { info: { run_id: string } } }>("POST", "runs/create", {
      experiment_id: experimentId,
      run_name: info.run_name,
      start_time: info.start_time,
      tags: tags.slice(0, BATCH.tags),
    });
    const runId = created.run.info.run_id;
    const queue = { metrics: [...exported.metric_history], params: [...data.params], tags: tags.slice(BATCH.tags) };
    while (queue.metrics.length + queue.params.length + queue.tags.length > 0) {
      const params = queue.params.splice(0, BATCH.params);
      const batchTags = queue.tags.splice(0, BATCH.tags);
      const metrics = queue.metrics.splice(0, Math.min(BATCH.metrics, BATCH.total - params.length - batchTags.length));
      await this.#call("POST", "runs/log-batch", { run_id: runId, metrics, params, tags: batchTags });
    }
    await this.#call("POST", "runs/update", {
      run_id: runId,
      status: info.status,
      ...(info.end_time === undefined ? {} : { end_time: info.end_time }),
    });
    return runId;
  }

  /** Pushes runs, parents before their children; returns local run id → MLflow run id. */
  async pushRuns(runs: readonly MlflowRunExport[], options: { experimentName?: string } = {}): Promise<Map<string, string>> {
    const pushed = new Map<string, string>();
    const parentOf = (run: MlflowRunExport): string | undefined =>
      run.run.data.tags.find((tag) => tag.key === "mlflow.parentRunId")?.value;
    const ids = new Set(runs.map((run) => run.run.info.run_id));
    const pending = [...runs];
    while (pending.length > 0) {
      const index = pending.findIndex((run) => {
        const parent = parentOf(run);
        return parent === undefined || !ids.has(parent) || pushed.has(parent);
      });
      const [run] = pending.splice(index < 0 ? 0 : index, 1);
      const parent = parentOf(run!);
      const remoteParent = parent === undefined ? undefined : pushed.get(parent);
      pushed.set(run!.run.info.run_id, await this.pushRun(run!, {
        ...options,
        ...(remoteParent ? { parentRunId: remoteParent } : {}),
      }));
    }
    return pushed;
  }
}
