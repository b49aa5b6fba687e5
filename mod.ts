/**
 * chapkit: an embeddable service kit for Bun and Deno. A few lines turn a
 * model or a data set into a production HTTP service: typed configs,
 * hierarchical artifacts with binary payloads, durable jobs, tasks,
 * train/predict endpoints with functional, class, shell and ONNX runners,
 * health, OpenAPI docs and authentication, on SQLite or PostgreSQL,
 * wire-compatible with Python Chapkit.
 *
 * @example
 * ```ts ignore
 * import { ServiceBuilder } from "@chapkit/core";
 * import { Type } from "@sinclair/typebox";
 *
 * await new ServiceBuilder({ info: { display_name: "Weather configs" }, databaseUrl: "sqlite:./app.db" })
 *   .withHealth()
 *   .withSystem()
 *   .withConfig(Type.Object({ min_samples: Type.Integer({ default: 5 }) }, { title: "WeatherConfig" }))
 *   .withJobs()
 *   .withLandingPage()
 *   .listen(8000);
 * ```
 *
 * @module
 */

// Services
export { ServiceBuilder } from "./src/service/service-builder.ts";
export { CHAP_ML_HIERARCHY, MLServiceBuilder, DEFAULT_ML_HIERARCHY } from "./src/service/ml-service-builder.ts";
export type { MLServiceBuilderOptions, WireProfile } from "./src/service/ml-service-builder.ts";
export { BaseServiceBuilder } from "./src/service/base-service-builder.ts";
export type {
  HealthOptions,
  LoggingOptions,
  ServiceBuilderOptions,
  SystemOptions,
} from "./src/service/base-service-builder.ts";
export { ConfigurationError } from "./src/service/configuration-error.ts";
export type { LifecycleHook, NoEphemeral, ServiceApp, ServiceHandle } from "./src/service/lifecycle.ts";
export type {
  ArtifactRecordRoutes,
  ArtifactRouteTypes,
  ConfigRouteTypes,
  HealthRouteTypes,
  InfoRouteTypes,
  JobRouteTypes,
  TypedConfigIn,
  TypedConfigOut,
  WithRoutes,
} from "./src/service/route-types.ts";
export { listenService } from "./src/service/listen.ts";
export type { ListenOptions, RunningService } from "./src/service/listen.ts";
export { serve } from "./src/runtime/serve.ts";
export type { FetchHandler, RunningServer, ServeOptions } from "./src/runtime/serve.ts";
export { onTermination } from "./src/runtime/signals.ts";
export type { TerminationSignal } from "./src/runtime/signals.ts";

// Settings (typed configuration)
export { SettingsSchema } from "./src/core/settings/schema.ts";
export type { SettingAnnotations, Settings, SettingsInput } from "./src/core/settings/schema.ts";
export { loadSettings } from "./src/core/settings/load.ts";
export type { LoadedSettings, SecretResolver, SettingSource, SettingsFile, SettingsLayers } from "./src/core/settings/load.ts";
export { maskedSettings, renderSettings } from "./src/core/settings/render.ts";
export { describeConfiguration, ServiceSettings } from "./src/service/settings.ts";

// Overload, readiness and draining
export { requestSignal } from "./src/http/overload.ts";
export { Readiness, READINESS_KEY } from "./src/http/readiness.ts";
export type { DrainListener } from "./src/http/readiness.ts";

// Rate limiting
export { MemoryRateLimitStore, slidingWindow } from "./src/core/rate-limit.ts";
export type { RateLimitDecision, RateLimitPolicy, RateLimitStore } from "./src/core/rate-limit.ts";
export { RedisRateLimitStore } from "./src/integrations/redis-rate-limit.ts";
export type { RedisRateLimitOptions } from "./src/integrations/redis-rate-limit.ts";
export type { RateLimitPolicySetting } from "./src/core/settings/schema.ts";

// Outbound resilience
export { backoffDelay, OutboundPolicy, outboundOptions, OutboundRegistry, resilientFetch, retryAfterMs } from "./src/core/resilient-fetch.ts";
export type { OutboundAttempt, OutboundPolicyOptions } from "./src/core/resilient-fetch.ts";
export type { SettingsChange, SettingsListener, SettingsOptions } from "./src/service/settings.ts";

