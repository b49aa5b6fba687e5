import type { TSchema } from "@sinclair/typebox";
import { type ValueError, ValueErrorType } from "@sinclair/typebox/errors";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { Value } from "@sinclair/typebox/value";
import { laxCoerce } from "./_lax-coerce.ts";
import { sanitizeValue } from "./sanitize.ts";
import { type FieldError, ValidationError } from "./errors.ts";
import { ULID_PATTERN } from "./schema.ts";
import { nearestName } from "./suggest.ts";

/** Options of {@link validateValue}. */
export interface ValidateOptions {
  /** Where the value came from, prefixed to every `loc` (default `["body"]`). */
  loc?: (string | number)[];
  /** Coerce like pydantic's lax mode: `"7"` → 7, `"true"` → true, never a number to a string (default true). */
  coerce?: boolean;
  /** Fill declared defaults (default true). */
  defaults?: boolean;
  /** Drop undeclared keys of objects that do not allow extra properties (default true). */
  clean?: boolean;
}

/**
 * Validates `value` against a TypeBox schema after optional coercion,
 * defaulting and cleaning, and returns the result.
 *
 * @throws {ValidationError} listing every failure as `{loc, msg, type}`.
 */
export function validateValue<T>(schema: TSchema, value: unknown, options: ValidateOptions = {}): T {
  const loc = options.loc ?? ["body"];
  if (value === undefined) {
    throw new ValidationError([{ loc, msg: "Field required", type: "missing" }]);
  }
  let result: unknown = structuredClone(value);
  const refused: FieldError[] = [];
  result = sanitizeValue(schema, result, loc, refused);
  if (refused.length > 0) throw new ValidationError(refused);
  if (options.coerce !== false) result = laxCoerce(schema, result);
  if (options.defaults !== false) result = Value.Default(schema, result as object);
  if (options.clean !== false) result = Value.Clean(schema, result as object);
  if (compiledCheck(schema)(result)) return result as T;
  const errors = collectErrors(schema, result, loc);
  if (options.clean === false) throw new ValidationError(errors);
  // Only on failure: redo the steps before cleaning to see which keys cleaning dropped.
  let given: unknown = sanitizeValue(schema, structuredClone(value), loc, []);
  if (options.coerce !== false) given = laxCoerce(schema, given);
  throw new ValidationError(suggestMisspelt(errors, loc.length, given, result));
}

/**
 * Adds "did you mean" to `missing` errors whose object holds an undeclared
 * key (one that cleaning dropped) close to the missing name: `min_sample`
 * given where `min_samples` is required.
 */
function suggestMisspelt(errors: FieldError[], depth: number, given: unknown, cleaned: unknown): FieldError[] {
  for (const error of errors) {
    if (error.type !== "missing" || error.loc.length <= depth) continue;
    const path = error.loc.slice(depth, -1);
    const before = at(given, path);
    const after = at(cleaned, path);
    if (!isRecord(before)) continue;
    const dropped = Object.keys(before).filter((key) => !isRecord(after) || !Object.hasOwn(after, key));
    const name = String(error.loc[error.loc.length - 1]);
    const typo = dropped.find((key) => nearestName(key, [name]) === name);
    if (typo !== undefined) error.msg = `Field required; the body has \`${typo}\`: did you mean \`${name}\`?`;
  }
  return errors;
}

