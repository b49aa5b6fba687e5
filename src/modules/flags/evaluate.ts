import { compareVariable, FILTER_VARIABLES, type VariableUser, variableValue } from "../../core/query/filter-variables.ts";
import type { Filter } from "../../core/query/model.ts";
import { principalOf } from "../../http/auth-guard.ts";

/** The variables a flag rule may use (see `parseFilter`'s `variables`): the shared {@link FILTER_VARIABLES}. */
export const FLAG_VARIABLES: readonly string[] = FILTER_VARIABLES;

/** Who and what a flag is evaluated for. */
export interface FlagSubject {
  /** The sticky key of percentage rollouts (a user id, a session, a model id…). */
  key: string;
  /** The principal: `$user.id`, `$user.role`… (default: the authenticated principal of `request`, under auth). */
  user?: VariableUser | null;
  /** The request: `$request.method`, `$request.path`, `$request.header.<lower-case name>`. */
  request?: Request | null;
}

/** The value of a variable (`$user.role`) for a subject, or null when it has none. */
function variable(field: string, subject: FlagSubject): string | null {
  const user = subject.user === undefined && subject.request ? principalOf(subject.request) : subject.user;
  return variableValue(field.slice(1), { user: user ?? null, request: subject.request ?? null });
}

/** Whether a subject matches a parsed flag rule (variables only; values compared as text, or as numbers against a number). */
export function matchesRule(filter: Filter, subject: FlagSubject): boolean {
  switch (filter.kind) {
    case "and": return filter.items.every((item) => matchesRule(item, subject));
    case "or": return filter.items.some((item) => matchesRule(item, subject));
    case "not": return !matchesRule(filter.item, subject);
    case "compare": return compareVariable(variable(filter.field, subject), filter.op, filter.value);
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
