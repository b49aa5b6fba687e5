import type { Filter, FilterValue } from "../../core/query.ts";
import { principalOf } from "../../http/auth-guard.ts";

/** The variables a flag rule may use (see `parseFilter`'s `variables`). */
export const FLAG_VARIABLES: readonly string[] = ["user.id", "user.role", "request.method", "request.path", "request.header."];

/** Who and what a flag is evaluated for. */
export interface FlagSubject {
  /** The sticky key of percentage rollouts (a user id, a session, a model id…). */
  key: string;
  /** The principal: `$user.id`, `$user.role` (default: the authenticated principal of `request`, under auth). */
  user?: { id?: string | null; role?: string | null } | null;
  /** The request: `$request.method`, `$request.path`, `$request.header.<lower-case name>`. */
  request?: Request | null;
}

/** The value of a variable (`$user.role`) for a subject, or null when it has none. */
function variable(field: string, subject: FlagSubject): string | null {
  const name = field.slice(1);
  if (name.startsWith("user.")) {
    const user = subject.user === undefined && subject.request ? principalOf(subject.request) : subject.user;
    return (name === "user.id" ? user?.id : user?.role) ?? null;
  }
  const request = subject.request;
  if (!request) return null;
  if (name === "request.method") return request.method;
  if (name === "request.path") return new URL(request.url).pathname;
  if (name.startsWith("request.header.")) return request.headers.get(name.slice("request.header.".length));
  return null;
}

function compare(actual: string | null, op: string, value: FilterValue | FilterValue[]): boolean {
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

/** Whether a subject matches a parsed flag rule (variables only; values compared as text, or as numbers against a number). */
export function matchesRule(filter: Filter, subject: FlagSubject): boolean {
  switch (filter.kind) {
    case "and": return filter.items.every((item) => matchesRule(item, subject));
    case "or": return filter.items.some((item) => matchesRule(item, subject));
    case "not": return !matchesRule(filter.item, subject);
    case "compare": return compare(variable(filter.field, subject), filter.op, filter.value);
  }
}

/** A stable bucket 0–9999 of flag name + key (FNV-1a, 32 bit), so a key keeps its answer while the percentage stays. */
export function rolloutBucket(flag: string, key: string): number {
  let hash = 0x811c9dc5;
  const text = `${flag}\u0000${key}`;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % 10_000;
}
