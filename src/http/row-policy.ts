import { AsyncLocalStorage } from "node:async_hooks";
import type { EntityRecord, TableDefinition } from "../core/entity.ts";
import { ConfigurationError, InvalidQueryError } from "../core/errors.ts";
import { parseFilter } from "../core/query/filter-parse.ts";
import {
  andFilters,
  bindVariables,
  FILTER_VARIABLES,
  MATCH_NONE,
  matchesAll,
  matchesRow,
  type VariableSubject,
} from "../core/query/filter-variables.ts";
import type { Filter } from "../core/query/model.ts";
import type { Repository } from "../core/repository.ts";
import { ident } from "../db/dialect.ts";
import type { Driver } from "../db/driver.ts";
import { type AuthPrincipal, principalOf } from "./auth-guard.ts";
import { PolicyRepository } from "./row-policy-repository.ts";

/**
 * What one role may do with the rows of one table, in the filter grammar
 * with `$user.*` and `$request.*` variables (see `FILTER_VARIABLES`).
 * An absent `read` lets the role read every row; an absent `write` lets it
 * write every row it may read.
 */
export interface RowPolicy {
  /** Rows the role may see (lists, gets, counts, exports), e.g. `owner_id = $user.id || shared = true`. */
  read?: string;
  /**
   * Rows the role may change or delete, among those it may see, e.g.
   * `owner_id = $user.id`. A created or changed row must match it too
   * (otherwise 403): no one writes a row they could not write afterwards.
   */
  write?: string;
}

/**
 * Row policies: table name → role → policy. A role not listed uses the
 * `"*"` entry; with no `"*"` entry it sees no row of the table (deny by
 * default). Callers without a principal (public routes) use `"*"` too.
 *
 * @example
 * ```ts ignore
 * withAuth({ rowPolicies: { notes: {
 *   admin: {},
 *   "*": { read: "owner_id = $user.id || shared = true", write: "owner_id = $user.id" },
 * } } });
 * ```
 */
export type RowPolicies = Record<string, Record<string, RowPolicy>>;

export { ROW_ACCESS_KEY } from "./row-access-key.ts";

/** Multi-tenancy: which tables hold rows of one tenant each. */
export interface TenancyOptions {
  /**
   * Tables whose rows belong to a tenant; each needs a nullable text
   * `tenant_id` column. Every store call of a request is scoped to the
   * caller's tenant, and inserts get it filled in.
   */
  tables: readonly string[];
  /**
   * On PostgreSQL, also enable row-level security on these tables (`FORCE`,
   * so the owner is bound too): every store call of a tenant's request runs
   * in a transaction that sets `chapkit.tenant_id`, and PostgreSQL itself
   * hides other tenants' rows, a second wall behind the query filters.
   * Superusers and `BYPASSRLS` roles are not bound: connect as an ordinary role.
   */
  postgresRowLevelSecurity?: boolean;
}

/** The auth tables scoped by tenant when tenancy is on, so tenant admins manage only their users and keys. */
const AUTH_TENANT_TABLES: readonly string[] = ["auth_users", "auth_api_keys"];

/** What {@link RowAccess.filterFor} is asked about. */
export type RowAccessMode = "read" | "write";

interface CompiledPolicy {
  read: Filter | undefined;
  write: Filter | undefined;
}

interface Scope {
  request: Request | undefined;
  /** A caller without a request: the submitter of a job that runs now. */
  subject?: VariableSubject;
}

/** The variables of a principal (and request): what policies are bound to. */
export function subjectOf(principal: AuthPrincipal | null | undefined, request?: Request | null): VariableSubject {
  return { user: principal ?? null, request: request ?? null };
}

/**
 * Row-level access: the compiled row policies (and tenant scoping) of a
 * service, and the request each store call runs for.
 *
 * The auth guard records the request (an `AsyncLocalStorage` entered at
 * `onRequest`), and every table with a policy is reached through
 * {@link RowAccess.guard}: lists, gets, counts, updates, deletes and bulk
 * operations then see only the caller's rows, and a denied row is 404
 * (indistinguishable from a missing one). Store calls outside a request
 * (scripts, jobs, start-up) are not restricted.
 *
 * For subscriptions, GraphQL and anything else that reads rows itself, ask
 * {@link RowAccess.filterFor} for the SQL-side filter (AND it to the query)
 * or {@link RowAccess.canRead} for one row in memory (an event's record):
 *
 * ```ts ignore
 * const access = context.has(ROW_ACCESS_KEY) ? context.get<RowAccess>(ROW_ACCESS_KEY) : undefined;
 * if (access && !access.canRead("notes", record, subjectOf(principalOf(request), request))) return; // drop the event
 * ```
 */
