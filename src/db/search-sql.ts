import type { TableDefinition } from "../core/entity.ts";
import { ident } from "./dialect.ts";
import type { DialectName, SqlValue } from "./driver.ts";

/** A SQL fragment with its bound parameters. */
interface Fragment {
  sql: string;
  params: SqlValue[];
}

/** The generated `tsvector` column of a searchable table on PostgreSQL. */
export const SEARCH_COLUMN = "_search";

const WORD = /[\p{L}\p{N}\p{M}\p{Co}]+/gu;

/**
 * The words of a search text: runs of letters, digits and combining marks.
 * Everything else (spaces, punctuation, symbols, quotes, operators) only
 * separates words, so no input can change the shape of a search query.
 */
export function searchWords(text: string): string[] {
  return text.match(WORD) ?? [];
}

/** The FTS5 table behind a searchable SQLite table. */
export function searchTableName(table: TableDefinition): string {
  return `${table.name}_fts`;
}

/** The `CREATE TABLE` column line of the PostgreSQL `tsvector`, or undefined when nothing is searchable. */
export function searchColumnSql(dialect: DialectName, table: TableDefinition): string | undefined {
  const columns = table.searchable ?? [];
  if (dialect !== "postgres" || columns.length === 0) return undefined;
  const text = columns.map((column) => `coalesce(${ident(column)}::text, '')`).join(" || ' ' || ");
  return `${ident(SEARCH_COLUMN)} tsvector GENERATED ALWAYS AS (to_tsvector('simple', ${text})) STORED`;
}

/**
 * The statements that build a table's search index after its `CREATE TABLE`:
 * on SQLite an external-content FTS5 table plus the triggers that keep it in
 * step with inserts, updates and deletes; on PostgreSQL a GIN index on the
 * generated `tsvector` column. Empty when nothing is searchable.
 *
 * The FTS5 table follows rows by `rowid`. Should a tool ever renumber rowids
 * (SQLite documents that `VACUUM` may), `INSERT INTO <table>_fts(<table>_fts)
 * VALUES('rebuild')` rebuilds it from the table.
 */
export function searchIndexSql(dialect: DialectName, table: TableDefinition): string[] {
  const columns = table.searchable ?? [];
  if (columns.length === 0) return [];
  const name = ident(table.name);
  if (dialect === "postgres") {
    return [`CREATE INDEX ${ident(`ix_${table.name}${SEARCH_COLUMN}`)} ON ${name} USING GIN (${ident(SEARCH_COLUMN)})`];
  }
  const fts = ident(searchTableName(table));
  const list = columns.map(ident).join(", ");
  const values = (row: string): string => columns.map((column) => `${row}.${ident(column)}`).join(", ");
  const remove = `INSERT INTO ${fts} (${fts}, "rowid", ${list}) VALUES ('delete', old."rowid", ${values("old")});`;
  const add = `INSERT INTO ${fts} ("rowid", ${list}) VALUES (new."rowid", ${values("new")});`;
  const trigger = (suffix: string): string => ident(`${table.name}_fts_${suffix}`);
  // Each trigger stays on one line: migrations split statements at a `;` that ends a line.
  return [
    `CREATE VIRTUAL TABLE ${fts} USING fts5(${list}, content=${quote(table.name)}, content_rowid='rowid', tokenize='unicode61 remove_diacritics 0')`,
    `CREATE TRIGGER ${trigger("insert")} AFTER INSERT ON ${name} BEGIN ${add} END`,
    `CREATE TRIGGER ${trigger("delete")} AFTER DELETE ON ${name} BEGIN ${remove} END`,
    `CREATE TRIGGER ${trigger("update")} AFTER UPDATE OF ${list} ON ${name} BEGIN ${remove} ${add} END`,
  ];
}

/** The table of a searchable SQLite table's rows written since the last flush, not yet in its FTS5 index. */
export function searchQueueName(table: TableDefinition): string {
  return `${table.name}_fts_pending`;
}

const QUEUE_TRIGGERS = ["insert", "delete", "update"] as const;

/**
 * The SQLite statements that move a table's search index from triggers that
 * index each row inside its write's transaction to a queue: the triggers
 * record the `rowid` of an inserted or changed row in `<table>_fts_pending`,
 * and {@link flushSearchSql} indexes the queued rows in one transaction (after
 * commits and before any search). A queued row is not in the index, so its
 * update or delete issues no FTS5 `'delete'` (an external-content index must
 * only be told to forget what it holds); an indexed row is removed from the
 * index when it changes and queued again.
 */
