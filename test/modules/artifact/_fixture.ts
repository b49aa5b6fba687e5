import { type TSchema, Type } from "@sinclair/typebox";
import type { Driver } from "../../../src/db/driver.ts";
import { migrate } from "../../../src/db/migrate.ts";
import { ArtifactManager } from "../../../src/modules/artifact/manager.ts";
import { artifactMigrations } from "../../../src/modules/artifact/migrations.ts";
import type { ArtifactHierarchy } from "../../../src/modules/artifact/schema.ts";
import { createArtifactStore } from "../../../src/modules/artifact/store.ts";
import { ConfigLinkManager } from "../../../src/modules/config-link/manager.ts";
import { ConfigLinkStore, configLinkMigrations } from "../../../src/modules/config-link/store.ts";
import { ConfigManager } from "../../../src/modules/config/manager.ts";
import { configMigrations } from "../../../src/modules/config/mod.ts";
import { createConfigStore } from "../../../src/modules/config/store.ts";
import type { TestStore } from "../../_support/stores.ts";

/** The config schema the module tests use. */
export const WeatherConfig: TSchema = Type.Object({
  min_samples: Type.Integer({ default: 5 }),
  normalize_features: Type.Boolean({ default: true }),
  threshold: Type.Optional(Type.Number()),
  window: Type.Optional(Type.Object({ size: Type.Integer({ default: 3 }), label: Type.Optional(Type.String()) })),
}, { title: "WeatherConfig" });

/** The hierarchy the module tests use. */
export const HIERARCHY: ArtifactHierarchy = {
  name: "ml_pipeline",
  level_labels: { 0: "trained_model", 1: "predictions" },
};

/** Managers of the config and artifact modules on one migrated store. */
export interface Modules {
  db: Driver;
  configs: ConfigManager;
  artifacts: ArtifactManager;
  links: ConfigLinkManager;
}

/** Opens a fresh store, applies the config, artifact and link migrations, and builds the managers. */
export async function openModules(store: TestStore, schema: TSchema = WeatherConfig): Promise<Modules> {
  const db = await store.open();
  await migrate(db, [...configMigrations, ...artifactMigrations, ...configLinkMigrations]);
  const configs = new ConfigManager({ store: createConfigStore(db), schema });
  const artifacts = new ArtifactManager({ store: createArtifactStore(db), hierarchy: HIERARCHY });
  const links = new ConfigLinkManager({ store: new ConfigLinkStore(db), configs, artifacts });
  artifacts.useConfigLinks(links);
  return { db, configs, artifacts, links };
}

/** Awaits a promise that must reject and returns the error. */
export async function failure(promise: Promise<unknown>): Promise<Error & { status?: number; errors?: unknown }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { status?: number };
  }
  throw new Error("expected a rejection");
}
