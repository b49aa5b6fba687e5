import type { Column, EntityRecord, TableDefinition } from "../core/entity.ts";
import { InvalidQueryError, PreconditionFailedError } from "../core/errors.ts";
import type { Filter, ListQuery } from "../core/query/model.ts";
import type { InsertValues, Repository, TransactionOptions, UpdateValues, WriteCondition } from "../core/repository.ts";
import { toIso } from "../core/time.ts";
import { newUlid } from "../core/ulid.ts";
import { ident } from "./dialect.ts";
import type { DialectName, Driver, Row, SqlValue } from "./driver.ts";
import { FilterCompiler, type SqlFragment } from "./filter-sql.ts";
import { compileSearch, flushSearchSql, searchQueueName } from "./search-sql.ts";
import { type Loadable, loadRelations } from "./relations.ts";

const MAX_PARAMS = 30000;
/** Rows per INSERT of a bulk insert: bigger statements save little time and take megabytes to compile and answer. */
const MAX_INSERT_ROWS = 500;

/** The internal column every write of a versioned table increments (see {@link versionColumnMigration}). */
export const VERSION_COLUMN = "_version";

const ROW_VERSION: unique symbol = Symbol("chapkit.rowVersion");

/** The internal version of a row read from a versioned table (never part of its JSON). */
export function rowVersionOf(record: EntityRecord): number | undefined {
  return (record as { [ROW_VERSION]?: number })[ROW_VERSION];
}

/** `record` carrying `version` as its internal row version (a cached copy of a row gets it back). */
export function withRowVersion<R extends EntityRecord>(record: R, version: number | undefined): R {
  if (version !== undefined) Object.defineProperty(record, ROW_VERSION, { value: version });
  return record;
}

function changedSince(id: string): PreconditionFailedError {
  return new PreconditionFailedError(`Entity ${id} changed since its ETag was read: If-Match no longer holds`);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    return a.byteLength === b.byteLength && a.every((byte, i) => byte === b[i]);
  }
  if (typeof a === "object" && typeof b === "object" && a !== null && b !== null) {
    return JSON.stringify(a) === JSON.stringify(b);
  }
  return false;
}

/**
 * The SQL repository of one entity table: every operation of the
 * {@link Repository} contract as SQL with bound parameters, on SQLite and
 * PostgreSQL alike. Rows come back with JSON parsed, booleans as booleans and
 * timestamps as ISO 8601 UTC strings.
 */
export class SqlRepository<R extends EntityRecord> implements Repository<R> {
  /** The table definition. */
  readonly table: TableDefinition;
  /** The store. */
  readonly db: Driver;
  readonly #columns: [string, Column | undefined][];
  readonly #compiler: FilterCompiler;
  readonly #name: string;
  readonly #columnList: string;
  // Whether the table has the internal version column; learnt at the first call.
  #versioned: boolean | undefined;
  // Whether the table's SQLite search index is kept through a queue (see searchQueueSql); learnt at the first call.
  #queued = false;
  #flushTimer: ReturnType<typeof setTimeout> | undefined;

