/** Log levels, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Structured fields of a log event. */
export type LogFields = Record<string, unknown>;

/** A structured logger: an event name plus fields. */
export interface Logger {
  /** Debug event. */
  debug(event: string, fields?: LogFields): void;
  /** Info event. */
  info(event: string, fields?: LogFields): void;
  /** Warning event. */
  warn(event: string, fields?: LogFields): void;
  /** Error event. */
  error(event: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every event. */
  child(fields: LogFields): Logger;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** `json` (one object per line) or `console` (readable). Default: `LOG_FORMAT` or `console`. */
  format?: "json" | "console";
  /** Lowest level written. Default: `LOG_LEVEL` or `info`. */
  level?: LogLevel;
  /** Where lines go (default: stderr). */
  write?: (line: string) => void;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function env(name: string): string | undefined {
  const process = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return process?.env?.[name];
}

function serialise(value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  return value;
}

/**
 * Creates a structured logger writing JSON lines or readable console lines.
 *
 * @example
 * ```ts
 * import { createLogger } from "./logging.ts";
 * const log = createLogger({ format: "json", level: "info" });
 * log.info("service.started", { port: 8000 });
 * ```
 */
export function createLogger(options: LoggerOptions = {}, bound: LogFields = {}): Logger {
  const format = options.format ?? (env("LOG_FORMAT")?.toLowerCase() === "json" ? "json" : "console");
  const levelName = (options.level ?? env("LOG_LEVEL")?.toLowerCase() ?? "info") as LogLevel;
  const threshold = ORDER[levelName === ("warning" as LogLevel) ? "warn" : levelName] ?? ORDER.info;
  const write = options.write ?? ((line: string) => console.error(line));
  const emit = (level: LogLevel, event: string, fields?: LogFields): void => {
    if (ORDER[level] < threshold) return;
    const all: LogFields = { ...bound, ...fields };
    if (format === "json") {
      const record: LogFields = { timestamp: new Date().toISOString(), level, event };
      for (const [key, value] of Object.entries(all)) record[key] = serialise(value);
      write(JSON.stringify(record));
      return;
    }
    const pairs = Object.entries(all).map(([key, value]) => {
      const shown = serialise(value);
      return `${key}=${typeof shown === "string" ? shown : JSON.stringify(shown)}`;
    });
    write(`${new Date().toISOString()} [${level.padEnd(5)}] ${event}${pairs.length ? " " + pairs.join(" ") : ""}`);
  };
  return {
    debug: (event, fields) => emit("debug", event, fields),
    info: (event, fields) => emit("info", event, fields),
    warn: (event, fields) => emit("warn", event, fields),
    error: (event, fields) => emit("error", event, fields),
    child: (fields) => createLogger({ format, level: levelName, write }, { ...bound, ...fields }),
  };
}
