/**
 * The built-in entities are defined once (`defineEntity`); their tables come
 * from migrations, some hand-written SQL kept for existing databases. The
 * definition and the migrated table must agree column for column.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { EntityDefinition } from "../../src/core/entity-definition.ts";
import { sqlType } from "../../src/db/dialect.ts";
import type { DialectName, Driver } from "../../src/db/driver.ts";
import { describeSchema } from "../../src/db/introspect.ts";
import { migrate } from "../../src/db/migrate.ts";
import type { Migration } from "../../src/db/migration.ts";
import { Artifact } from "../../src/modules/artifact/schema.ts";
import { artifactMigrations, artifactSearchMigration, artifactSearchQueueMigration } from "../../src/modules/artifact/migrations.ts";
import { ApiKey, AuditEvent, Identity, RefreshToken, Role, Session, User } from "../../src/modules/auth/schema.ts";
import { AUTH_MIGRATIONS } from "../../src/modules/auth/store.ts";
import { configMigrations } from "../../src/modules/config/mod.ts";
import { Config } from "../../src/modules/config/schema.ts";
import { Flag } from "../../src/modules/flags/schema.ts";
import { FLAGS_MIGRATIONS } from "../../src/modules/flags/store.ts";
import { Task } from "../../src/modules/task/schema.ts";
import { TASKS_MIGRATIONS } from "../../src/modules/task/store.ts";
import { Webhook, WebhookDelivery } from "../../src/modules/webhooks/schema.ts";
import { WEBHOOKS_MIGRATIONS } from "../../src/modules/webhooks/store.ts";
import { postgresStore, sqliteFileStore, type TestStore } from "../_support/stores.ts";

const MIGRATIONS: readonly Migration[] = [
  ...configMigrations,
  ...artifactMigrations,
  artifactSearchMigration,
  artifactSearchQueueMigration,
  ...WEBHOOKS_MIGRATIONS,
  ...TASKS_MIGRATIONS,
  ...FLAGS_MIGRATIONS,
  ...AUTH_MIGRATIONS,
];

const DEFINITIONS: readonly EntityDefinition[] = [
  Config,
  Artifact,
  Webhook,
  WebhookDelivery,
  Task,
  Flag,
  User,
  ApiKey,
  Session,
  RefreshToken,
  Role,
  AuditEvent,
  Identity,
];

// Columns an entity table has besides its fields: the base fields, and internal ones (`_version`, `_search`).
const BASE = ["id", "created_at", "updated_at"];

// information_schema names PostgreSQL types without their length or precision, some in long form.
const LONG_NAMES: Record<string, string> = { TIMESTAMPTZ: "TIMESTAMP WITH TIME ZONE", VARCHAR: "CHARACTER VARYING" };

function liveType(dialect: DialectName, type: string): string {
  if (dialect === "sqlite") return type;
  const bare = type.replace(/\(.*\)$/, "");
  return LONG_NAMES[bare] ?? bare;
}

interface ColumnView {
  type: string;
  notNull: boolean;
  references?: string;
}

function definedColumns(definition: EntityDefinition, dialect: DialectName): Record<string, ColumnView> {
  const out: Record<string, ColumnView> = {};
  for (const [name, column] of Object.entries(definition.table.columns)) {
    out[name] = {
      type: liveType(dialect, sqlType(dialect, column.type)),
      notNull: column.nullable !== true,
      ...(column.references ? { references: column.references.table } : {}),
    };
  }
  return out;
}

async function liveColumns(db: Driver, table: string): Promise<Record<string, ColumnView>> {
  const live = (await describeSchema(db)).find((each) => each.name === table);
  assert.ok(live, `the migrations create ${table}`);
  const out: Record<string, ColumnView> = {};
  for (const column of live.columns) {
    if (BASE.includes(column.name) || column.name.startsWith("_")) continue;
    const key = live.foreignKeys.find((each) => each.column === column.name);
    out[column.name] = { type: column.type, notNull: column.notNull, ...(key ? { references: key.table } : {}) };
  }
  return out;
}

for (const store of [sqliteFileStore(), postgresStore()] as TestStore[]) {
  describe(`built-in entity definitions on ${store.name}`, () => {
    after(() => store.cleanup());

    it("declare exactly the columns, types, nullability and foreign keys their migrated tables have", async () => {
      const db = await store.open();
      try {
        await migrate(db, MIGRATIONS);
        for (const definition of DEFINITIONS) {
          assert.deepEqual(
            await liveColumns(db, definition.table.name),
            definedColumns(definition, db.dialect),
            `${definition.name} (${definition.table.name})`,
          );
        }
      } finally {
        await db.close();
      }
    });
  });
}
