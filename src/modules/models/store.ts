import type { Migration } from "../../db/migration.ts";

function registryTables(id: string): string {
  return `CREATE TABLE model_versions (
  id ${id} PRIMARY KEY,
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  major INTEGER NOT NULL,
  minor INTEGER NOT NULL,
  patch INTEGER NOT NULL,
  prerelease TEXT NOT NULL,
  description TEXT,
  status TEXT NOT NULL CHECK (status IN ('active', 'deprecated', 'archived')),
  metrics TEXT NOT NULL,
  params TEXT NOT NULL,
  tags TEXT NOT NULL,
  config TEXT,
  config_id TEXT,
  data_hash TEXT,
  artifact_id TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX ux_model_versions_name_version ON model_versions (name, version);
CREATE INDEX ix_model_versions_artifact ON model_versions (artifact_id);
CREATE TABLE model_aliases (
  name TEXT NOT NULL,
  alias TEXT NOT NULL,
  version TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (name, alias)
);
CREATE TABLE model_alias_events (
  id ${id} PRIMARY KEY,
  name TEXT NOT NULL,
  alias TEXT NOT NULL,
  from_version TEXT,
  to_version TEXT,
  action TEXT NOT NULL,
  actor TEXT NOT NULL,
  reason TEXT,
  at TEXT NOT NULL
);
CREATE INDEX ix_model_alias_events_alias ON model_alias_events (name, alias, id)`;
}

function routingTables(id: string, real: string): string {
  return `CREATE TABLE model_routes (
  name TEXT PRIMARY KEY,
  policy TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE model_serving_log (
  id ${id} PRIMARY KEY,
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  arm TEXT NOT NULL,
  request_key TEXT,
  ok INTEGER NOT NULL,
  latency_ms ${real} NOT NULL,
  at TEXT NOT NULL
);
CREATE INDEX ix_model_serving_log_version ON model_serving_log (name, version, at);
CREATE TABLE model_shadow_results (
  id ${id} PRIMARY KEY,
  name TEXT NOT NULL,
  primary_version TEXT NOT NULL,
  shadow_version TEXT NOT NULL,
  inputs TEXT NOT NULL,
  primary_output TEXT NOT NULL,
  shadow_output TEXT,
  shadow_error TEXT,
  primary_ms ${real} NOT NULL,
  shadow_ms ${real} NOT NULL,
  at TEXT NOT NULL
);
CREATE INDEX ix_model_shadow_results_name ON model_shadow_results (name, at)`;
}

/**
 * The schema of the models module (module `models`): versions (unique by
 * name and version; semver parts kept for ordering), aliases with their
 * audit trail, route policies, the serving log (which version answered,
 * how fast, whether it failed) and shadow results. Times are ISO-8601 text
 * on both dialects, so they order the same way everywhere.
 */
export const MODELS_MIGRATIONS: readonly Migration[] = [
  {
    module: "models",
    version: 1,
    name: "model registry",
    up: { sqlite: registryTables("TEXT"), postgres: registryTables("VARCHAR(26)") },
    down: "DROP TABLE model_alias_events;\nDROP TABLE model_aliases;\nDROP TABLE model_versions;",
  },
  {
    module: "models",
    version: 2,
    name: "model routing",
    up: { sqlite: routingTables("TEXT", "REAL"), postgres: routingTables("VARCHAR(26)", "DOUBLE PRECISION") },
    down: "DROP TABLE model_shadow_results;\nDROP TABLE model_serving_log;\nDROP TABLE model_routes;",
  },
];
