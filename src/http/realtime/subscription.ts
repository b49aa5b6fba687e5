import { InvalidQueryError } from "../../core/errors.ts";
import type { EventBus } from "../../core/events/bus.ts";
import type { EventSelector, ServiceEvent } from "../../core/events/types.ts";
import { parseFilter } from "../../core/query/filter-parse.ts";
import { MAX_FILTER_LENGTH } from "../../core/query/list-query.ts";
import type { SubscribableCollection } from "./collections.ts";
import type { RowVisibility, Viewer } from "./visibility.ts";

/** What a client asks for: one collection, optionally event types and a filter expression. */
export interface SubscriptionRequest {
  /** The collection. */
  collection: SubscribableCollection;
  /** A filter expression over the entity (the list grammar). */
  filter?: string | undefined;
  /** Event types (`entity.created`, `job.*`…); default all. */
  types?: readonly string[] | undefined;
  /** Who watches. */
  viewer: Viewer;
}

/**
 * The bus selector of a client's subscription: its collection and types,
 * its filter parsed (a bad one is a 400 `invalid-query` naming `filter`), and
 * the row visibility check as `allow`.
 *
 * @throws {InvalidQueryError} for a bad filter.
 */
export function subscriptionSelector(request: SubscriptionRequest, visibility: RowVisibility): EventSelector {
  const { collection, viewer } = request;
  if (request.filter !== undefined && request.filter.length > MAX_FILTER_LENGTH) {
    throw new InvalidQueryError(`filter is longer than ${MAX_FILTER_LENGTH} characters`, { extensions: { parameter: "filter" } });
  }
  const filter = request.filter === undefined || request.filter.trim() === ""
    ? undefined
    : parseFilter(request.filter, collection.table ? { table: collection.table } : {});
  return {
    collections: [collection.collection],
    ...(request.types && request.types.length > 0 ? { types: request.types } : {}),
    ...(filter ? { filter } : {}),
    allow: (event: ServiceEvent) => visibility(viewer, event, collection),
  };
}

/**
 * Subscribes, first replaying the kept events after `lastEventId` that the
 * selector accepts; events published meanwhile are queued, never lost or doubled.
 */
export async function subscribeFrom(
  bus: EventBus,
  selector: EventSelector,
  lastEventId: string | undefined,
  deliver: (event: ServiceEvent) => void,
): Promise<() => void> {
  let backlog: ServiceEvent[] | null = [];
  const unsubscribe = bus.subscribe(selector, (event) => {
    if (backlog) backlog.push(event);
    else deliver(event);
  });
  const missed = lastEventId === undefined ? [] : bus.since(lastEventId) ?? [];
  const seen = new Set<string>();
  for (const event of missed) {
    if (await bus.accepts(selector, event)) {
      seen.add(event.id);
      deliver(event);
    }
  }
  const queued = backlog;
  backlog = null;
  for (const event of queued) if (!seen.has(event.id)) deliver(event);
  return unsubscribe;
}
