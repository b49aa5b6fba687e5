import { type CacheBus, type CacheInvalidation, parseInvalidation } from "../../core/cache.ts";
import type { Driver } from "../driver.ts";

/** Options of {@link PostgresCacheBus}. */
export interface PostgresCacheBusOptions {
  /** This instance's id: its own messages are not delivered back to it. */
  instanceId: string;
}

/** NOTIFY payloads stay below PostgreSQL's 8000-byte limit; larger invalidations name the whole table. */
const MAX_PAYLOAD = 7000;

/**
 * Invalidations over PostgreSQL `LISTEN/NOTIFY` between the instances that
 * share a database schema (the channel is `chapkit_cache:<schema>`). The
 * notification carries ids only, never row data.
 */
export class PostgresCacheBus implements CacheBus {
  readonly #db: Driver;
  readonly #instanceId: string;
  #channel: Promise<string> | undefined;

  /** A bus on the store `db` (PostgreSQL). @throws {TypeError} on a store without notifications. */
  constructor(db: Driver, options: PostgresCacheBusOptions) {
    if (!db.listen) throw new TypeError("Cache invalidation over LISTEN/NOTIFY needs a PostgreSQL store");
    this.#db = db;
    this.#instanceId = options.instanceId;
  }

  #channelName(): Promise<string> {
    this.#channel ??= this.#db.query<{ schema: string }>("SELECT current_schema() AS schema").then((rows) => `chapkit_cache:${rows[0]?.schema ?? "public"}`);
    return this.#channel;
  }

  /** Sends an invalidation to the other instances (after the caller's transaction, when it runs in one). */
  async publish(message: CacheInvalidation): Promise<void> {
    let payload = JSON.stringify({ ...message, from: this.#instanceId });
    if (payload.length > MAX_PAYLOAD) payload = JSON.stringify({ namespace: message.namespace, all: true, from: this.#instanceId });
    await this.#db.exec("SELECT pg_notify(?, ?)", [await this.#channelName(), payload]);
  }

  /** Delivers the other instances' invalidations until the returned function is called. */
  async subscribe(onMessage: (message: CacheInvalidation) => void): Promise<() => Promise<void>> {
    return await this.#db.listen!(await this.#channelName(), (payload) => {
      const message = parseInvalidation(payload, this.#instanceId);
      if (message) onMessage(message);
    });
  }
}
