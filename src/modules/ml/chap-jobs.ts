// The train and predict jobs of the chap profile: chapkit 1.x envelopes, bounds checks and workspace layouts (contract-chapcore §8).
import { NotFoundError } from "../../core/errors.ts";
import type { JobContext, JobFunction } from "../jobs/types.ts";
import { DataFrame } from "./engine/dataframe.ts";
import { ValueError } from "./engine/errors.ts";
import type { FeatureCollection } from "./engine/geojson.ts";
import { predictInMemoryWorkspace, trainInMemoryWorkspace } from "./engine/memory-workspace.ts";
import { isBinaryModel, isWorkspaceRunner, type ModelRunner, runPredict, runTrain, type TrainedModel } from "./engine/runner.ts";
import type { Workspace } from "./engine/workspace.ts";
import type { ArtifactManager } from "../artifact/manager.ts";
import { DATAFRAME_CONTENT_TYPE } from "../artifact/chap-view.ts";
import { type ArtifactPayload, isPayloadPlaceholder, PAYLOAD_MARKER } from "../artifact/payload.ts";
import type { ArtifactOut } from "../artifact/schema.ts";
import type { ConfigLinkManager } from "../config-link/manager.ts";
import type { ConfigManager } from "../config/manager.ts";

/** The bounds of a config's `prediction_periods` (the service info's min/max). */
export interface PeriodBounds {
  min: number;
  max: number;
}

/** What the chap profile's ML jobs work with. */
export interface ChapMlDeps {
  /** The chap profile's config manager (reserved fields filled). */
  configs: ConfigManager;
  artifacts: ArtifactManager;
  links: ConfigLinkManager;
  runner: ModelRunner;
  bounds: PeriodBounds;
}

/** The `type` of training artifacts. */
export const TRAINING_TYPE = "ml_training_workspace";
const ZIP = "application/zip";

type JsonObject = Record<string, unknown>;

/** Python's `datetime.isoformat()` of a UTC time: `2025-10-11T17:31:00.120000+00:00` (no fraction on a whole second). */
export function pyIsoformat(time: Date): string {
  const [seconds, millis = "000"] = time.toISOString().replace("Z", "").split(".");
  return millis === "000" ? `${seconds}+00:00` : `${seconds}.${millis}000+00:00`;
}

/** MLMetadata of an ML artifact (contract-chapcore §8.6). */
export function mlMetadata(
  configId: string,
  started: Date,
  completed: Date,
  workspace?: Pick<Workspace, "status" | "exitCode" | "stdout" | "stderr">,
): JsonObject {
  return {
    status: workspace?.status ?? "success",
    config_id: configId,
    started_at: pyIsoformat(started),
    completed_at: pyIsoformat(completed),
    duration_seconds: Math.round((completed.getTime() - started.getTime()) / 10) / 100,
    exit_code: workspace?.exitCode ?? null,
    stdout: workspace?.stdout ?? null,
    stderr: workspace?.stderr ?? null,
  };
}

function envelope(type: string, metadata: JsonObject, content: unknown, contentType: string | null, size: number | null): JsonObject {
  return { type, metadata, content, content_type: contentType, content_size: size };
}

/**
 * Checks `prediction_periods` against the service's bounds.
 *
 * @throws {ValueError} in chapkit 1.x's words.
 */
export function checkPredictionPeriods(config: JsonObject, bounds: PeriodBounds): void {
  const periods = config.prediction_periods;
  if (typeof periods !== "number") return;
  if (periods < bounds.min) {
    throw new ValueError(`prediction_periods (${periods}) is below the minimum allowed value (${bounds.min})`);
  }
  if (periods > bounds.max) {
    throw new ValueError(`prediction_periods (${periods}) exceeds the maximum allowed value (${bounds.max})`);
  }
}

/** The config data with reserved fields filled. @throws {ValueError} `Config {id} not found`. */
export async function chapConfigData(deps: ChapMlDeps, id: string): Promise<JsonObject> {
  try {
    return (await deps.configs.get(id)).data;
  } catch (error) {
    if (error instanceof NotFoundError) throw new ValueError(`Config ${id} not found`);
    throw error;
  }
}

