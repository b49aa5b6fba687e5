import type { Filter, FilterValue, SortKey } from "../../src/core/query/model.ts";

/** The value of a field (or dotted JSON path) of a row; missing is null. */
export function fieldValue(row: Record<string, unknown>, field: string): unknown {
  let current: unknown = row;
  for (const segment of field.split(".")) {
    if (current === null || typeof current !== "object" || Array.isArray(current)) return null;
    current = (current as Record<string, unknown>)[segment];
  }
  return current === undefined ? null : current;
}

const lower = (s: string): string => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

function same(v: unknown, l: FilterValue): boolean {
  if (l === null) return v === null;
  return typeof v === typeof l && v === l;
}

function ordered(v: unknown, l: FilterValue, test: (c: number) => boolean): boolean {
  if (typeof v !== typeof l || (typeof l !== "number" && typeof l !== "string")) return false;
  const a = v as number | string;
  return test(a < l ? -1 : a > l ? 1 : 0);
}

/** Evaluates a filter in memory with chapkit's semantics (typed, two-valued, ASCII case folding). */
export function matches(row: Record<string, unknown>, filter: Filter): boolean {
  switch (filter.kind) {
    case "and":
      return filter.items.every((f) => matches(row, f));
    case "or":
      return filter.items.some((f) => matches(row, f));
    case "not":
      return !matches(row, filter.item);
    case "compare": {
      const v = fieldValue(row, filter.field);
      const l = filter.value as FilterValue;
      const list = (Array.isArray(filter.value) ? filter.value : [filter.value]) as FilterValue[];
      switch (filter.op) {
        case "eq": return same(v, l);
        case "ne": return !same(v, l);
        case "in": return list.some((x) => same(v, x));
        case "nin": return !list.some((x) => same(v, x));
        case "gt": return ordered(v, l, (c) => c > 0);
        case "gte": return ordered(v, l, (c) => c >= 0);
        case "lt": return ordered(v, l, (c) => c < 0);
        case "lte": return ordered(v, l, (c) => c <= 0);
        case "contains": return typeof v === "string" && v.includes(l as string);
        case "icontains": return typeof v === "string" && lower(v).includes(lower(l as string));
        case "startswith": return typeof v === "string" && v.startsWith(l as string);
        case "endswith": return typeof v === "string" && v.endsWith(l as string);
        case "isnull": return (v === null) === l;
      }
    }
  }
}

function sortTuple(v: unknown): [number, number, string] {
  if (typeof v === "number") return [1, v, ""];
  if (typeof v === "string") return [2, 0, v];
  if (typeof v === "boolean") return [3, v ? 1 : 0, ""];
  if (v !== null && typeof v === "object") return [4, 0, ""];
  return [0, 0, ""];
}

/** Sorts rows in memory as the stores do: keys, NULLs first ascending, then `id`. */
export function sortRows<T extends Record<string, unknown>>(rows: T[], sort: SortKey[], jsonFields: Set<string>): T[] {
  const cmp = (a: unknown, b: unknown): number => (a === b ? 0 : a === null ? -1 : b === null ? 1 : (a as number) < (b as number) ? -1 : 1);
  return [...rows].sort((x, y) => {
    for (const key of sort) {
      const a = fieldValue(x, key.field);
      const b = fieldValue(y, key.field);
      let c = 0;
      if (jsonFields.has(key.field.split(".")[0]!)) {
        const ta = sortTuple(a);
        const tb = sortTuple(b);
        c = cmp(ta[0], tb[0]) || cmp(ta[1], tb[1]) || cmp(ta[2], tb[2]);
      } else {
        c = cmp(a, b);
      }
      if (c !== 0) return key.direction === "desc" ? -c : c;
    }
    return cmp(x.id, y.id);
  });
}
