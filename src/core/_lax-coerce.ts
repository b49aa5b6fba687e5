import type { TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";

const TRUE = new Set(["true", "1", "yes", "on", "t", "y"]);
const FALSE = new Set(["false", "0", "no", "off", "f", "n"]);

function toNumber(value: string): number | undefined {
  const trimmed = value.trim();
  if (trimmed === "") return undefined;
  const number = Number(trimmed);
  return Number.isFinite(number) ? number : undefined;
}

function coerceScalar(type: unknown, value: unknown): unknown {
  if (type === "integer") {
    if (typeof value === "string") {
      const number = toNumber(value);
      return number !== undefined && Number.isInteger(number) && /^\s*[+-]?\d+\s*$/.test(value) ? number : value;
    }
    if (typeof value === "number" && Number.isInteger(value)) return value;
    if (typeof value === "boolean") return value;
    return value;
  }
  if (type === "number") {
    if (typeof value === "string") return toNumber(value) ?? value;
    return value;
  }
  if (type === "boolean") {
    if (typeof value === "string") {
      const lower = value.trim().toLowerCase();
      if (TRUE.has(lower)) return true;
      if (FALSE.has(lower)) return false;
    }
    if (value === 1) return true;
    if (value === 0) return false;
  }
  return value;
}

/**
 * Coerces like pydantic's lax mode: strings to declared integers, numbers
 * and booleans (`"7"` → 7, `"true"` → true, 1/0 → booleans), recursively
 * through declared object properties, array items and unions. Unlike
 * TypeBox's `Value.Convert` it never turns numbers or booleans into strings.
 */
export function laxCoerce(schema: TSchema, value: unknown): unknown {
  const s = schema as TSchema & {
    type?: unknown;
    properties?: Record<string, TSchema>;
    items?: TSchema;
    anyOf?: TSchema[];
  };
  if (Array.isArray(s.anyOf)) {
    if (s.anyOf.some((member) => Value.Check(member, value))) return value;
    for (const member of s.anyOf) {
      const coerced = laxCoerce(member, value);
      if (coerced !== value && Value.Check(member, coerced)) return coerced;
    }
    return value;
  }
  if (s.type === "object" && s.properties && value !== null && typeof value === "object" && !Array.isArray(value)) {
    const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    for (const [key, property] of Object.entries(s.properties)) {
      if (key in out && out[key] !== undefined) out[key] = laxCoerce(property, out[key]);
    }
    return out;
  }
  if (s.type === "array" && s.items && Array.isArray(value)) {
    return value.map((item) => laxCoerce(s.items!, item));
  }
  return coerceScalar(s.type, value);
}
