/**
 * Machine learning (`chapkit/ml`, `@chapkit/core/ml`): model runners
 * (functional, class, shell), the DataFrame and GeoJSON types the train and
 * predict endpoints speak, a least-squares linear regression and model
 * monitoring (drift). Hand a runner to `MLServiceBuilder` (or `withMl()`);
 * ONNX models are in `chapkit/onnx`. Runnable: `examples/ml_basic.ts`,
 * `examples/ml_class.ts`, `examples/ml_shell.ts`.
 *
 * @example
 * ```ts ignore
 * import { MLServiceBuilder } from "chapkit";
 * import { fitLinearRegression, functionalRunner, predictLinear } from "chapkit/ml";
 *
 * const runner = functionalRunner({
 *   onTrain: ({ data }) => fitLinearRegression(data, { features: ["rainfall"], target: "disease_cases" }),
 *   onPredict: ({ model, future }) => future.withColumn("sample_0", predictLinear(model, future)),
 * });
 * await new MLServiceBuilder({ info: { display_name: "Cases" }, configSchema, runner }).listen(8000);
 * ```
 *
 * @module
 */

export { mlModule } from "../modules/ml/mod.ts";
export type { MlModuleOptions } from "../modules/ml/mod.ts";
export { MlMonitor } from "../observability/ml-monitor.ts";
export type { MlMonitorOptions, ModelReport, NumericColumns } from "../observability/ml-monitor.ts";
export { featureDrift, featureReference, ksPValue, ksStatistic, psi } from "../observability/drift.ts";
export type { FeatureDrift, FeatureReference } from "../observability/drift.ts";
export { DataFrame } from "../modules/ml/engine/dataframe.ts";
export type { Cell, ColumnValues, DataFrameJSON, Dtype } from "../modules/ml/engine/dataframe.ts";
export { validateFeatureCollection } from "../modules/ml/engine/geojson.ts";
export type { Feature, FeatureCollection, Geometry, Loc, Position } from "../modules/ml/engine/geojson.ts";
export { BaseModelRunner, binaryModel, jsonModel, runPredict, runTrain } from "../modules/ml/engine/runner.ts";
export type {
  BinaryModel,
  ConfigData,
  JsonModel,
  ModelRunner,
  PredictContext,
  PredictedRows,
  TrainContext,
  TrainedModel,
  WorkspacePredictContext,
  WorkspaceRunner,
} from "../modules/ml/engine/runner.ts";
export { runPredictStream } from "../modules/ml/engine/predict-stream.ts";
export type { RowChunk } from "../modules/ml/engine/predict-stream.ts";
export type { LineageEdge, LineageGraph, LineageNode } from "../modules/ml/lineage.ts";
export type { LineageInput, LineageKind } from "../modules/ml/lineage-store.ts";
export { functionalRunner } from "../modules/ml/engine/functional-runner.ts";
export type { FunctionalPredictInput, FunctionalRunnerOptions } from "../modules/ml/engine/functional-runner.ts";
export { ShellModelRunner } from "../modules/ml/engine/shell-runner.ts";
export type { ShellModelRunnerOptions } from "../modules/ml/engine/shell-runner.ts";
export { ShellWorkspaceRunner } from "../modules/ml/engine/shell-workspace-runner.ts";
export type { ShellWorkspaceRunnerOptions } from "../modules/ml/engine/shell-workspace-runner.ts";
export type { ConfigFormat, Workspace } from "../modules/ml/engine/workspace.ts";
export { fitLinearRegression, predictLinear } from "../modules/ml/engine/linear-regression.ts";
export type { LinearModel } from "../modules/ml/engine/linear-regression.ts";
export { KeyError, RuntimeError, ValueError } from "../modules/ml/engine/errors.ts";
export { MODEL_ROUTER_KEY, ModelRegistry, ModelRouter, MODELS_KEY, MODELS_MIGRATIONS, modelsModule } from "../modules/models/mod.ts";
export type {
  AliasEvent,
  CanaryPolicy,
  ChampionChallengerReport,
  ModelComparison,
  ModelRegistryOptions,
  ModelRouterOptions,
  ModelsModuleOptions,
  ModelSummary,
  ModelVersion,
  ModelVersionInput,
  ModelVersionStatus,
  RegistryEvent,
  RouteDecision,
  RoutePolicy,
  ShadowPolicy,
  SplitArm,
  StoredRoutePolicy,
} from "../modules/models/mod.ts";
export { MODEL_SERVER_KEY } from "../modules/ml/mod.ts";
export { ModelServer } from "../modules/ml/model-server.ts";
export type { ServedFrame, WarmUpState } from "../modules/ml/model-server.ts";
export {
  bestRun,
  DEFAULT_EXPERIMENT,
  expandSearch,
  EXPERIMENTS_KEY,
  ExperimentManager,
  experimentsModule,
  ExperimentTracker,
  flattenParams,
  HyperparameterSearch,
  MAX_TRIALS,
  MLFLOW_PARAM_VALUE_LIMIT,
  MlflowClient,
  MlflowError,
  RunManager,
  SEARCH_KEY,
  toMlflowRun,
  withOverrides,
} from "../modules/experiments/mod.ts";
export type {
  ExperimentRecord,
  ExperimentsModuleOptions,
  ExperimentTrackerOptions,
  MetricPoint,
  MlflowClientOptions,
  MlflowKeyValue,
  MlflowMetric,
  MlflowRun,
  MlflowRunExport,
  MlflowRunInfo,
  ParamRange,
  RunArtifact,
  RunComparison,
  RunEnd,
  RunKind,
  RunRecord,
  RunStart,
  RunStatus,
  SearchRequest,
  SearchSpace,
  SearchSubmitted,
} from "../modules/experiments/mod.ts";
export { assertColumns, checkColumns, ModelInputError, ModelOutputError } from "../modules/ml/engine/io-schema.ts";
export type { ColumnProblem, ColumnProblemKind, ColumnSpec, ColumnType, ModelSignature, RowSample } from "../modules/ml/engine/io-schema.ts";
export { FeatureCatalog } from "../modules/ml/engine/features.ts";
export type {
  FeatureCatalogOptions,
  FeatureDefinition,
  FeatureFunction,
  FeatureInput,
  FeatureSetDefinition,
  StoredFeatureSet,
} from "../modules/ml/engine/features.ts";
export { kernelShap, linearShap, permutationImportance } from "../modules/ml/engine/explain.ts";
export type {
  ErrorMetric,
  FeatureImportance,
  KernelShapOptions,
  PermutationImportance,
  Predictor,
  RowAttribution,
} from "../modules/ml/engine/explain.ts";
export {
  beats,
  definePipeline,
  metricOf,
  PIPELINE_JOBS,
  PIPELINE_STEPS,
  PipelineRunner,
  PIPELINES_KEY,
  PIPELINES_MIGRATIONS,
  pipelineScheduleName,
  pipelinesModule,
  pipelinesRoutes,
  score,
} from "../modules/pipelines/mod.ts";
export type {
  PipelineDataContext,
  PipelineDefinition,
  PipelineMetric,
  PipelineRunnerOptions,
  PipelineRunRecord,
  PipelineRunView,
  PipelinesModuleOptions,
  PipelinesRoutesOptions,
  PipelineStepName,
  PipelineStepView,
  PipelineView,
  StoredStep,
} from "../modules/pipelines/mod.ts";