export class RowAccess {
  readonly #sources: RowPolicies;
  readonly #compiled = new Map<string, Map<string, CompiledPolicy>>();
  readonly #scope = new AsyncLocalStorage<Scope>();
  readonly #eventChecks = new Map<string, (entity: Record<string, unknown>, subject: VariableSubject) => boolean | Promise<boolean>>();
  readonly #extra: ((table: string, subject: VariableSubject) => Filter | undefined)[] = [];
  readonly #tenantTables: Set<string>;
  readonly #authTables: Set<string>;
  readonly #rls: boolean;

  /** Compiles the policies. @throws {ConfigurationError} when one does not parse. */
  constructor(policies: RowPolicies = {}, options: { tenancy?: TenancyOptions } = {}) {
    this.#sources = policies;
    for (const [table, roles] of Object.entries(policies)) this.#compile(table, roles);
    this.#tenantTables = new Set(options.tenancy?.tables ?? []);
    this.#authTables = new Set(options.tenancy ? AUTH_TENANT_TABLES : []);
    this.#rls = options.tenancy?.postgresRowLevelSecurity === true;
  }

  /** Whether store calls on this table run with PostgreSQL row-level security (see {@link TenancyOptions}). */
  usesRowLevelSecurity(table: string, db: Driver | undefined): boolean {
    return this.#rls && db?.dialect === "postgres" && this.#tenantTables.has(table);
  }

  /**
   * Turns on row-level security for the tenant tables (PostgreSQL, when
   * configured); idempotent, run at start after the migrations.
   */
  async enableRowLevelSecurity(db: Driver): Promise<void> {
    if (!this.#rls || db.dialect !== "postgres") return;
    const tenant = `NULLIF(current_setting('chapkit.tenant_id', true), '')`;
    const rule = `(${tenant} IS NULL OR "tenant_id" = ${tenant})`;
    for (const table of this.#tenantTables) {
      const name = ident(table);
      await db.exec(`ALTER TABLE ${name} ENABLE ROW LEVEL SECURITY`);
      await db.exec(`ALTER TABLE ${name} FORCE ROW LEVEL SECURITY`);
      await db.exec(`DROP POLICY IF EXISTS "chapkit_tenant" ON ${name}`);
      await db.exec(`CREATE POLICY "chapkit_tenant" ON ${name} USING ${rule} WITH CHECK ${rule}`);
    }
  }

  /** Whether a table's rows belong to tenants. */
  isTenantTable(table: string): boolean {
    return this.#tenantTables.has(table) || this.#authTables.has(table);
  }

  /**
   * The tenant filter of a caller on a tenant table: its own tenant's rows;
   * every row for a principal without tenant (a platform operator); none for
   * a caller without principal (auth tables: every row, as the guard reads
   * them before it knows the caller).
   */
  #tenantFilter(table: string, subject: VariableSubject): Filter | undefined {
    if (!this.isTenantTable(table)) return undefined;
    const user = subject.user;
    if (!user) return this.#authTables.has(table) ? undefined : MATCH_NONE;
    const tenant = user.tenantId;
    if (tenant === null || tenant === undefined) return undefined;
    return { kind: "compare", field: "tenant_id", op: "eq", value: tenant };
  }

  /** Values an insert or update by this caller gets on a tenant table (its tenant), or undefined. */
  fillFor(table: string, subject: VariableSubject): Record<string, unknown> | undefined {
    const tenant = subject.user?.tenantId;
    if (!this.isTenantTable(table) || tenant === null || tenant === undefined) return undefined;
    return { tenant_id: tenant };
  }

