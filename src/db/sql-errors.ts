import {
  BadRequestError,
  ChapkitError,
  ConflictError,
  InsufficientStorageError,
  UnavailableError,
} from "../core/errors.ts";

interface DriverErrorShape {
  code?: unknown;
  /** node:sqlite's numeric (extended) SQLite result code; bun:sqlite names it in `code`. */
  errcode?: unknown;
  message?: unknown;
  detail?: unknown;
  constraint_name?: unknown;
  table_name?: unknown;
  column_name?: unknown;
}

/** Whether a SQLite error has this primary result code (`SQLITE_FULL`…) on bun:sqlite or node:sqlite. */
function isSqliteCode(shape: DriverErrorShape, name: string, primary: number): boolean {
  if (typeof shape.code === "string" && shape.code.startsWith(name)) return true;
  return shape.code === "ERR_SQLITE_ERROR" && typeof shape.errcode === "number" && (shape.errcode & 0xff) === primary;
}

const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "57P01", // admin_shutdown
  "57P03", // cannot_connect_now
]);

/** PostgreSQL errors about a value the column cannot hold (bad text for the type, out of range, NUL byte). */
const INVALID_VALUE_CODES = new Set([
  "22P02", // invalid_text_representation
  "22003", // numeric_value_out_of_range
  "22007", // invalid_datetime_format
  "22008", // datetime_field_overflow
  "22021", // character_not_in_repertoire (e.g. a NUL byte in text)
  "22P05", // untranslatable_character
]);

/** Whether a driver error means the store could not be reached. */
export function isConnectionError(error: unknown): boolean {
  const shape = error as DriverErrorShape | null;
  return typeof shape?.code === "string" && CONNECTION_CODES.has(shape.code);
}

/** Whether a driver error is SQLite's "database is locked/busy". */
export function isBusyError(error: unknown): boolean {
  const shape = error as DriverErrorShape | null;
  const message = String(shape?.message ?? "");
  return /SQLITE_BUSY|database is locked/i.test(String(shape?.code ?? "")) || /database is locked|SQLITE_BUSY/i.test(message);
}

/**
 * Maps a driver error to a chapkit error: unique violations become
 * `ConflictError`, foreign-key violations `ConflictError`, not-null violations
 * `BadRequestError`, values the column cannot hold (PostgreSQL) `BadRequestError`,
 * a full disk `InsufficientStorageError` (507), a read-only store and
 * unreachable stores `UnavailableError`. Anything else is
 * returned unchanged (and ends as a 500 problem).
 */
export function mapDriverError(error: unknown): unknown {
  if (error instanceof ChapkitError) return error;
  const shape = (error ?? {}) as DriverErrorShape;
  const code = String(shape.code ?? "");
  const message = String(shape.message ?? "");
  if (code === "23505" || /UNIQUE constraint failed/i.test(message)) {
    const where = /UNIQUE constraint failed: (.+)$/i.exec(message)?.[1] ??
      (typeof shape.detail === "string" ? shape.detail : String(shape.constraint_name ?? "a unique key"));
    return new ConflictError(`Unique constraint failed: ${where}`, { cause: error });
  }
  if (code === "23503" || /FOREIGN KEY constraint failed/i.test(message)) {
    return new ConflictError("Foreign key constraint failed: a referenced row is missing or still referenced", {
      cause: error,
    });
  }
  if (code === "23502" || /NOT NULL constraint failed/i.test(message)) {
    return new BadRequestError(`Missing required value: ${message}`, { cause: error });
  }
  if (INVALID_VALUE_CODES.has(code)) {
    return new BadRequestError(`Invalid value: ${message}`, { cause: error });
  }
  if (code === "53100" || isSqliteCode(shape, "SQLITE_FULL", 13) || /database or disk is full/i.test(message)) {
    return new InsufficientStorageError("The database's storage is full: the write was not applied", { cause: error });
  }
  if (code === "25006" || isSqliteCode(shape, "SQLITE_READONLY", 8) || /readonly database/i.test(message)) {
    return new UnavailableError("The database is read-only: the write was not applied", { cause: error });
  }
  if (isConnectionError(error)) {
    return new UnavailableError(`Database unavailable: ${message || code}`, { cause: error });
  }
  if (code === "57014") {
    return new UnavailableError("Database statement timed out", { cause: error });
  }
  return error;
}
