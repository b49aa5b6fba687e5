/**
 * `chapkit generate module NAME`: a service module folder in the shape of the
 * built-in modules (one entity definition, store, manager, routes, mod and a
 * test), written against the public `chapkit` entries only.
 */
import { pascalName, tableName } from "./entity.ts";

/** The files of a module named `name`, keyed by file name. */
export function moduleSources(name: string): Record<string, string> {
  const type = pascalName(name);
  const table = tableName(name);
  const lower = type.charAt(0).toLowerCase() + type.slice(1);
  return {
    "schema.ts": `import { type Static, Type } from "@sinclair/typebox";
import { defineEntity, type EntityRecordOf, field } from "chapkit";

/** The ${name} entity, defined once: its table, its input and output schemas and so its types. */
export const ${type} = defineEntity({
  table: "${table}",
  name: "${type}",
  fields: {
    name: field(Type.String({ minLength: 1 }), { indexed: true }),
    data: Type.Record(Type.String(), Type.Unknown(), { default: {} }),
  },
});

/** The \`${table}\` table: an indexed \`name\` and a JSON \`data\` column. */
export const ${lower}Table = ${type}.table;
/** A stored ${name} row. */
export type ${type}Record = EntityRecordOf<typeof ${type}>;
/** What a create or update accepts. */
export const ${type}In = ${type}.input;
/** What the API answers. */
export const ${type}Out = ${type}.output;
/** The validated input of a write. */
export type ${type}Input = Static<typeof ${type}In>;
`,
    "store.ts": `import { type Driver, SqlRepository } from "chapkit/db";
import { type ${type}Record, ${lower}Table } from "./schema.ts";

/** Where ${table} live; add queries the manager needs here. */
export class ${type}Store extends SqlRepository<${type}Record> {
  constructor(db: Driver) {
    super(db, ${lower}Table);
  }
}
`,
    "manager.ts": `import { Manager, type ManagerHooks } from "chapkit";
import { ${type}In, type ${type}Input, ${type}Out, type ${type}Record } from "./schema.ts";
import type { ${type}Store } from "./store.ts";

/** The business rules of ${table}: validation, defaults and hooks live here, not in routes. */
export class ${type}Manager extends Manager<${type}Record, typeof ${type}In, typeof ${type}Out> {
  constructor(store: ${type}Store, hooks?: ManagerHooks<${type}Record, ${type}Input>) {
    super({ repository: store, input: ${type}In, output: ${type}Out, ...(hooks ? { hooks } : {}) });
  }
}
`,
    "routes.ts": `import { crudRouter } from "chapkit/modules";
import type { ${type}Manager } from "./manager.ts";

/** CRUD, list queries and \`$schema\` under \`prefix\`. */
export function ${lower}Routes(manager: ${type}Manager, prefix: string) {
  return crudRouter({ prefix, manager, tags: ["${table}"], entityName: "${name}" });
}
`,
    "mod.ts": `import type { ServiceContext, ServiceModule } from "chapkit";
import type { Migration } from "chapkit/db";
import { tableMigration } from "chapkit/db";
import { ${type}Manager } from "./manager.ts";
import { ${lower}Routes } from "./routes.ts";
import { ${lower}Table } from "./schema.ts";
import { ${type}Store } from "./store.ts";

/** The key the module provides its manager under (\`context.get<${type}Manager>(${type.toUpperCase()}_KEY)\`). */
export const ${type.toUpperCase()}_KEY = "${name}";

/** The migrations of the \`${name}\` module; append new versions, never edit applied ones. */
export const ${lower}Migrations: Migration[] = [
  tableMigration(${lower}Table, "${name}"),
  {
    module: "${name}",
    version: 2,
    name: "add _version to ${table}",
    up: 'ALTER TABLE "${table}" ADD COLUMN "_version" INTEGER NOT NULL DEFAULT 0;',
    down: 'ALTER TABLE "${table}" DROP COLUMN "_version";',
  },
];

/** The \`${name}\` module: its table, a manager provided as \`"${name}"\`, and routes under \`prefix\`. */
export function ${lower}Module(options: { prefix?: string } = {}): ServiceModule {
  const prefix = options.prefix ?? "/api/v1/${table}";
  return {
    name: "${name}",
    migrations: ${lower}Migrations,
    setup(context: ServiceContext): void {
      context.provide(${type.toUpperCase()}_KEY, new ${type}Manager(new ${type}Store(context.db)));
    },
    routes: (context: ServiceContext) => ${lower}Routes(context.get<${type}Manager>(${type.toUpperCase()}_KEY), prefix),
  };
}
`,
    [`${name}.test.ts`]: `import assert from "node:assert/strict";
import { after, test } from "node:test";
import { ServiceBuilder } from "chapkit";
import { testClient } from "chapkit/testing";
import { ${lower}Module } from "./mod.ts";

const client = await testClient(
  new ServiceBuilder({ info: { display_name: "${type} test" }, databaseUrl: "sqlite::memory:" }).module(${lower}Module()),
);
after(() => client.close());

test("creates, reads, lists, updates and deletes a ${name}", async () => {
  const created = await client.post("/api/v1/${table}", { name: "first", data: { n: 1 } });
  assert.equal(created.status, 201);
  assert.equal(created.body.name, "first");
  const read = await client.get(\`/api/v1/${table}/\${created.body.id}\`);
  assert.deepEqual(read.body.data, { n: 1 });
  const listed = await client.get("/api/v1/${table}");
  assert.ok(listed.body.some((row: { id: string }) => row.id === created.body.id));
  const updated = await client.put(\`/api/v1/${table}/\${created.body.id}\`, { name: "renamed", data: {} });
  assert.equal(updated.body.name, "renamed");
  assert.equal((await client.delete(\`/api/v1/${table}/\${created.body.id}\`)).status, 204);
  assert.equal((await client.get(\`/api/v1/${table}/\${created.body.id}\`)).status, 404);
});

test("refuses a ${name} without a name with 422", async () => {
  const { status } = await client.post("/api/v1/${table}", { data: {} });
  assert.equal(status, 422);
});
`,
  };
}
