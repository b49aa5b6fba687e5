import type { Static, TObject } from "@sinclair/typebox";
import type { EntityRecord } from "./entity.ts";
import type { EventBus } from "./events/bus.ts";
import { type FieldError, NotFoundError, type PreconditionFailedError, ValidationError } from "./errors.ts";
import type { ListQuery } from "./query/model.ts";
import type { InsertValues, Repository, UpdateValues, WriteCondition } from "./repository.ts";
import { validateValue } from "./validation.ts";

/** A page of results in the contract's envelope (§5). */
export interface Page<T> {
  /** The items of this page. */
  items: T[];
  /** The number of matching items. */
  total: number;
  /** This page's number, from 1. */
  page: number;
  /** The page size. */
  size: number;
  /** `ceil(total / size)`; 0 when nothing matches. */
  pages: number;
}

/**
 * Lifecycle hooks of a manager. `before*` hooks may throw a chapkit error to
 * refuse the operation.
 */
export interface ManagerHooks<R extends EntityRecord, In> {
  /** Before an insert; may return changed input. */
  beforeCreate?(input: In): In | void | Promise<In | void>;
  /** After an insert. */
  afterCreate?(record: R): void | Promise<void>;
  /** Before an update (also an upsert that updates); may return changed input. */
  beforeUpdate?(input: In, existing: R): In | void | Promise<In | void>;
  /** After an update was written; `previous` is the stored state before it. */
  afterUpdate?(record: R, previous: R): void | Promise<void>;
  /** Before a delete; throwing refuses it and nothing is deleted. */
  beforeDelete?(record: R): void | Promise<void>;
  /** After a delete was written; `record` is the last stored state. */
  afterDelete?(record: R): void | Promise<void>;
}

/** How a manager is made. */
export interface ManagerOptions<R extends EntityRecord, I extends TObject, O extends TObject> {
  /** Where records live. */
  repository: Repository<R>;
  /** Input schema (create and update bodies). */
  input: I;
  /** Output schema. */
  output: O;
  /**
   * Maps validated input to column values (default: every input key but `id`).
   * `existing` is the stored row on update, null on insert.
   */
  toValues?(input: Static<I>, existing: R | null): UpdateValues<R>;
  /** Maps a stored row to output (default: the row itself). */
  toOutput?(record: R): Static<O> | Promise<Static<O>>;
  /** Lifecycle hooks. */
  hooks?: ManagerHooks<R, Static<I>>;
  /** Publishes `entity.created|updated|deleted` with the output state to this bus after each committed write. */
  events?: ManagerEvents;
}

/** Where a manager publishes its entity events. */
export interface ManagerEvents {
  /** The service's bus (`context.events`). */
  bus: EventBus;
  /** The collection named in the events, e.g. the table name. */
  collection: string;
}

/** Options of a manager's `update` and `delete`. */
export interface ManagerWriteOptions {
  /** Apply only while the row is still the one checked (`If-Match`); tested inside the write. */
  condition?: WriteCondition;
}

/** What {@link Manager.save} did. */
export interface SaveResult<T> {
  /** The record as output. */
  output: T;
  /** True when inserted, false when an existing row was updated. */
  created: boolean;
}

function dropNulls(body: unknown): unknown {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return body;
  return Object.fromEntries(Object.entries(body).filter(([, value]) => value !== null));
}

/**
 * Business logic for one entity: validates input against its schemas, runs
 * lifecycle hooks and maps rows to output. Works without HTTP.
 *
 * @example
 * ```ts ignore
 * const notes = new Manager({ repository, input: NoteIn, output: NoteOut });
 * const { output } = await notes.save({ title: "hello" });
 * ```
 */
export class Manager<R extends EntityRecord, I extends TObject, O extends TObject> {
  /** Input schema. */
  readonly input: I;
  /** Output schema. */
  readonly output: O;
  /** The repository behind the manager. */
  readonly repository: Repository<R>;
  readonly #options: ManagerOptions<R, I, O>;

  /** Creates a manager over a repository with its input and output schemas. */
  constructor(options: ManagerOptions<R, I, O>) {
    this.#options = options;
    this.input = options.input;
    this.output = options.output;
    this.repository = options.repository;
  }

