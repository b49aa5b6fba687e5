import type { TSchema } from "@sinclair/typebox";
import { type ValueError, ValueErrorType } from "@sinclair/typebox/errors";
import { Value } from "@sinclair/typebox/value";
import { type FieldError, ValidationError } from "./errors.ts";
import { ULID_PATTERN } from "./schema.ts";

/** Options of {@link validateValue}. */
export interface ValidateOptions {
  /** Where the value came from, prefixed to every `loc` (default `["body"]`). */
  loc?: (string | number)[];
  /** Coerce like a lax validator: `"7"` → 7, `"true"` → true (default true). */
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
  if (options.coerce !== false) result = Value.Convert(schema, result as object);
  if (options.defaults !== false) result = Value.Default(schema, result as object);
  if (options.clean !== false) result = Value.Clean(schema, result as object);
  if (Value.Check(schema, result)) return result as T;
  throw new ValidationError(collectErrors(schema, result, loc));
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
