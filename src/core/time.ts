/**
 * The current time as an ISO 8601 UTC timestamp with milliseconds and `Z`
 * (`2026-01-02T03:04:05.678Z`), the one timestamp format on chapkit's wire.
 */
export function nowIso(): string {
  const ms = Date.now();
  // Formatting a date costs more than reading the clock: busy loops (job ends) reuse this millisecond's text.
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

let lastMs = Number.NaN;
let lastIso = "";

/** Normalises a stored timestamp (a `Date`, an ISO string or epoch milliseconds) to ISO 8601 UTC with milliseconds and `Z`. */
export function toIso(value: Date | string | number): string {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "number") return new Date(value).toISOString();
  if (value.length === 24 && value.charCodeAt(23) === 90) return value;
  // PostgreSQL's text form: a space for the `T` and an hours-only offset (`+00`).
  const text = value.replace(" ", "T").replace(/(T[\d:.]+[+-]\d\d)$/, "$1:00");
  const parsed = new Date(/[zZ]$|[+-]\d\d:?\d\d$/.test(text) ? text : text + "Z");
  return Number.isNaN(parsed.getTime()) ? value : parsed.toISOString();
}