  /** Validates a body against the input schema (coercing, filling defaults, dropping unknown keys). */
  parse(body: unknown, loc: (string | number)[] = ["body"]): Static<I> {
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
      throw new ValidationError([{ loc, msg: "Input should be a valid dictionary or object", type: "dict_type" }]);
    }
    return validateValue<Static<I>>(this.input, body, { loc });
  }

  /** Maps a stored row to output. */
  toOutput(record: R): Promise<Static<O>> {
    const map = this.#options.toOutput;
    return Promise.resolve(map ? map(record) : (record as unknown as Static<O>));
  }

  /** The record with this id as output. @throws {NotFoundError} */
  async get(id: string): Promise<Static<O>> {
    const record = await this.require(id);
    const map = this.#options.toOutput;
    return map ? map(record) : (record as unknown as Static<O>);
  }

  /** The stored row with this id. @throws {NotFoundError} */
  async require(id: string): Promise<R> {
    const record = await this.repository.findById(id);
    if (!record) throw new NotFoundError(`Entity with id ${id} not found`);
    return record;
  }

  /** Records matching the query, as output. */
  async list(query: ListQuery = {}): Promise<Static<O>[]> {
    const rows = await this.repository.findMany(query);
    return Promise.all(rows.map((row) => this.toOutput(row)));
  }

  /** One page in the contract's envelope; `page` and `size` must be ≥ 1. */
  async page(page: number, size: number, query: ListQuery = {}): Promise<Page<Static<O>>> {
    const errors = [];
    if (!Number.isInteger(page) || page < 1) {
      errors.push({ loc: ["query", "page"], msg: "Input should be greater than or equal to 1", type: "greater_than_equal" });
    }
    if (!Number.isInteger(size) || size < 1) {
      errors.push({ loc: ["query", "size"], msg: "Input should be greater than or equal to 1", type: "greater_than_equal" });
    }
    if (errors.length > 0) throw new ValidationError(errors);
    const [items, total] = await Promise.all([
      this.list({ ...query, limit: size, offset: (page - 1) * size }),
      this.repository.count(query),
    ]);
    return { items, total, page, size, pages: total === 0 ? 0 : Math.ceil(total / size) };
  }

  /**
   * Creates a record, or, when the body's `id` exists, updates it with
   * {@link Manager.update} semantics. On insert, `null` fields are dropped
   * first so they take their defaults.
   */
  async save(body: unknown): Promise<SaveResult<Static<O>>> {
    const id = (body as { id?: unknown } | null)?.id;
    if (typeof id === "string") {
      const existing = await this.repository.findById(id);
      if (existing) return { output: await this.#update(existing, this.parse(body)), created: false };
    }
    const input = this.parse(dropNulls(body));
    return { output: await this.#insert(input), created: true };
  }

  /** Creates a record from a body (see {@link Manager.save} for an existing id). */
  async create(body: unknown): Promise<Static<O>> {
    return (await this.save(body)).output;
  }

  /**
   * Replaces the record's fields with the body's: every top-level field is
   * assigned, and `null` clears an optional field.
   * @throws {NotFoundError} unknown id; {@link PreconditionFailedError} when `options.condition` no longer holds.
   */
  async update(id: string, body: unknown, options: ManagerWriteOptions = {}): Promise<Static<O>> {
    const input = this.parse(body);
    return this.#update(await this.require(id), input, options.condition);
  }

  /**
   * Creates many records in one transaction, all or nothing. Every body is
   * validated first (one 422 listing each failing item under `["body", index]`);
   * rows are then inserted in batches, one statement per batch. A subclass that
   * overrides {@link Manager.save} gets its own `save` per item instead.
   */
  async createMany(bodies: readonly unknown[]): Promise<Static<O>[]> {
    const errors: FieldError[] = [];
    const inputs: Static<I>[] = [];
    bodies.forEach((body, index) => {
      try {
        inputs.push(this.parse(dropNulls(body), ["body", index]));
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        errors.push(...error.errors);
      }
    });
    if (errors.length > 0) throw new ValidationError(errors);
    if (this.save !== Manager.prototype.save) {
      return this.repository.transaction(async () => {
        const out: Static<O>[] = [];
        for (const body of bodies) out.push((await this.save(body)).output);
        return out;
      });
    }
    const hooks = this.#options.hooks;
    return this.repository.transaction(async () => {
      const values: InsertValues<R>[] = [];
      for (const input of inputs) {
        const prepared = (await hooks?.beforeCreate?.(input)) ?? input;
        const id = (prepared as { id?: string }).id;
        const row = this.#values(prepared, null) as InsertValues<R>;
        values.push(id ? { ...row, id } : row);
      }
      const records = await this.repository.insertMany(values);
      for (const record of records) await hooks?.afterCreate?.(record);
      const outputs = await Promise.all(records.map((record) => this.toOutput(record)));
      await this.emit("entity.created", records, outputs);
      return outputs;
    });
  }

  /** Deletes the record. @throws {NotFoundError} unknown id; {@link PreconditionFailedError} when `options.condition` no longer holds. */
  async delete(id: string, options: ManagerWriteOptions = {}): Promise<void> {
    const record = await this.require(id);
    await this.#options.hooks?.beforeDelete?.(record);
    await this.repository.delete(id, options.condition);
    await this.#options.hooks?.afterDelete?.(record);
    await this.emit("entity.deleted", [record]);
  }

  /**
   * Writes the row of a {@link Manager.save} that creates, after its
   * `beforeCreate` hook; a subclass may check the row in the same statement.
   */
  protected insertRecord(values: InsertValues<R>): Promise<R> {
    return this.repository.insert(values);
  }

  /** Whether writes publish events: a bus is set and its collection is not excluded. */
  protected get publishesEvents(): boolean {
    const events = this.#options.events;
    return events !== undefined && events.bus.publishes(events.collection);
  }

  /**
   * Publishes an `entity.*` event per record with its output state (after
   * commit when inside a transaction), for subclasses that write through
   * their store; `outputs`, when given, are the records' outputs.
   */
  protected async emit(
    type: "entity.created" | "entity.updated" | "entity.deleted",
    records: readonly R[],
    outputs?: readonly Static<O>[],
  ): Promise<void> {
    const events = this.#options.events;
    if (!events || records.length === 0 || !events.bus.publishes(events.collection)) return;
    const states = outputs ?? await Promise.all(records.map((record) => this.toOutput(record)));
    await events.bus.publishMany(records.map((record, index) => ({
      type,
      collection: events.collection,
      id: record.id,
      entity: states[index],
    })));
  }

  #values(input: Static<I>, existing: R | null): UpdateValues<R> {
    if (this.#options.toValues) return this.#options.toValues(input, existing);
    const { id: _id, ...rest } = input as Record<string, unknown>;
    return rest as UpdateValues<R>;
  }

  async #insert(input: Static<I>): Promise<Static<O>> {
    const hooks = this.#options.hooks;
    // Absent hooks cost no await (each is a turn of the microtask queue).
    const prepared = (hooks?.beforeCreate ? await hooks.beforeCreate(input) : undefined) ?? input;
    const values = this.#values(prepared, null) as InsertValues<R>;
    const id = (prepared as { id?: string }).id;
    const record = await this.insertRecord(id ? { ...values, id } : values);
    if (hooks?.afterCreate) await hooks.afterCreate(record);
    const output = await this.toOutput(record);
    await this.emit("entity.created", [record], [output]);
    return output;
  }

  async #update(existing: R, input: Static<I>, condition?: WriteCondition): Promise<Static<O>> {
    const hooks = this.#options.hooks;
    const prepared = (await hooks?.beforeUpdate?.(input, existing)) ?? input;
    const record = await this.repository.update(existing.id, this.#values(prepared, existing), condition);
    if (!record) throw new NotFoundError(`Entity with id ${existing.id} not found`);
    await hooks?.afterUpdate?.(record, existing);
    const output = await this.toOutput(record);
    await this.emit("entity.updated", [record], [output]);
    return output;
  }
}
