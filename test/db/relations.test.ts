/**
 * Relations: belongs-to, has-many and many-to-many through a link table,
 * loaded with `?include=` in one statement per relation (no N+1), and lazily
 * with `record.load(name)`.
 */
import assert from "node:assert/strict";
import { after, afterEach, beforeEach, describe, it } from "node:test";
import { Type } from "@sinclair/typebox";
import { defineEntity } from "../../src/core/entity-definition.ts";
import { defineTable, type EntityRecord, type TableDefinition } from "../../src/core/entity.ts";
import { migrate } from "../../src/db/migrate.ts";
import { openDatabase } from "../../src/db/open.ts";
import type { Loadable } from "../../src/db/relations.ts";
import { createRepository } from "../../src/db/repository.ts";
import { tableMigration } from "../../src/db/table-migration.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import { countingDriver, type CountingDriver } from "../_support/counting-driver.ts";
import { call, json } from "../_support/http.ts";
import { testStores } from "../_support/stores.ts";

const configs = defineTable({ name: "configs", columns: { name: { type: "text" } } });
const tags = defineTable({ name: "tags", columns: { label: { type: "text" } } });
const artifacts: TableDefinition = defineTable({
  name: "artifacts",
  columns: {
    name: { type: "text" },
    parent_id: { type: "ulid", nullable: true, references: { table: "artifacts", onDelete: "cascade" } },
    config_id: { type: "ulid", nullable: true, references: { table: "configs" } },
  },
  relations: {
    config: { kind: "belongsTo", table: configs, column: "config_id" },
    children: { kind: "hasMany", table: () => artifacts, column: "parent_id" },
    tags: { kind: "manyToMany", table: tags, through: "artifact_tags", from: "artifact_id", to: "tag_id" },
  },
});
const artifactTags = defineTable({
  name: "artifact_tags",
  columns: { artifact_id: { type: "ulid", references: { table: "artifacts" } }, tag_id: { type: "ulid", references: { table: "tags" } } },
});

interface Artifact extends EntityRecord {
  name: string;
  parent_id: string | null;
  config_id: string | null;
}

for (const store of testStores()) {
  describe(`relations on ${store.name}`, () => {
    let db: CountingDriver;
    let roots: Artifact[];
    beforeEach(async () => {
      db = countingDriver(await store.open());
      await migrate(db, [tableMigration(configs), tableMigration(tags), tableMigration(artifacts), tableMigration(artifactTags)]);
      const config = await createRepository(db, configs).insert({ name: "weekly" } as never);
      const [red, blue] = await createRepository(db, tags).insertMany([{ label: "red" }, { label: "blue" }] as never[]);
      const repo = createRepository<Artifact>(db, artifacts);
      roots = await repo.insertMany(Array.from({ length: 5 }, (_, i) => ({ name: `root${i}`, parent_id: null, config_id: i % 2 ? config.id : null })));
      for (const root of roots) await repo.insertMany([{ name: `${root.name}-a`, parent_id: root.id, config_id: null }, { name: `${root.name}-b`, parent_id: root.id, config_id: null }]);
      const links = createRepository(db, artifactTags);
      await links.insertMany([{ artifact_id: roots[0]!.id, tag_id: red!.id }, { artifact_id: roots[0]!.id, tag_id: blue!.id }, { artifact_id: roots[1]!.id, tag_id: blue!.id }] as never[]);
      db.reset();
    });
    afterEach(() => db.close());
    after(() => store.cleanup());

    it("loads three relations of many records in three statements", async () => {
      const repo = createRepository<Artifact>(db, artifacts);
      const rows = await repo.findMany({ filter: { kind: "compare", field: "parent_id", op: "isnull", value: true } });
      db.reset();
      await repo.include(rows, ["config", "children", "tags"]);
      assert.equal(db.statements.length, 3, db.statements.join("\n"));
      const [first, second] = rows as (Artifact & { config: { name: string } | null; children: Artifact[]; tags: { label: string }[] })[];
      assert.equal(first!.config, null);
      assert.equal(second!.config?.name, "weekly");
      assert.deepEqual(first!.children.map((child) => child.name), ["root0-a", "root0-b"]);
      assert.deepEqual(first!.tags.map((tag) => tag.label).sort(), ["blue", "red"]);
      assert.deepEqual(second!.tags.map((tag) => tag.label), ["blue"]);
      assert.deepEqual(rows[4] && (rows[4] as unknown as { tags: unknown[] }).tags, []);
    });

    it("loads a relation lazily with record.load(name), one statement, kept out of the record's keys until loaded", async () => {
      const repo = createRepository<Artifact>(db, artifacts);
      const row = await repo.findById(roots[1]!.id) as Loadable<Artifact>;
      assert.ok(!Object.keys(row).includes("load"));
      db.reset();
      const config = await row.load<{ name: string }>("config");
      assert.equal(config.name, "weekly");
      assert.equal(db.statements.length, 1);
      assert.equal(JSON.parse(JSON.stringify(row)).config.name, "weekly");
      await assert.rejects(row.load("nope"), /no relation nope/);
    });
  });
}

const Config = defineEntity({ table: "configs", fields: { name: Type.String() } });
const Node = defineEntity({
  table: "nodes",
  fields: { name: Type.String(), parent_id: Type.Optional(Type.Union([Type.String(), Type.Null()])), config_id: Type.Optional(Type.Union([Type.String(), Type.Null()])) },
  relations: {
    config: { kind: "belongsTo", table: Config.table, column: "config_id" },
    children: { kind: "hasMany", table: (): TableDefinition => Node.table, column: "parent_id" },
  },
});

describe("?include= on a list endpoint", () => {
  it("answers each item with its relations, in one statement per relation", async () => {
    const db = countingDriver(await openDatabase("sqlite::memory:"));
    const app = await new ServiceBuilder({ info: { display_name: "include" } }).withSettings({ env: {} }).withDatabase(db).withEntity(Config).withEntity(Node).build();
    try {
      const config = await json<{ id: string }>(await call(app, "POST", "/api/v1/configs", { name: "weekly" }), 201);
      const parents: { id: string }[] = [];
      for (let i = 0; i < 4; i++) parents.push(await json(await call(app, "POST", "/api/v1/nodes", { name: `p${i}`, config_id: config.id }), 201));
      for (const parent of parents) await json(await call(app, "POST", "/api/v1/nodes", { name: "child", parent_id: parent.id }), 201);
      db.reset();
      const all = await json<{ items: { children: unknown[] }[] }>(await call(app, "GET", "/api/v1/nodes?include=children,config&limit=100"), 200);
      assert.equal(all.items.length, 8);
      assert.equal(db.statements.length, 4, `the page, its count and one statement per relation, not one per item:\n${db.statements.join("\n")}`);
      const page = await json<{ items: { name: string; config: { name: string } | null; children: { name: string }[] }[] }>(
        await call(app, "GET", "/api/v1/nodes?name=p1&include=children,config&limit=10&fields=name"),
        200,
      );
      assert.equal(page.items.length, 1);
      assert.equal(page.items[0]!.config?.name, "weekly");
      assert.deepEqual(page.items[0]!.children.map((child) => child.name), ["child"]);
      const bad = await call(app, "GET", "/api/v1/nodes?include=nope");
      assert.equal(bad.status, 400);
      assert.match(await bad.text(), /no relation nope/);
    } finally {
      await app.chapkit.close();
      await db.close();
    }
  });
});
