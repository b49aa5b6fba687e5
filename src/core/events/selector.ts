import { parseFilter } from "../query/filter-parse.ts";
import type { EventSelector } from "./types.ts";

/**
 * The selector of a configured event rule (a queue sink, a notification
 * rule): this instance's events only, so each event is acted on once across
 * instances; empty `types` or `collections` select every one; `filter` is in
 * the list filter grammar.
 *
 * @throws {ValidationError} when the filter does not parse.
 */
export function localSelector(criteria: { types?: readonly string[]; collections?: readonly string[]; filter?: string }): EventSelector {
  return {
    local: true,
    ...(criteria.types && criteria.types.length > 0 ? { types: criteria.types } : {}),
    ...(criteria.collections && criteria.collections.length > 0 ? { collections: criteria.collections } : {}),
    ...(criteria.filter ? { filter: parseFilter(criteria.filter) } : {}),
  };
}
