/** How a failed job shows its error (contract §10.1). */
export interface JobErrorFields {
  /** `"<ErrorName>: <last line of the message>"`, or just the name when the message is empty. */
  error: string;
  /** The stack trace (or the error text when there is none). */
  error_traceback: string;
}

/**
 * Describes a value a job threw: `error` keeps only the last line of the
 * message, as Python's last traceback line does; `error_traceback` keeps
 * the whole stack.
 *
 * @example
 * ```ts
 * import { describeJobError } from "./job-error.ts";
 * describeJobError(new TypeError("bad\ninput")).error; // "TypeError: input"
 * ```
 */
export function describeJobError(thrown: unknown): JobErrorFields {
  const name = thrown instanceof Error ? thrown.name || thrown.constructor.name || "Error" : "Error";
  const message = thrown instanceof Error ? thrown.message : typeof thrown === "string" ? thrown : safeString(thrown);
  const lines = message.trim().split("\n");
  const last = (lines[lines.length - 1] ?? "").trim();
  const error = last ? `${name}: ${last}` : name;
  const stack = thrown instanceof Error && typeof thrown.stack === "string" && thrown.stack.trim() !== ""
    ? thrown.stack
    : `${name}: ${message}`;
  return { error, error_traceback: stack };
}

function safeString(value: unknown): string {
  try {
    return typeof value === "object" && value !== null ? JSON.stringify(value) : String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