  #compile(table: string, roles: Record<string, RowPolicy>, definition?: TableDefinition): void {
    const compiled = new Map<string, CompiledPolicy>();
    const parse = (source: string | undefined, where: string): Filter | undefined => {
      if (source === undefined) return undefined;
      try {
        return parseFilter(source, { variables: FILTER_VARIABLES, parameter: where, ...(definition ? { table: definition } : {}) });
      } catch (error) {
        if (error instanceof InvalidQueryError) throw new ConfigurationError(`Row policy ${where} is invalid: ${error.message}`);
        throw error;
      }
    };
    for (const [role, policy] of Object.entries(roles)) {
      const read = parse(policy.read, `rowPolicies.${table}.${role}.read`);
      const write = andFilters(read, parse(policy.write, `rowPolicies.${table}.${role}.write`));
      compiled.set(role, { read, write });
    }
    this.#compiled.set(table, compiled);
  }

  /**
   * Adds a filter every caller of a table gets on top of its policy (the
   * tenant scope); `undefined` adds nothing for that call.
   */
  addScope(scope: (table: string, subject: VariableSubject) => Filter | undefined): void {
    this.#extra.push(scope);
  }

  /** Whether a table has row policies. */
  has(table: string): boolean {
    return this.#compiled.has(table);
  }

  /** Records the request the rest of this asynchronous flow serves (the auth guard calls it first thing). */
  enter(request: Request): void {
    this.#scope.enterWith({ request });
  }

  /** Ends the request's scope once answered, so a flow that outlives it (a caller of `app.handle`) is not restricted. */
  leave(): void {
    const scope = this.#scope.getStore();
    if (scope) scope.request = undefined;
  }

  /**
   * Runs `fn` (and everything it starts) as `subject`, as if one of its
   * requests were being served: how a job submitted by a tenant's principal
   * runs scoped to that tenant.
   */
  runAs<T>(subject: VariableSubject, fn: () => T): T {
    return this.#scope.run({ request: undefined, subject }, fn);
  }

  /**
   * Adds a check of the events of a collection whose rows live outside the
   * tenant tables (jobs): realtime subscribers see an event only when it
   * answers true. May query the store.
   */
  addEventVisibility(collection: string, check: (entity: Record<string, unknown>, subject: VariableSubject) => boolean | Promise<boolean>): void {
    this.#eventChecks.set(collection, check);
  }

  /** The event check of a collection (see {@link RowAccess.addEventVisibility}), if any. */
  eventVisibility(collection: string): ((entity: Record<string, unknown>, subject: VariableSubject) => boolean | Promise<boolean>) | undefined {
    return this.#eventChecks.get(collection);
  }

  /** Whether principals carry tenants (tenancy is on). */
  get multiTenant(): boolean {
    return this.#authTables.size > 0;
  }

  /** The caller of the request (or job) this flow serves, or undefined outside one. */
  current(): VariableSubject | undefined {
    const scope = this.#scope.getStore();
    if (scope?.subject) return scope.subject;
    const request = scope?.request;
    if (!request) return undefined;
    return subjectOf(principalOf(request), request);
  }

  /**
   * The filter a caller's rows of `table` must match, bound to the caller
   * (`undefined`: every row; the constant `{ kind: "or", items: [] }`: none).
   * AND it to a query's filter; compile it with the table's SQL compiler.
   */
  filterFor(table: string, mode: RowAccessMode, subject: VariableSubject): Filter | undefined {
    let filter: Filter | undefined;
    const roles = this.#compiled.get(table);
    if (roles) {
      const role = subject.user?.role ?? undefined;
      const policy = (role !== undefined ? roles.get(role) : undefined) ?? roles.get("*");
      if (!policy) return MATCH_NONE;
      const source = mode === "read" ? policy.read : policy.write;
      filter = source ? bindVariables(source, subject) : undefined;
    }
    filter = andFilters(filter, this.#tenantFilter(table, subject));
    for (const scope of this.#extra) filter = andFilters(filter, scope(table, subject));
    return filter && matchesAll(filter) ? undefined : filter;
  }

  /** Whether the caller may see this row (e.g. before sending it an event about it). */
  canRead(table: string, row: EntityRecord | Record<string, unknown>, subject: VariableSubject): boolean {
    const filter = this.filterFor(table, "read", subject);
    return filter === undefined || matchesRow(filter, row as Record<string, unknown>);
  }

  /** Whether the caller may change or delete this row. */
  canWrite(table: string, row: EntityRecord | Record<string, unknown>, subject: VariableSubject): boolean {
    const filter = this.filterFor(table, "write", subject);
    return filter === undefined || matchesRow(filter, row as Record<string, unknown>);
  }

  /** Whether anything (a policy or a scope) restricts some table. */
  get active(): boolean {
    return this.#compiled.size > 0 || this.#extra.length > 0 || this.#tenantTables.size > 0 || this.#authTables.size > 0;
  }

  /**
   * The repository seen through the caller's policies: see {@link RowAccess}.
   * Validates the table's policies against its columns first.
   * @throws {ConfigurationError} when a policy names an unknown column.
   */
  guard<R extends EntityRecord>(repository: Repository<R>, table: TableDefinition, db?: Driver): Repository<R> {
    const roles = this.#sources[table.name];
    if (roles) this.#compile(table.name, roles, table);
    if (this.isTenantTable(table.name) && !("tenant_id" in table.columns)) {
      throw new ConfigurationError(`Table ${table.name} is scoped by tenant but has no tenant_id column`);
    }
    return new PolicyRepository(repository, table, this, this.usesRowLevelSecurity(table.name, db) ? db : undefined);
  }
}

