import type { Static, TObject, TSchema, TUnsafe } from "@sinclair/typebox";
import { ConflictError, ValidationError } from "../../core/errors.ts";
import { Manager, type ManagerEvents, type ManagerHooks, type ManagerWriteOptions, type SaveResult } from "../../core/manager.ts";
import { parseTags } from "../../core/tags.ts";
import type { InsertValues } from "../../core/repository.ts";
import { compiledCheck, validateValue, validLeavesUnchanged } from "../../core/validation.ts";
import { chapConfigDataSchema, chapConfigInputSchema, chapConfigOutputSchema } from "./chap-schema.ts";
import { dropConfigNulls, outputConfigData, validateConfigData } from "./config-data.ts";
import {
  type ConfigInSchema,
  type ConfigOut,
  type ConfigOutSchema,
  type ConfigRecord,
  configInputSchema,
  configOutputSchema,
  normalizeConfigSchema,
} from "./schema.ts";
import { type ConfigStore, nameTakenMessage } from "./store.ts";

/** The validated input of a config write. */
export interface ConfigInput {
  /** A client-chosen ULID; an existing one makes a create an update. */
  id?: string;
  /** Unique name (any string). */
  name: string;
  /** Validated data, nulls dropped. */
  data: Record<string, unknown>;
  /** Tags (chap profile only). */
  tags?: string[];
}

// The output schema of a manager whose config data is of type `Data` (any JSON object when the schema's type is not known).
type TypedOutSchema<Data> = ConfigOutSchema<TUnsafe<Data>>;

// A config as the manager of config data `Data` answers it.
type TypedOut<Data> = Static<TypedOutSchema<Data>>;

/** How a {@link ConfigManager} is made. */
export interface ConfigManagerOptions {
  /** Where configs live. */
  store: ConfigStore;
  /** TypeBox object schema of `data`; undeclared keys are kept. */
  schema: TSchema;
  /** Extra lifecycle hooks (run after the name check). */
  hooks?: ManagerHooks<ConfigRecord, ConfigInput>;
  /**
   * `seed` (default): unique names (409), the schema as given, no tags.
   * `chap` (chapkit 1.x `/api/v1/configs`): duplicate names accepted, the
   * reserved `prediction_periods` and `additional_continuous_covariates`
   * always in `data`, `tags` in input and output, and deletes run in one
   * transaction with the `beforeDelete` hook (which cascades to linked artifacts).
   */
  profile?: "seed" | "chap";
  /** Publishes `entity.*` events of committed writes (collection `configs`). */
  events?: ManagerEvents;
}

async function assertNameFree(store: ConfigStore, name: string, ownId: string | null): Promise<void> {
  // Sent together, one round trip: the check is a statement of its own after the lock, so it sees every committed holder.
  const [, held] = await Promise.all([store.lockName(name), store.nameHeldByOther(name, ownId)]);
  if (held) throw new ConflictError(nameTakenMessage(name));
}

/**
 * Configs: named, schema-validated JSON documents (contract §7). Input data
 * is coerced laxly with defaults filled in and nulls dropped; output data is
 * re-validated on every read, declared fields first. Names are unique (409).
 *
 * @example
 * ```ts ignore
 * const configs = new ConfigManager({ store: createConfigStore(db), schema: Type.Object({ k: Type.Integer({ default: 3 }) }) });
 * const config = await configs.create({ name: "baseline", data: {} }); // data: { k: 3 }
 * ```
 */
export class ConfigManager<Data = Record<string, unknown>> extends Manager<ConfigRecord, ConfigInSchema, TypedOutSchema<Data>> {
  /** The normalized data schema (an object schema that keeps extras). */
  readonly dataSchema: TObject;
  /** The config store. */
  readonly store: ConfigStore;
  /** Which contract the manager serves. */
  readonly profile: "seed" | "chap";
  /** Whether a create checks its name in its insert statement (see {@link ConfigStore.insertWithFreeName}). */
  readonly #checkOnInsert: boolean;

