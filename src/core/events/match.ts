import type { Filter, FilterValue } from "../query/model.ts";

/** The value of a field or dotted path of a record; missing is null. */
function fieldValue(record: unknown, field: string): unknown {
  let current: unknown = record;
  for (const segment of field.split(".")) {
    if (current === null || typeof current !== "object" || Array.isArray(current)) return null;
    if (!Object.hasOwn(current, segment)) return null;
    current = (current as Record<string, unknown>)[segment];
  }
  return current === undefined ? null : current;
}

const lower = (text: string): string => text.replace(/[A-Z]/g, (c) => c.toLowerCase());

function same(value: unknown, literal: FilterValue): boolean {
  return literal === null ? value === null : value === literal;
}

function compare(value: unknown, literal: FilterValue): number | undefined {
  if (typeof value !== typeof literal || (typeof literal !== "number" && typeof literal !== "string")) return undefined;
  const a = value as number | string;
  return a < literal ? -1 : a > literal ? 1 : 0;
}

function text(value: unknown, literal: unknown, test: (value: string, literal: string) => boolean): boolean {
  return typeof value === "string" && typeof literal === "string" && test(value, literal);
}

/**
 * Whether a record satisfies a filter, with the stores' semantics: typed
 * comparisons (a string never equals a number), a missing field is null,
 * `~` folds ASCII case. Used to select events, whose entities are in memory.
 */
export function matchesFilter(record: unknown, filter: Filter): boolean {
  switch (filter.kind) {
    case "and":
      return filter.items.every((item) => matchesFilter(record, item));
    case "or":
      return filter.items.some((item) => matchesFilter(record, item));
    case "not":
      return !matchesFilter(record, filter.item);
    case "compare": {
      const value = fieldValue(record, filter.field);
      const literal = filter.value as FilterValue;
      const list = (Array.isArray(filter.value) ? filter.value : [filter.value]) as FilterValue[];
      const order = (test: (c: number) => boolean): boolean => {
        const c = compare(value, literal);
        return c !== undefined && test(c);
      };
      switch (filter.op) {
        case "eq":
          return same(value, literal);
        case "ne":
          return !same(value, literal);
        case "in":
          return list.some((item) => same(value, item));
        case "nin":
          return !list.some((item) => same(value, item));
        case "gt":
          return order((c) => c > 0);
        case "gte":
          return order((c) => c >= 0);
        case "lt":
          return order((c) => c < 0);
        case "lte":
          return order((c) => c <= 0);
        case "contains":
          return text(value, literal, (v, l) => v.includes(l));
        case "icontains":
          return text(value, literal, (v, l) => lower(v).includes(lower(l)));
        case "startswith":
          return text(value, literal, (v, l) => v.startsWith(l));
        case "endswith":
          return text(value, literal, (v, l) => v.endsWith(l));
        case "isnull":
          return (value === null) === literal;
      }
    }
  }
}
