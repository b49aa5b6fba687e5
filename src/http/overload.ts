/**
 * Overload protection at the edge of a service, before routing: a request
 * timeout per route (504, and the handler's work is told to stop), a cap on
 * requests in flight with a bounded wait queue, and a memory watermark, both
 * answering 503 with `Retry-After` when exceeded. Health and metrics are never
 * shed; streams are exempt (see `request-class.ts`). Limits are read on every
 * request, so a settings reload applies at once.
 */
import { RequestTimeoutError, UnavailableError } from "../core/errors.ts";
import type { Settings } from "../core/settings/schema.ts";
import { residentMemoryBytes } from "../runtime/memory.ts";
import { problemResponse } from "./problem-response.ts";
import { matchesRoute } from "./request-class.ts";
import { addDeadline, cancelDeadline } from "./_deadlines.ts";

/** The rest of the pipeline: routing and the handler. */
export type NextHandler = (request: Request) => Promise<Response>;

/** A request under a timeout: its controller is made only when a handler asks for the signal. */
interface Deadline {
  controller?: AbortController;
  expired?: RequestTimeoutError;
}

const deadlines = new WeakMap<Request, Deadline>();

/**
 * The signal a handler should pass to its slow work (queries, fetches,
 * subprocesses): it aborts when the request times out or the client goes
 * away.
 */
export function requestSignal(request: Request): AbortSignal {
  const deadline = deadlines.get(request);
  if (!deadline) return request.signal;
  if (!deadline.controller) {
    deadline.controller = new AbortController();
    if (deadline.expired) deadline.controller.abort(deadline.expired);
  }
  return AbortSignal.any([request.signal, deadline.controller.signal]);
}

/** The timeout of `METHOD path`: the first matching `http.routeTimeouts` rule, else `http.requestTimeoutMs`. */
export function timeoutFor(settings: Settings["http"], method: string, path: string): number {
  const rules = settings.routeTimeouts;
  for (const rule in rules) {
    if (matchesRoute(rule, method, path)) return rules[rule]!;
  }
  return settings.requestTimeoutMs;
}

/** Called with the answer of a request run by {@link LoadShedder.run}, before its promise settles. */
export type AnswerListener = (response: Response) => void;

/**
 * Runs `next` with a deadline: past `timeoutMs` the answer is a 504 problem and
 * {@link requestSignal} aborts. A handler that already answered (a stream that
 * started) is not cut. `settled` runs once `next` itself has settled (also
 * after a timeout), `onAnswer` with the answer given.
 */
export function withTimeout(
  request: Request,
  next: NextHandler,
  timeoutMs: number,
  instance: string,
  basePath = "",
  settled?: () => void,
  onAnswer?: AnswerListener,
): Promise<Response> {
  if (timeoutMs <= 0 && !settled && !onAnswer) return next(request);
  let deadline: Deadline | undefined;
  if (timeoutMs > 0) deadlines.set(request, deadline = {});
  // One promise settled by whichever comes first: no race, no async frames on the request path.
  return new Promise<Response>((resolve, reject) => {
    let answered = false;
    const answer = (response: Response): void => {
      if (answered) return;
      answered = true;
      onAnswer?.(response);
      resolve(response);
    };
    // One timer per timeout watches every request under it (see _deadlines.ts).
    const timer = deadline === undefined ? undefined : addDeadline(timeoutMs, () => {
      const error = new RequestTimeoutError(timeoutMs);
      deadline!.expired = error;
      deadline!.controller?.abort(error);
      answer(problemResponse(error, instance, basePath));
    });
    const stop = (): void => {
      if (timer !== undefined) cancelDeadline(timer);
      settled?.();
    };
    let pending: Promise<Response>;
    try {
      pending = next(request);
    } catch (error) {
      stop();
      return reject(error);
    }
    pending.then((response) => {
      stop();
      answer(response);
    }, (error: unknown) => {
      stop();
      if (!answered) reject(error);
    });
  });
}