// HTTP building blocks
export { crudRouter } from "./src/http/crud/crud-router.ts";
export type { CrudPermissions, CrudRouterOptions } from "./src/http/crud/crud-router.ts";
export type { ListQueryParser, ParsedListQuery } from "./src/http/crud/list-query.ts";
export type { ListRouteOptions } from "./src/http/list-query-route.ts";
export type { HttpMethod, Operation, OperationContext, ResponseSet } from "./src/http/crud/operation.ts";
export type {
  CollectionRouteTypes,
  CrudRouteTypes,
  EntityRouteTypes,
  ListAnswer,
  ListRouteQuery,
  ProblemAnswers,
  RouteType,
} from "./src/http/crud/route-types.ts";
export { errorHandler } from "./src/http/error-handler.ts";
export type { ErrorHandlerOptions } from "./src/http/error-handler.ts";
export { problemResponse } from "./src/http/problem-response.ts";
export { formatSseEvent, sseResponse } from "./src/http/sse.ts";
export type { SseEvent, SseOptions, SseProducer, SseSink } from "./src/http/sse.ts";
export type { CheckResult, HealthCheck, ServiceContext, ServiceModule } from "./src/http/module.ts";
export { cachedCheck, OUTBOUND_KEY, outboundRegistryOf } from "./src/http/health.ts";
export type { CachedCheckOptions, CachedHealthCheck, HealthReport } from "./src/http/health.ts";

// Core
export { newUlid, isUlid, parseUlid, ulidTime } from "./src/core/ulid.ts";
export {
  BadRequestError,
  ChapkitError,
  ConflictError,
  ForbiddenError,
  InsufficientStorageError,
  InternalError,
  InvalidQueryError,
  InvalidUlidError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  PreconditionFailedError,
  RateLimitedError,
  RequestTimeoutError,
  UnauthorizedError,
  UnavailableError,
  UnsupportedMediaTypeError,
  ValidationError,
} from "./src/core/errors.ts";
export type { ChapkitErrorOptions, FieldError, Problem } from "./src/core/errors.ts";
export { CircuitBreaker, CircuitOpenError } from "./src/core/circuit-breaker.ts";
export type {
  CircuitBreakerOptions,
  CircuitSnapshot,
  CircuitState,
  CircuitStateChange,
  CircuitStateListener,
} from "./src/core/circuit-breaker.ts";
export type { AssessedStatus, ChapServiceInfo, MLServiceInfo, ModelAuthorship, ModelMetadata, ServiceInfo } from "./src/core/info.ts";
export { defineEntity, field, inferColumnType } from "./src/core/entity-definition.ts";
export type {
  EntityDefinition,
  EntityDefinitionOptions,
  EntityInputOf,
  EntityInputProperties,
  EntityOutputProperties,
  EntityRecordOf,
  FieldColumn,
  OutputField,
} from "./src/core/entity-definition.ts";
export { defineTable } from "./src/core/entity.ts";
export type {
  Column,
  ColumnType,
  EntityRecord,
  IndexDefinition,
  JsonPathIndex,
  OnDelete,
  TableDefinition,
} from "./src/core/entity.ts";
export { entityInputSchema, entityOutputSchema, TimestampSchema, UlidSchema } from "./src/core/schema.ts";
export type { EntityBaseProperties } from "./src/core/schema.ts";
export { Manager } from "./src/core/manager.ts";
export type { ManagerHooks, ManagerOptions, Page, SaveResult } from "./src/core/manager.ts";
export type { InsertValues, Repository, UpdateValues } from "./src/core/repository.ts";
export type { Filter, FilterOperator, FilterValue, ListQuery, SortDirection, SortKey } from "./src/core/query.ts";
export { parseFilter } from "./src/core/filter-parse.ts";
export type { ParseFilterOptions } from "./src/core/filter-parse.ts";
export { parseFields, parseListQuery, parseSort, RESERVED_LIST_PARAMETERS } from "./src/core/list-query.ts";
export type { ListMode, ListQueryOptions, ListRequest } from "./src/core/list-query.ts";
export { runListRequest, selectFields } from "./src/core/list-result.ts";
export type { CursorPage, ListResult, ListSource, PageEnvelope } from "./src/core/list-result.ts";
export { decodeCursor, encodeCursor } from "./src/core/cursor.ts";
export type { CursorState } from "./src/core/cursor.ts";
export { applyMergePatch } from "./src/core/merge-patch.ts";
export { checkIfMatch, computeEtag, ifNoneMatchHits } from "./src/core/etag.ts";
export { validateValue } from "./src/core/validation.ts";
export type { ValidateOptions } from "./src/core/validation.ts";
export { SANITIZE_KEYWORD, sanitizedString } from "./src/core/sanitize.ts";
export type { StringSanitizing } from "./src/core/sanitize.ts";
export { createLogger, LogLevelSwitch } from "./src/core/logging.ts";
export type { LogFields, Logger, LoggerOptions, LogLevel } from "./src/core/logging.ts";
export type {
  Enqueued,
  EnqueueOptions,
  JobBackoff,
  JobContext,
  JobFunction,
  JobHandler,
  JobHandlerContext,
  JobListOptions,
  JobRecord,
  JobRunner,
  JobStatus,
} from "./src/modules/jobs/types.ts";
export type {
  AttemptEnd,
  ClaimedJob,
  ClaimOptions,
  JobLease,
  JobOutcome,
  JobStore,
  NewJob,
  SweepOptions,
} from "./src/modules/jobs/job-store.ts";
export { InProcessJobRunner } from "./src/modules/jobs/runner.ts";
export type { InProcessJobRunnerOptions } from "./src/modules/jobs/runner.ts";
export { memoryJobStore } from "./src/modules/jobs/memory-store.ts";
export { JobScheduler } from "./src/modules/jobs/scheduler.ts";
export type { JobSchedulerOptions, MissedPolicy, ScheduleRecord, ScheduleSpec } from "./src/modules/jobs/scheduler.ts";
export { SqlJobStore } from "./src/modules/jobs/store.ts";

