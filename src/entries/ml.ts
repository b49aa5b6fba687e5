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
export { DataFrame } from "../ml/dataframe.ts";
export type { Cell, ColumnValues, DataFrameJSON, Dtype } from "../ml/dataframe.ts";
export { validateFeatureCollection } from "../ml/geojson.ts";
export type { Feature, FeatureCollection, Geometry, Loc, Position } from "../ml/geojson.ts";
export { BaseModelRunner, binaryModel, jsonModel, runPredict, runTrain } from "../ml/runner.ts";
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
} from "../ml/runner.ts";
export { runPredictStream } from "../ml/predict-stream.ts";
export type { RowChunk } from "../ml/predict-stream.ts";
export type { LineageEdge, LineageGraph, LineageNode } from "../modules/ml/lineage.ts";
export type { LineageInput, LineageKind } from "../modules/ml/lineage-store.ts";
export { functionalRunner } from "../ml/functional-runner.ts";
export type { FunctionalPredictInput, FunctionalRunnerOptions } from "../ml/functional-runner.ts";
export { ShellModelRunner } from "../ml/shell-runner.ts";
export type { ShellModelRunnerOptions } from "../ml/shell-runner.ts";
export { ShellWorkspaceRunner } from "../ml/shell-workspace-runner.ts";
export type { ShellWorkspaceRunnerOptions } from "../ml/shell-workspace-runner.ts";
export type { ConfigFormat, Workspace } from "../ml/workspace.ts";
export { fitLinearRegression, predictLinear } from "../ml/linear-regression.ts";
export type { LinearModel } from "../ml/linear-regression.ts";
export { KeyError, RuntimeError, ValueError } from "../ml/errors.ts";
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
export { assertColumns, checkColumns, ModelInputError, ModelOutputError } from "../ml/io-schema.ts";
export type { ColumnProblem, ColumnProblemKind, ColumnSpec, ColumnType, ModelSignature, RowSample } from "../ml/io-schema.ts";
export { FeatureCatalog } from "../ml/features.ts";
export type {
  FeatureCatalogOptions,
  FeatureDefinition,
  FeatureFunction,
  FeatureInput,
  FeatureSetDefinition,
  StoredFeatureSet,
} from "../ml/features.ts";
export { kernelShap, linearShap, permutationImportance } from "../ml/explain.ts";
export type {
  ErrorMetric,
  FeatureImportance,
  KernelShapOptions,
  PermutationImportance,
  Predictor,
  RowAttribution,
} from "../ml/explain.ts";
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
