/**
 * Indexes a table declares are built by its migration, and the planner of
 * each store uses them for the expressions filters compile to.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { defineTable, type EntityRecord } from "../../src/core/entity.ts";
import type { Filter } from "../../src/core/query/model.ts";
import type { Driver } from "../../src/db/driver.ts";
import { FilterCompiler } from "../../src/db/filter-sql.ts";
import { migrate } from "../../src/db/migrate.ts";
import { createRepository, type SqlRepository } from "../../src/db/repository.ts";
import { compileSearch } from "../../src/db/search-sql.ts";
import { tableMigration } from "../../src/db/table-migration.ts";
import { testStores } from "../_support/stores.ts";

interface Model extends EntityRecord {
  name: string;
  kind: string;
  data: Record<string, unknown>;
}

const models = defineTable({
  name: "models",
  columns: {
    name: { type: "text", unique: true },
    kind: { type: "text", indexed: true },
    data: { type: "json" },
  },
  indexes: [{ columns: ["kind", "created_at"] }],
  jsonIndexes: ["data.ml_type", { path: "data.size", type: "number" }],
  searchable: ["name"],
});

const TYPES = ["trained_model", "predictions", "dataset", "report"];

async function indexNames(db: Driver): Promise<string[]> {
  const rows = db.dialect === "postgres"
    ? await db.query<{ name: string }>("SELECT indexname AS name FROM pg_indexes WHERE tablename = ? AND schemaname = current_schema()", ["models"])
    : await db.query<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", ["models"]);
  return rows.map((row) => row.name).sort();
}

/** The store's plan for `SELECT id FROM models WHERE <filter>`, as text. */
async function plan(db: Driver, where: { sql: string; params: unknown[] }): Promise<string> {
  const sql = `SELECT "id" FROM "models" WHERE ${where.sql}`;
  if (db.dialect === "sqlite") {
    const rows = await db.query<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, where.params as never[]);
    return rows.map((row) => row.detail).join("\n");
  }
  // Only whether the index can serve the expression matters here, not the cost estimate of a small table.
  return db.transaction(async (tx) => {
    await tx.exec("SET LOCAL enable_seqscan = off");
    const rows = await tx.query<{ "QUERY PLAN": string }>(`EXPLAIN ${sql}`, where.params as never[]);
    return rows.map((row) => row["QUERY PLAN"]).join("\n");
  });
}

