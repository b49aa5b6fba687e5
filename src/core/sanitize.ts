import { type StringOptions, type TString, type TSchema, Type } from "@sinclair/typebox";
import type { FieldError } from "./errors.ts";

/** How a string field is cleaned before validation. */
export interface StringSanitizing {
  /** Remove leading and trailing white space (default true). */
  trim?: boolean;
  /** Unicode normalisation form applied (default `NFC`; false keeps the text as sent). */
  normalize?: "NFC" | "NFKC" | false;
  /** Refuse control characters (C0, DEL, C1; tab and newlines included) with a 422 (default true). */
  refuseControl?: boolean;
}

/** The schema keyword that carries a field's {@link StringSanitizing}. */
export const SANITIZE_KEYWORD = "x-chapkit-sanitize";

/**
 * A string field cleaned before validation: trimmed, NFC-normalised and
 * refusing control characters unless `sanitize` says otherwise. Nothing
 * else about the value is rewritten: it is then validated as sent.
 *
 * @example
 * ```ts
 * import { sanitizedString } from "./sanitize.ts";
 * const Name = sanitizedString({ minLength: 1, maxLength: 100 });
 * ```
 */
export function sanitizedString(options: StringOptions & { sanitize?: StringSanitizing } = {}): TString {
  const { sanitize, ...rest } = options;
  return Type.String({ ...rest, [SANITIZE_KEYWORD]: { trim: true, normalize: "NFC", refuseControl: true, ...sanitize } });
}

// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const declared = new WeakMap<TSchema, boolean>();

function declares(schema: TSchema): boolean {
  let known = declared.get(schema);
  if (known === undefined) declared.set(schema, known = JSON.stringify(schema).includes(SANITIZE_KEYWORD));
  return known;
}

function clean(schema: Record<string, unknown>, value: unknown, loc: (string | number)[], errors: FieldError[]): unknown {
  const rules = schema[SANITIZE_KEYWORD] as StringSanitizing | undefined;
  if (rules && typeof value === "string") {
    let text = rules.trim === false ? value : value.trim();
    if (rules.normalize !== false) text = text.normalize(rules.normalize ?? "NFC");
    if (rules.refuseControl !== false && CONTROL.test(text)) {
      errors.push({ loc, msg: "String should not contain control characters", type: "string_control_characters" });
    }
    return text;
  }
  if (value === null || typeof value !== "object") {
    for (const branch of [...(schema.anyOf as Record<string, unknown>[] ?? []), ...(schema.oneOf as Record<string, unknown>[] ?? [])]) {
      if (branch[SANITIZE_KEYWORD] && typeof value === "string") return clean(branch, value, loc, errors);
    }
    return value;
  }
  if (Array.isArray(value)) {
    const items = schema.items as Record<string, unknown> | undefined;
    return items ? value.map((item, i) => clean(items, item, [...loc, i], errors)) : value;
  }
  const properties = schema.properties as Record<string, Record<string, unknown>> | undefined;
  if (properties) {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(properties)) {
      if (Object.hasOwn(record, key)) record[key] = clean(properties[key]!, record[key], [...loc, key], errors);
    }
  }
  return value;
}

/**
 * Applies the sanitising a schema declares ({@link sanitizedString}) to a
 * value it owns (a clone), collecting refused control characters as field
 * errors. Schemas that declare none are left alone at no cost.
 */
export function sanitizeValue(schema: TSchema, value: unknown, loc: (string | number)[], errors: FieldError[]): unknown {
  return declares(schema) ? clean(schema as unknown as Record<string, unknown>, value, loc, errors) : value;
}
