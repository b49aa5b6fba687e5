/**
 * Server-sent events (the `text/event-stream` format of the HTML standard)
 * on web-standard streams, so one helper serves Bun and Deno alike.
 *
 * @module
 */
import { InvalidQueryError, ValidationError } from "../core/errors.ts";

/** One event. `data` that is not a string is sent as compact JSON. */
export interface SseEvent {
  /** The payload; a string is sent as is (one `data:` line per line of it). */
  data: unknown;
  /** The event type (`event:`); clients dispatch untyped events as `message`. */
  event?: string;
  /** The event id (`id:`), which a reconnecting client sends back as `Last-Event-ID`. */
  id?: string;
  /** Milliseconds a client should wait before reconnecting (`retry:`). */
  retry?: number;
}

/** What a stream's producer gets: a way to send and a signal that fires when the stream ends. */
export interface SseSink {
  /**
   * Writes one event. Returns false (and writes nothing) once the client has
   * gone or the stream was closed, so a producer loop can stop.
   */
  send(event: SseEvent): boolean;
  /** Writes a comment line (`: text`), which clients ignore; keeps idle proxies and servers from closing the connection. */
  comment(text: string): boolean;
  /** Aborted when the client disconnects, the request's signal fires or the producer returns. */
  readonly signal: AbortSignal;
}

/** Options of {@link sseResponse}. */
export interface SseOptions {
  /** The request's signal: its abort (client disconnect) ends the stream. */
  signal?: AbortSignal;
  /**
   * Milliseconds between heartbeat comments while the producer sends
   * nothing (default 5 000, under Bun's 10 s idle timeout; 0 turns them off).
   */
  heartbeatMs?: number;
  /** A `retry:` line sent first, telling clients how long to wait before reconnecting. */
  retryMs?: number;
  /** Extra response headers. */
  headers?: Record<string, string>;
  /** Status of the response (default 200). */
  status?: number;
}

/** A producer: sends events until it returns (which closes the stream) or `sink.signal` aborts. */
export type SseProducer = (sink: SseSink) => Promise<void> | void;

/** Response headers of an event stream: no caching, no proxy buffering (contract-chapcore §7.3). */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  connection: "keep-alive",
  "x-accel-buffering": "no",
};

function field(name: string, value: string): string {
  return value.split(/\r\n|\r|\n/).map((line) => `${name}: ${line}\n`).join("");
}

function singleLine(name: string, value: string): string {
  if (/[\r\n]/.test(value)) throw new TypeError(`An SSE ${name} cannot contain a line break`);
  return `${name}: ${value}\n`;
}

/**
 * One event in wire form, ending with the blank line that dispatches it.
 *
 * @example
 * ```ts
 * import { formatSseEvent } from "./sse.ts";
 * formatSseEvent({ data: { status: "running" } }); // 'data: {"status":"running"}\n\n'
 * formatSseEvent({ event: "tick", id: "7", data: "a\nb" }); // "event: tick\nid: 7\ndata: a\ndata: b\n\n"
 * ```
 */
export function formatSseEvent(event: SseEvent): string {
  let out = "";
  if (event.event !== undefined) out += singleLine("event", event.event);
  if (event.id !== undefined) out += singleLine("id", event.id);
  if (event.retry !== undefined) out += `retry: ${Math.max(0, Math.trunc(event.retry))}\n`;
  const data = typeof event.data === "string" ? event.data : JSON.stringify(event.data) ?? "null";
  return `${out}${field("data", data)}\n`;
}

/**
 * A streaming `text/event-stream` response fed by `producer`. The stream
 * ends when the producer returns or throws, and the producer's signal aborts
 * as soon as the client disconnects (the body is canceled or the request's
 * signal fires), so loops and timers stop with the connection.
 *
 * @example
 * ```ts
 * import { sseResponse } from "./sse.ts";
 * const response = sseResponse(async ({ send }) => {
 *   for (let n = 1; n <= 3; n++) send({ id: String(n), data: { n } });
 * });
 * await response.text(); // 'id: 1\ndata: {"n":1}\n\nid: 2\n…'
 * ```
 */
export function sseResponse(producer: SseProducer, options: SseOptions = {}): Response {
  const encoder = new TextEncoder();
  const ended = new AbortController();
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  let lastWrite = Date.now();

  const stop = (): void => {
    if (heartbeat !== undefined) clearInterval(heartbeat);
    heartbeat = undefined;
    if (!ended.signal.aborted) ended.abort();
  };
  const write = (text: string): boolean => {
    if (ended.signal.aborted || controller === undefined) return false;
    try {
      controller.enqueue(encoder.encode(text));
      lastWrite = Date.now();
      return true;
    } catch {
      stop();
      return false;
    }
  };
  const sink: SseSink = {
    send: (event) => write(formatSseEvent(event)),
    comment: (text) => write(`${text.split(/\r\n|\r|\n/).map((line) => `: ${line}\n`).join("")}\n`),
    signal: ended.signal,
  };
  const onAbort = (): void => stop();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) stop();

  const body = new ReadableStream<Uint8Array>({
    start(streamController) {
      controller = streamController;
      if (options.retryMs !== undefined) write(`retry: ${Math.max(0, Math.trunc(options.retryMs))}\n\n`);
      if (heartbeatMs > 0) {
        heartbeat = setInterval(() => {
          if (Date.now() - lastWrite >= heartbeatMs * 0.9) sink.comment("heartbeat");
        }, heartbeatMs);
      }
      void (async () => {
        try {
          await producer(sink);
        } catch {
          // A producer failure ends the stream; the client sees it close and may reconnect.
        } finally {
          const open = !ended.signal.aborted;
          stop();
          options.signal?.removeEventListener("abort", onAbort);
          if (open) {
            try {
              streamController.close();
            } catch {
              // already closed by a cancel
            }
          }
        }
      })();
    },
    cancel() {
      stop();
    },
  });
  return new Response(body, { status: options.status ?? 200, headers: { ...SSE_HEADERS, ...options.headers } });
}

/**
 * Resolves after `ms`, or at once when `signal` aborts: the wait between two
 * events of a polling stream.
 */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * The `poll_interval` (seconds, 0 < x ≤ 3600) of a polling stream in
 * milliseconds, `defaultMs` when absent. Other query parameters (except
 * `_`-prefixed cache busters) are refused, naming `stream`.
 *
 * @throws {InvalidQueryError} an unknown parameter; {@link ValidationError} a bad interval.
 */
export function pollIntervalMs(query: Record<string, unknown>, defaultMs: number, stream: string): number {
  for (const name of Object.keys(query)) {
    if (name !== "poll_interval" && !name.startsWith("_")) {
      throw new InvalidQueryError(`Unknown query parameter "${name}"; ${stream} accepts poll_interval only`);
    }
  }
  const raw = Array.isArray(query.poll_interval) ? query.poll_interval.at(-1) : query.poll_interval;
  if (raw === undefined) return defaultMs;
  const seconds = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN;
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
    throw new ValidationError([{
      loc: ["query", "poll_interval"],
      msg: "Input should be a number of seconds greater than 0 and at most 3600",
      type: "value_error",
    }]);
  }
  return seconds * 1000;
}
