/** A role: its own permissions plus those of the roles it inherits. */
export interface RoleDefinition {
  /** Role names whose permissions this role has too. */
  inherits?: string[];
  /** Permission patterns: `resource:action`, `resource:*`, `*:action` or `*`. */
  permissions: string[];
  /** What the role is for. */
  description?: string;
}

/** The permissions chapkit's own routes use. */
export const PERMISSIONS: readonly string[] = [
  "config:read",
  "config:write",
  "artifacts:read",
  "artifacts:write",
  "jobs:read",
  "jobs:cancel",
  "tasks:read",
  "tasks:write",
  "tasks:execute",
  "tasks:shell",
  "ml:train",
  "ml:predict",
  "system:read",
  "metrics:read",
  "auth:admin",
];

/** The built-in roles: `admin` ⊃ `editor` ⊃ `viewer`. */
export const BUILTIN_ROLES: Readonly<Record<string, RoleDefinition>> = {
  viewer: { permissions: ["*:read"], description: "Reads everything but the auth administration" },
  editor: {
    inherits: ["viewer"],
    permissions: ["*:write", "ml:train", "ml:predict", "jobs:cancel", "tasks:execute"],
    description: "Reads and changes data, trains, predicts and runs tasks",
  },
  admin: { inherits: ["editor"], permissions: ["*"], description: "Everything, including auth administration" },
};

const PATTERN = /^(\*|[a-z][a-z0-9_-]*)(:(\*|[a-z][a-z0-9_-]*))?$/;

/** Whether a permission pattern is well formed (`*`, `res:*`, `*:act`, `res:act`). */
export function isPermissionPattern(value: string): boolean {
  return PATTERN.test(value) && (value === "*" || value.includes(":"));
}

/**
 * Whether pattern `outer` grants everything pattern `inner` grants
 * (`*` ⊇ `config:*` ⊇ `config:read`; `*:read` ⊇ `config:read`).
 */
export function covers(outer: string, inner: string): boolean {
  if (outer === "*" || outer === inner) return true;
  if (inner === "*") return false;
  const [outerResource, outerAction] = outer.split(":", 2);
  const [innerResource, innerAction] = inner.split(":", 2);
  const resource = outerResource === "*" || outerResource === innerResource;
  const action = outerAction === "*" || outerAction === innerAction;
  return resource && action;
}

/** Whether a pattern (`*`, `config:*`, `*:read`, `config:read`) grants a permission. */
export function grants(pattern: string, permission: string): boolean {
  if (pattern === "*" || pattern === permission) return true;
  const [resource, action] = pattern.split(":", 2);
  const [wantedResource, wantedAction] = permission.split(":", 2);
  return (resource === "*" || resource === wantedResource) && (action === "*" || action === wantedAction);
}

/**
 * The roles of a service (built-in, configured and stored custom roles) with
 * inheritance resolved. Unknown roles grant nothing.
 */
export class RoleRegistry {
  #roles = new Map<string, RoleDefinition>();
  #resolved = new Map<string, string[]>();

  /** Creates a registry of the built-in roles plus the given ones. */
  constructor(roles: Record<string, RoleDefinition> = {}) {
    this.replace(roles);
  }

  /** Replaces the non-built-in roles (built-in roles cannot be redefined). */
  replace(roles: Record<string, RoleDefinition>): void {
    this.#roles = new Map(Object.entries({ ...roles, ...BUILTIN_ROLES }));
    this.#resolved.clear();
  }

  /** Whether the role exists. */
  has(name: string): boolean {
    return this.#roles.has(name);
  }

  /** Every role with its definition. */
  entries(): [string, RoleDefinition][] {
    return [...this.#roles.entries()];
  }

  /** Every permission pattern of a role, inherited ones included (cycles are cut). */
  permissionsOf(name: string): string[] {
    const cached = this.#resolved.get(name);
    if (cached) return cached;
    const out = new Set<string>();
    const seen = new Set<string>();
    const visit = (role: string): void => {
      if (seen.has(role)) return;
      seen.add(role);
      const definition = this.#roles.get(role);
      if (!definition) return;
      for (const permission of definition.permissions) out.add(permission);
      for (const parent of definition.inherits ?? []) visit(parent);
    };
    visit(name);
    const list = [...out];
    this.#resolved.set(name, list);
    return list;
  }

  /**
   * Whether a holder of `holder` (a role narrowed by scopes) holds every
   * permission a key or user with role `role` and `scopes` would: no one may
   * hand out more than they have.
   */
  canGrant(holder: { role: string; scopes?: readonly string[] | null }, role: string, scopes?: readonly string[] | null): boolean {
    const held = (pattern: string): boolean =>
      this.permissionsOf(holder.role).some((own) => covers(own, pattern)) &&
      (holder.scopes === undefined || holder.scopes === null || holder.scopes.some((scope) => covers(scope, pattern)));
    const wanted = scopes === undefined || scopes === null ? this.permissionsOf(role) : scopes;
    return wanted.every(held);
  }

  /**
   * Whether a role, narrowed by scopes when given, grants a permission: the
   * role must grant it and, with scopes, one scope must too.
   */
  allows(role: string, permission: string, scopes?: readonly string[] | null): boolean {
    if (!this.permissionsOf(role).some((pattern) => grants(pattern, permission))) return false;
    if (scopes === undefined || scopes === null) return true;
    return scopes.some((scope) => grants(scope, permission));
  }
}
