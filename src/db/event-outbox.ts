import type { CommitHooks, EventJournal, ServiceEvent } from "../core/events/types.ts";
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

/**
 * Where an {@link OutboxJournal} writes: a store that pipelines the rows into
 * the writer's transaction and announces them after its commit, when it can.
 */
export type OutboxStore = Executor & Pick<Driver, "pipeline" | "inTransaction"> & Partial<CommitHooks>;

/**
 * The `pg_notify` call announcing sequence numbers (`seqs`, SQL giving them
 * comma-separated): payload `table:origin:seq,seq,…`; its parameters are the
 * channel and the origin.
 */
function notifyCall(seqs: string): string {
  return `pg_notify(?, 'chapkit_events'::regclass::oid::text || ':' || ?::text || ':' || ${seqs})`;
}

/** The sequence number of an outbox row (a bigint column: a string from postgres.js). */
type OutboxSeq = { seq: string | number };

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
 * limit) is sent once it committed. Every other instance reads the rows by sequence
 * number and delivers them to its subscribers. Rows older than the
 * retention are pruned while instances listen.
 */
export class OutboxJournal implements EventJournal {
  readonly #db: OutboxStore;
  readonly #options: OutboxJournalOptions;
  /** Committed sequence numbers not yet announced by a NOTIFY. */
  readonly #unannounced: bigint[] = [];
  #announcing: Promise<void> | undefined;

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
      const insert = `INSERT INTO chapkit_events (origin, created_at, event) VALUES ${chunk.map(() => "(?, ?, ?)").join(", ")} RETURNING seq`;
      const inTransaction = this.#db.inTransaction?.() === true;
      let rows: readonly OutboxSeq[] = [];
      let pipelined: Promise<OutboxSeq[]> | undefined;
      // A rollback drops the callback, and the rows with it. After the commit the pipelined rows are in.
      if (inTransaction && this.#db.afterCommit?.(() => pipelined ? pipelined.then((answer) => this.#announce(answer)) : this.#announce(rows))) {
        // The rows travel with the next statement or the COMMIT: no round trip of their own.
        // Not awaited here: a transaction that waits for nothing may go to the server as one message.
        pipelined = this.#db.pipeline?.<OutboxSeq>(insert, params);
        if (!pipelined) rows = await this.#db.query<OutboxSeq>(insert, params);
      } else if (inTransaction) {
        // A transaction whose commit this journal cannot follow: the NOTIFY is sent on its commit.
        await this.#db.query(
          `WITH e AS (${insert}) SELECT ${notifyCall("(SELECT string_agg(seq::text, ',' ORDER BY seq) FROM e)")} AS sent`,
          [...params, EVENTS_CHANNEL, this.#options.origin],
        );
      } else {
        await this.#announce(await this.#db.query<OutboxSeq>(insert, params));
      }
    }
  }

  /**
   * Queues a NOTIFY for committed rows. It is sent after the commit, in a
   * statement of its own: a NOTIFY inside the writer's transaction holds
   * PostgreSQL's notification lock through the commit's WAL flush, so every
   * notifying commit of the database waits for the previous one's flush.
   * This instance sends its NOTIFYs one at a time, in the order its commits
   * returned; rows committed meanwhile share the next one, in sequence order.
   * The writer's transaction resolves once its NOTIFY is sent.
   */
  #announce(rows: readonly OutboxSeq[]): Promise<void> {
    for (const row of rows) this.#unannounced.push(BigInt(row.seq));
    if (this.#unannounced.length === 0) return this.#announcing ?? Promise.resolve();
    // Seqs queued while a NOTIFY is on its way go with the next one, which the same promise awaits.
    this.#announcing ??= this.#sendAnnouncements();
    return this.#announcing;
  }

  async #sendAnnouncements(): Promise<void> {
    try {
      while (this.#unannounced.length > 0) {
        const seqs = this.#unannounced.splice(0, PER_NOTIFY).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        try {
          // Its own commit need not wait for a WAL flush (it writes no data), so the database-wide
          // lock every notifying commit takes is not held through one.
          await this.#db.query(
            `SELECT set_config('synchronous_commit', 'off', true) AS "async", ${notifyCall("?::text")} AS sent`,
            [EVENTS_CHANNEL, this.#options.origin, seqs.join(",")],
          );
        } catch (error) {
          // The events are committed and delivered here; other instances miss them, as during an outage.
          this.#options.logger?.error("events.outbox.notify_failed", { error, count: seqs.length });
        }
      }
    } finally {
      this.#announcing = undefined; // in the same turn as the last check: a later seq starts a new run
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
