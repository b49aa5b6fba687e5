import { type AnyElysia, Elysia } from "elysia";
import type { CrudPermissions } from "../../http/crud/crud-router.ts";
import { registerSubscribable } from "../../http/realtime/collections.ts";
import { artifactsTable } from "./schema.ts";
import type { ServiceContext, ServiceModule } from "../../http/module.ts";
import { ConfigLinkManager } from "../config-link/manager.ts";
import { artifactConfigOperation, configLinkRoutes } from "../config-link/routes.ts";
import { ConfigLinkStore, configLinkMigrations } from "../config-link/store.ts";
import type { ConfigManager } from "../config/manager.ts";
import { CONFIG_KEY, CONFIG_PREFIX_KEY, CONFIG_PREFIXES_KEY, DEFAULT_CONFIG_PREFIX } from "../config/mod.ts";
import { Type } from "@sinclair/typebox";
import { JOBS_KEY, SCHEDULES_KEY } from "../jobs/mod.ts";
import type { JobScheduler } from "../jobs/scheduler.ts";
import type { JobRunner } from "../jobs/types.ts";
import { scheduleCollection } from "../storage/collect-job.ts";
import { ArtifactRetention, type RetentionPolicy } from "./retention.ts";
import { contentStoreOf, resumableUploadsOf } from "../storage/mod.ts";
import { ArtifactManager } from "./manager.ts";
import { artifactMigrations, artifactSearchMigration, artifactSearchQueueMigration } from "./migrations.ts";
import { PAYLOAD_MARKER } from "./payload.ts";
import { artifactRoutes, DEFAULT_ARTIFACT_PREFIX } from "./routes.ts";
import type { ArtifactHierarchy } from "./schema.ts";
import { createArtifactStore } from "./store.ts";

/** The key the artifacts module provides its {@link ArtifactManager} under. */
export const ARTIFACTS_KEY = "artifacts";
/** The key the artifacts module provides its {@link ConfigLinkManager} under (config linking only). */
export const CONFIG_LINKS_KEY = "config-links";

/** Options of {@link artifactsModule}. */
export interface ArtifactsModuleOptions {
  /** The hierarchy `$expand` and `$tree` describe nodes with. */
  hierarchy: ArtifactHierarchy;
  /** Adds config ↔ artifact links and their routes; needs the config module (default false). */
  enableConfigLinking?: boolean;
  /** Route prefix (default `/api/v1/artifacts`). */
  prefix?: string;
  /** OpenAPI tags (default `["artifacts"]`). */
  tags?: string[];
  /** Which generic routes exist; `$` operations stay, `$upload` follows `create`. */
  permissions?: CrudPermissions;
  /** `chap`: tags and the chapkit 1.x views (see `artifactRoutes`); default `seed`. */
  profile?: "seed" | "chap";
  /**
   * Full-text search over `data` (`?q=`), off by default because artifact
   * data can hold megabytes; turning it on adds the search index (migration `artifacts#4`).
   */
  searchable?: boolean;
  /**
   * Retention policies by level and type (e.g. prediction samples after 30
   * days), enforced with each artifact's own `expires_at` by the scheduled
   * job `artifacts.retention` (`storage.retentionCron`; needs `withJobs()`).
   * Artifacts under legal hold are exempt.
   */
  retention?: RetentionPolicy[];
}

/** The key the artifacts module provides its {@link ArtifactRetention} under. */
export const ARTIFACT_RETENTION_KEY = "artifacts.retention";
/** The name of the retention job and of its schedule. */
export const RETENTION_JOB = "artifacts.retention";

async function scheduleRetention(context: ServiceContext, retention: ArtifactRetention): Promise<void> {
  if (!context.has(JOBS_KEY)) return;
  const logger = context.logger.child({ module: "artifacts" });
  context.get<JobRunner>(JOBS_KEY).register(RETENTION_JOB, {
    payload: Type.Object({}),
    run: async () => logger.info("artifacts.retention", { ...(await retention.enforce()) }),
  });
  const cron = context.settings.storage.retentionCron.trim();
  if (cron) await context.get<JobScheduler>(SCHEDULES_KEY).schedule(RETENTION_JOB, { cron, job: RETENTION_JOB });
}

