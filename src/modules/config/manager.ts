import type { TObject, TSchema } from "@sinclair/typebox";
import { ConflictError, ValidationError } from "../../core/errors.ts";
import { Manager, type ManagerHooks } from "../../core/manager.ts";
import { compiledCheck, validateValue, validLeavesUnchanged } from "../../core/validation.ts";
import { dropConfigNulls, validateConfigData } from "./config-data.ts";
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
}

/** How a {@link ConfigManager} is made. */
export interface ConfigManagerOptions {
  /** Where configs live. */
  store: ConfigStore;
  /** TypeBox object schema of `data`; undeclared keys are kept. */
  schema: TSchema;
  /** Extra lifecycle hooks (run after the name check). */
  hooks?: ManagerHooks<ConfigRecord, ConfigInput>;
}

async function assertNameFree(store: ConfigStore, name: string, ownId: string | null): Promise<void> {
  const holder = await store.idOfName(name);
  if (holder !== null && holder !== ownId) throw new ConflictError(nameTakenMessage(name));
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
export class ConfigManager extends Manager<ConfigRecord, ConfigInSchema, ConfigOutSchema> {
  /** The normalized data schema (an object schema that keeps extras). */
  readonly dataSchema: TObject;
  /** The config store. */
  readonly store: ConfigStore;

  /** Creates the manager over a store and a data schema. */
  constructor(options: ConfigManagerOptions) {
    const dataSchema = normalizeConfigSchema(options.schema);
    const store = options.store;
    const user = options.hooks;
    super({
      repository: store,
      input: configInputSchema(dataSchema),
      output: configOutputSchema(dataSchema),
      toValues: (input) => ({ name: input.name, data: input.data }),
      toOutput: (record) => toConfigOut(dataSchema, record),
      hooks: {
        ...user,
        beforeCreate: async (input) => {
          await assertNameFree(store, input.name, null);
          return user?.beforeCreate?.(input);
        },
        beforeUpdate: async (input, existing) => {
          await assertNameFree(store, input.name, existing.id);
          return user?.beforeUpdate?.(input, existing);
        },
      },
    });
    this.dataSchema = dataSchema;
    this.store = store;
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
    return valid.id === undefined ? { name: valid.name, data } : { id: valid.id, name: valid.name, data };
  }

  /** The config with this name, as output, or null. */
  async findByName(name: string): Promise<ConfigOut | null> {
    const record = await this.store.findByName(name);
    return record ? toConfigOut(this.dataSchema, record) : null;
  }
}

/** A stored config as output, with `data` re-validated (defaults filled, declared fields first). */
export function toConfigOut(schema: TObject, record: ConfigRecord): ConfigOut {
  return {
    id: record.id,
    created_at: record.created_at,
    updated_at: record.updated_at,
    name: record.name,
    data: validateConfigData(schema, record.data, ["data"]),
  };
}
