import { BadRequestError, NotFoundError } from "../../core/errors.ts";
import type { JobContext, JobFunction } from "../jobs/types.ts";
import { DataFrame } from "./engine/dataframe.ts";
import { KeyError, ValueError } from "./engine/errors.ts";
import type { FeatureCatalog, StoredFeatureSet } from "./engine/features.ts";
import type { FeatureCollection } from "./engine/geojson.ts";
import { assertOutputs, type ModelSignature } from "./engine/io-schema.ts";
import {
  checkMetric,
  isBinaryModel,
  type ModelRunner,
  runPredict,
  runTrain,
  type TrainedModel,
} from "./engine/runner.ts";
import type { ArtifactManager } from "../artifact/manager.ts";
import { isPayloadPlaceholder, PAYLOAD_MARKER } from "../artifact/payload.ts";
import type { ArtifactOut } from "../artifact/schema.ts";
import type { ConfigLinkManager } from "../config-link/manager.ts";
import type { ConfigManager } from "../config/manager.ts";
import type { Histogram } from "../../observability/metrics.ts";
import type { Monitoring } from "../../observability/monitoring.ts";
import type { EventBus } from "../../core/events/bus.ts";
import type { ModelRegistry } from "../models/registry.ts";
import type { ModelRouter, RouteDecision } from "../models/router.ts";
import { isEnsembleData } from "../models/ensemble.ts";
import { contractOf } from "./model-io.ts";
import type { ModelServer } from "./model-server.ts";
import type { Lineage } from "./lineage.ts";
import type { LineageInput } from "./lineage-store.ts";
import { sha256HexOfBytes } from "../../runtime/digest.ts";

/** What the ML jobs work with. */
export interface MlJobDeps {
  configs: ConfigManager;
  artifacts: ArtifactManager;
  links: ConfigLinkManager;
  runner: ModelRunner;
  /** Times train and predict runs and counts predicted rows, when monitoring is on. */
  monitoring?: Monitoring;
  /** Registers every trained model as a version, when the models module is installed. */
  registry?: ModelRegistry;
  /** Where `ml.trained` and `ml.predicted` are published. */
  events?: EventBus;
  /** Routes `model` references by policy, with the registry. */
  router?: ModelRouter;
  /** Serves registered versions (routing, serving log, shadow), with the registry. */
  server?: ModelServer;
  /** Stores run inputs once (content-addressed) and records what produced each model and prediction. */
  lineage?: Lineage;
  /** Records every training as a run (params, metric series, duration), when the experiments module is installed. */
  recorder?: TrainingRecorder;
  /** The feature functions and sets a `$train` may name. */
  features?: FeatureCatalog;
}

/** The key under which a {@link TrainingRecorder} is provided (by the experiments module). */
export const TRAINING_RECORDER_KEY = "ml.recorder";

/** The key under which the ML module provides its {@link MlJobDeps}, for modules that train and evaluate from jobs. */
export const ML_JOBS_KEY = "ml.jobs";

/** How a training is described to its run: what `$train` (or a search or pipeline) asked for. */
export interface TrainingRunOptions {
  /** The run's id (default a new ULID). */
  id?: string;
  /** The experiment's name (created on first use; default the registry model name, else `Default`). */
  experiment?: string;
  /** A display name of the run. */
  name?: string;
  /** Key/value tags. */
  tags?: Record<string, string>;
  /** The run this one belongs to (a hyperparameter search's trial). */
  parentRunId?: string;
}

/** What a train job tells its recorder as it starts. */
export interface TrainingRunStart extends TrainingRunOptions {
  /** The train job. */
  jobId: string;
  configId: string;
  /** The config's data: the run's params, with the registry target's params. */
  config: Record<string, unknown>;
  /** Params given with the registry target (`model.params`). */
  params: Record<string, unknown>;
  modelArtifactId: string;
  /** The registry model the training registers under, if any. */
  modelName: string | null;
}

