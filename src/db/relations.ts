import type { EntityRecord, Relation, TableDefinition } from "../core/entity.ts";
import { InvalidQueryError } from "../core/errors.ts";
import { ident } from "./dialect.ts";
import type { Executor, Row } from "./driver.ts";

/** IDs per statement at most (well under both stores' parameter limits). */
const CHUNK = 5000;

/** A record whose relations can be read on demand. */
export type Loadable<R extends EntityRecord> = R & {
  /** Reads relation `name` (one statement), keeps it on the record under that name and returns it. */
  load<T = unknown>(name: string): Promise<T>;
};

function targetOf(relation: Relation): TableDefinition {
  return typeof relation.table === "function" ? relation.table() : relation.table;
}

/** The relation `name` of `table`. @throws {InvalidQueryError} naming the known ones. */
export function relationOf(table: TableDefinition, name: string): Relation {
  const relation = Object.hasOwn(table.relations ?? {}, name) ? table.relations![name] : undefined;
  if (!relation) {
    const known = Object.keys(table.relations ?? {});
    throw new InvalidQueryError(`${table.name} has no relation ${name}${known.length ? ` (it has ${known.join(", ")})` : ""}`);
  }
  return relation;
}

async function chunked(values: string[], read: (chunk: string[]) => Promise<Row[]>): Promise<Row[]> {
  const out: Row[] = [];
  for (let start = 0; start < values.length; start += CHUNK) out.push(...await read(values.slice(start, start + CHUNK)));
  return out;
}

/**
 * Loads relations `names` of `records` in one statement per relation (never
 * one per record) and sets each record's `name` to the related record (or
 * null) or array. `decode(table, row)` turns a stored row of the related
 * table into its record.
 *
 * @throws {InvalidQueryError} for a name the table does not declare.
 */
export async function loadRelations(
  db: Executor,
  table: TableDefinition,
  records: readonly EntityRecord[],
  names: readonly string[],
  decode: (table: TableDefinition, row: Row) => EntityRecord,
): Promise<void> {
  const relations = names.map((name) => [name, relationOf(table, name)] as const);
  if (records.length === 0) return;
  for (const [name, relation] of relations) {
    const target = targetOf(relation);
    const from = ident(target.name);
    const out = records as unknown as Record<string, unknown>[];
    if (relation.kind === "belongsTo") {
      const keys = [...new Set(out.map((record) => record[relation.column]).filter((key): key is string => typeof key === "string"))];
      const rows = await chunked(keys, (chunk) => db.query(`SELECT * FROM ${from} WHERE "id" IN (${chunk.map(() => "?").join(", ")})`, chunk));
      const byId = new Map(rows.map((row) => [String(row.id), decode(target, row)]));
      for (const record of out) record[name] = byId.get(record[relation.column] as string) ?? null;
      continue;
    }
    const ids = out.map((record) => String(record.id));
    const groups = new Map<string, EntityRecord[]>(ids.map((id) => [id, []]));
    if (relation.kind === "hasMany") {
      const column = ident(relation.column);
      const rows = await chunked(ids, (chunk) =>
        db.query(`SELECT * FROM ${from} WHERE ${column} IN (${chunk.map(() => "?").join(", ")}) ORDER BY "id"`, chunk));
      for (const row of rows) groups.get(String(row[relation.column]))?.push(decode(target, row));
    } else {
      const link = ident(relation.through);
      const rows = await chunked(ids, (chunk) =>
        db.query(
          `SELECT l.${ident(relation.from)} AS "__owner", t.* FROM ${link} l JOIN ${from} t ON t."id" = l.${ident(relation.to)} ` +
            `WHERE l.${ident(relation.from)} IN (${chunk.map(() => "?").join(", ")}) ORDER BY t."id"`,
          chunk,
        ));
      for (const row of rows) groups.get(String(row.__owner))?.push(decode(target, row));
    }
    for (const record of out) record[name] = groups.get(String(record.id)) ?? [];
  }
}