// Stores
export { openDatabase, DEFAULT_DATABASE_URL } from "./src/db/open.ts";
export type { DatabaseOptions } from "./src/db/open.ts";
export type { DialectName, Driver, Executor, Row, SqlValue } from "./src/db/driver.ts";
export type { PostgresOptions } from "./src/db/postgres-driver.ts";
export type { StoreCircuitOptions } from "./src/db/store-circuit.ts";
export type { SqliteOptions } from "./src/db/sqlite-driver.ts";
export { migrate, migrateDown, MigrationError } from "./src/db/migrate.ts";
export type { MigrationReport } from "./src/db/migrate.ts";
export type { Migration, MigrationSql } from "./src/db/migration.ts";
export { tableMigration } from "./src/db/table-migration.ts";
export { createRepository, SqlRepository } from "./src/db/repository.ts";

// Modules
export { entityKey, entityManagerOf, entityModule } from "./src/modules/entity/mod.ts";
export type { EntityOptions } from "./src/modules/entity/mod.ts";
export { createEntityManager } from "./src/modules/entity/manager.ts";
export type { EntityHooks, EntityManager } from "./src/modules/entity/manager.ts";
export { configModule } from "./src/modules/config/mod.ts";
export type { ConfigModuleOptions } from "./src/modules/config/mod.ts";
export { ConfigManager } from "./src/modules/config/manager.ts";
export type { ConfigInput } from "./src/modules/config/manager.ts";
export type { ConfigInSchema, ConfigOut, ConfigOutSchema, ConfigRecord } from "./src/modules/config/schema.ts";
export type { ConfigStore } from "./src/modules/config/store.ts";
export { artifactsModule } from "./src/modules/artifact/mod.ts";
export type { ArtifactsModuleOptions } from "./src/modules/artifact/mod.ts";
export { ArtifactManager } from "./src/modules/artifact/manager.ts";
export type { ArtifactConfigLinks, ArtifactDeleteOptions } from "./src/modules/artifact/manager.ts";
export type {
  ArtifactHierarchy,
  ArtifactIn,
  ArtifactInSchema,
  ArtifactOut,
  ArtifactOutSchema,
  ArtifactRecord,
  ArtifactTreeNode,
  LinkedConfig,
} from "./src/modules/artifact/schema.ts";
export type { ArtifactPayload } from "./src/modules/artifact/payload.ts";
export type { ArtifactStore, SubtreeRecord } from "./src/modules/artifact/store.ts";
export { jobsModule } from "./src/modules/jobs/mod.ts";
export type { JobsModuleOptions } from "./src/modules/jobs/mod.ts";
export { tasksModule } from "./src/modules/task/mod.ts";
export {
  FLAG_VARIABLES,
  FlagManager,
  type FlagManagerOptions,
  type FlagRecord,
  FLAGS_KEY,
  FLAGS_PERMISSION,
  flagsModule,
  type FlagsModuleOptions,
  type FlagSubject,
} from "./src/modules/flags/mod.ts";
export type { TasksModuleOptions } from "./src/modules/task/mod.ts";
export { taskFunction } from "./src/modules/task/functions.ts";
export type { TaskFunction, TaskFunctionContext, TaskFunctions } from "./src/modules/task/functions.ts";
export type { TaskSnapshot } from "./src/modules/task/schema.ts";
export { mlModule } from "./src/modules/ml/mod.ts";
export type { MlModuleOptions } from "./src/modules/ml/mod.ts";
export { MONITORING_KEY, monitoringModule, THRESHOLDS_KEY } from "./src/modules/monitoring/mod.ts";
export type { MonitoringModuleOptions } from "./src/modules/monitoring/mod.ts";
export { Monitoring } from "./src/observability/monitoring.ts";
export type { MonitoringOptions } from "./src/observability/monitoring.ts";
export { Counter, Gauge, Histogram, Registry } from "./src/observability/metrics.ts";
export { instrumentDriver } from "./src/db/instrumented-driver.ts";
export { renderStatusPage, statusPage } from "./src/http/status-page.ts";
export type { StatusPageOptions } from "./src/http/status-page.ts";
export { nextState, ThresholdMonitor } from "./src/observability/thresholds.ts";
export type {
  HealthState,
  HealthThresholds,
  ThresholdChange,
  ThresholdLevels,
  ThresholdResult,
} from "./src/observability/thresholds.ts";
export { AlertNotifier, alertOutboundPolicy, alertPayload } from "./src/observability/alerts.ts";
export type { Alert, AlertFormat, AlertNotifierOptions, AlertWebhook } from "./src/observability/alerts.ts";
export { RequestSeries } from "./src/observability/request-series.ts";
export { SlowQueryLog } from "./src/observability/slow-queries.ts";
export type { SlowQuery } from "./src/observability/slow-queries.ts";
export { EwmaDetector } from "./src/observability/anomaly.ts";
export type { EwmaOptions, EwmaVerdict } from "./src/observability/anomaly.ts";
export { MlMonitor } from "./src/observability/ml-monitor.ts";
export type { MlMonitorOptions, ModelReport, NumericColumns } from "./src/observability/ml-monitor.ts";
export { featureDrift, featureReference, ksPValue, ksStatistic, psi } from "./src/observability/drift.ts";
export type { FeatureDrift, FeatureReference } from "./src/observability/drift.ts";
export type { SeriesSlot, SeriesSummary } from "./src/observability/request-series.ts";