/** A training run being recorded. */
export interface TrainingRun {
  /** The run's id. */
  readonly id: string;
  /** A metric value at a step (checked by the caller). */
  logMetric(name: string, value: number, step?: number): void;
  /** A hyperparameter. */
  logParam(name: string, value: unknown): void;
  /** The training succeeded: its final metrics and the version it was registered as. */
  finish(outcome: { metrics: Record<string, number>; modelName: string | null; modelVersion: string | null }): Promise<void>;
  /** The training failed (or was canceled). */
  fail(error: unknown): Promise<void>;
}

/** Records trainings as runs (the experiments module implements it). */
export interface TrainingRecorder {
  /** Opens the run of a training that is starting. */
  start(run: TrainingRunStart): Promise<TrainingRun>;
}

/** Where a trained model is registered: its name and version details. */
export interface RegistryTarget {
  name: string;
  version?: string;
  description?: string;
  tags?: string[];
  params?: Record<string, unknown>;
}

/** `sha256:<hex>` of a value's JSON text: the data hash a version keeps. */
export async function dataHash(value: unknown): Promise<string> {
  return "sha256:" + await sha256HexOfBytes(new TextEncoder().encode(JSON.stringify(value ?? null)));
}

function timed<T>(
  deps: MlJobDeps,
  pick: (monitoring: Monitoring) => Histogram,
  span: string,
  work: () => Promise<T>,
): Promise<T> {
  return deps.monitoring ? deps.monitoring.timed(pick(deps.monitoring), work, span) : work();
}

/** The int and float columns of a frame, for drift profiles. */
function numericColumns(frame: DataFrame): Record<string, Float64Array> {
  const out: Record<string, Float64Array> = {};
  for (const name of frame.columns) {
    const dtype = frame.dtype(name);
    if (dtype === "int" || dtype === "float") out[name] = frame.column(name);
  }
  return out;
}

async function configData(deps: MlJobDeps, id: string): Promise<Record<string, unknown>> {
  const record = await deps.configs.repository.findById(id);
  if (!record) throw new ValueError(`Config ${id} not found`);
  return (record.data ?? {}) as Record<string, unknown>;
}

/** The trained-model artifact, or a job error in the contract's words. */
async function modelArtifact(deps: MlJobDeps, id: string): Promise<ArtifactOut> {
  try {
    return await deps.artifacts.get(id);
  } catch (error) {
    if (error instanceof NotFoundError) throw new ValueError(`Model artifact ${id} not found`);
    throw error;
  }
}

function modelData(artifact: ArtifactOut): Record<string, unknown> {
  const data = artifact.data as Record<string, unknown> | null;
  if (typeof data !== "object" || data === null || Array.isArray(data) || data.ml_type !== "trained_model") {
    throw new ValueError(`Artifact ${artifact.id} is not a trained model`);
  }
  return data;
}

/**
 * Checks at submission that `id` names a trained-model artifact (decisions:
 * 404 for an unknown artifact, 400 for one that is not a trained model) or,
 * with a registry, an ensemble; returns the artifact's data.
 */
export async function checkModelArtifact(deps: MlJobDeps, id: string): Promise<Record<string, unknown>> {
  const artifact = await deps.artifacts.repository.findById(id);
  if (!artifact) throw new NotFoundError(`Model artifact ${id} not found`);
  if (deps.server && isEnsembleData(artifact.data)) return artifact.data as Record<string, unknown>;
  try {
    return modelData(artifact as unknown as ArtifactOut);
  } catch {
    throw new BadRequestError(`Artifact ${id} is not a trained model`);
  }
}

