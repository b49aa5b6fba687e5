import type { EntityRecord, TableDefinition } from "../core/entity.ts";
import { ForbiddenError, NotFoundError } from "../core/errors.ts";
import { andFilters, matchesNone, matchesRow } from "../core/query/filter-variables.ts";
import type { Filter, ListQuery } from "../core/query/model.ts";
import type { InsertValues, Repository, UpdateValues, WriteCondition } from "../core/repository.ts";
import type { Driver } from "../db/driver.ts";
import type { RowAccess } from "./row-policy.ts";

function byId(id: string): Filter {
  return { kind: "compare", field: "id", op: "eq", value: id };
}

function notFound(id: string): NotFoundError {
  return new NotFoundError(`Entity with id ${id} not found`);
}

/**
 * A repository seen through the row policies of the request in flight (see
 * `RowAccess`): reads are filtered, writes touch only writable rows (others
 * are 404), and written rows must stay writable (403 otherwise). Outside a
 * request it is the repository itself.
 */
export class PolicyRepository<R extends EntityRecord> implements Repository<R> {
  /** The table, for list queries. */
  readonly table: TableDefinition;
  readonly #inner: Repository<R>;
  readonly #access: RowAccess;
  readonly #rls: Driver | undefined;

  /** `rls`: the PostgreSQL store whose row-level security reads `chapkit.tenant_id`, when on. */
  constructor(inner: Repository<R>, table: TableDefinition, access: RowAccess, rls?: Driver) {
    this.#inner = inner;
    this.table = table;
    this.#access = access;
    this.#rls = rls;
  }

  /** Runs a store call as the caller's tenant for PostgreSQL's row-level security (a no-op when off). */
  #asTenant<T>(run: () => Promise<T>): Promise<T> {
    const tenant = this.#rls ? this.#access.current()?.user?.tenantId : undefined;
    if (!this.#rls || !tenant) return run();
    const db = this.#rls;
    return db.transaction(async () => {
      await db.query(`SELECT set_config('chapkit.tenant_id', ?, true) AS tenant`, [tenant]);
      return run();
    });
  }

