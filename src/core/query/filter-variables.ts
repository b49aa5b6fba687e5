import type { Filter, FilterValue } from "./model.ts";

/**
 * The variables filter expressions may use where a caller is known (feature
 * flag rules, row policies): `$user.id`, `$user.role`, `$user.name`,
 * `$user.kind`, `$user.tenant_id`, `$request.method`, `$request.path` and
 * `$request.header.<lower-case name>`. Pass it as `parseFilter`'s `variables`.
 */
export const FILTER_VARIABLES: readonly string[] = [
  "user.id",
  "user.role",
  "user.name",
  "user.kind",
  "user.tenant_id",
  "request.method",
  "request.path",
  "request.header.",
];

/** The caller as variables see it (an authenticated principal, or none). */
export interface VariableUser {
  /** `$user.id`. */
  id?: string | null;
  /** `$user.role`. */
  role?: string | null;
  /** `$user.name`. */
  name?: string | null;
  /** `$user.kind`. */
  kind?: string | null;
  /** `$user.tenant_id`. */
  tenantId?: string | null;
}

/** Who and what variables are read from. */
export interface VariableSubject {
  /** The caller; null or absent: anonymous (every `$user.*` is null). */
  user?: VariableUser | null;
  /** The request; null or absent: every `$request.*` is null. */
  request?: Request | null;
}

/** The value of a variable (`user.role`, without `$`) for a subject, or null when it has none. */
export function variableValue(name: string, subject: VariableSubject): string | null {
  if (name.startsWith("user.")) {
    const user = subject.user;
    if (!user) return null;
    switch (name) {
      case "user.id": return user.id ?? null;
      case "user.role": return user.role ?? null;
      case "user.name": return user.name ?? null;
      case "user.kind": return user.kind ?? null;
      case "user.tenant_id": return user.tenantId ?? null;
    }
    return null;
  }
  const request = subject.request;
  if (!request) return null;
  if (name === "request.method") return request.method;
  if (name === "request.path") return new URL(request.url).pathname;
  if (name.startsWith("request.header.")) return request.headers.get(name.slice("request.header.".length));
  return null;
}

/** A filter that matches every row. */
export const MATCH_ALL: Filter = { kind: "and", items: [] };
/** A filter that matches no row. */
export const MATCH_NONE: Filter = { kind: "or", items: [] };

/** Whether a filter is the constant {@link MATCH_ALL} (an empty `and`). */
export function matchesAll(filter: Filter): boolean {
  return filter.kind === "and" && filter.items.length === 0;
}

/** Whether a filter is the constant {@link MATCH_NONE} (an empty `or`). */
export function matchesNone(filter: Filter): boolean {
  return filter.kind === "or" && filter.items.length === 0;
}

/** Compares a variable's text value with a literal, as feature-flag rules always have. */
export function compareVariable(actual: string | null, op: string, value: FilterValue | FilterValue[]): boolean {
  if (op === "isnull") return (actual === null) === value;
  if (actual === null) return op === "ne";
  if (op === "in") return (value as FilterValue[]).some((item) => String(item) === actual);
  if (op === "icontains") return actual.toLowerCase().includes(String(value).toLowerCase());
  const left: string | number = typeof value === "number" ? Number(actual) : actual;
  const right = typeof value === "number" ? value : String(value);
  switch (op) {
    case "eq": return left === right;
    case "ne": return left !== right;
    case "gt": return left > right;
    case "gte": return left >= right;
    case "lt": return left < right;
    case "lte": return left <= right;
  }
  return false;
}

/**
 * Binds a parsed filter's variables to a subject: `owner_id = $user.id`
 * becomes `owner_id = "<the id>"`, and a comparison of a variable with a
 * literal (`$user.role = "admin"`) becomes {@link MATCH_ALL} or
 * {@link MATCH_NONE}; constants are folded, so a policy that holds for the
 * caller binds to `MATCH_ALL`. A variable without a value matches no row
 * (under `!=` every row), so an anonymous caller never matches `$user.id`.
 */