/** The train job: config → DataFrame → runner → trained-model artifact linked to the config. */
export function trainJob(
  deps: MlJobDeps,
  input: {
    configId: string;
    modelArtifactId: string;
    data: unknown;
    geo: FeatureCollection | null;
    /** Registers the trained model as a version of this model (with a registry). */
    register?: RegistryTarget;
    /** How the training's run is recorded (with a recorder). */
    run?: TrainingRunOptions;
    /** The feature set applied to the data first, stored with the model. */
    featureSet?: StoredFeatureSet;
    /** The signature stored with the model (checked on every prediction). */
    signature?: ModelSignature;
  },
): JobFunction {
  return async ({ jobId, signal }: JobContext): Promise<string> => {
    const config = await configData(deps, input.configId);
    const metrics: Record<string, number> = {};
    // The run opens first, so whatever fails after (the data, its storage, the training) is recorded in it.
    const run = await deps.recorder?.start({
      ...input.run,
      jobId,
      configId: input.configId,
      config,
      params: input.register?.params ?? {},
      modelArtifactId: input.modelArtifactId,
      modelName: (deps.registry && input.register?.name) || null,
    });
    let registered: { name: string; version: string } | null;
    try {
      const raw = DataFrame.fromJSON(input.data, { loc: ["data"] });
      const frame = input.featureSet ? featureCatalog(deps).apply(input.featureSet, raw) : raw;
      const inputs = await deps.lineage?.storeInputs({ data: input.data, geo: input.geo, config });
      registered = await trained(deps, input, { config, frame, metrics, signal, run, inputs, jobId });
    } catch (error) {
      await run?.fail(error);
      throw error;
    }
    await run?.finish({ metrics, modelName: registered?.name ?? null, modelVersion: registered?.version ?? null });
    await deps.events?.publish({
      type: "ml.trained",
      collection: "artifacts",
      id: input.modelArtifactId,
      entity: {
        model_artifact_id: input.modelArtifactId,
        config_id: input.configId,
        model_name: registered?.name ?? null,
        model_version: registered?.version ?? null,
        ...(run ? { run_id: run.id } : {}),
      },
    });
    return input.modelArtifactId;
  };
}

/** Trains, stores the model artifact and registers it (with a target): a train job's work between its run's start and end. */
async function trained(
  deps: MlJobDeps,
  input: Parameters<typeof trainJob>[1],
  work: {
    config: Record<string, unknown>;
    frame: DataFrame;
    metrics: Record<string, number>;
    signal: AbortSignal;
    run: TrainingRun | undefined;
    inputs: LineageInput[] | undefined;
    jobId: string;
  },
): Promise<{ name: string; version: string } | null> {
  const { config, frame, metrics, signal, run, inputs, jobId } = work;
  const logMetric = (name: string, value: number, step?: number): void => {
    checkMetric(name, value, step);
    metrics[name] = value;
    run?.logMetric(name, value, step);
  };
  const logParam = (name: string, value: unknown): void => run?.logParam(name, value);
  const model = await timed(deps, (m) => m.mlTrainDuration, "ml.train", () =>
    runTrain(deps.runner, { config, data: frame, geo: input.geo, signal, metrics, logMetric, logParam }));
  signal.throwIfAborted();
  deps.monitoring?.ml.recordTraining(input.modelArtifactId, numericColumns(frame));
  const data = {
    ml_type: "trained_model",
    config_id: input.configId,
    model: isBinaryModel(model) ? PAYLOAD_MARKER : model.value,
    ...(input.signature ? { signature: input.signature } : {}),
    ...(input.featureSet ? { feature_set: input.featureSet } : {}),
  };
  const body = { id: input.modelArtifactId, data };
  const payload = isBinaryModel(model) ? { bytes: model.bytes, contentType: model.contentType } : undefined;
  await deps.links.createLinked(input.configId, body, payload);
  const target = input.register;
  let registered: { name: string; version: string } | null = null;
  if (deps.registry && target) {
    registered = await deps.registry.register(target.name, {
      ...(target.version ? { version: target.version } : {}),
      ...(target.description ? { description: target.description } : {}),
      tags: target.tags ?? [],
      params: {
        ...(input.featureSet ? { feature_set: `${input.featureSet.name}@${input.featureSet.version}` } : {}),
        ...target.params,
      },
      metrics: Object.fromEntries(Object.entries(metrics).filter(([, v]) => typeof v === "number" && Number.isFinite(v))),
      config,
      config_id: input.configId,
      data_hash: inputs?.find((stored) => stored.role === "data")?.digest ?? await dataHash(input.data),
      artifact_id: input.modelArtifactId,
    });
  }
  await deps.lineage?.record({
    artifact_id: input.modelArtifactId,
    kind: "trained_model",
    model_artifact_id: null,
    config_id: input.configId,
    model_name: registered?.name ?? null,
    model_version: registered?.version ?? null,
    job_id: jobId,
    inputs: inputs ?? [],
  });
  return registered;
}

