import { UnavailableError } from "../core/errors.ts";
import type { IsolationLevel, TransactionOptions } from "./driver.ts";
import { isStoreUnreachable } from "./store-circuit.ts";
import type { QueuedStatement } from "./_pg-batch.ts";

/** Whether the connection of a transaction (shared with its savepoints) is gone, and why. */
export interface TransactionState {
  lost?: unknown;
}

const NEVER: Promise<never> = new Promise<never>(() => {});

/**
 * Runs `body` as the callback of a postgres.js transaction or savepoint
 * (`open`) so that a lost connection never makes postgres.js write its own
 * ROLLBACK or COMMIT on it: postgres.js 3.4.9 then dereferences the closed
 * socket in a timer and the process dies (porsager/postgres#1208), or the
 * statements run on the reconnected socket outside the transaction. Once the
 * connection is lost the callback never settles for postgres.js, and the
 * caller is rejected at once with the connection error; the server rolls the
 * transaction back when its connection ends.
 */
export function runGuardedTransaction<Tx, T>(
  open: (callback: (tx: Tx) => Promise<unknown>) => Promise<unknown>,
  state: TransactionState,
  body: (tx: Tx) => Promise<T>,
): Promise<T> {
  let abandon!: (error: unknown) => void;
  const abandoned = new Promise<never>((_, reject) => (abandon = reject));
  abandoned.catch(() => {});
  const settleLost = (): Promise<never> => {
    abandon(state.lost);
    return NEVER;
  };
  const opened = open(async (tx) => {
    let value: T;
    try {
      value = await body(tx);
    } catch (error) {
      if (state.lost === undefined && isStoreUnreachable(error)) state.lost = error;
      if (state.lost !== undefined) return settleLost();
      throw error;
    }
    return state.lost === undefined ? value : settleLost();
  });
  opened.catch((error: unknown) => {
    if (state.lost === undefined && isStoreUnreachable(error)) state.lost = error;
  });
  return Promise.race([opened, abandoned]) as Promise<T>;
}

/** The error of a statement sent in a transaction whose connection is already gone. */
export function lostTransactionError(state: TransactionState): UnavailableError {
  return new UnavailableError("Database connection lost during the transaction; it was rolled back", {
    cause: state.lost,
  });
}

/** Runs of a transaction after a serialization failure or deadlock, by default. */
export const DEFAULT_RETRIES = 3;

const ISOLATION: Record<IsolationLevel, string> = {
  "serializable": "isolation level serializable",
  "repeatable read": "isolation level repeatable read",
  "read committed": "isolation level read committed",
};

/** The `BEGIN` options of a transaction, or "" for the server's defaults. @throws {TypeError} for an unknown level. */
export function transactionMode(options: TransactionOptions): string {
  const parts: string[] = [];
  if (options.isolation !== undefined) {
    const level = ISOLATION[options.isolation];
    if (!level) throw new TypeError(`Unknown isolation level ${JSON.stringify(options.isolation)}: use serializable, repeatable read or read committed`);
    parts.push(level);
  }
  if (options.readOnly) parts.push("read only");
  return parts.join(" ");
}

/** The SQLSTATE of a driver error, or of the error it wraps. */
export function sqlState(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
  const cause = (error as { cause?: unknown } | null)?.cause;
  return cause && cause !== error ? sqlState(cause) : "";
}

/** Serialization failures (40001) and deadlocks (40P01): the transaction may succeed if run again. */
export function isRetryable(error: unknown): boolean {
  const state = sqlState(error);
  return state === "40001" || state === "40P01";
}

/** What the statements of a transaction (or savepoint) on connection `Tx` share. */
export interface TransactionScope<Tx> {
  /** The transaction's connection; undefined while the outermost transaction is not opened yet. */
  tx: Tx | undefined;
  readonly state: TransactionState;
  /** Run once the outermost transaction ended. */
  readonly ended: (() => unknown)[];
  /** Statements sent by the driver's `pipeline` in this transaction or savepoint, awaited at its end. */
  readonly pipelined: PromiseLike<unknown>[];
  /**
   * Statements of an outermost transaction not opened yet, in order: sent as
   * one message when it ends, or first thing once it is opened.
   */
  queued?: QueuedStatement[];
  /** Opens the transaction on a connection (idempotent): a statement needs an answer before its end. */
  open?: () => void;
  /** The first failure of a pipelined statement: the cause of the failures after it. */
  failed?: { error: unknown };
}

/** Waits for pipelined statements; the first failure rejects. */
export async function drain(pipelined: readonly PromiseLike<unknown>[]): Promise<void> {
  for (const sent of pipelined) await sent;
}

/** A promise and the functions that settle it. */
export function deferred<T>(): { promise: Promise<T>; resolve(value: T): void; reject(error: unknown): void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((yes, no) => ((resolve = yes), (reject = no)));
  return { promise, resolve, reject };
}
