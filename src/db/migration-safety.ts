import { ident } from "./dialect.ts";
import type { Driver } from "./driver.ts";

/** Statements that lose data or rewrite a table: drops, truncation, deletes, retyping, NOT NULL on existing rows. */
const DESTRUCTIVE = /^\s*(DROP\s+(TABLE|COLUMN|SCHEMA)|TRUNCATE|DELETE\s+FROM|ALTER\s+TABLE\s+\S+\s+(DROP\s+(COLUMN\s+)?(?!CONSTRAINT|DEFAULT)|ALTER\s+(COLUMN\s+)?\S+\s+((SET\s+DATA\s+)?TYPE|SET\s+NOT\s+NULL)|ADD\s+(COLUMN\s+)?\S+\s+[^;]*\bNOT\s+NULL\b(?![^;]*\bDEFAULT\b)))/i;
/** What every destructive statement starts with: a cheap first test. */
const MAY_DESTROY = /^\s*(?:DROP|TRUNCATE|DELETE|ALTER)/i;

/**
 * Whether a statement may drop, truncate, delete or retype data, or make
 * existing rows fail NOT NULL, judged by its text alone. {@link destructiveReason}
 * looks at the data too.
 */
export function isDestructive(statement: string): boolean {
  // Only these statements can be; the cheap test spares compiling the full pattern for the CREATEs of a fresh store.
  return MAY_DESTROY.test(statement) && DESTRUCTIVE.test(statement);
}

const NAME = String.raw`(?:"((?:[^"]|"")+)"|([A-Za-z_][\w$]*))`;
const TABLE = String.raw`(?:${NAME}\s*\.\s*)?${NAME}`;
const ALTER_TYPE = new RegExp(String.raw`^\s*ALTER\s+TABLE\s+(?:ONLY\s+)?(?:IF\s+EXISTS\s+)?${TABLE}\s+ALTER\s+(?:COLUMN\s+)?${NAME}\s+(?:SET\s+DATA\s+)?TYPE\s+([^;]+?)\s*(?:USING\b[\s\S]*)?$`, "i");
const SET_NOT_NULL = new RegExp(String.raw`^\s*ALTER\s+TABLE\s+(?:ONLY\s+)?(?:IF\s+EXISTS\s+)?${TABLE}\s+ALTER\s+(?:COLUMN\s+)?${NAME}\s+SET\s+NOT\s+NULL\s*$`, "i");
const ADD_NOT_NULL = new RegExp(String.raw`^\s*ALTER\s+TABLE\s+(?:ONLY\s+)?(?:IF\s+EXISTS\s+)?${TABLE}\s+ADD\s+(?:COLUMN\s+)?(?:IF\s+NOT\s+EXISTS\s+)?${NAME}\s`, "i");

/** A quoted or bare identifier from a match: quoted ones keep their case, bare ones fold to lower case (PostgreSQL's rule). */
function nameOf(quoted: string | undefined, bare: string | undefined): string | undefined {
  if (quoted !== undefined) return quoted.replace(/""/g, '"');
  return bare?.toLowerCase();
}

/** The table's qualified identifier, or null when it does not exist yet (created by a pending migration: no rows). */
async function liveTable(db: Driver, schema: string | undefined, table: string): Promise<string | null> {
  const qualified = schema ? `${ident(schema)}.${ident(table)}` : ident(table);
  if (db.dialect === "postgres") {
    const [row] = await db.query<{ oid: string | null }>("SELECT to_regclass(?)::text AS oid", [qualified]);
    return row?.oid ? qualified : null;
  }
  const [row] = await db.query("SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = ?", [table]);
  return row ? qualified : null;
}

const ALIASES: Record<string, string> = {
  int: "integer",
  int4: "integer",
  int8: "bigint",
  int2: "smallint",
  float8: "double precision",
  float4: "real",
  float: "double precision",
  bool: "boolean",
  decimal: "numeric",
  varchar: "character varying",
  char: "character",
  timestamptz: "timestamp with time zone",
  timestamp: "timestamp without time zone",
};

/** A type name in PostgreSQL's `format_type` spelling (`varchar(5)` → `character varying(5)`). */
function normalType(type: string): string {
  const text = type.trim().toLowerCase().replace(/\s+/g, " ").replace(/\s*\(\s*/g, "(").replace(/\s*,\s*/g, ",").replace(/\s*\)/g, ")");
  const match = /^([a-z ]+?)(\(.*\))?$/.exec(text);
  if (!match) return text;
  const base = ALIASES[match[1]!] ?? match[1]!;
  return `${base}${match[2] ?? ""}`;
}