export function searchQueueSql(table: TableDefinition): string[] {
  const columns = table.searchable ?? [];
  if (columns.length === 0) return [];
  const name = ident(table.name);
  const fts = ident(searchTableName(table));
  const queue = ident(searchQueueName(table));
  const list = columns.map(ident).join(", ");
  const old = columns.map((column) => `old.${ident(column)}`).join(", ");
  const indexed = `NOT EXISTS (SELECT 1 FROM ${queue} WHERE "rowid" = old."rowid")`;
  const forget = `INSERT INTO ${fts} (${fts}, "rowid", ${list}) SELECT 'delete', old."rowid", ${old} WHERE ${indexed};`;
  const enqueue = `INSERT OR IGNORE INTO ${queue} ("rowid") VALUES (new."rowid");`;
  const trigger = (suffix: string): string => ident(`${table.name}_fts_queue_${suffix}`);
  // Each statement stays on one line: migrations split statements at a `;` that ends a line.
  return [
    `CREATE TABLE ${queue} ("rowid" INTEGER PRIMARY KEY)`,
    ...QUEUE_TRIGGERS.map((suffix) => `DROP TRIGGER ${ident(`${table.name}_fts_${suffix}`)}`),
    `CREATE TRIGGER ${trigger("insert")} AFTER INSERT ON ${name} BEGIN ${enqueue} END`,
    `CREATE TRIGGER ${trigger("delete")} AFTER DELETE ON ${name} BEGIN ${forget} DELETE FROM ${queue} WHERE "rowid" = old."rowid"; END`,
    `CREATE TRIGGER ${trigger("update")} AFTER UPDATE OF ${list} ON ${name} BEGIN ${forget} ${enqueue} END`,
  ];
}

/** The SQLite statements that undo {@link searchQueueSql}: the queued rows indexed, the per-row triggers back. */
export function dropSearchQueueSql(table: TableDefinition): string[] {
  if (!table.searchable?.length) return [];
  return [
    ...flushSearchSql(table),
    ...QUEUE_TRIGGERS.map((suffix) => `DROP TRIGGER ${ident(`${table.name}_fts_queue_${suffix}`)}`),
    `DROP TABLE ${ident(searchQueueName(table))}`,
    ...searchIndexSql("sqlite", table).slice(1),
  ];
}

/**
 * The SQLite statements that index the queued rows of a table (see
 * {@link searchQueueSql}) and empty its queue; run them in one transaction.
 * The queue drives the join, so a flush costs what it indexes, not the table's size.
 */
export function flushSearchSql(table: TableDefinition): string[] {
  const columns = table.searchable ?? [];
  if (columns.length === 0) return [];
  const fts = ident(searchTableName(table));
  const queue = ident(searchQueueName(table));
  const list = columns.map(ident).join(", ");
  const values = columns.map((column) => `"t".${ident(column)}`).join(", ");
  return [
    `INSERT INTO ${fts} ("rowid", ${list}) SELECT "t"."rowid", ${values} FROM ${queue} AS "q" CROSS JOIN ${ident(table.name)} AS "t" ON "t"."rowid" = "q"."rowid"`,
    `DELETE FROM ${queue}`,
  ];
}

/** The statements that drop what {@link searchIndexSql} built, before the table itself is dropped. */
export function dropSearchIndexSql(dialect: DialectName, table: TableDefinition): string[] {
  if (dialect !== "sqlite" || !table.searchable?.length) return [];
  return [`DROP TABLE ${ident(searchTableName(table))}`];
}

function quote(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** The SQL of one search: a row condition, and the join and order that rank rows best first. */
export interface SearchSql {
  /** A condition on the table's rows (`1=0` when the text has no words). */
  where: Fragment;
  /** What ranking adds: a join before `WHERE` (SQLite) and the ORDER BY term, best match first. */
  ranked?: { join: Fragment; order: Fragment };
}

/**
 * Compiles search text for a table: every word must match (any searchable
 * column, case-insensitively) and the last word also matches as a prefix.
 * Words reach SQL only as bound parameters: an FTS5 query of quoted phrase
 * tokens (`"` doubled) on SQLite, `plainto_tsquery`/`to_tsquery('simple')`
 * of plain lexemes on PostgreSQL.
 */
export function compileSearch(dialect: DialectName, table: TableDefinition, text: string): SearchSql {
  const words = searchWords(text);
  if (words.length === 0) return { where: { sql: "1=0", params: [] } };
  const last = words[words.length - 1]!;
  const name = ident(table.name);
  if (dialect === "sqlite") {
    const match = words.map((word) => `"${word.replace(/"/g, '""')}"`).join(" ") + "*";
    const fts = ident(searchTableName(table));
    return {
      where: { sql: `${name}."rowid" IN (SELECT "rowid" FROM ${fts} WHERE ${fts} MATCH ?)`, params: [match] },
      ranked: {
        join: {
          sql: ` JOIN (SELECT "rowid" AS "_fts_rowid", "rank" AS "_fts_rank" FROM ${fts} WHERE ${fts} MATCH ?) AS "_fts" ON "_fts"."_fts_rowid" = ${name}."rowid"`,
          params: [match],
        },
        order: { sql: `"_fts"."_fts_rank" ASC`, params: [] },
      },
    };
  }
  const prefix = `'${last.replace(/\\/g, "\\\\").replace(/'/g, "''")}':*`;
  const head = words.slice(0, -1).join(" ");
  const tsquery = (params: SqlValue[]): string => {
    if (head === "") {
      params.push(prefix);
      return "to_tsquery('simple', ?)";
    }
    params.push(head, prefix);
    return "(plainto_tsquery('simple', ?) && to_tsquery('simple', ?))";
  };
  const where: SqlValue[] = [];
  const order: SqlValue[] = [];
  const vector = ident(SEARCH_COLUMN);
  // Normalization 1 divides by 1 + log(length): shorter matching text ranks higher, as with bm25.
  return {
    where: { sql: `${vector} @@ ${tsquery(where)}`, params: where },
    ranked: { join: { sql: "", params: [] }, order: { sql: `ts_rank(${vector}, ${tsquery(order)}, 1) DESC`, params: order } },
  };
}
