/** The entity table the data-layer tests store rows in, and helpers to open it on a store. */
import { defineTable, type EntityRecord, type TableDefinition } from "../../src/core/entity.ts";
import type { Driver } from "../../src/db/driver.ts";
import { migrate } from "../../src/db/migrate.ts";
import { createRepository, type SqlRepository } from "../../src/db/repository.ts";
import { tableMigration } from "../../src/db/table-migration.ts";
import type { TestStore } from "../_support/stores.ts";

/** A row of the `items` table. */
export interface Item extends EntityRecord {
  name: string;
  rank: number | null;
  score: number | null;
  active: boolean;
  data: Record<string, unknown> | null;
  tag: string | null;
  seen_at: string | null;
}

/** A table with one column of every commonly used type, a unique column and searchable text. */
export const items: TableDefinition = defineTable({
  name: "items",
  columns: {
    name: { type: "text", unique: true },
    rank: { type: "integer", nullable: true, indexed: true },
    score: { type: "real", nullable: true },
    active: { type: "boolean" },
    data: { type: "json", nullable: true },
    tag: { type: "text", nullable: true },
    seen_at: { type: "timestamp", nullable: true },
  },
  searchable: ["name", "tag"],
});

/** Values of a new item: only `name` is required, the rest defaults to empty. */
export function item(name: string, values: Partial<Omit<Item, "name">> = {}): Omit<Item, keyof EntityRecord> & Partial<EntityRecord> {
  return { rank: null, score: null, active: false, data: null, tag: null, seen_at: null, name, ...values };
}

/** An opened store with the `items` table migrated. */
export interface ItemsStore {
  db: Driver;
  repo: SqlRepository<Item>;
}

/** Opens a fresh store, creates the `items` table and returns its repository. */
export async function openItems(store: TestStore): Promise<ItemsStore> {
  const db = await store.open();
  await migrate(db, [tableMigration(items)]);
  return { db, repo: createRepository<Item>(db, items) };
}

/** Matches an ISO 8601 UTC timestamp with milliseconds and `Z`. */
export const ISO_MS_Z: RegExp = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
