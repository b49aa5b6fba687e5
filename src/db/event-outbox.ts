import type { EventJournal, ServiceEvent } from "../core/events/types.ts";
import type { Logger } from "../core/logging.ts";
import type { Driver, Executor, SqlValue } from "./driver.ts";
import type { Migration } from "./migration.ts";

/** The PostgreSQL channel whose notifications carry outbox sequence numbers. */
export const EVENTS_CHANNEL = "chapkit_events";

/**
 * The outbox table: one row per published event. Created on every store so
 * the migrations are the same everywhere; only PostgreSQL writes to it.
 */
export const EVENT_OUTBOX_MIGRATIONS: readonly Migration[] = [{
  module: "events",
  version: 1,
  name: "event outbox",
  up: {
    sqlite: "CREATE TABLE chapkit_events (seq INTEGER PRIMARY KEY AUTOINCREMENT, origin TEXT NOT NULL, created_at TEXT NOT NULL, event TEXT NOT NULL);\n" +
      "CREATE INDEX chapkit_events_created_at ON chapkit_events (created_at)",
    postgres: "CREATE TABLE chapkit_events (seq BIGSERIAL PRIMARY KEY, origin TEXT NOT NULL, created_at TEXT NOT NULL, event TEXT NOT NULL);\n" +
      "CREATE INDEX chapkit_events_created_at ON chapkit_events (created_at)",
  },
  down: "DROP TABLE chapkit_events",
}];

/** Sequence numbers per notification: far below NOTIFY's 8000-byte payload limit. */
const PER_NOTIFY = 300;

/** Where an {@link OutboxJournal} writes: a store, pipelining its rows into the writer's transaction when it can. */
export type OutboxStore = Executor & Pick<Driver, "pipeline">;

/** How an {@link OutboxJournal} is made. */
export interface OutboxJournalOptions {
  /** This instance's id: its own notifications are skipped (it delivered those events itself). */
  origin: string;
  /** Subscribes to notifications (the raw driver's `listen`). */
  listen: NonNullable<Driver["listen"]>;
  /** Milliseconds rows stay before they are pruned (default 600 000). */
  retentionMs?: number;
  /** Where failed reads are reported. */
  logger?: Logger;
}

/**
 * The event journal on PostgreSQL: events are inserted into the outbox
 * table in the writer's transaction, and a `NOTIFY` carrying only
 * `table:origin:seq,seq,…` (never the event, which may exceed the 8000-byte payload
 * limit) is sent on commit. Every other instance reads the rows by sequence
 * number and delivers them to its subscribers. Rows older than the
 * retention are pruned while instances listen.
 */
export class OutboxJournal implements EventJournal {
  readonly #db: OutboxStore;
  readonly #options: OutboxJournalOptions;

  /** Creates the journal over a store (statements run in the caller's transaction, if any). */
  constructor(db: OutboxStore, options: OutboxJournalOptions) {
    this.#db = db;
    this.#options = options;
  }

  async append(events: readonly ServiceEvent[]): Promise<void> {
    const createdAt = new Date().toISOString();
    for (let start = 0; start < events.length; start += PER_NOTIFY) {
      const chunk = events.slice(start, start + PER_NOTIFY);
      const params: SqlValue[] = [];
      for (const event of chunk) params.push(this.#options.origin, createdAt, JSON.stringify(event));
      const rows = chunk.map(() => "(?, ?, ?)").join(", ");
      const sql = `WITH e AS (INSERT INTO chapkit_events (origin, created_at, event) VALUES ${rows} RETURNING seq) ` +
        `SELECT pg_notify(?, 'chapkit_events'::regclass::oid::text || ':' || ?::text || ':' || ` +
        `(SELECT string_agg(seq::text, ',' ORDER BY seq) FROM e)) AS sent`;
      params.push(EVENTS_CHANNEL, this.#options.origin);
      // In the writer's transaction the rows travel with its COMMIT: no round trip of their own.
      if (this.#db.pipeline?.(sql, params)) continue;
      await this.#db.query(sql, params);
    }
  }

  async listen(deliver: (events: ServiceEvent[]) => void): Promise<() => Promise<void>> {
    let chain = Promise.resolve();
    // The channel is database-wide: the table's oid tells this schema's outbox from another's.
    const [own] = await this.#db.query<{ oid: string }>("SELECT 'chapkit_events'::regclass::oid::text AS oid");
    const prefix = `${own!.oid}:`;
    const unlisten = await this.#options.listen(EVENTS_CHANNEL, (payload) => {
      if (!payload.startsWith(prefix)) return;
      const [origin, list = ""] = payload.slice(prefix.length).split(":");
      if (origin === this.#options.origin) return;
      const seqs = list.split(",").filter((seq) => /^\d+$/.test(seq));
      if (seqs.length === 0) return;
      // One read at a time, so events are delivered in notification order.
      chain = chain.then(() => this.#read(seqs)).then(deliver, (error: unknown) => {
        this.#options.logger?.error("events.outbox.read_failed", { error });
      });
    });
    const retention = this.#options.retentionMs ?? 600_000;
    const prune = setInterval(() => {
      const before = new Date(Date.now() - retention).toISOString();
      this.#db.exec("DELETE FROM chapkit_events WHERE created_at < ?", [before]).catch(() => {});
    }, Math.min(retention, 60_000));
    return async () => {
      clearInterval(prune);
      await unlisten();
      await chain;
    };
  }

  async #read(seqs: readonly string[]): Promise<ServiceEvent[]> {
    const rows = await this.#db.query<{ event: string }>(
      `SELECT event FROM chapkit_events WHERE seq IN (${seqs.map(() => "?::bigint").join(", ")}) ORDER BY seq`,
      seqs,
    );
    return rows.map((row) => JSON.parse(row.event) as ServiceEvent);
  }
}