function at(value: unknown, path: (string | number)[]): unknown {
  let node = value;
  for (const key of path) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const checks = new WeakMap<TSchema, (value: unknown) => boolean>();

/**
 * A compiled `Value.Check` for `schema`, built once per schema object (the
 * interpreted check is used where a schema cannot be compiled).
 */
export function compiledCheck(schema: TSchema): (value: unknown) => boolean {
  let check = checks.get(schema);
  if (!check) {
    try {
      const compiled = TypeCompiler.Compile(schema);
      check = (value) => compiled.Check(value);
    } catch {
      check = (value) => Value.Check(schema, value);
    }
    checks.set(schema, check);
  }
  return check;
}

const settled = new WeakMap<TSchema, boolean>();

function defaultsOnlyOnRequired(schema: unknown): boolean {
  if (typeof schema !== "object" || schema === null) return true;
  const node = schema as Record<string, unknown>;
  if (Array.isArray(node.anyOf) || Array.isArray(node.oneOf) || Array.isArray(node.allOf) || node.not !== undefined) {
    return !JSON.stringify(node).includes('"default"');
  }
  const properties = node.properties as Record<string, unknown> | undefined;
  if (properties) {
    const required = new Set(Array.isArray(node.required) ? node.required as string[] : []);
    for (const [key, property] of Object.entries(properties)) {
      if (!required.has(key) && typeof property === "object" && property !== null && "default" in property) return false;
      if (!defaultsOnlyOnRequired(property)) return false;
    }
  }
  for (const key of ["items", "additionalProperties", "patternProperties"]) {
    const child = node[key];
    if (key === "patternProperties" && child && typeof child === "object") {
      for (const value of Object.values(child)) if (!defaultsOnlyOnRequired(value)) return false;
    } else if (Array.isArray(child)) {
      if (!child.every(defaultsOnlyOnRequired)) return false;
    } else if (!defaultsOnlyOnRequired(child)) {
      return false;
    }
  }
  return true;
}

/**
 * Whether {@link validateValue} with `clean: false` returns every value that
 * passes `schema`'s check unchanged: true when the only defaults in the
 * schema sit on required properties (which a passing value already has).
 */
export function validLeavesUnchanged(schema: TSchema): boolean {
  let result = settled.get(schema);
  if (result === undefined) {
    result = defaultsOnlyOnRequired(schema);
    settled.set(schema, result);
  }
  return result;
}

/** Lists the failures of `value` against `schema` as field errors. */
export function collectErrors(schema: TSchema, value: unknown, loc: (string | number)[]): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  for (const error of Value.Errors(schema, value)) {
    const field = toFieldError(error, loc);
    const key = field.loc.join("\u0000");
    if (seen.has(key)) continue;
    seen.add(key);
    errors.push(field);
  }
  return errors;
}

function pathToLoc(path: string): (string | number)[] {
  if (path === "" || path === "/") return [];
  return path.slice(1).split("/").map((part) => {
    const key = part.replace(/~1/g, "/").replace(/~0/g, "~");
    return /^\d+$/.test(key) ? Number(key) : key;
  });
}

function toFieldError(error: ValueError, loc: (string | number)[]): FieldError {
  const at = [...loc, ...pathToLoc(error.path)];
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return { loc: at, msg: "Field required", type: "missing" };
    case ValueErrorType.String:
      return { loc: at, msg: "Input should be a valid string", type: "string_type" };
    case ValueErrorType.Integer:
      return {
        loc: at,
        msg: typeof error.value === "string"
          ? "Input should be a valid integer, unable to parse string as an integer"
          : "Input should be a valid integer",
        type: typeof error.value === "string" ? "int_parsing" : "int_type",
      };
    case ValueErrorType.Number:
      return { loc: at, msg: "Input should be a valid number", type: "float_type" };
    case ValueErrorType.Boolean:
      return { loc: at, msg: "Input should be a valid boolean", type: "bool_type" };
    case ValueErrorType.Object:
      return { loc: at, msg: "Input should be a valid dictionary or object", type: "dict_type" };
    case ValueErrorType.Array:
      return { loc: at, msg: "Input should be a valid list", type: "list_type" };
    case ValueErrorType.Null:
      return { loc: at, msg: "Input should be null", type: "null_type" };
    case ValueErrorType.StringPattern:
      if ((error.schema as { pattern?: string }).pattern === ULID_PATTERN) {
        return { loc: at, msg: "Unrecognized format", type: "ulid_format" };
      }
      return { loc: at, msg: error.message, type: "string_pattern_mismatch" };
    case ValueErrorType.StringMinLength:
    case ValueErrorType.StringMaxLength:
      if ((error.schema as { pattern?: string }).pattern === ULID_PATTERN) {
        return { loc: at, msg: "Unrecognized format", type: "ulid_format" };
      }
      return { loc: at, msg: error.message, type: "string_length" };
    case ValueErrorType.Union:
    case ValueErrorType.Literal:
      return { loc: at, msg: error.message, type: "enum" };
    default:
      return { loc: at, msg: error.message, type: "value_error" };
  }
}
