import type { TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";

const TRUE = new Set(["true", "1", "yes", "on"]);
const FALSE = new Set(["false", "0", "no", "off"]);

function literals(schema: TSchema): unknown[] | undefined {
  const options = schema.anyOf as TSchema[] | undefined;
  if (!options || !options.every((option) => "const" in option)) return undefined;
  return options.map((option) => option.const);
}

/** How a value of `schema` must look, for error messages: "an integer from 0 to 65535". */
export function expectedForm(schema: TSchema): string {
  const choices = literals(schema);
  if (choices) return `one of ${choices.map(String).join(", ")}`;
  const range = (noun: string): string => {
    const { minimum, maximum } = schema as { minimum?: number; maximum?: number };
    if (minimum !== undefined && maximum !== undefined) return `${noun} from ${minimum} to ${maximum}`;
    if (minimum !== undefined) return `${noun} of at least ${minimum}`;
    if (maximum !== undefined) return `${noun} of at most ${maximum}`;
    return noun;
  };
  switch (schema.type) {
    case "integer":
      return range("an integer");
    case "number":
      return range("a number");
    case "boolean":
      return "true or false";
    case "string": {
      const { minLength, format } = schema as { minLength?: number; format?: string };
      if (format) return `a ${format} string`;
      return minLength && minLength > 1 ? `a string of at least ${minLength} characters` : "a non-empty string";
    }
    case "array": {
      const item = schema.items as TSchema | undefined;
      return `a comma-separated list${item ? ` of ${expectedForm(item).replace(/^(an?|one of) /, (m) => m === "one of " ? "values among " : "")}` : ""}`;
    }
    default:
      return "a JSON value matching the schema";
  }
}

function scalarFromText(schema: TSchema, text: string): unknown {
  const trimmed = text.trim();
  const choices = literals(schema);
  if (choices) {
    const lower = trimmed.toLowerCase();
    const aliases = (schema.aliases as Record<string, unknown> | undefined) ?? {};
    return choices.find((choice) => String(choice).toLowerCase() === lower) ?? aliases[lower] ?? text;
  }
  switch (schema.type) {
    case "integer":
      return /^[-+]?\d+$/.test(trimmed) ? Number(trimmed) : text;
    case "number":
      return trimmed !== "" && Number.isFinite(Number(trimmed)) ? Number(trimmed) : text;
    case "boolean": {
      const lower = trimmed.toLowerCase();
      return TRUE.has(lower) ? true : FALSE.has(lower) ? false : text;
    }
    case "string":
      return text;
    default:
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
  }
}

/**
 * Turns an environment variable's text into a value of `schema`: integers,
 * numbers, booleans (`true/false/1/0/yes/no/on/off`), literal choices
 * (case-insensitive), comma-separated lists (or a JSON array), JSON for the rest.
 * Text that does not parse is returned as is, so validation reports it.
 */
export function fromText(schema: TSchema, text: string): unknown {
  if (schema.type === "array") {
    const trimmed = text.trim();
    if (trimmed.startsWith("[")) {
      try {
        return JSON.parse(trimmed);
      } catch {
        return text;
      }
    }
    const item = (schema.items ?? {}) as TSchema;
    return trimmed.split(/[,\n]/).map((part) => part.trim()).filter(Boolean).map((part) => scalarFromText(item, part));
  }
  return scalarFromText(schema, text);
}

/** Whether `value` is valid for `schema`. */
export function isValid(schema: TSchema, value: unknown): boolean {
  return Value.Check(schema, value);
}