/** Types each type converts to without losing a value. */
const WIDER: Record<string, readonly string[]> = {
  "smallint": ["integer", "bigint", "numeric", "real", "double precision"],
  "integer": ["bigint", "numeric", "double precision"],
  "bigint": ["numeric"],
  "real": ["double precision"],
  "character varying": ["text"],
  "text": ["character varying"],
};

function parts(type: string): { base: string; args: number[] } {
  const match = /^([a-z ]+?)(?:\((\d+(?:,\d+)?)\))?$/.exec(type);
  return { base: match?.[1] ?? type, args: match?.[2] ? match[2].split(",").map(Number) : [] };
}

/** Whether converting `from` to `to` (both normalised) can lose or reject a value. */
export function narrows(from: string, to: string): boolean {
  if (from === to) return false;
  const a = parts(from);
  const b = parts(to);
  if (a.base === b.base) {
    if (b.args.length === 0) return false; // an unbounded varchar or numeric holds every value of a bounded one
    if (a.args.length === 0) return true;
    if (a.base === "numeric") {
      const [p1 = 0, s1 = 0] = a.args;
      const [p2 = 0, s2 = 0] = b.args;
      return s2 < s1 || p2 - s2 < p1 - s1;
    }
    return b.args[0]! < a.args[0]!;
  }
  if (b.base === "text" && a.base === "character varying") return false;
  if (b.base === "character varying" && b.args.length === 0 && a.base === "text") return false;
  if (b.base === "numeric" && b.args.length === 0) return !(WIDER[a.base]?.includes("numeric") ?? false);
  return !(b.args.length === 0 && (WIDER[a.base]?.includes(b.base) ?? false));
}

/**
 * Why a statement would lose data or fail on the rows the database holds
 * now, or null when it is safe here. Drops, truncation and deletes always
 * lose data; a type change only when it narrows the live column (widening
 * `integer` to `bigint` or `varchar(10)` to `text` is safe); `SET NOT NULL`
 * only when the column holds NULLs; a column added `NOT NULL` without a
 * default only when the table has rows. Tables not created yet have no rows.
 */
export async function destructiveReason(db: Driver, statement: string): Promise<string | null> {
  if (!isDestructive(statement)) return null;
  const retype = ALTER_TYPE.exec(statement);
  if (retype && db.dialect === "postgres") {
    const table = await liveTable(db, nameOf(retype[1], retype[2]), nameOf(retype[3], retype[4])!);
    if (!table) return null;
    const column = nameOf(retype[5], retype[6])!;
    const [row] = await db.query<{ type: string }>(
      "SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = to_regclass(?) AND attname = ? AND NOT attisdropped",
      [table, column],
    );
    if (!row) return null;
    const to = normalType(retype[7]!);
    return narrows(row.type, to) ? `narrows ${column} from ${row.type} to ${to}` : null;
  }
  const setNotNull = SET_NOT_NULL.exec(statement);
  if (setNotNull) {
    const table = await liveTable(db, nameOf(setNotNull[1], setNotNull[2]), nameOf(setNotNull[3], setNotNull[4])!);
    if (!table) return null;
    const column = nameOf(setNotNull[5], setNotNull[6])!;
    // A column a pending statement adds is NULL in every row the table has.
    const rows = await db.query(`SELECT 1 AS found FROM ${table} WHERE ${ident(column)} IS NULL LIMIT 1`)
      .catch(() => db.query(`SELECT 1 AS found FROM ${table} LIMIT 1`));
    return rows.length > 0 ? `${column} holds NULLs: SET NOT NULL would fail (fill them first)` : null;
  }
  const addNotNull = ADD_NOT_NULL.exec(statement);
  if (addNotNull && /\bNOT\s+NULL\b/i.test(statement) && !/\bDEFAULT\b/i.test(statement)) {
    const table = await liveTable(db, nameOf(addNotNull[1], addNotNull[2]), nameOf(addNotNull[3], addNotNull[4])!);
    if (!table) return null;
    const [row] = await db.query(`SELECT 1 AS found FROM ${table} LIMIT 1`);
    return row ? "adds a NOT NULL column without a default to a table that has rows" : null;
  }
  if (retype) return "changes a column's type";
  return /^\s*DELETE\b/i.test(statement) ? "deletes rows" : /^\s*TRUNCATE\b/i.test(statement) ? "removes every row" : "drops data";
}