export { Span, SpanKind, Tracer } from "./src/observability/tracing.ts";
export type {
  AttributeValue,
  Attributes,
  ReadableSpan,
  Sampler,
  SpanExporter,
  SpanKindValue,
  SpanLink,
  StartSpanOptions,
  TracerOptions,
} from "./src/observability/tracing.ts";
export { formatTraceparent, parseTraceparent } from "./src/observability/trace-context.ts";
export type { SpanContext } from "./src/observability/trace-context.ts";
export { OtlpHttpExporter, tracerFromEnv } from "./src/observability/otlp-exporter.ts";
export type { OtlpExporterOptions, OtlpProtocol } from "./src/observability/otlp-exporter.ts";
export type { Environment } from "./src/runtime/env.ts";

export type {
  CounterChild,
  ExpositionFormat,
  GaugeChild,
  HistogramChild,
  HistogramOptions,
  MetricOptions,
} from "./src/observability/metrics.ts";
export { AUTH_KEY, authModule, staticKeysFromEnv } from "./src/modules/auth/mod.ts";
export type { AuthModule, AuthOptions } from "./src/modules/auth/mod.ts";
export { AuthManager } from "./src/modules/auth/manager.ts";
export { apiKeyBackend, bearerTokenBackend, trustedHeaderBackend } from "./src/modules/auth/backends.ts";
export type { TrustedHeaderOptions } from "./src/modules/auth/backends.ts";
export { authenticateWith } from "./src/http/auth-backend.ts";
export type { AuthBackend } from "./src/http/auth-backend.ts";
export type { AuthManagerOptions, RequestOrigin } from "./src/modules/auth/manager.ts";
export type { AuthStores } from "./src/modules/auth/store.ts";
export type {
  ApiKeyRecord,
  AuditRecord,
  RefreshTokenRecord,
  RoleInput,
  RoleRecord,
  SessionRecord,
  UserIn,
  UserOut,
  UserRecord,
} from "./src/modules/auth/schema.ts";
export { BUILTIN_ROLES, grants, PERMISSIONS, RoleRegistry } from "./src/modules/auth/roles.ts";
export type { RoleDefinition } from "./src/modules/auth/roles.ts";
export { hashPassword, verifyPassword } from "./src/modules/auth/password.ts";
export type { ScryptCost } from "./src/modules/auth/password.ts";
export type { Sessions, SessionView, TokenPair } from "./src/modules/auth/sessions.ts";
export type { ApiKeys, ApiKeyView, IssuedApiKey } from "./src/modules/auth/api-keys.ts";
export type { LoginPolicy, UserManager } from "./src/modules/auth/users.ts";
export type { AuditEntry, AuditEvent, AuditLog, AuditOut } from "./src/modules/auth/audit.ts";
export {
  AUTHENTICATED,
  PERMISSION_DETAIL_KEY,
  PUBLIC,
  withPermission,
} from "./src/http/auth-guard-permissions.ts";
export type { RouteEntry, RoutePermission } from "./src/http/auth-guard-permissions.ts";
export { DEFAULT_PUBLIC_PATHS, principalOf } from "./src/http/auth-guard.ts";
export type { AuthPrincipal } from "./src/http/auth-guard.ts";

