import type { EntityRecord } from "./entity.ts";
import type { Filter, ListQuery } from "./query/model.ts";

/** The keys of `R` whose value may be null: nullable columns, which an insert may leave out (stored as NULL). */
export type NullableKeys<R> = { [K in keyof R]-?: null extends R[K] ? K : never }[keyof R];

/** Values for an insert: `id`, `created_at` and `updated_at` are filled in when absent, nullable columns are NULL when absent. */
export type InsertValues<R extends EntityRecord> =
  & Omit<R, keyof EntityRecord | NullableKeys<R>>
  & Partial<Pick<R, Exclude<NullableKeys<R>, keyof EntityRecord>>>
  & Partial<EntityRecord>;

/** Values for an update: any subset of the entity's own columns. */
export type UpdateValues<R extends EntityRecord> = Partial<Omit<R, keyof EntityRecord>>;

/**
 * A write that applies only while the row is still the one the caller
 * checked (e.g. against an `If-Match` tag). The store tests it inside the
 * write, as a conditional `UPDATE`/`DELETE` on the row's internal version
 * (or, for a table without one, its `updated_at`), so of two concurrent
 * writers holding the same tag exactly one succeeds.
 */
export interface WriteCondition {
  /** The row as the caller read and checked it. */
  expected: EntityRecord;
}

/** The isolation levels a transaction can ask for (PostgreSQL's names). */
export type IsolationLevel = "serializable" | "repeatable read" | "read committed";

/**
 * How a transaction runs. On PostgreSQL `isolation` is the level it runs at
 * (default: the server's, normally read committed); on SQLite every
 * transaction is serializable (one writer at a time), whatever is asked.
 * A transaction that fails with a serialization failure (SQLSTATE 40001) or a
 * deadlock (40P01) runs again, `fn` and all, up to `retries` more times
 * (default 3) after a short random back-off; `fn` must therefore only touch
 * the store (or be safe to repeat). A nested transaction is a savepoint of the
 * outer one and takes the outer one's options.
 */
export interface TransactionOptions {
  /** The isolation level (PostgreSQL). */
  isolation?: IsolationLevel;
  /** Runs again after 40001/40P01 at most this many times (default 3; 0: never). */
  retries?: number;
  /** A read-only transaction (PostgreSQL refuses writes in it). */
  readOnly?: boolean;
}

/**
 * Storage of one entity type. Implementations translate every operation to
 * SQL with bound parameters and map driver errors to chapkit errors (a unique
 * violation to `ConflictError`).
 */
export interface Repository<R extends EntityRecord> {
  /** The row with this id, or null. */
  findById(id: string): Promise<R | null>;
  /** Rows matching the query, in its order (default: `id` ascending). */
  findMany(query?: ListQuery): Promise<R[]>;
  /**
   * Rows matching the query, in its order, read as they are consumed (a
   * cursor), for lists too large to hold in memory. Optional: a repository
   * without it is read with `findMany`.
   */
  stream?(query?: ListQuery, options?: { batchSize?: number }): AsyncIterable<R>;
  /**
   * Loads the named relations of `records` in one statement per relation and
   * sets them on each record. Optional: repositories of tables without
   * relations need not have it.
   */
  include?(records: readonly R[], names: readonly string[]): Promise<void>;
  /** Number of rows matching the filter (and search words). */
  count(query?: Pick<ListQuery, "filter" | "search">): Promise<number>;
  /** Whether a row with this id exists. */
  exists(id: string): Promise<boolean>;
  /** Inserts a row and returns it as stored. */
  insert(values: InsertValues<R>): Promise<R>;
  /** Inserts many rows in batches (one statement per batch) and returns them. */
  insertMany(values: InsertValues<R>[]): Promise<R[]>;
  /**
   * Updates the row; returns it, or null when no row has this id. `updated_at` changes only when a column does.
   * @throws {PreconditionFailedError} when `condition` no longer holds.
   */
  update(id: string, values: UpdateValues<R>, condition?: WriteCondition): Promise<R | null>;
  /** Inserts, or updates the row with `values.id`; says which happened. */
  upsert(values: InsertValues<R> & { id: string }): Promise<{ record: R; created: boolean }>;
  /**
   * Deletes the row; true when one was deleted.
   * @throws {PreconditionFailedError} when `condition` no longer holds.
   */
  delete(id: string, condition?: WriteCondition): Promise<boolean>;
  /** Deletes the rows with these ids, or matching this filter; returns how many. */
  deleteMany(target: string[] | Filter): Promise<number>;
  /** Runs `fn` in one transaction with a repository bound to it; a throw rolls everything back (see {@link TransactionOptions}). */
  transaction<T>(fn: (repository: Repository<R>) => Promise<T>, options?: TransactionOptions): Promise<T>;
}