  /** Creates the manager over a store and a data schema. */
  constructor(options: ConfigManagerOptions) {
    const profile = options.profile ?? "seed";
    const dataSchema = profile === "chap"
      ? chapConfigDataSchema(normalizeConfigSchema(options.schema))
      : normalizeConfigSchema(options.schema);
    const store = options.store;
    const user = options.hooks;
    const chap = profile === "chap";
    // Without a user hook to run between them, a create's name check is part of its insert statement.
    const checkOnInsert = !chap && user?.beforeCreate === undefined;
    super({
      repository: store,
      input: chap ? chapConfigInputSchema(dataSchema) as unknown as ConfigInSchema : configInputSchema(dataSchema),
      output: (chap ? chapConfigOutputSchema(dataSchema) : configOutputSchema(dataSchema)) as unknown as TypedOutSchema<Data>,
      toValues: chap
        ? (input) => ({ name: input.name, data: input.data, tags: (input as ConfigInput).tags ?? [] })
        : (input) => ({ name: input.name, data: input.data }),
      toOutput: (record) => (chap ? toChapConfigOut(dataSchema, record) : toConfigOut(dataSchema, record)) as unknown as TypedOut<Data>,
      ...(options.events ? { events: options.events } : {}),
      hooks: chap ? user ?? {} : {
        ...user,
        ...(checkOnInsert ? {} : {
          beforeCreate: async (input: ConfigInput) => {
            await assertNameFree(store, input.name, null);
            return user?.beforeCreate?.(input);
          },
        }),
        beforeUpdate: async (input, existing) => {
          await assertNameFree(store, input.name, existing.id);
          return user?.beforeUpdate?.(input, existing);
        },
      },
    });
    this.dataSchema = dataSchema;
    this.store = store;
    this.profile = profile;
    this.#checkOnInsert = checkOnInsert;
  }

  /** On the seed path, inserts only while no config holds the name (409 otherwise). */
  protected override insertRecord(values: InsertValues<ConfigRecord>): Promise<ConfigRecord> {
    return this.#checkOnInsert ? this.store.insertWithFreeName(values) : super.insertRecord(values);
  }

  /** Saves in one transaction, so the seed path's name check and the write cannot interleave with another writer's. */
  override save(body: unknown): Promise<SaveResult<TypedOut<Data>>> {
    return this.store.transaction(() => super.save(body));
  }

  /** Updates in one transaction (see {@link ConfigManager.save}). */
  override update(id: string, body: unknown, options: ManagerWriteOptions = {}): Promise<TypedOut<Data>> {
    return this.store.transaction(() => super.update(id, body, options));
  }

  /** Deletes in one transaction with the `beforeDelete` hook (the chap profile cascades there). */
  override delete(id: string, options: ManagerWriteOptions = {}): Promise<void> {
    return this.store.transaction(() => super.delete(id, options));
  }

  /**
   * Validates a config body: `name` a string, `data` coerced against the
   * schema after nulls are dropped (§7.1); unknown body keys are ignored.
   */
  override parse(body: unknown, loc: (string | number)[] = ["body"]): ConfigInput {
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
      throw new ValidationError([{ loc, msg: "Input should be a valid dictionary or object", type: "dict_type" }]);
    }
    const source = body as Record<string, unknown>;
    const prepared: Record<string, unknown> = {};
    if (source.id !== undefined && source.id !== null) prepared.id = source.id;
    if (source.name !== undefined) prepared.name = source.name;
    if (source.data !== undefined) prepared.data = dropConfigNulls(this.dataSchema, source.data);
    // A body that already passes is left as is: coercion and defaults would not change it.
    const valid = validLeavesUnchanged(this.input) && compiledCheck(this.input)(prepared)
      ? prepared as unknown as ConfigInput
      : validateValue<ConfigInput>(this.input, prepared, { loc, clean: false });
    const data = validateConfigData(this.dataSchema, valid.data, [...loc, "data"]);
    const input: ConfigInput = valid.id === undefined ? { name: valid.name, data } : { id: valid.id, name: valid.name, data };
    if (this.profile === "chap") input.tags = parseTags(source.tags, [...loc, "tags"]);
    return input;
  }

  /** The config with this name, as output, or null. */
  async findByName(name: string): Promise<TypedOut<Data> | null> {
    const record = await this.store.findByName(name);
    return record ? await this.toOutput(record) : null;
  }
}

/**
 * A stored config as the chap profile answers it: `id, created_at,
 * updated_at, tags, name, data`, with the reserved fields filled in (a
 * config written on the seed path gets the schema defaults).
 */
export function toChapConfigOut(schema: TObject, record: ConfigRecord): ConfigOut {
  return {
    id: record.id,
    created_at: record.created_at,
    updated_at: record.updated_at,
    tags: record.tags ?? [],
    name: record.name,
    data: outputConfigData(schema, record.data),
  } as ConfigOut;
}

/** A stored config as output, with `data` re-validated (defaults filled, declared fields first). */
export function toConfigOut(schema: TObject, record: ConfigRecord): ConfigOut {
  return {
    id: record.id,
    created_at: record.created_at,
    updated_at: record.updated_at,
    name: record.name,
    data: outputConfigData(schema, record.data),
  };
}