export function bindVariables(filter: Filter, subject: VariableSubject): Filter {
  switch (filter.kind) {
    case "compare": {
      if (filter.field.startsWith("$")) {
        return compareVariable(variableValue(filter.field.slice(1), subject), filter.op, filter.value) ? MATCH_ALL : MATCH_NONE;
      }
      if (filter.variable === undefined) return filter;
      const value = variableValue(filter.variable, subject);
      if (value === null) return filter.op === "ne" ? MATCH_ALL : MATCH_NONE;
      return { kind: "compare", field: filter.field, op: filter.op, value };
    }
    case "not": {
      const item = bindVariables(filter.item, subject);
      if (matchesAll(item)) return MATCH_NONE;
      if (matchesNone(item)) return MATCH_ALL;
      return { kind: "not", item };
    }
    case "and":
    case "or": {
      const all = filter.kind === "and";
      const items: Filter[] = [];
      for (const item of filter.items) {
        const bound = bindVariables(item, subject);
        if (all ? matchesNone(bound) : matchesAll(bound)) return bound;
        if (all ? matchesAll(bound) : matchesNone(bound)) continue;
        items.push(bound);
      }
      if (items.length === 1) return items[0]!;
      return { kind: filter.kind, items };
    }
  }
}

/** Both filters must hold (either may be absent). */
export function andFilters(left: Filter | undefined, right: Filter | undefined): Filter | undefined {
  if (!left || matchesAll(left)) return right;
  if (!right || matchesAll(right)) return left;
  return { kind: "and", items: [left, right] };
}

function fieldOf(row: Record<string, unknown>, field: string): unknown {
  if (field in row) return row[field];
  let value: unknown = row;
  for (const part of field.split(".")) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function ordered(actual: unknown, op: string, value: FilterValue): boolean {
  if (actual === null || actual === undefined || value === null) return false;
  if (typeof actual === "number" && typeof value === "string") return ordered(String(actual), op, value);
  if (typeof actual !== typeof value) return op === "ne";
  const left = actual as string | number | boolean;
  switch (op) {
    case "eq": return left === value;
    case "ne": return left !== value;
    case "gt": return left > value;
    case "gte": return left >= value;
    case "lt": return left < value;
    case "lte": return left <= value;
  }
  return false;
}

function textOp(actual: unknown, op: string, value: FilterValue | FilterValue[]): boolean {
  if (typeof actual !== "string" || typeof value !== "string") return false;
  switch (op) {
    case "contains": return actual.includes(value);
    case "icontains": return actual.toLowerCase().includes(value.toLowerCase());
    case "startswith": return actual.startsWith(value);
    case "endswith": return actual.endsWith(value);
  }
  return false;
}

/**
 * Whether a row (a record as stored, JSON columns as objects) matches a
 * bound filter (see {@link bindVariables}), with the SQL compiler's
 * meaning: a missing value fails a comparison, `!` negates the result. For
 * checks in memory: a row about to be written, an event about to be sent.
 */
export function matchesRow(filter: Filter, row: Record<string, unknown>): boolean {
  switch (filter.kind) {
    case "and": return filter.items.every((item) => matchesRow(item, row));
    case "or": return filter.items.some((item) => matchesRow(item, row));
    case "not": return !matchesRow(filter.item, row);
    case "compare": {
      if (filter.variable !== undefined || filter.field.startsWith("$")) return false;
      const actual = fieldOf(row, filter.field);
      const { op, value } = filter;
      if (op === "isnull") return (actual === null || actual === undefined) === value;
      if (op === "in" || op === "nin") {
        if (actual === null || actual === undefined) return false;
        const hit = (value as FilterValue[]).some((item) => ordered(actual, "eq", item));
        return op === "in" ? hit : !hit;
      }
      if (Array.isArray(value)) return false;
      if (op === "contains" || op === "icontains" || op === "startswith" || op === "endswith") return textOp(actual, op, value);
      return ordered(actual, op, value);
    }
  }
}
