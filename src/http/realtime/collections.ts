import type { TableDefinition } from "../../core/entity.ts";
import type { ServiceContext } from "../module.ts";

/** A collection whose events clients may subscribe to. */
export interface SubscribableCollection {
  /** The collection named in its events (`configs`, `artifacts`, `jobs`, a table name). */
  collection: string;
  /** Its route prefix (`/api/v1/config`): `{prefix}/$subscribe` is served there. */
  prefix: string;
  /** Its table, so filters are checked against its fields (unknown field: 400). */
  table?: TableDefinition;
}

/** The service-context key of the subscribable collections. */
export const SUBSCRIBABLE_KEY = "realtime.collections";

/**
 * Declares a collection subscribable (`{prefix}/$subscribe`, the WebSocket
 * `subscribe` message); modules call it in `setup`, and the realtime module,
 * when installed, serves what was declared.
 */
export function registerSubscribable(context: ServiceContext, entry: SubscribableCollection): void {
  if (!context.has(SUBSCRIBABLE_KEY)) context.provide<SubscribableCollection[]>(SUBSCRIBABLE_KEY, []);
  context.get<SubscribableCollection[]>(SUBSCRIBABLE_KEY).push(entry);
}

/** The collections declared subscribable so far. */
export function subscribables(context: ServiceContext): readonly SubscribableCollection[] {
  return context.has(SUBSCRIBABLE_KEY) ? context.get<SubscribableCollection[]>(SUBSCRIBABLE_KEY) : [];
}