for (const store of testStores()) {
  describe(`declared indexes on ${store.name}`, () => {
    let db: Driver;
    let repo: SqlRepository<Model>;
    let compiler: FilterCompiler;
    before(async () => {
      db = await store.open();
      await migrate(db, [tableMigration(models)]);
      repo = createRepository<Model>(db, models);
      compiler = new FilterCompiler(models, db.dialect);
      await repo.insertMany(Array.from({ length: 400 }, (_, i) => ({
        name: `model ${i}`,
        kind: i % 2 ? "a" : "b",
        data: { ml_type: i % 7 === 0 ? i : TYPES[i % TYPES.length]!, size: i % 5 === 0 ? String(i) : i },
      })));
      if (db.dialect === "postgres") await db.exec(`ANALYZE "models"`);
    });
    after(async () => {
      await db.close();
      await store.cleanup();
    });

    it("creates unique, column, multi-column and JSON path indexes", async () => {
      const names = await indexNames(db);
      for (const name of ["ux_models_name", "ix_models_kind", "ix_models_kind_created_at", "ix_models_data_ml_type", "ix_models_data_size"]) {
        assert.ok(names.includes(name), `${name} in ${names.join(", ")}`);
      }
      if (db.dialect === "postgres") assert.ok(names.includes("ix_models_search"), names.join(", "));
    });

    it("builds the search index: FTS5 table and triggers on SQLite, a generated tsvector on PostgreSQL", async () => {
      if (db.dialect === "postgres") {
        const rows = await db.query<{ type: string; generated: string }>(
          "SELECT data_type AS type, is_generated AS generated FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? AND column_name = ?",
          ["models", "_search"],
        );
        assert.deepEqual(rows.map((row) => [row.type, row.generated]), [["tsvector", "ALWAYS"]]);
        return;
      }
      const rows = await db.query<{ type: string; name: string }>(
        "SELECT type, name FROM sqlite_master WHERE name LIKE 'models_fts%' AND type IN ('table', 'trigger') ORDER BY name",
      );
      const names = rows.map((row) => `${row.type} ${row.name}`);
      for (const name of ["table models_fts", "trigger models_fts_delete", "trigger models_fts_insert", "trigger models_fts_update"]) {
        assert.ok(names.includes(name), `${name} in ${names.join(", ")}`);
      }
    });

    it("plans a filter on a declared string path through its index", async () => {
      const filter: Filter = { kind: "compare", field: "data.ml_type", op: "eq", value: "report" };
      assert.match(await plan(db, compiler.compile(filter)), /ix_models_data_ml_type/);
    });

    it("plans a range on a declared number path through its index", async () => {
      const filter: Filter = { kind: "compare", field: "data.size", op: "gt", value: 390 };
      assert.match(await plan(db, compiler.compile(filter)), /ix_models_data_size/);
    });

    it("plans a filter on an indexed column through its index", async () => {
      const filter: Filter = { kind: "compare", field: "kind", op: "eq", value: "a" };
      assert.match(await plan(db, compiler.compile(filter)), /ix_models_kind/);
    });

    it("starts a keyset page at the cursor with a range on the index", async () => {
      const filter = compiler.compile({ kind: "compare", field: "kind", op: "eq", value: "a" });
      const keyset = compiler.keyset([{ field: "created_at", direction: "desc" }], { values: ["2026-01-01T00:00:00.000Z"], id: "01K72P5N5KCRM6MD3BRE4P0999" });
      const text = await plan(db, { sql: `${filter.sql} AND ${keyset.sql}`, params: [...filter.params, ...keyset.params] });
      assert.match(text, /ix_models_kind_created_at/);
      assert.match(text, db.dialect === "postgres" ? /Index Cond: .*created_at <=/ : /kind=\? AND created_at<\?/);
    });

    it("plans search through the search index", async () => {
      const search = compileSearch(db.dialect, models, "model 12");
      assert.match(await plan(db, search.where), db.dialect === "postgres" ? /ix_models_search/ : /models_fts|VIRTUAL TABLE/);
    });

    it("answers filters on indexed paths with typed comparisons", async () => {
      const reports = await repo.findMany({ filter: { kind: "compare", field: "data.ml_type", op: "eq", value: "report" } });
      assert.ok(reports.length > 0);
      assert.ok(reports.every((row) => row.data.ml_type === "report"));
      const numeric = await repo.count({ filter: { kind: "compare", field: "data.ml_type", op: "gte", value: 0 } });
      assert.equal(numeric, Math.ceil(400 / 7));
      const big = await repo.findMany({ filter: { kind: "compare", field: "data.size", op: "gt", value: 390 } });
      assert.deepEqual(big.map((row) => row.data.size), [391, 392, 393, 394, 396, 397, 398, 399]);
    });
  });
}

describe("JSON index declarations", () => {
  it("must name a path inside a json column", () => {
    assert.throws(() => defineTable({ name: "t", columns: { a: { type: "text" } }, jsonIndexes: ["a.b"] }), TypeError);
    assert.throws(() => defineTable({ name: "t", columns: { d: { type: "json" } }, jsonIndexes: ["d"] }), TypeError);
    assert.throws(() => defineTable({ name: "t", columns: { d: { type: "json" } }, jsonIndexes: ["d.x-y"] }), TypeError);
    assert.ok(defineTable({ name: "t", columns: { d: { type: "json" } }, jsonIndexes: ["d.x.y_1"] }));
  });
});
