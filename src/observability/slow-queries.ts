/** One statement that took longer than the threshold. */
export interface SlowQuery {
  /** The statement's shape (placeholders, never values). */
  sql: string;
  /** Its verb (`select`, `update`…). */
  operation: string;
  /** `sqlite` or `postgres`. */
  store: string;
  /** How long it took, milliseconds. */
  durationMs: number;
  /** When it finished, ISO 8601. */
  at: string;
  /**
   * The query plan (`EXPLAIN QUERY PLAN` on SQLite, `EXPLAIN` with a generic
   * plan on PostgreSQL, so no bound value appears), one line per entry;
   * empty until it has been captured or when it could not be.
   */
  plan: string[];
}

/**
 * The most recent slow statements with their plans, newest last (at most
 * `capacity`). Index advice reads {@link SlowQueryLog.entries}; the status page
 * shows them.
 */
export class SlowQueryLog {
  /** Statements at or above this many milliseconds are kept. */
  readonly thresholdMs: number;
  readonly #capacity: number;
  readonly #entries: SlowQuery[] = [];

  /** Keeps up to `capacity` (default 100) statements of at least `thresholdMs`. */
  constructor(thresholdMs: number, capacity = 100) {
    this.thresholdMs = thresholdMs;
    this.#capacity = Math.max(1, capacity);
  }

  /** Adds a slow statement; the returned entry's `plan` may be filled in later. */
  record(entry: Omit<SlowQuery, "plan">): SlowQuery {
    const full: SlowQuery = { ...entry, plan: [] };
    this.#entries.push(full);
    if (this.#entries.length > this.#capacity) this.#entries.shift();
    return full;
  }

  /** The kept statements, oldest first. */
  entries(): readonly SlowQuery[] {
    return this.#entries;
  }
}
