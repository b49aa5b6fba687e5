/** A driver wrapper that counts the statements sent to the store, for tests that assert how many ran. */
import type { Driver, Executor, Row, SqlValue, TransactionOptions } from "../../src/db/driver.ts";

/** A driver that records every statement it passes on (`statements`, reset with `reset()`). */
export interface CountingDriver extends Driver {
  /** Statements since the last reset, in order. */
  readonly statements: string[];
  /** Batches read through `stream` since the last reset. */
  readonly batches: { count: number };
  /** Forgets the statements counted so far. */
  reset(): void;
}

/** Wraps `inner` so that each `query`/`exec` is recorded before it runs. */
export function countingDriver(inner: Driver): CountingDriver {
  const statements: string[] = [];
  const executor = (base: Executor): Executor => ({
    dialect: base.dialect,
    query<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
      statements.push(sql);
      return base.query<T>(sql, params);
    },
    exec(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }> {
      statements.push(sql);
      return base.exec(sql, params);
    },
  });
  const outer = executor(inner);
  const batches = { count: 0 };
  const driver: CountingDriver = {
    ...outer,
    url: inner.url,
    statements,
    batches,
    reset: () => {
      statements.splice(0);
      batches.count = 0;
    },
    transaction: <T>(fn: (tx: Executor) => Promise<T>, options?: TransactionOptions) => inner.transaction(() => fn(driver), options),
    inTransaction: () => inner.inTransaction?.() ?? false,
    ping: (timeoutMs?: number) => inner.ping(timeoutMs),
    close: () => inner.close(),
    ...(inner.afterTransaction ? { afterTransaction: (fn: () => unknown) => inner.afterTransaction!(fn) } : {}),
    ...(inner.stream
      ? {
        stream: async function* <T extends Row = Row>(sql: string, params?: readonly SqlValue[], size?: number): AsyncIterable<T[]> {
          statements.push(sql);
          for await (const rows of inner.stream!<T>(sql, params, size)) {
            batches.count += 1;
            yield rows;
          }
        },
      }
      : {}),
    ...(inner.listen ? { listen: (channel: string, on: (payload: string) => void) => inner.listen!(channel, on) } : {}),
  };
  return driver;
}
