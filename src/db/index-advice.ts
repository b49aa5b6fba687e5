import type { SlowQuery } from "../observability/slow-queries.ts";
import { ident } from "./dialect.ts";
import type { Driver } from "./driver.ts";

/** One index the slow statements would use. */
export interface IndexAdvice {
  /** The table. */
  table: string;
  /** The column the statements filter or sort on. */
  column: string;
  /** `filter` (WHERE) or `sort` (ORDER BY), whichever was seen more. */
  use: "filter" | "sort";
  /** Slow statements that filtered or sorted on it. */
  seen: number;
  /** The statement that adds the index. */
  create: string;
}

const FROM = /\bFROM\s+"([A-Za-z_][A-Za-z0-9_]*)"/i;
const COMPARED = /"([A-Za-z_][A-Za-z0-9_]*)"\s*(?:=|<>|!=|<=|>=|<|>|\bIN\b|\bLIKE\b|\bILIKE\b|\bIS\b)/gi;
const ORDER = /\bORDER\s+BY\s+"([A-Za-z_][A-Za-z0-9_]*)"/i;

/** The columns leading an index of `table` (the primary key included). */
async function indexedColumns(db: Driver, table: string): Promise<Set<string>> {
  const leading = new Set<string>(["id"]);
  if (db.dialect === "sqlite") {
    const indexes = await db.query<{ name: string }>("SELECT name FROM pragma_index_list(?)", [table]);
    for (const index of indexes) {
      const [first] = await db.query<{ name: string | null }>("SELECT name FROM pragma_index_info(?) ORDER BY seqno LIMIT 1", [index.name]);
      if (first?.name) leading.add(first.name);
    }
  } else {
    const rows = await db.query<{ indexdef: string }>("SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ?", [table]);
    for (const row of rows) {
      const first = /\(\s*"?([A-Za-z_][A-Za-z0-9_]*)"?/.exec(row.indexdef)?.[1];
      if (first) leading.add(first);
    }
  }
  return leading;
}

/**
 * Index advice from the slow-query log: the columns slow statements filter
 * or sort on (as the repository writes them: `FROM "t" WHERE "c" = ?`,
 * `ORDER BY "c"`) that lead no index of their table, most seen first, each
 * with the `CREATE INDEX` that supports it. Statements on tables that no
 * longer exist are skipped.
 */
export async function adviseIndexes(db: Driver, entries: readonly Pick<SlowQuery, "sql">[], options: { minSeen?: number } = {}): Promise<IndexAdvice[]> {
  const counts = new Map<string, { table: string; column: string; filter: number; sort: number }>();
  const count = (table: string, column: string, use: "filter" | "sort"): void => {
    const key = `${table}.${column}`;
    const entry = counts.get(key) ?? { table, column, filter: 0, sort: 0 };
    entry[use] += 1;
    counts.set(key, entry);
  };
  for (const { sql } of entries) {
    const table = FROM.exec(sql)?.[1];
    if (!table) continue;
    const where = /\bWHERE\b([\s\S]*?)(?:\bORDER\s+BY\b|\bLIMIT\b|\bGROUP\s+BY\b|$)/i.exec(sql)?.[1] ?? "";
    for (const column of new Set([...where.matchAll(COMPARED)].map((match) => match[1]!))) count(table, column, "filter");
    const sorted = ORDER.exec(sql)?.[1];
    if (sorted) count(table, sorted, "sort");
  }
  const advice: IndexAdvice[] = [];
  const indexed = new Map<string, Set<string>>();
  for (const { table, column, filter, sort } of counts.values()) {
    if (filter + sort < (options.minSeen ?? 1)) continue;
    if (!indexed.has(table)) indexed.set(table, await indexedColumns(db, table).catch(() => new Set<string>(["*"])));
    const leading = indexed.get(table)!;
    if (leading.has("*") || leading.has(column)) continue;
    advice.push({
      table,
      column,
      use: filter >= sort ? "filter" : "sort",
      seen: filter + sort,
      create: `CREATE INDEX ${ident(`ix_${table}_${column}`.slice(0, 63))} ON ${ident(table)} (${ident(column)})`,
    });
  }
  return advice.sort((a, b) => b.seen - a.seen || a.table.localeCompare(b.table) || a.column.localeCompare(b.column));
}
