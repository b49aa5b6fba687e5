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

// Events (committed changes, after commit; see docs/events.md)
export { EventBus, type EventSelector, type EventType, type ServiceEvent } from "./src/core/events/mod.ts";
export { signWebhook, verifyWebhook } from "./src/modules/webhooks/signature.ts";
export type { WebhookManager } from "./src/modules/webhooks/mod.ts";

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
export type { CrudPermissions, CrudRouterOptions } from "./src/http/crud/crud-router.ts";
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
export { rawJsonBody } from "./src/http/json-body.ts";
export { formatSseEvent, sseResponse } from "./src/http/sse.ts";
export type { SseEvent, SseOptions, SseProducer, SseSink } from "./src/http/sse.ts";
export type { CheckResult, HealthCheck, ServiceContext, ServiceModule } from "./src/http/module.ts";
export { definePlugin, pluginConfig } from "./src/service/plugin.ts";
export type { ChapkitPlugin, PluginConfig, PluginEventHandler, PluginJobs } from "./src/service/plugin.ts";
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
  NotAcceptableError,
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
export { defineEntity, entityView, field, inferColumnType } from "./src/core/entity-definition.ts";
export type {
  EntityDefinition,
  EntityDefinitionOptions,
  EntityInputOf,
  EntityInputProperties,
  EntityOutputProperties,
  EntityRecordOf,
  EntityView,
  EntityViewOptions,
  FieldColumn,
  FieldOptions,
  OutputField,
  ServerSetField,
  StoredField,
  UnansweredField,
} from "./src/core/entity-definition.ts";
export { entityInputSchema, entityOutputSchema, TimestampSchema, UlidSchema } from "./src/core/schema.ts";
export type { EntityBaseProperties } from "./src/core/schema.ts";
export { Manager } from "./src/core/manager.ts";
export type { ManagerHooks, ManagerOptions, Page, SaveResult } from "./src/core/manager.ts";
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
export type { InProcessJobRunnerOptions } from "./src/modules/jobs/runner.ts";
export { JobScheduler } from "./src/modules/jobs/scheduler.ts";
export type { JobSchedulerOptions, MissedPolicy, ScheduleRecord, ScheduleSpec } from "./src/modules/jobs/scheduler.ts";

// Stores

// Modules
export { entityKey, entityManagerOf } from "./src/modules/entity/key.ts";
export type { EntityOptions } from "./src/modules/entity/mod.ts";
export type { GraphqlOptions } from "./src/modules/graphql/mod.ts";
export type { Link, LinkOptions, LinkSet } from "./src/http/links.ts";
export type { ApiVersion, DeprecatedRoute, Deprecation, TransformContext, VersioningOptions, VersionTransform } from "./src/http/versioning.ts";
export type { EntityHooks, EntityManager } from "./src/modules/entity/manager.ts";
export type { ConfigModuleOptions } from "./src/modules/config/mod.ts";
export type { ConfigInput, ConfigManager } from "./src/modules/config/manager.ts";
export type { ConfigInSchema, ConfigOut, ConfigOutSchema, ConfigRecord } from "./src/modules/config/schema.ts";
export type { ArtifactsModuleOptions } from "./src/modules/artifact/mod.ts";
export type { ArtifactConfigLinks, ArtifactDeleteOptions, ArtifactManager } from "./src/modules/artifact/manager.ts";
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
export { ArtifactRetention } from "./src/modules/artifact/retention.ts";
export type { ArtifactRetentionInfo, RetentionPolicy, RetentionReport } from "./src/modules/artifact/retention.ts";
export type { JobsModuleOptions } from "./src/modules/jobs/mod.ts";
export { FLAGS_KEY, FLAGS_PERMISSION } from "./src/modules/flags/key.ts";
export { FLAG_VARIABLES } from "./src/modules/flags/evaluate.ts";
export type { FlagManager, FlagManagerOptions, FlagRecord, FlagsModuleOptions, FlagSubject } from "./src/modules/flags/mod.ts";
export type { TasksModuleOptions } from "./src/modules/task/mod.ts";
export { taskFunction } from "./src/modules/task/functions.ts";
export type { TaskFunction, TaskFunctionContext, TaskFunctions } from "./src/modules/task/functions.ts";
export type { TaskSnapshot } from "./src/modules/task/schema.ts";

export type { Environment } from "./src/runtime/env.ts";

// Machine learning