/**
 * A trained model ready to predict: its config's data, the model, the key
 * runners cache it under, and what it declares (signature, feature set).
 */
export interface LoadedModel {
  config: Record<string, unknown>;
  configId: string;
  model: TrainedModel;
  modelKey: string;
  /** The signature its predictions are checked against. */
  signature?: ModelSignature;
  /** The feature set its inputs go through before the runner sees them. */
  features?: StoredFeatureSet;
}

/** Loads a trained-model artifact with its config, for serving. */
export async function loadTrainedModel(deps: MlJobDeps, artifactId: string): Promise<LoadedModel> {
  const artifact = await modelArtifact(deps, artifactId);
  const data = modelData(artifact);
  if (typeof data.config_id !== "string") throw new KeyError("config_id");
  const config = await configData(deps, data.config_id);
  return {
    config,
    configId: data.config_id,
    model: await loadModel(deps, artifact.id, data),
    modelKey: artifact.id,
    ...contractOf(data, deps.runner),
  };
}

function featureCatalog(deps: MlJobDeps): FeatureCatalog {
  if (!deps.features) throw new ValueError("This model uses a feature set, but this service declares no feature catalog");
  return deps.features;
}

/** A frame with a loaded model's feature set computed (the frame itself when the model has none). */
export function withFeatures(deps: MlJobDeps, loaded: LoadedModel, frame: DataFrame): DataFrame {
  return loaded.features ? featureCatalog(deps).apply(loaded.features, frame) : frame;
}

/**
 * Predicts with a loaded model the way every path does (jobs, serving,
 * explanations): its feature set computed on `future` and `historic`, the
 * runner between `onInit` and `onCleanup`, and the predictions checked
 * against its declared outputs.
 *
 * @throws {ModelOutputError} when the predictions lack a declared output or hold a wrong value.
 */
export async function predictLoaded(
  deps: MlJobDeps,
  loaded: LoadedModel,
  input: { future: DataFrame; historic: DataFrame | null; geo: FeatureCollection | null; signal: AbortSignal },
): Promise<DataFrame> {
  const future = withFeatures(deps, loaded, input.future);
  const historic = input.historic ? withFeatures(deps, loaded, input.historic) : null;
  const predictions = await runPredict(deps.runner, {
    config: loaded.config,
    model: loaded.model,
    modelKey: loaded.modelKey,
    historic,
    future,
    geo: input.geo,
    signal: input.signal,
  });
  assertOutputs(predictions, loaded.signature);
  return predictions;
}

async function loadModel(deps: MlJobDeps, artifactId: string, data: Record<string, unknown>): Promise<TrainedModel> {
  if (isPayloadPlaceholder(data.model)) {
    const payload = await deps.artifacts.download(artifactId);
    return { bytes: payload.bytes, contentType: payload.contentType };
  }
  return { value: data.model ?? null };
}