/** Options of a {@link LoadShedder}. */
export interface LoadShedderOptions {
  /** The current limits (read on every request, so reloads apply). */
  limits: () => Settings["load"];
  /** Resident memory in bytes (default the process's). */
  memory?: () => number;
  /** How long a memory reading is reused (default 250 ms). */
  memorySampleMs?: number;
}

interface Waiter {
  admit(): void;
}

/**
 * Caps requests in flight: beyond `maxInFlight` a request waits in a FIFO
 * queue of at most `queueSize` for up to `queueTimeoutMs`, else it answers
 * 503 with `Retry-After`; above `memoryHighWaterMb` every request answers 503.
 */
export class LoadShedder {
  readonly #options: LoadShedderOptions;
  readonly #queue: Waiter[] = [];
  #inFlight = 0;
  #memoryAt = -Infinity;
  #memory = 0;
  #shed = 0;

  /** Creates a shedder reading its limits from `options.limits`. */
  constructor(options: LoadShedderOptions) {
    this.#options = options;
  }

  /** Requests being handled now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Requests waiting for a slot. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Requests answered 503 so far. */
  get shed(): number {
    return this.#shed;
  }

  /**
   * Runs `next` when a slot is free, or answers 503; with `timeoutMs` > 0
   * under that deadline (see {@link withTimeout}), in the same promise.
   * `onAnswer` sees the answer (the refusal too) before the promise settles.
   */
  run(request: Request, next: NextHandler, instance: string, basePath = "", timeoutMs = 0, onAnswer?: AnswerListener): Promise<Response> {
    const limits = this.#options.limits();
    const refusal = this.#overMemory(limits) ?? this.#acquire(limits);
    if (refusal === undefined) return withTimeout(request, next, timeoutMs, instance, basePath, this.#releaser, onAnswer);
    if (typeof refusal === "string") return Promise.resolve(this.#refuse(refusal, limits, instance, basePath, onAnswer));
    return refusal.then((waited) =>
      waited === undefined
        ? withTimeout(request, next, timeoutMs, instance, basePath, this.#releaser, onAnswer)
        : this.#refuse(waited, limits, instance, basePath, onAnswer)
    );
  }

  readonly #releaser = (): void => this.#release();

  #refuse(reason: string, limits: Settings["load"], instance: string, basePath: string, onAnswer?: AnswerListener): Response {
    this.#shed++;
    const response = problemResponse(new UnavailableError(reason, { headers: { "Retry-After": String(limits.retryAfterSeconds) } }), instance, basePath);
    onAnswer?.(response);
    return response;
  }

  #overMemory(limits: Settings["load"]): string | undefined {
    if (limits.memoryHighWaterMb <= 0) return undefined;
    const now = performance.now();
    if (now - this.#memoryAt > (this.#options.memorySampleMs ?? 250)) {
      this.#memory = (this.#options.memory ?? residentMemoryBytes)();
      this.#memoryAt = now;
    }
    return this.#memory > limits.memoryHighWaterMb * 1024 * 1024
      ? "The service is short of memory; retry later"
      : undefined;
  }

  /** Takes a slot (maybe after waiting); resolves to a refusal message when none came. */
  #acquire(limits: Settings["load"]): Promise<string | undefined> | string | undefined {
    this.#inFlight++;
    if (limits.maxInFlight <= 0 || this.#inFlight <= limits.maxInFlight) return undefined;
    this.#inFlight--;
    if (this.#queue.length >= limits.queueSize || limits.queueTimeoutMs <= 0) return "The service is overloaded; retry later";
    return new Promise((resolve) => {
      const waiter: Waiter = {
        admit: () => {
          clearTimeout(timer);
          resolve(undefined);
        },
      };
      const timer = setTimeout(() => {
        const index = this.#queue.indexOf(waiter);
        if (index >= 0) this.#queue.splice(index, 1);
        resolve("The service is overloaded; retry later");
      }, limits.queueTimeoutMs);
      this.#queue.push(waiter);
    });
  }

  #release(): void {
    const waiter = this.#queue.shift();
    // The slot passes straight to the first waiter, so the count stays.
    if (waiter) waiter.admit();
    else this.#inFlight--;
  }
}