/** The train job: config → bounds → runner → `ml_training_workspace` artifact at level 0, linked to the config. */
export function chapTrainJob(
  deps: ChapMlDeps,
  input: { configId: string; artifactId: string; data: unknown; geo: FeatureCollection | null },
): JobFunction {
  return async ({ signal }: JobContext): Promise<string> => {
    const config = await chapConfigData(deps, input.configId);
    checkPredictionPeriods(config, deps.bounds);
    const frame = DataFrame.fromJSON(input.data, { loc: ["data"] });
    const started = new Date();
    const ctx = { config, data: frame, geo: input.geo, signal };
    let data: JsonObject;
    let payload: ArtifactPayload | undefined;
    const runner = deps.runner;
    if (isWorkspaceRunner(runner) || runner.layout === "workspace") {
      const workspace = isWorkspaceRunner(runner)
        ? await runWorkspace(runner, () => runner.trainWorkspace(ctx))
        : await trainInMemoryWorkspace(runner, ctx);
      data = envelope(TRAINING_TYPE, mlMetadata(input.configId, started, new Date(), workspace), PAYLOAD_MARKER, ZIP, workspace.bytes.byteLength);
      payload = { bytes: workspace.bytes, contentType: ZIP };
    } else {
      const model = await runTrain(runner, ctx);
      const metadata = mlMetadata(input.configId, started, new Date());
      if (isBinaryModel(model)) {
        data = envelope(TRAINING_TYPE, metadata, PAYLOAD_MARKER, model.contentType, model.bytes.byteLength);
        payload = { bytes: model.bytes, contentType: model.contentType };
      } else {
        data = envelope(TRAINING_TYPE, metadata, model.value, "application/json", null);
      }
    }
    signal.throwIfAborted();
    await deps.links.createLinked(input.configId, { id: input.artifactId, data }, payload);
    return input.artifactId;
  };
}

async function runWorkspace<T>(runner: ModelRunner, work: () => Promise<T>): Promise<T> {
  await runner.onInit?.();
  try {
    return await work();
  } finally {
    await runner.onCleanup?.();
  }
}

/** A training artifact's data, checked as chapkit 1.x's predict job does. @throws {ValueError} */
export function trainingData(artifact: ArtifactOut | null, id: string): JsonObject {
  if (!artifact) throw new ValueError(`Training artifact ${id} not found`);
  const data = artifact.data as JsonObject | null;
  if (typeof data !== "object" || data === null || Array.isArray(data) || data.type !== TRAINING_TYPE) {
    throw new ValueError(`Artifact ${id} is not a training artifact`);
  }
  const metadata = (data.metadata ?? {}) as JsonObject;
  if (metadata.status === "failed") {
    throw new ValueError(`Cannot predict using failed training artifact ${id}. Training script exited with code ${metadata.exit_code}.`);
  }
  return data;
}

async function findArtifact(deps: ChapMlDeps, id: string): Promise<ArtifactOut | null> {
  try {
    return await deps.artifacts.get(id);
  } catch (error) {
    if (error instanceof NotFoundError) return null;
    throw error;
  }
}

/** The predict job: training artifact → its config → runner → `ml_prediction` (level 1) and, for workspaces, `ml_prediction_workspace` (level 2). */
export function chapPredictJob(
  deps: ChapMlDeps,
  input: { trainingId: string; predictionId: string; historic: unknown; future: unknown; geo: FeatureCollection | null },
): JobFunction {
  return async ({ signal }: JobContext): Promise<string> => {
    const training = trainingData(await findArtifact(deps, input.trainingId), input.trainingId);
    const metadata = training.metadata as JsonObject;
    const configId = String(metadata.config_id);
    const config = await chapConfigData(deps, configId);
    checkPredictionPeriods(config, deps.bounds);
    const future = DataFrame.fromJSON(input.future, { loc: ["future"] });
    const historic = input.historic ? DataFrame.fromJSON(input.historic, { loc: ["historic"] }) : null;
    const started = new Date();
    let predictions: DataFrame;
    let workspace: Workspace | undefined;
    const runner = deps.runner;
    if (training.content_type === ZIP && isPayloadPlaceholder(training.content)) {
      const zip = (await deps.artifacts.download(input.trainingId)).bytes;
      const ctx = { config, workspace: zip, historic, future, geo: input.geo, signal };
      const result = isWorkspaceRunner(runner)
        ? await runWorkspace(runner, () => runner.predictWorkspace(ctx))
        : await predictInMemoryWorkspace(runner, { ...ctx, modelKey: input.trainingId });
      predictions = result.predictions;
      workspace = result.workspace;
    } else {
      const model: TrainedModel = isPayloadPlaceholder(training.content)
        ? await deps.artifacts.download(input.trainingId)
        : { value: training.content ?? null };
      predictions = await runPredict(runner, { config, model, modelKey: input.trainingId, historic, future, geo: input.geo, signal });
    }
    signal.throwIfAborted();
    const completed = new Date();
    await deps.artifacts.store.transaction(async () => {
      await deps.artifacts.create({
        id: input.predictionId,
        parent_id: input.trainingId,
        data: envelope("ml_prediction", mlMetadata(configId, started, completed), predictions.toJSON(), DATAFRAME_CONTENT_TYPE, null),
      });
      if (workspace) {
        await deps.artifacts.create({
          parent_id: input.predictionId,
          data: envelope(
            "ml_prediction_workspace",
            mlMetadata(configId, started, completed, workspace),
            PAYLOAD_MARKER,
            ZIP,
            workspace.bytes.byteLength,
          ),
        }, { bytes: workspace.bytes, contentType: ZIP });
      }
    });
    return input.predictionId;
  };
}
