import type { Filter } from "../query/model.ts";

/**
 * What happened. Entity writes are `entity.*`; job state changes are `job.<status>`
 * (`job.pending`, `job.running`, `job.completed`, `job.failed`, `job.canceled`,
 * `job.retrying`, `job.deleted`); models and alerts have their own. Other
 * features add their types here rather than a bus of their own.
 */
export type EventType =
  | "entity.created"
  | "entity.updated"
  | "entity.deleted"
  | `job.${string}`
  | "ml.trained"
  | "ml.predicted"
  | "model.promoted"
  | "alert.fired"
  | "alert.resolved";

/** The subject of an event: which record of which collection, and its state. */
export interface EventData<T = unknown> {
  /** The collection (table or route name): `configs`, `artifacts`, `jobs`, `notes`… */
  collection: string;
  /** The record's id. */
  id: string;
  /** The record's new state as its API answers it; for `entity.deleted` its last state. */
  entity: T;
}

/**
 * One published event. Its shape is the Standard Webhooks body plus an `id`,
 * so SSE, WebSocket and webhook consumers all see the same JSON.
 */
export interface ServiceEvent<T = unknown> {
  /** A ULID, unique across instances; increases in publication order on one instance (SSE `id:`). */
  id: string;
  /** What happened. */
  type: EventType;
  /** ISO 8601 UTC time of publication. */
  timestamp: string;
  /** The subject. */
  data: EventData<T>;
}

/** What a publisher gives: the bus adds `id` and `timestamp`. */
export interface EventInput<T = unknown> {
  /** What happened. */
  type: EventType;
  /** Where the record lives, e.g. the table name `configs`; filters and webhooks match on it. */
  collection: string;
  /** The record's id. */
  id: string;
  /** The record's new (for a delete: last) state. */
  entity: T;
}

/** Which events a subscriber receives; every given criterion must hold. */
export interface EventSelector {
  /** Event types; `job.*` or `entity.*` selects a family (default: every type). */
  types?: readonly string[];
  /** Collections (default: every collection). */
  collections?: readonly string[];
  /** A filter over the entity's fields (the list filter grammar, parsed). */
  filter?: Filter;
  /**
   * Only events published by this instance, not those other instances
   * published (e.g. to act on each event once across instances, as webhook
   * deliveries do).
   */
  local?: boolean;
  /**
   * A final say per event, e.g. "may this principal read this row"; a throw
   * counts as false.
   */
  allow?: (event: ServiceEvent) => boolean | Promise<boolean>;
}

/**
 * Where events get published across instances (the PostgreSQL outbox):
 * `append` runs inside the writer's transaction when there is one, and
 * `listen` hands over events other instances published.
 */
export interface EventJournal {
  /** Records the events (in the caller's transaction, if any) and announces them to the other instances on commit. */
  append(events: readonly ServiceEvent[]): Promise<void>;
  /** Receives other instances' events, in publication order per instance; resolves with the function that stops. */
  listen(deliver: (events: ServiceEvent[]) => void): Promise<() => Promise<void>>;
}

/**
 * How the bus learns about transactions: `afterCommit(fn)` queues `fn`
 * until the caller's outermost transaction commits (dropping it on
 * rollback) and returns true, or returns false outside a transaction.
 * A promise `fn` returns is awaited before the transaction resolves; its
 * failure is ignored (the commit stands).
 */
export interface CommitHooks {
  /** Queues `fn` for after the commit; false when the caller is not in a transaction. */
  afterCommit(fn: () => void | Promise<void>): boolean;
}
