import type { SqlValue } from "./driver.ts";
import { replacePlaceholders } from "./placeholders.ts";
import { hexOf } from "../core/hex.ts";

/**
 * A statement of a PostgreSQL transaction not sent yet: the transaction may
 * still go to the server as one message (see {@link inlineStatements}).
 */
export interface QueuedStatement {
  readonly sql: string;
  readonly params: readonly SqlValue[];
  /** Sent without parameters by the simple protocol (it may hold several statements, e.g. DDL). */
  readonly simple: boolean;
  /** Turns the statement's failure into the caller's error (e.g. a failed insert condition into a conflict). */
  readonly mapError: ((error: unknown) => unknown) | undefined;
  resolve(rows: unknown): void;
  reject(error: unknown): void;
}

/**
 * A value as an SQL literal of unknown type, so the server gives it the type
 * its place asks for, as it does with an untyped parameter. An escape string
 * (`E'…'`, backslashes and quotes doubled) reads the same whatever
 * `standard_conforming_strings` is.
 */
export function sqlLiteral(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  let text: string;
  if (typeof value === "string") text = value;
  else if (value instanceof Uint8Array) text = `\\x${hexOf(value)}`;
  else if (value instanceof Date) text = value.toISOString();
  else if (typeof value === "object") text = JSON.stringify(value); // a JSON column's value (see SqlRepository.encode)
  else text = String(value); // number (NaN and Infinity are valid float input), bigint, boolean
  return `E'${text.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`;
}

/** One statement with its `?` placeholders replaced by literals (quoted text and identifiers left alone). */
export function inlineParameters(sql: string, params: readonly SqlValue[]): string {
  return replacePlaceholders(sql, (index) => {
    if (index >= params.length) throw new TypeError(`Statement has more placeholders than its ${params.length} parameters: ${sql}`);
    return sqlLiteral(params[index]);
  });
}

/**
 * The statements of a transaction as one simple-query message. The server
 * runs such a message as one implicit transaction (all or nothing, committed
 * at its end), each statement with a snapshot of its own taken when it
 * starts, as in an explicit READ COMMITTED transaction: a lock taken by one
 * statement is held by the later ones, and they see every row committed
 * before they got it.
 */
export function inlineStatements(statements: readonly QueuedStatement[]): string {
  // postgres.js starts a new result at a statement's row description only, and a statement
  // without rows (an INSERT without RETURNING) has none: a marker row before each statement
  // after the first tells where each one's result starts.
  return statements.map((statement, index) =>
    (index === 0 ? "" : `SELECT 1 AS "${MARKER}${index}";\n`) + inlineParameters(statement.sql, statement.params)
  ).join(";\n");
}

const MARKER = "chapkit_statement_";

/** A result as postgres.js reads it: rows with the statement's count and columns. */
type ResultSet = unknown[] & { columns?: readonly { name: string }[] | null };

/**
 * The result of each of `count` statements sent by {@link inlineStatements}:
 * a statement without rows gets an empty one.
 */
export function splitResults(results: readonly ResultSet[], count: number): ResultSet[] {
  const out: ResultSet[] = [results[0]!];
  let at = 1;
  for (let index = 1; index < count; index++) {
    const next = results[at + 1];
    if (next !== undefined && next.columns?.[0]?.name !== `${MARKER}${index + 1}`) {
      out.push(next);
      at += 2;
    } else {
      // No rows (postgres.js keeps the marker's count, not the statement's).
      out.push([]);
      at += 1;
    }
  }
  return out;
}

/**
 * The error a failed message reports: the first statement's own reading of it
 * (the server does not say which statement failed, and every later one was
 * skipped), else the driver's.
 */
export function batchError(statements: readonly QueuedStatement[], error: unknown): unknown {
  for (const statement of statements) {
    const mapped = statement.mapError?.(error);
    if (mapped !== undefined && mapped !== error) return mapped;
  }
  return error;
}

/**
 * `promise` as a thenable that calls `open` when awaited (or chained with
 * `then`/`finally`): a caller waiting for a queued statement's answer needs
 * its transaction opened first. A bare `catch` opens nothing.
 */
export function openedWhenAwaited<T>(promise: Promise<T>, open: () => void): Promise<T> {
  const thenable = {
    then<A = T, B = never>(onFulfilled?: ((value: T) => A | PromiseLike<A>) | null, onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null) {
      open();
      return promise.then(onFulfilled, onRejected);
    },
    catch<B = never>(onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null) {
      return promise.catch(onRejected);
    },
    finally(onFinally?: (() => void) | null) {
      open();
      return promise.finally(onFinally);
    },
    [Symbol.toStringTag]: "Promise",
  };
  return thenable as Promise<T>;
}