/**
 * The artifacts module (contract §8–§9 with decisions): hierarchical
 * artifacts with binary payloads, provided as `"artifacts"`; with
 * `enableConfigLinking`, config links too (`"config-links"`), the config
 * router's `$link-artifact`, `$unlink-artifact`, `$artifacts` and the
 * artifact router's `$config`.
 *
 * @example
 * ```ts ignore
 * builder.module(artifactsModule({
 *   hierarchy: { name: "ml_pipeline", level_labels: { 0: "trained_model", 1: "predictions" } },
 *   enableConfigLinking: true,
 * }));
 * ```
 */
export function artifactsModule(options: ArtifactsModuleOptions): ServiceModule {
  const linking = options.enableConfigLinking === true;
  const prefix = options.prefix ?? DEFAULT_ARTIFACT_PREFIX;
  return {
    name: "artifacts",
    requires: linking ? ["config"] : [],
    provides: linking ? ["config-links"] : [],
    migrations: [
      ...artifactMigrations,
      ...(options.searchable ? [artifactSearchMigration, artifactSearchQueueMigration] : []),
      ...(linking ? configLinkMigrations : []),
    ],
    async setup(context: ServiceContext): Promise<void> {
      const size = context.monitoring?.artifactSize;
      const artifacts = new ArtifactManager({
        store: createArtifactStore(context.db, { searchable: options.searchable === true }),
        hierarchy: options.hierarchy,
        ...(size ? { onStored: (bytes: number) => size.observe(bytes) } : {}),
        tags: options.profile === "chap",
        events: { bus: context.events, collection: "artifacts" },
        content: contentStoreOf(context),
      });
      context.provide(ARTIFACTS_KEY, artifacts);
      await scheduleCollection(context);
      const retention = new ArtifactRetention(artifacts, options.retention ?? []);
      context.provide(ARTIFACT_RETENTION_KEY, retention);
      await scheduleRetention(context, retention);
      registerSubscribable(context, { collection: "artifacts", prefix, table: artifactsTable });
      if (!linking) return;
      const links = new ConfigLinkManager({
        store: new ConfigLinkStore(context.db),
        configs: () => context.get<ConfigManager>(CONFIG_KEY),
        artifacts,
      });
      artifacts.useConfigLinks(links);
      context.provide(CONFIG_LINKS_KEY, links);
    },
    routes(context: ServiceContext): AnyElysia {
      const artifacts = context.get<ArtifactManager>(ARTIFACTS_KEY);
      const base = {
        prefix,
        ...(options.tags ? { tags: options.tags } : {}),
        ...(options.permissions ? { permissions: options.permissions } : {}),
        ...(options.profile === "chap" ? { chap: true } : {}),
        retention: context.get<ArtifactRetention>(ARTIFACT_RETENTION_KEY),
        resumable: {
          uploads: resumableUploadsOf(context),
          maxSize: context.settings.http.maxUploadBytes,
          expiresMs: context.settings.storage.uploadExpiryMs,
        },
      };
      if (!linking) return artifactRoutes(artifacts, base);
      const links = context.get<ConfigLinkManager>(CONFIG_LINKS_KEY);
      const configPrefixes = context.has(CONFIG_PREFIXES_KEY)
        ? context.get<string[]>(CONFIG_PREFIXES_KEY)
        : [context.has(CONFIG_PREFIX_KEY) ? context.get<string>(CONFIG_PREFIX_KEY) : DEFAULT_CONFIG_PREFIX];
      const app = new Elysia();
      for (const configPrefix of configPrefixes) app.use(configLinkRoutes(links, { configPrefix }));
      return app.use(artifactRoutes(artifacts, {
          ...base,
          entityOperations: [artifactConfigOperation(links)],
          linkedUpload: (configId, payload) =>
            links.createLinked(configId, { data: { ml_type: "trained_model", config_id: configId, model: PAYLOAD_MARKER } }, payload),
        }));
    },
  };
}