  #filter(mode: "read" | "write"): Filter | undefined {
    const subject = this.#access.current();
    return subject ? this.#access.filterFor(this.table.name, mode, subject) : undefined;
  }

  /** The values with the caller's tenant filled in (tenant tables). */
  #filled<V>(values: V): V {
    const subject = this.#access.current();
    const fill = subject ? this.#access.fillFor(this.table.name, subject) : undefined;
    return fill ? { ...values, ...fill } : values;
  }

  #checkWritten(row: Record<string, unknown>): void {
    const subject = this.#access.current();
    if (subject && !this.#access.canWrite(this.table.name, row, subject)) {
      throw new ForbiddenError("The row would be outside what you may write");
    }
  }

  async #visible(repository: Repository<R>, id: string, filter: Filter): Promise<R | null> {
    if (matchesNone(filter)) return null;
    const [row] = await repository.findMany({ filter: andFilters(byId(id), filter)!, limit: 1 });
    return row ?? null;
  }

  findById(id: string): Promise<R | null> {
    return this.#asTenant(() => this.#findById(id));
  }

  async #findById(id: string): Promise<R | null> {
    const filter = this.#filter("read");
    return filter ? this.#visible(this.#inner, id, filter) : this.#inner.findById(id);
  }

  findMany(query: ListQuery = {}): Promise<R[]> {
    return this.#asTenant(() => this.#findMany(query));
  }

  #findMany(query: ListQuery): Promise<R[]> {
    const filter = this.#filter("read");
    if (!filter) return this.#inner.findMany(query);
    if (matchesNone(filter)) return Promise.resolve([]);
    return this.#inner.findMany({ ...query, filter: andFilters(query.filter, filter)! });
  }

  count(query: Pick<ListQuery, "filter" | "search"> = {}): Promise<number> {
    return this.#asTenant(() => this.#count(query));
  }

  #count(query: Pick<ListQuery, "filter" | "search">): Promise<number> {
    const filter = this.#filter("read");
    if (!filter) return this.#inner.count(query);
    if (matchesNone(filter)) return Promise.resolve(0);
    return this.#inner.count({ ...query, filter: andFilters(query.filter, filter)! });
  }

  exists(id: string): Promise<boolean> {
    return this.#asTenant(() => this.#exists(id));
  }

  async #exists(id: string): Promise<boolean> {
    const filter = this.#filter("read");
    return filter ? (await this.#visible(this.#inner, id, filter)) !== null : this.#inner.exists(id);
  }

  async #checkInsert(rows: InsertValues<R>[]): Promise<void> {
    if (!this.#access.current()) return;
    for (const row of rows) {
      this.#checkWritten(row as Record<string, unknown>);
      // A given id taken by a hidden row is 404, as for any write to it: a 409 would tell that it exists.
      const id = (row as { id?: string }).id;
      if (id !== undefined && (await this.#inner.exists(id))) throw notFound(id);
    }
  }

  insert(values: InsertValues<R>): Promise<R> {
    return this.#asTenant(async () => {
      const row = this.#filled(values);
      await this.#checkInsert([row]);
      return this.#inner.insert(row);
    });
  }

  insertMany(values: InsertValues<R>[]): Promise<R[]> {
    return this.#asTenant(async () => {
      const rows = values.map((row) => this.#filled(row));
      await this.#checkInsert(rows);
      return this.#inner.insertMany(rows);
    });
  }

  update(id: string, changes: UpdateValues<R>, condition?: WriteCondition): Promise<R | null> {
    return this.#asTenant(() => this.#update(id, changes, condition));
  }

  #update(id: string, changes: UpdateValues<R>, condition?: WriteCondition): Promise<R | null> {
    const values = this.#filled(changes);
    const filter = this.#filter("write");
    if (!filter) return this.#inner.update(id, values, condition);
    return this.#inner.transaction(async (repository) => {
      if (!(await this.#visible(repository, id, filter))) throw notFound(id);
      const updated = await repository.update(id, values, condition);
      if (updated) this.#checkWritten(updated as unknown as Record<string, unknown>);
      return updated;
    });
  }

  upsert(row: InsertValues<R> & { id: string }): Promise<{ record: R; created: boolean }> {
    return this.#asTenant(() => this.#upsert(row));
  }

  #upsert(row: InsertValues<R> & { id: string }): Promise<{ record: R; created: boolean }> {
    const values = this.#filled(row);
    const filter = this.#filter("write");
    if (!filter) return this.#inner.upsert(values);
    return this.#inner.transaction(async (repository) => {
      // An id taken by a row the caller may not write is as good as unknown to it: refuse, never overwrite.
      if ((await repository.exists(values.id)) && !(await this.#visible(repository, values.id, filter))) throw notFound(values.id);
      const result = await repository.upsert(values);
      this.#checkWritten(result.record as unknown as Record<string, unknown>);
      return result;
    });
  }

  delete(id: string, condition?: WriteCondition): Promise<boolean> {
    return this.#asTenant(() => this.#delete(id, condition));
  }

  async #delete(id: string, condition?: WriteCondition): Promise<boolean> {
    const filter = this.#filter("write");
    if (!filter) return this.#inner.delete(id, condition);
    return this.#inner.transaction(async (repository) => {
      if (!(await this.#visible(repository, id, filter))) throw notFound(id);
      return repository.delete(id, condition);
    });
  }

  deleteMany(target: string[] | Filter): Promise<number> {
    return this.#asTenant(() => this.#deleteMany(target));
  }

  #deleteMany(target: string[] | Filter): Promise<number> {
    const filter = this.#filter("write");
    if (!filter) return this.#inner.deleteMany(target);
    if (matchesNone(filter)) return Promise.resolve(0);
    const wanted: Filter = Array.isArray(target) ? { kind: "compare", field: "id", op: "in", value: target } : target;
    if (Array.isArray(target) && target.length === 0) return Promise.resolve(0);
    return this.#inner.deleteMany(andFilters(wanted, filter)!);
  }

  transaction<T>(fn: (repository: Repository<R>) => Promise<T>): Promise<T> {
    return this.#asTenant(() => this.#inner.transaction((repository) => fn(new PolicyRepository(repository, this.table, this.#access, this.#rls))));
  }
}