// Machine learning
export { DataFrame } from "./src/ml/dataframe.ts";
export type { Cell, ColumnValues, DataFrameJSON, Dtype } from "./src/ml/dataframe.ts";
export { validateFeatureCollection } from "./src/ml/geojson.ts";
export type { Feature, FeatureCollection, Geometry, Loc, Position } from "./src/ml/geojson.ts";
export { BaseModelRunner, binaryModel, jsonModel, runPredict, runTrain } from "./src/ml/runner.ts";
export type {
  BinaryModel,
  ConfigData,
  JsonModel,
  ModelRunner,
  PredictContext,
  TrainContext,
  TrainedModel,
  WorkspacePredictContext,
  WorkspaceRunner,
} from "./src/ml/runner.ts";
export { functionalRunner } from "./src/ml/functional-runner.ts";
export type { FunctionalPredictInput, FunctionalRunnerOptions } from "./src/ml/functional-runner.ts";
export { ShellModelRunner } from "./src/ml/shell-runner.ts";
export type { ShellModelRunnerOptions } from "./src/ml/shell-runner.ts";
export { ShellWorkspaceRunner } from "./src/ml/shell-workspace-runner.ts";
export type { ShellWorkspaceRunnerOptions } from "./src/ml/shell-workspace-runner.ts";
export type { ConfigFormat, Workspace } from "./src/ml/workspace.ts";
export { OnnxModelRunner, onnxRunner, ONNX_CONTENT_TYPE } from "./src/ml/onnx-runner.ts";
export type { OnnxRunnerOptions } from "./src/ml/onnx-runner.ts";
export { OnnxWorkerPool } from "./src/ml/onnx-pool.ts";
export type { OnnxPoolOptions } from "./src/ml/onnx-pool.ts";
export { OnnxMainThread } from "./src/ml/onnx-session.ts";
export type {
  OnnxExecutor,
  OnnxOutputs,
  OnnxRunOptions,
  OnnxRunRequest,
  OnnxTensor,
} from "./src/ml/onnx-session.ts";
export { fitLinearRegression, predictLinear } from "./src/ml/linear-regression.ts";
export type { LinearModel } from "./src/ml/linear-regression.ts";
export { linearRegressionOnnx, mlpOnnx } from "./src/ml/onnx-models.ts";
export type { DenseLayer, LinearRegressionOnnxOptions } from "./src/ml/onnx-models.ts";
export { KeyError, RuntimeError, ValueError } from "./src/ml/errors.ts";
