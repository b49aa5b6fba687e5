import { UnavailableError } from "../core/errors.ts";
import { isStoreUnreachable } from "./store-circuit.ts";

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