  /** Creates a repository of one table on a database. */
  constructor(db: Driver, table: TableDefinition) {
    this.db = db;
    this.table = table;
    this.#name = ident(table.name);
    this.#columns = [
      ["id", undefined],
      ["created_at", { type: "timestamp" }],
      ["updated_at", { type: "timestamp" }],
      ...Object.entries(table.columns),
    ];
    this.#compiler = new FilterCompiler(table, db.dialect);
    this.#columnList = this.#columns.map(([name]) => ident(name)).join(", ");
  }

  get #selectList(): string {
    return this.#versioned ? `${this.#columnList}, ${ident(VERSION_COLUMN)}` : this.#columnList;
  }

  async #ready(): Promise<void> {
    if (this.#versioned !== undefined) return;
    const rows = await this.db.query(
      this.db.dialect === "sqlite"
        ? `SELECT 1 AS one FROM pragma_table_info(?) WHERE "name" = ?`
        : `SELECT 1 AS one FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? AND column_name = ?`,
      [this.table.name, VERSION_COLUMN],
    );
    if (this.db.dialect === "sqlite" && this.table.searchable?.length) {
      const queue = await this.db.query(`SELECT 1 AS one FROM sqlite_master WHERE "type" = 'table' AND "name" = ?`, [searchQueueName(this.table)]);
      this.#queued = queue.length > 0;
    }
    this.#versioned = rows.length > 0;
  }

  /**
   * Indexes the rows queued for the search index since the last flush, in
   * one transaction (a savepoint inside the caller's), when the table keeps
   * its SQLite search index through a queue; a no-op otherwise. Searches call
   * it first, so they see every committed write, this process's or another's.
   */
  async flushSearch(): Promise<void> {
    await this.#ready();
    if (!this.#queued) return;
    const queued = await this.db.query(`SELECT 1 AS one FROM ${ident(searchQueueName(this.table))} LIMIT 1`);
    if (queued.length === 0) return;
    await this.db.transaction(async () => {
      for (const sql of flushSearchSql(this.table)) await this.db.exec(sql);
    });
  }

  /** Schedules one flush of the search queue for the next turn of the event loop, after the caller's transaction commits. */
  #indexLater(): void {
    if (!this.#queued || this.#flushTimer !== undefined) return;
    const schedule = (): void => {
      if (this.#flushTimer !== undefined) return;
      // Writes of the same turn share one flush; a failed flush leaves the rows queued for the next one or a search.
      this.#flushTimer = setTimeout(() => {
        this.#flushTimer = undefined;
        this.flushSearch().catch(() => {});
      }, 0);
    };
    if (this.db.inTransaction?.() && this.db.afterTransaction) void this.db.afterTransaction(schedule);
    else schedule();
  }

  /** The SQL test that a row is still the one `expected` was read from. */
  #unchanged(expected: EntityRecord): SqlFragment {
    const version = rowVersionOf(expected);
    if (this.#versioned && version !== undefined) return { sql: `${ident(VERSION_COLUMN)} = ?`, params: [version] };
    return { sql: `"updated_at" = ?`, params: [toIso(expected.updated_at)] };
  }

  #same(current: EntityRecord, expected: EntityRecord): boolean {
    const version = rowVersionOf(expected);
    if (this.#versioned && version !== undefined) return rowVersionOf(current) === version;
    return toIso(current.updated_at) === toIso(expected.updated_at);
  }

  /** The dialect of the store. */
  get dialect(): DialectName {
    return this.db.dialect;
  }

  /** Encodes a value for a column. */
  encode(column: Column | undefined, value: unknown): SqlValue {
    if (value === undefined || value === null) return null;
    switch (column?.type) {
      case "json":
        // postgres.js serialises json parameters itself; the wrapper keeps it from
        // reading a bare boolean (or an array starting with one) as a PostgreSQL boolean.
        return this.db.dialect === "sqlite" ? JSON.stringify(value) : ({ toJSON: () => value } as unknown as SqlValue);
      case "boolean":
        return Boolean(value);
      case "timestamp":
        return toIso(value as string);
      case "blob":
        return value as Uint8Array;
      default:
        return value as SqlValue;
    }
  }

  /** Decodes a stored row. */
  decode(row: Row): R {
    const out: Record<string, unknown> = {};
    for (const [name, column] of this.#columns) {
      const value = row[name];
      if (value === null || value === undefined) {
        out[name] = null;
        continue;
      }
      switch (column?.type) {
        case "json":
          out[name] = this.db.dialect === "sqlite" && typeof value === "string" ? JSON.parse(value) : value;
          break;
        case "boolean":
          out[name] = value === true || value === 1 || value === 1n;
          break;
        case "timestamp":
          out[name] = toIso(value as string | Date);
          break;
        case "integer":
        case "real":
          out[name] = typeof value === "number" ? value : Number(value);
          break;
        case "blob":
          out[name] = value instanceof Uint8Array ? value : new Uint8Array(value as ArrayBuffer);
          break;
        default:
          out[name] = value;
      }
    }
    const version = row[VERSION_COLUMN];
    if (version !== undefined && version !== null) Object.defineProperty(out, ROW_VERSION, { value: Number(version) });
    if (this.table.relations) this.attachLoader(out as R);
    return out as R;
  }

  /**
   * Gives `record` a `load(name)` method (not enumerable: never part of its
   * JSON) that reads one relation; decoded rows of tables with relations have it.
   */
  attachLoader(record: R): Loadable<R> {
    if (!Object.hasOwn(record, "load")) {
      Object.defineProperty(record, "load", {
        value: async (name: string) => {
          await this.include([record], [name]);
          return (record as Record<string, unknown>)[name];
        },
      });
    }
    return record as Loadable<R>;
  }

  /**
   * Loads relations `names` of `records` (declared in the table's
   * `relations`), one statement per relation whatever the number of records,
   * and sets them on each record under their names.
   * @throws {InvalidQueryError} for a relation the table does not declare.
   */
  include(records: readonly R[], names: readonly string[]): Promise<void> {
    return loadRelations(this.db, this.table, records, names, (table, row) => this.#decoderOf(table).decode(row));
  }

  readonly #decoders = new Map<TableDefinition, SqlRepository<EntityRecord>>();

  #decoderOf(table: TableDefinition): SqlRepository<EntityRecord> {
    if (table === this.table) return this as unknown as SqlRepository<EntityRecord>;
    let decoder = this.#decoders.get(table);
    if (!decoder) this.#decoders.set(table, decoder = new SqlRepository(this.db, table));
    return decoder;
  }

  #where(query: Pick<ListQuery, "filter" | "search" | "sort" | "after"> | undefined, ranked = false): SqlFragment & { rank?: SqlFragment } {
    const parts: string[] = [];
    const params: SqlValue[] = [];
    let join = "";
    let rank: SqlFragment | undefined;
    if (query?.search?.trim()) {
      if (!this.table.searchable?.length) throw new InvalidQueryError(`${this.table.name} declares no searchable fields`);
      const search = compileSearch(this.db.dialect, this.table, query.search);
      if (ranked && search.ranked) {
        join = search.ranked.join.sql;
        params.push(...search.ranked.join.params);
        rank = search.ranked.order;
        if (join === "") {
          parts.push(search.where.sql);
          params.push(...search.where.params);
        }
      } else {
        parts.push(search.where.sql);
        params.push(...search.where.params);
      }
    }
    if (query?.filter) {
      const compiled = this.#compiler.compile(query.filter);
      parts.push(compiled.sql);
      params.push(...compiled.params);
    }
    if (query?.after) {
      const keyset = this.#compiler.keyset(query.sort, query.after);
      parts.push(keyset.sql);
      params.push(...keyset.params);
    }
    const where = parts.length ? ` WHERE ${parts.join(" AND ")}` : "";
    return rank ? { sql: join + where, params, rank } : { sql: join + where, params };
  }

  /** The statement of findById, made once the version column is known (the driver caches statements by their text). */
  #byIdSql: string | undefined;

  findById(id: string): Promise<R | null> {
    if (this.#byIdSql === undefined) {
      return this.#ready().then(() => {
        this.#byIdSql = `SELECT ${this.#selectList} FROM ${this.#name} WHERE "id" = ?`;
        return this.findById(id);
      });
    }
    return this.db.query(this.#byIdSql, [id]).then((rows) => rows[0] ? this.decode(rows[0]) : null);
  }

  async findMany(query: ListQuery = {}): Promise<R[]> {
    await this.#ready();
    if (this.#queued && query.search) await this.flushSearch();
    const { sql, params } = this.#select(query);
    const rows = await this.db.query(sql, params);
    return rows.map((row) => this.decode(row));
  }

  /**
   * The rows matching the query, in its order, read as they are consumed:
   * through a server-side cursor (PostgreSQL) or a stepping statement
   * (SQLite), `batchSize` rows at a time (default 1000), so a million rows
   * never sit in memory at once. Leaving the loop early closes the cursor.
   *
   * @example
   * ```ts ignore
   * for await (const row of repository.stream({ sort: [{ field: "created_at", direction: "asc" }] })) write(row);
   * ```
   */
  async *stream(query: ListQuery = {}, options: { batchSize?: number } = {}): AsyncIterable<R> {
    await this.#ready();
    if (this.#queued && query.search) await this.flushSearch();
    const { sql, params } = this.#select(query);
    if (!this.db.stream) {
      for (const row of await this.db.query(sql, params)) yield this.decode(row);
      return;
    }
    for await (const rows of this.db.stream(sql, params, Math.max(1, options.batchSize ?? 1000))) {
      for (const row of rows) yield this.decode(row);
    }
  }

  #select(query: ListQuery): SqlFragment {
    // Search results come best match first unless a sort is given; ranks cannot be keyset.
    const ranked = Boolean(query.search?.trim()) && !query.sort?.length;
    if (ranked && query.after) throw new InvalidQueryError("Continuing search results after a row needs a sort");
    const where = this.#where(query, ranked);
    const order = this.#compiler.orderBy(query.sort);
    const orderSql = where.rank ? `${where.rank.sql}, ${order.sql}` : order.sql;
    let sql = `SELECT ${this.#selectList} FROM ${this.#name}${where.sql} ORDER BY ${orderSql}`;
    const params = [...where.params, ...(where.rank?.params ?? []), ...order.params];
    if (query.limit !== undefined) {
      sql += " LIMIT ?";
      params.push(query.limit);
    } else if (query.offset) {
      sql += this.db.dialect === "sqlite" ? " LIMIT -1" : " LIMIT ALL";
    }
    if (query.offset) {
      sql += " OFFSET ?";
      params.push(Math.max(0, query.offset));
    }
    return { sql, params };
  }

  async count(query?: Pick<ListQuery, "filter" | "search">): Promise<number> {
    if (query?.search) await this.flushSearch();
    const where = this.#where(query ? { filter: query.filter, search: query.search } : undefined);
    const rows = await this.db.query<{ n: number | string }>(
      `SELECT COUNT(*) AS n FROM ${this.#name}${where.sql}`,
      where.params,
    );
    return Number(rows[0]?.n ?? 0);
  }

  async exists(id: string): Promise<boolean> {
    const rows = await this.db.query(`SELECT 1 AS one FROM ${this.#name} WHERE "id" = ?`, [id]);
    return rows.length > 0;
  }

  #insertRow(values: InsertValues<R>, now: string): SqlValue[] {
    const source = values as Record<string, unknown>;
    return this.#columns.map(([name, column]) => {
      if (name === "id") return (source.id as string | undefined) ?? newUlid();
      if (name === "created_at" || name === "updated_at") {
        return source[name] ? toIso(source[name] as string) : now;
      }
      return this.encode(column, source[name]);
    });
  }

  async insert(values: InsertValues<R>): Promise<R> {
    const [record] = await this.insertMany([values]);
    return record!;
  }

  async insertMany(values: InsertValues<R>[]): Promise<R[]> {
    if (values.length === 0) return [];
    await this.#ready();
    const now = new Date().toISOString();
    const width = this.#columns.length;
    const batch = Math.max(1, Math.min(MAX_INSERT_ROWS, Math.floor(MAX_PARAMS / width)));
    const tuple = `(${this.#columns.map(() => "?").join(", ")})`;
    const run = async (): Promise<R[]> => {
      const out: R[] = [];
      for (let start = 0; start < values.length; start += batch) {
        const chunk = values.slice(start, start + batch);
        const params = chunk.flatMap((value) => this.#insertRow(value, now));
        const rows = await this.db.query(
          `INSERT INTO ${this.#name} (${this.#columnList}) VALUES ${chunk.map(() => tuple).join(", ")} RETURNING ${this.#selectList}`,
          params,
        );
        for (const row of rows) out.push(this.decode(row));
      }
      this.#indexLater();
      return out;
    };
    return values.length > batch ? this.atomic(run) : run();
  }

  /**
   * Inserts one row only while `condition` (an SQL condition over other rows,
   * e.g. `NOT EXISTS (…)`) holds when the statement runs: the check and the
   * write are one statement. Null when the condition failed and nothing was written.
   *
   * With `failed` (the error of a failed condition), inside a transaction of a
   * store that pipelines statements (PostgreSQL), the insert is pipelined
   * and the row returned as it will be stored, without waiting for the
   * server: a failed condition then fails the statement (the row's id is
   * NULL, which its primary key refuses), so the transaction rolls back and
   * rejects with `failed()`. The whole transaction can then reach the server
   * in one round trip.
   */
  protected async insertWhere(values: InsertValues<R>, condition: SqlFragment, failed?: () => Error): Promise<R | null> {
    await this.#ready();
    const params = this.#insertRow(values, new Date().toISOString());
    // Only PostgreSQL pipelines statements (see Driver.pipeline): SQLite answers the insert at once.
    const stored = failed && this.db.dialect === "postgres" && this.db.inTransaction?.() ? this.#asStored(params) : undefined;
    if (stored) {
      const sent = this.db.pipeline?.(
        this.#insertWhereSql(condition.sql, true),
        [...condition.params, ...params],
        { mapError: (error) => this.#isNullId(error) ? failed!() : error },
      );
      if (sent) {
        this.#indexLater();
        return stored;
      }
    }
    const [row] = await this.db.query(this.#insertWhereSql(condition.sql, false), [...params, ...condition.params]);
    if (!row) return null;
    this.#indexLater();
    return this.decode(row);
  }

  /**
   * The statement of {@link insertWhere} for a condition, made once per condition and kind:
   * pipelined, the condition makes the id NULL (so the primary key refuses the row) instead
   * of selecting no row; otherwise bare parameters in the SELECT list take the types of the
   * columns they are inserted into, and the row comes back.
   */
  #insertWhereSql(condition: string, pipelined: boolean): string {
    const made = pipelined ? this.#pipelinedInserts : this.#checkedInserts;
    let sql = made.get(condition);
    if (sql === undefined) {
      const marks = this.#columns.map(() => "?");
      sql = pipelined
        ? `INSERT INTO ${this.#name} (${this.#columnList}) SELECT CASE WHEN ${condition} THEN ? END, ${marks.slice(1).join(", ")}`
        : `INSERT INTO ${this.#name} (${this.#columnList}) SELECT ${marks.join(", ")} WHERE ${condition} RETURNING ${this.#selectList}`;
      // Conditions are a store's own few statements; the bound only guards against one built per call.
      if (made.size >= 64) made.clear();
      made.set(condition, sql);
    }
    return sql;
  }

  /** {@link insertWhere}'s statements by condition: pipelined, and answered with the row. */
  readonly #pipelinedInserts = new Map<string, string>();
  readonly #checkedInserts = new Map<string, string>();

  /**
   * The record an insert of `params` (in column order, as encoded) stores and
   * answers, or undefined when a value may come back changed (a number an
   * INTEGER column would round, a timestamp not in its canonical form, …).
   */
  #asStored(params: readonly SqlValue[]): R | undefined {
    const row: Row = {};
    const columns = this.#columns;
    for (let index = 0; index < columns.length; index++) {
      const [name, column] = columns[index]!;
      const value = params[index] as unknown;
      if (value === null) {
        row[name] = null;
        continue;
      }
      const type = column?.type ?? "text";
      if (type === "json") {
        row[name] = JSON.parse(JSON.stringify(value)); // what a JSON column hands back
        continue;
      }
      const exact = type === "integer"
        ? Number.isInteger(value) && Math.abs(value as number) <= 0x7fffffff
        : type === "real"
        ? typeof value === "number" && Number.isFinite(value)
        : type === "boolean"
        ? typeof value === "boolean"
        : type === "blob"
        ? value instanceof Uint8Array
        : type === "timestamp"
        ? typeof value === "string" && toIso(value) === value && value.length === 24
        : typeof value === "string";
      if (!exact) return undefined;
      row[name] = value;
    }
    if (this.#versioned) row[VERSION_COLUMN] = 0;
    return this.decode(row);
  }

  /** Whether a driver error is this table's NOT NULL refusing a NULL id (a failed {@link insertWhere} condition). */
  #isNullId(error: unknown): boolean {
    const fields = error as { code?: unknown; column_name?: unknown; table_name?: unknown } | null;
    return fields?.code === "23502" && fields.column_name === "id" && fields.table_name === this.table.name;
  }

  /** Runs `work` atomically: in the caller's transaction when there is one, else in a new one. */
  protected atomic<T>(work: () => Promise<T>): Promise<T> {
    return this.db.inTransaction?.() ? work() : this.db.transaction(work);
  }

  async update(id: string, values: UpdateValues<R>, condition?: WriteCondition): Promise<R | null> {
    await this.#ready();
    return this.atomic(async () => {
      const existing = await this.findById(id);
      if (!existing) return null;
      if (condition && !this.#same(existing, condition.expected)) throw changedSince(id);
      const sets: string[] = [];
      const params: SqlValue[] = [];
      for (const [name, value] of Object.entries(values as Record<string, unknown>)) {
        if (value === undefined) continue;
        const column = Object.hasOwn(this.table.columns, name) ? this.table.columns[name] : undefined;
        if (!column) continue;
        if (sameValue((existing as Record<string, unknown>)[name], value)) continue;
        sets.push(`${ident(name)} = ?`);
        params.push(this.encode(column, value));
      }
      if (sets.length === 0) return existing;
      if (this.#versioned) sets.push(`${ident(VERSION_COLUMN)} = ${ident(VERSION_COLUMN)} + 1`);
      sets.push(`"updated_at" = ?`);
      // Strictly later than before, even within the millisecond of the last write.
      const now = Math.max(Date.now(), Date.parse(existing.updated_at) + 1);
      params.push(new Date(now).toISOString(), id);
      let where = `"id" = ?`;
      if (condition) {
        // Checked by the write itself: a concurrent writer holding the same tag finds no row.
        const unchanged = this.#unchanged(condition.expected);
        where += ` AND ${unchanged.sql}`;
        params.push(...unchanged.params);
      }
      const rows = await this.db.query(
        `UPDATE ${this.#name} SET ${sets.join(", ")} WHERE ${where} RETURNING ${this.#selectList}`,
        params,
      );
      if (!rows[0] && condition) throw changedSince(id);
      if (rows[0]) this.#indexLater();
      return rows[0] ? this.decode(rows[0]) : null;
    });
  }

  async upsert(values: InsertValues<R> & { id: string }): Promise<{ record: R; created: boolean }> {
    return this.atomic(async () => {
      if (await this.exists(values.id)) {
        const { id, created_at: _c, updated_at: _u, ...rest } = values as Record<string, unknown>;
        const record = await this.update(id as string, rest as UpdateValues<R>);
        return { record: record!, created: false };
      }
      return { record: await this.insert(values), created: true };
    });
  }

  /**
   * Marks the row written (its version, or `updated_at` without one, moves
   * on) if it is still the one `condition` expects, inside the caller's
   * transaction: work that deletes or rewrites it through other statements
   * then holds the condition atomically.
   * @throws {PreconditionFailedError} when it changed or is gone.
   */
  async claim(id: string, condition: WriteCondition): Promise<void> {
    await this.#ready();
    const unchanged = this.#unchanged(condition.expected);
    const bump = this.#versioned
      ? `${ident(VERSION_COLUMN)} = ${ident(VERSION_COLUMN)} + 1`
      : `"updated_at" = ?`;
    const params: SqlValue[] = this.#versioned ? [] : [new Date(Math.max(Date.now(), Date.parse(condition.expected.updated_at) + 1)).toISOString()];
    const { changes } = await this.db.exec(`UPDATE ${this.#name} SET ${bump} WHERE "id" = ? AND ${unchanged.sql}`, [...params, id, ...unchanged.params]);
    if (changes === 0) throw changedSince(id);
  }

  async delete(id: string, condition?: WriteCondition): Promise<boolean> {
    if (!condition) {
      const { changes } = await this.db.exec(`DELETE FROM ${this.#name} WHERE "id" = ?`, [id]);
      return changes > 0;
    }
    await this.#ready();
    const unchanged = this.#unchanged(condition.expected);
    const { changes } = await this.db.exec(`DELETE FROM ${this.#name} WHERE "id" = ? AND ${unchanged.sql}`, [id, ...unchanged.params]);
    if (changes === 0 && (await this.exists(id))) throw changedSince(id);
    return changes > 0;
  }

  async deleteMany(target: string[] | Filter): Promise<number> {
    if (Array.isArray(target)) {
      if (target.length === 0) return 0;
      return this.atomic(async () => {
        let total = 0;
        for (let start = 0; start < target.length; start += MAX_PARAMS) {
          const chunk = target.slice(start, start + MAX_PARAMS);
          const { changes } = await this.db.exec(
            `DELETE FROM ${this.#name} WHERE "id" IN (${chunk.map(() => "?").join(", ")})`,
            chunk,
          );
          total += changes;
        }
        return total;
      });
    }
    const where = this.#where({ filter: target });
    const { changes } = await this.db.exec(`DELETE FROM ${this.#name}${where.sql}`, where.params);
    return changes;
  }

  transaction<T>(fn: (repository: Repository<R>) => Promise<T>, options?: TransactionOptions): Promise<T> {
    return this.db.transaction(() => fn(this), options);
  }
}

/** Creates the SQL repository of an entity table on a store. */
export function createRepository<R extends EntityRecord>(db: Driver, table: TableDefinition): SqlRepository<R> {
  return new SqlRepository<R>(db, table);
}
