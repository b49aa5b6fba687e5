import { defineTable, type EntityRecord } from "../../src/core/entity.ts";
import type { Driver } from "../../src/db/driver.ts";
import { migrate } from "../../src/db/migrate.ts";
import { createRepository, type SqlRepository } from "../../src/db/repository.ts";
import { tableMigration } from "../../src/db/table-migration.ts";

/** A row of the query test table: every column type a filter can meet. */
export interface ItemRecord extends EntityRecord {
  name: string;
  level: number | null;
  score: number | null;
  active: boolean;
  tag: string | null;
  seen_at: string | null;
  data: Record<string, unknown> | null;
}

/** The query test table. */
export const itemsTable = defineTable({
  name: "items",
  columns: {
    name: { type: "text", indexed: true },
    level: { type: "integer", nullable: true },
    score: { type: "real", nullable: true },
    active: { type: "boolean" },
    tag: { type: "text", nullable: true },
    seen_at: { type: "timestamp", nullable: true },
    data: { type: "json", nullable: true },
  },
  searchable: ["name", "tag"],
});

/** Rows with mixed types in JSON, NULLs, LIKE/GLOB metacharacters and mixed case. */
export const ITEMS: Omit<ItemRecord, "id" | "created_at" | "updated_at">[] = [
  { name: "weather", level: 0, score: 1.5, active: true, tag: "a", seen_at: "2025-01-01T00:00:00.000Z", data: { ml_type: "trained_model", min_samples: 5, nested: { k: "x" } } },
  { name: "Weather Station", level: 1, score: null, active: false, tag: null, seen_at: null, data: { ml_type: "predictions", min_samples: "5" } },
  { name: "rain_100%", level: 2, score: -3, active: true, tag: "b", seen_at: "2025-06-01T12:30:00.000Z", data: { min_samples: 10, flag: true } },
  { name: "snow*[x]?", level: null, score: 0, active: false, tag: "A", seen_at: "2024-12-31T23:59:59.999Z", data: null },
  { name: "\u00dcn\u00efcode wEATHER", level: 0, score: 2.25, active: true, tag: "b", seen_at: null, data: { ml_type: "trained_model", min_samples: 2.5, flag: false, arr: [1, 2] } },
  { name: "back\\slash \"q\"", level: 3, score: 100, active: false, tag: "", seen_at: "2025-01-01T00:00:00.000Z", data: { min_samples: null, ml_type: "TRAINED_MODEL", nested: { k: 1 } } },
];

/** Creates the table on a fresh store and inserts {@link ITEMS} (ids ascending in insertion order). */
export async function seedItems(db: Driver): Promise<{ repo: SqlRepository<ItemRecord>; rows: ItemRecord[] }> {
  await migrate(db, [tableMigration(itemsTable)]);
  const repo = createRepository<ItemRecord>(db, itemsTable);
  const rows: ItemRecord[] = [];
  for (const item of ITEMS) rows.push(await repo.insert(item));
  return { repo, rows };
}