/** The predict job: model artifact → its config → runner → prediction artifact under the model. */
export function predictJob(
  deps: MlJobDeps,
  input: {
    modelArtifactId: string;
    predictionArtifactId: string;
    future: unknown;
    historic: unknown;
    geo: FeatureCollection | null;
    /** The routing decision that chose the model (a `model` reference), recorded with the prediction. */
    routed?: { decision: RouteDecision; key: string | null };
  },
): JobFunction {
  return async ({ signal, jobId }: JobContext): Promise<string> => {
    const artifact = await modelArtifact(deps, input.modelArtifactId);
    const ensemble = isEnsembleData(artifact.data) && deps.server ? deps.server : undefined;
    const loaded = ensemble ? undefined : await loadTrainedModel(deps, artifact.id);
    const data = { config_id: loaded?.configId ?? null };
    const future = DataFrame.fromJSON(input.future, { loc: ["future"] });
    const historic = input.historic ? DataFrame.fromJSON(input.historic, { loc: ["historic"] }) : null;
    const inputs = await deps.lineage?.storeInputs({
      future: input.future,
      historic: input.historic,
      geo: input.geo,
      config: loaded?.config ?? null,
    });
    const started = performance.now();
    let predictions: DataFrame;
    try {
      predictions = await timed(deps, (m) => m.mlPredictDuration, "ml.predict", () =>
        loaded
          ? predictLoaded(deps, loaded, { future, historic, geo: input.geo, signal })
          : ensemble!.predictArtifact(artifact.id, future, { signal }));
    } catch (error) {
      deps.monitoring?.ml.recordPrediction(artifact.id, { seconds: (performance.now() - started) / 1000, ok: false, rows: 0 });
      if (input.routed) {
        deps.server?.recordServed(input.routed.decision, {
          key: input.routed.key, ok: false, latencyMs: performance.now() - started, future, output: future,
        });
      }
      throw error;
    }
    if (input.routed) {
      deps.server?.recordServed(input.routed.decision, {
        key: input.routed.key, ok: true, latencyMs: performance.now() - started, future, output: predictions,
      });
    }
    if (deps.monitoring) {
      deps.monitoring.mlPredictRows.inc(predictions.rowCount);
      deps.monitoring.ml.recordPrediction(artifact.id, {
        seconds: (performance.now() - started) / 1000,
        ok: true,
        rows: predictions.rowCount,
        inputs: numericColumns(future),
      });
    }
    signal.throwIfAborted();
    await deps.artifacts.create({
      id: input.predictionArtifactId,
      parent_id: artifact.id,
      data: {
        ml_type: "prediction",
        model_artifact_id: artifact.id,
        config_id: data.config_id,
        ...(input.routed
          ? {
            model_name: input.routed.decision.version.name,
            model_version: input.routed.decision.version.version,
            route_arm: input.routed.decision.arm,
          }
          : {}),
        predictions: predictions.toJSON(),
      },
    });
    await deps.lineage?.record({
      artifact_id: input.predictionArtifactId,
      kind: "prediction",
      model_artifact_id: artifact.id,
      config_id: data.config_id,
      model_name: input.routed?.decision.version.name ?? null,
      model_version: input.routed?.decision.version.version ?? null,
      job_id: jobId,
      inputs: inputs ?? [],
    });
    await deps.events?.publish({
      type: "ml.predicted",
      collection: "artifacts",
      id: input.predictionArtifactId,
      entity: {
        prediction_artifact_id: input.predictionArtifactId,
        model_artifact_id: artifact.id,
        model_name: input.routed?.decision.version.name ?? null,
        model_version: input.routed?.decision.version.version ?? null,
        rows: predictions.rowCount,
      },
    });
    if (deps.monitoring?.ml.shouldSample()) {
      // A sample keeps the inputs beside the outputs, under the prediction, for later review.
      await deps.artifacts.create({
        parent_id: input.predictionArtifactId,
        data: {
          ml_type: "prediction_sample",
          model_artifact_id: artifact.id,
          prediction_artifact_id: input.predictionArtifactId,
          future: future.toJSON(),
          predictions: predictions.toJSON(),
        },
      });
    }
    return input.predictionArtifactId;
  };
}
