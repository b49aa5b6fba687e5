import type { TObject, TSchema } from "@sinclair/typebox";
import { compiledCheck, validateValue, validLeavesUnchanged } from "../../core/validation.ts";

type JsonObject = Record<string, unknown>;

function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function objectSchema(schema: TSchema | undefined): TObject | undefined {
  return schema?.type === "object" && isPlainObject(schema.properties) ? (schema as TObject) : undefined;
}

function itemSchema(schema: TSchema | undefined): TSchema | undefined {
  return schema?.type === "array" && isPlainObject(schema.items) ? (schema.items as TSchema) : undefined;
}

function dropDeclaredNulls(schema: TObject, value: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === null) continue;
    out[key] = key in schema.properties ? dropNested(schema.properties[key], item) : item;
  }
  return out;
}

function dropNested(schema: TSchema | undefined, value: unknown): unknown {
  const object = objectSchema(schema);
  if (object && isPlainObject(value)) return dropDeclaredNulls(object, value);
  const items = itemSchema(schema);
  if (items && Array.isArray(value)) return value.map((item) => dropNested(items, item));
  return value;
}

/**
 * Drops `null` values from config data the way Chapkit stores it (§7.1): every
 * top-level key whose value is null, and nulls of declared fields recursively
 * through declared nested objects. Nulls nested inside an undeclared key's
 * value are kept. Non-objects are returned unchanged (validation rejects them).
 */
export function dropConfigNulls(schema: TObject, data: unknown): unknown {
  return isPlainObject(data) ? dropDeclaredNulls(schema, data) : data;
}

const declaredEntries = new WeakMap<TObject, [string, TSchema][]>();

function entriesOf(schema: TObject): [string, TSchema][] {
  let entries = declaredEntries.get(schema);
  if (!entries) {
    entries = Object.entries(schema.properties);
    declaredEntries.set(schema, entries);
  }
  return entries;
}

/** Reorders an object: declared fields in schema order (recursively), then extras in their order. */
export function declaredFirst(schema: TSchema | undefined, value: unknown): unknown {
  const object = objectSchema(schema);
  if (object && isPlainObject(value)) {
    const out: JsonObject = {};
    for (const [key, property] of entriesOf(object)) {
      if (key in value) out[key] = declaredFirst(property, value[key]);
    }
    for (const key in value) {
      if (!(key in out)) out[key] = value[key];
    }
    return out;
  }
  const items = itemSchema(schema);
  if (items && Array.isArray(value)) return value.map((item) => declaredFirst(items, item));
  return value;
}

/** Whether `value` already lists declared fields first, in schema order (recursively), as {@link declaredFirst} would. */
function inDeclaredOrder(schema: TSchema | undefined, value: unknown): boolean {
  const object = objectSchema(schema);
  if (object && isPlainObject(value)) {
    const entries = entriesOf(object);
    let next = 0;
    let extras = false;
    for (const key in value) {
      if (!Object.hasOwn(object.properties, key)) {
        extras = true;
        continue;
      }
      if (extras) return false;
      while (next < entries.length && entries[next]![0] !== key) next++;
      if (next === entries.length || !inDeclaredOrder(entries[next]![1], value[key])) return false;
      next++;
    }
    return true;
  }
  const items = itemSchema(schema);
  if (items && Array.isArray(value)) return value.every((item) => inDeclaredOrder(items, item));
  return true;
}

/**
 * Validates config data laxly: declared fields are coerced (`"7"` → 7),
 * defaults are filled in, undeclared keys are kept; the result lists declared
 * fields first, then extras in their given order.
 *
 * @throws {ValidationError} with `loc` under `loc` (e.g. `["body", "data"]`).
 */
export function validateConfigData(schema: TObject, data: unknown, loc: (string | number)[]): JsonObject {
  // Stored data is valid already: a compiled check spares the clone, coercion and defaults.
  if (validLeavesUnchanged(schema) && compiledCheck(schema)(data)) return declaredFirst(schema, data) as JsonObject;
  const valid = validateValue<JsonObject>(schema, data, { loc, clean: false });
  return declaredFirst(schema, valid) as JsonObject;
}

/**
 * Stored config data as answered: like {@link validateConfigData}, but data
 * that is valid and already in declared order (as every config written through
 * the manager is) is returned as it was read, without a copy.
 */
export function outputConfigData(schema: TObject, data: unknown): JsonObject {
  if (validLeavesUnchanged(schema) && compiledCheck(schema)(data) && inDeclaredOrder(schema, data)) return data as JsonObject;
  return validateConfigData(schema, data, ["data"]);
}
