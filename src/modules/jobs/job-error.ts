/** How a failed job shows its error (contract §10.1). */
export interface JobErrorFields {
  /** The last line of `"<ErrorName>: <message>"`, as Python's last traceback line: the name only shows for one-line messages. */
  error: string;
  /** The stack trace (or the error text when there is none). */
  error_traceback: string;
}

/**
 * Describes a value a job threw: `error` is the last line of
 * `"<ErrorName>: <message>"`, as Python's last traceback line is (so a
 * shell script's failure shows its last stderr line); `error_traceback`
 * keeps the whole stack.
 *
 * @example
 * ```ts
 * import { describeJobError } from "./job-error.ts";
 * describeJobError(new TypeError("bad input")).error; // "TypeError: bad input"
 * describeJobError(new Error("failed:\nERROR: no data")).error; // "ERROR: no data"
 * ```
 */
export function describeJobError(thrown: unknown): JobErrorFields {
  const name = thrown instanceof Error ? thrown.name || thrown.constructor.name || "Error" : "Error";
  const message = thrown instanceof Error ? thrown.message : typeof thrown === "string" ? thrown : safeString(thrown);
  const lines = (message.trim() ? `${name}: ${message}` : name).trim().split("\n");
  const error = (lines[lines.length - 1] ?? "").trim() || name;
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
