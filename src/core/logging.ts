import { writeSync } from "node:fs";

/** Log levels, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Structured fields of a log event. */
export type LogFields = Record<string, unknown>;

/** A structured logger: an event name plus fields. */
export interface Logger {
  /** Written only when the level is `debug`. */
  debug(event: string, fields?: LogFields): void;
  /** Written unless the level is `warn` or `error`. */
  info(event: string, fields?: LogFields): void;
  /** Something went wrong and was handled (a retry, a fallback). */
  warn(event: string, fields?: LogFields): void;
  /** Something failed that an operator should look at. */
  error(event: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every event. */
  child(fields: LogFields): Logger;
  /** Whether events of `level` are written now, so a caller can skip building fields nobody reads (absent: assume they are). */
  enabled?(level: LogLevel): boolean;
}

/**
 * A log level that can change while the service runs (a reload on SIGHUP);
 * every logger made with it, children included, follows the change at once.
 */
export class LogLevelSwitch {
  #threshold: number;
  #level: LogLevel;

  /** Starts at `level`. */
  constructor(level: LogLevel = "info") {
    this.#level = level;
    this.#threshold = ORDER[level] ?? ORDER.info;
  }

  /** The lowest level written now. */
  get level(): LogLevel {
    return this.#level;
  }

  set level(level: LogLevel) {
    this.#level = level;
    this.#threshold = ORDER[level] ?? ORDER.info;
  }

  /** Whether events of `level` are written now. */
  enabled(level: LogLevel): boolean {
    return ORDER[level] >= this.#threshold;
  }
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** `json` (one object per line) or `console` (readable). Default `console`; services take it from the `log.format` setting (`LOG_FORMAT`). */
  format?: "json" | "console";
  /** Lowest level written, fixed or switchable. Default `info`; services take it from the `log.level` setting (`LOG_LEVEL`). */
  level?: LogLevel | LogLevelSwitch;
  /** Where lines go (default: stderr, written in chunks of up to 32 KiB, at most 20 ms after a line, and at exit). */
  write?: (line: string) => void;
  /**
   * Fields of the current asynchronous flow added to every line, e.g. the
   * active span's `trace_id` and `span_id` when tracing is on.
   */
  context?: () => LogFields | undefined;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

interface ProcessLike {
  on?(event: "exit", listener: () => void): unknown;
}

/** Bytes gathered before a write happens at once (a busy service writes a few large chunks a second, not one per event-loop turn). */
const FLUSH_BYTES = 32 * 1024;
/** Longest a line waits to be written (ms). */
const FLUSH_DELAY_MS = 20;

// Lines are encoded into this buffer as they come, so a line's string (often a rope of many
// pieces) dies at once instead of being held until the write: held lines outlived the garbage
// collector's young generation under load and piled up as old garbage.
const encoder = new TextEncoder();
const buffer = new Uint8Array(2 * FLUSH_BYTES);
let used = 0;
let flushScheduled = false;
let exitHookInstalled = false;

function writeAll(bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(2, bytes, offset, bytes.length - offset);
}

function flushStderr(): void {
  flushScheduled = false;
  if (used === 0) return;
  const chunk = buffer.subarray(0, used);
  used = 0;
  writeAll(chunk);
}

/**
 * The default log sink: lines are gathered and written to stderr together,
 * once 32 KiB have gathered or 20 ms after the first (and at exit), so a
 * busy service makes a few large writes a second instead of one blocking
 * write per line or per event-loop turn.
 */
function writeStderr(line: string): void {
  // At most three bytes per UTF-16 unit, and the newline.
  const room = line.length * 3 + 1;
  if (used + room > buffer.length) {
    flushStderr();
    // A line longer than the buffer goes out on its own, in order.
    if (room > buffer.length) return writeAll(encoder.encode(`${line}\n`));
  }
  used += encoder.encodeInto(line, buffer.subarray(used)).written;
  buffer[used++] = 10;
  if (used >= FLUSH_BYTES) return flushStderr();
  if (flushScheduled) return;
  flushScheduled = true;
  setTimeout(flushStderr, FLUSH_DELAY_MS);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    const global = globalThis as { process?: ProcessLike; Deno?: unknown; addEventListener?: (type: string, listener: () => void) => void };
    // Deno.exit() dispatches "unload" but not the process "exit" event.
    if (global.Deno) global.addEventListener?.("unload", flushStderr);
    global.process?.on?.("exit", flushStderr);
  }
}

let stampMs = -1;
let stamp = "";

/** `new Date().toISOString()`, computed once per millisecond. */
function timestamp(): string {
  const now = Date.now();
  if (now !== stampMs) {
    stampMs = now;
    stamp = new Date(now).toISOString();
  }
  return stamp;
}

const LABELS: Record<LogLevel, string> = { debug: "debug", info: "info ", warn: "warn ", error: "error" };

function serialise(value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  return value;
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\\]/g;
const HAS_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\\]/;

// A value cannot end its line or fake another entry: control characters (and `\`) are escaped.
function escapeControl(text: string): string {
  return text.replace(CONTROL, (char) => {
    if (char === "\\") return "\\\\";
    if (char === "\n") return "\\n";
    if (char === "\r") return "\\r";
    if (char === "\t") return "\\t";
    return `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
}

/** `text` as written: escaped only when it holds a character to escape (the test is cheaper than a replace). */
function plain(text: string): string {
  return HAS_CONTROL.test(text) ? escapeControl(text) : text;
}

/**
 * Event names and field keys seen to need no escaping: a few dozen literals in practice, bounded all
 * the same (at most 1,024 names of at most 64 characters, so keys taken from input cannot grow it).
 */
const cleanNames = new Set<string>();
const CLEAN_NAMES_MAX = 1024;
const CLEAN_NAME_CHARS = 64;

/** {@link plain} for an event name or field key: each distinct short clean name is tested once. */
function plainName(name: string): string {
  if (cleanNames.has(name)) return name;
  const text = plain(name);
  if (text === name && name.length <= CLEAN_NAME_CHARS) {
    if (cleanNames.size >= CLEAN_NAMES_MAX) cleanNames.clear();
    cleanNames.add(name);
  }
  return text;
}

function shown(value: unknown): string {
  if (typeof value === "string") return plain(value);
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return JSON.stringify(serialise(value));
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
  const format = options.format ?? "console";
  const threshold = options.level instanceof LogLevelSwitch ? options.level : new LogLevelSwitch(options.level ?? "info");
  const write = options.write ?? writeStderr;
  const context = options.context;
  const hasBound = Object.keys(bound).length > 0;
  const emit = (level: LogLevel, event: string, fields?: LogFields): void => {
    if (!threshold.enabled(level)) return;
    const current = context?.();
    let all: LogFields | undefined = hasBound ? { ...bound, ...fields } : fields;
    if (current) all = { ...all, ...current };
    if (format === "json") {
      const record: LogFields = { timestamp: timestamp(), level, event };
      for (const key in all) record[key] = serialise(all[key]);
      write(JSON.stringify(record));
      return;
    }
    let line = `${timestamp()} [${LABELS[level]}] ${plainName(event)}`;
    for (const key in all) line += ` ${plainName(key)}=${shown(all[key])}`;
    write(line);
  };
  return {
    debug: (event, fields) => emit("debug", event, fields),
    info: (event, fields) => emit("info", event, fields),
    warn: (event, fields) => emit("warn", event, fields),
    error: (event, fields) => emit("error", event, fields),
    child: (fields) =>
      createLogger({ format, level: threshold, write, ...(context ? { context } : {}) }, { ...bound, ...fields }),
    enabled: (level) => threshold.enabled(level),
  };
}
