/**
 * Python `json.dumps(value, indent=2)` (with the default `ensure_ascii`),
 * so `config.json` and `geo.json` look as Python Chapkit wrote them.
 *
 * @module
 */
import { pyFloatRepr, pyIntRepr } from "./py-repr.ts";

/**
 * Serialises a JSON value like Python's `json.dumps(value, indent=2)`:
 * `": "` after keys, `","` at line ends, keys in insertion order, empty
 * containers as `{}`/`[]`, every non-ASCII character escaped as `\uXXXX`,
 * non-integral numbers as Python floats.
 *
 * @param indent spaces per level (default 2); `null` gives the compact `json.dumps(value)` form.
 */
export function pyJsonDumps(value: unknown, indent: number | null = 2): string {
  return dump(value, indent, "");
}

function dump(value: unknown, indent: number | null, current: string): string {
  if (value === null || value === undefined) return "null";
  if (value === true) return "true";
  if (value === false) return "false";
  if (typeof value === "number") return pyJsonNumber(value);
  if (typeof value === "string") return pyJsonString(value);
  if (typeof value === "bigint") return value.toString();
  const inner = indent === null ? "" : current + " ".repeat(indent);
  const open = indent === null ? "" : `\n${inner}`;
  const close = indent === null ? "" : `\n${current}`;
  const sep = indent === null ? ", " : `,\n${inner}`;
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[${open}${value.map((v) => dump(v, indent, inner)).join(sep)}${close}]`;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") {
    return dump((value as { toJSON: () => unknown }).toJSON(), indent, current);
  }
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return "{}";
  const body = entries.map(([k, v]) => `${pyJsonString(k)}: ${dump(v, indent, inner)}`).join(sep);
  return `{${open}${body}${close}}`;
}

function pyJsonNumber(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "Infinity";
  if (value === -Infinity) return "-Infinity";
  return Number.isInteger(value) && !Object.is(value, -0) ? pyIntRepr(value) : pyFloatRepr(value);
}

const ESCAPES: Record<string, string> = {
  '"': '\\"',
  "\\": "\\\\",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\b": "\\b",
  "\f": "\\f",
};

/** A JSON string literal with Python's `ensure_ascii` escaping (UTF-16 code units as `\uXXXX`). */
export function pyJsonString(text: string): string {
  // deno-lint-ignore no-control-regex
  return `"${text.replace(/[\\"]|[^\x20-\x7e]/g, (c) =>
    ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)}"`;
}
