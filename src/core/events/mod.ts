/**
 * The event bus: typed events of committed changes (entities, jobs, models,
 * alerts), delivered after commit to subscribers that select them by type,
 * collection and the list filter grammar. Transactions and the PostgreSQL
 * outbox plug in through {@link CommitHooks} and {@link EventJournal}, whose
 * implementations live in `src/db/` (they need the drivers).
 *
 * @module
 */
export { EventBus, eventSelected } from "./bus.ts";
export type { EventBusOptions, Unsubscribe } from "./bus.ts";
export { matchesFilter } from "./match.ts";
export type { CommitHooks, EventData, EventInput, EventJournal, EventSelector, EventType, ServiceEvent } from "./types.ts";
