/**
 * A circuit breaker for calls to a dependency that can go away (a database, an
 * outbound HTTP service): after `failureThreshold` consecutive failures it
 * opens and rejects calls at once with a {@link CircuitOpenError} (503 with
 * `Retry-After`) instead of letting callers wait on a dead dependency; after
 * `probeIntervalMs` one trial call (or the `probe` function, run in the
 * background) is let through in the half-open state, and its success closes
 * the circuit again.
 *
 * Runtime-agnostic: timers only, no I/O of its own.
 *
 * @example
 * ```ts ignore
 * const breaker = new CircuitBreaker({ name: "billing API", failureThreshold: 3, probeIntervalMs: 1000 });
 * breaker.onStateChange(({ from, to }) => console.log(`billing API: ${from} → ${to}`));
 * const invoice = await breaker.execute(() => fetchInvoice(id)); // throws CircuitOpenError while open
 * ```
 */
import { UnavailableError } from "./errors.ts";
import { unrefTimer } from "./timers.ts";

/** `closed`: calls pass; `open`: calls are rejected; `half-open`: one trial call decides. */
export type CircuitState = "closed" | "open" | "half-open";

/** What a state listener receives. */
export interface CircuitStateChange {
  /** The breaker's name. */
  readonly name: string;
  /** The state before. */
  readonly from: CircuitState;
  /** The state now. */
  readonly to: CircuitState;
  /** Consecutive failures counted when the change happened (0 after closing). */
  readonly failures: number;
  /** Epoch milliseconds of the change. */
  readonly at: number;
  /** The failure that opened (or re-opened) the circuit, if any. */
  readonly error?: unknown;
}

/** Listener of state changes; a throw in it is ignored. */
export type CircuitStateListener = (change: CircuitStateChange) => void;

/** Options of a {@link CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Names the dependency in errors and state changes (default `dependency`). */
  name?: string;
  /** Consecutive failures that open the circuit (default 5, at least 1). */
  failureThreshold?: number;
  /** Milliseconds between trial calls while open (default 1000). */
  probeIntervalMs?: number;
  /**
   * Which errors count as failures of the dependency (default: every error).
   * An error for which it returns false proves the dependency answered: it
   * resets the count like a success (a unique-key violation is not an outage).
   */
  isFailure?: (error: unknown) => boolean;
  /**
   * A cheap check run in the background every `probeIntervalMs` while the
   * circuit is open, so that it closes without waiting for the next call.
   * It must settle on its own within the interval (give it a timeout).
   */
  probe?: () => Promise<unknown>;
  /** Called on every state change (more can be added with {@link CircuitBreaker.onStateChange}). */
  onStateChange?: CircuitStateListener;
  /** The clock, in epoch milliseconds (default `Date.now`). */
  now?: () => number;
}

/** A point-in-time view of a breaker, for health and metrics. */
export interface CircuitSnapshot {
  /** The breaker's name. */
  name: string;
  /** The current state. */
  state: CircuitState;
  /** Consecutive failures counted so far. */
  failures: number;
  /** Epoch milliseconds the circuit last opened, or null while it has never opened. */
  openedAt: number | null;
  /** Milliseconds until the next trial call may run (0 while closed). */
  retryAfterMs: number;
  /** Message of the last failure, or null. */
  lastError: string | null;
}

/**
 * 503 `urn:chapkit:error:unavailable` thrown by a breaker that rejects a call:
 * carries `Retry-After` (whole seconds, at least 1) until the next trial call.
 */
export class CircuitOpenError extends UnavailableError {
  /** The breaker's name. */
  readonly circuit: string;
  /** Seconds until the next trial call, as sent in `Retry-After`. */
  readonly retryAfterSeconds: number;

  /** Creates the rejection of a call to `name`, retryable after `retryAfterSeconds`. */
  constructor(name: string, retryAfterSeconds: number, options: { cause?: unknown } = {}) {
    super(`${name} is unavailable; retry in ${retryAfterSeconds} s`, {
      headers: { "Retry-After": String(retryAfterSeconds) },
      cause: options.cause,
    });
    this.circuit = name;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

type Timer = ReturnType<typeof setTimeout>;

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The closed → open → half-open → closed state machine; see the module doc. */
export class CircuitBreaker {
  /** The breaker's name, as shown in errors. */
  readonly name: string;
  readonly #threshold: number;
  readonly #interval: number;
  readonly #isFailure: (error: unknown) => boolean;
  readonly #probe: (() => Promise<unknown>) | undefined;
  readonly #now: () => number;
  readonly #listeners = new Set<CircuitStateListener>();
  #state: CircuitState = "closed";
  #failures = 0;
  #openedAt: number | null = null;
  #nextTrialAt = 0;
  #lastError: unknown = undefined;
  #timer: Timer | undefined;
  #disposed = false;

  /** Creates a closed breaker. */
  constructor(options: CircuitBreakerOptions = {}) {
    this.name = options.name ?? "dependency";
    this.#threshold = Math.max(1, Math.floor(options.failureThreshold ?? 5));
    this.#interval = Math.max(1, options.probeIntervalMs ?? 1000);
    this.#isFailure = options.isFailure ?? (() => true);
    this.#probe = options.probe;
    this.#now = options.now ?? Date.now;
    if (options.onStateChange) this.#listeners.add(options.onStateChange);
  }

  /** The current state (an open circuit whose interval has passed still reads `open` until a trial starts). */
  get state(): CircuitState {
    return this.#state;
  }

  /** Consecutive failures counted so far. */
  get failures(): number {
    return this.#failures;
  }

  /** Milliseconds until a trial call may run: 0 while closed, the probe interval while a trial runs. */
  retryAfterMs(): number {
    if (this.#state === "closed") return 0;
    if (this.#state === "half-open") return this.#interval;
    return Math.max(0, this.#nextTrialAt - this.#now());
  }

  /** {@link retryAfterMs} as whole seconds for a `Retry-After` header: at least 1. */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.retryAfterMs() / 1000));
  }

  /** A view for health reports and metrics. */
  snapshot(): CircuitSnapshot {
    return {
      name: this.name,
      state: this.#state,
      failures: this.#failures,
      openedAt: this.#openedAt,
      retryAfterMs: this.retryAfterMs(),
      lastError: this.#lastError === undefined ? null : messageOf(this.#lastError),
    };
  }

  /** Adds a state listener; returns the function that removes it. */
  onStateChange(listener: CircuitStateListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Runs `fn` through the breaker: rejected with {@link CircuitOpenError}
   * while open, counted as a success or failure otherwise. `fn`'s own error is
   * rethrown unchanged.
   */
  async execute<T>(fn: () => T | Promise<T>): Promise<T> {
    this.admit();
    let result: T;
    try {
      result = await fn();
    } catch (error) {
      this.record(error);
      throw error;
    }
    this.record();
    return result;
  }

  /**
   * Lets one call in or throws {@link CircuitOpenError}. For callers that
   * cannot wrap their work in {@link execute}: every admitted call must end
   * with exactly one {@link record}.
   */
  admit(): void {
    if (this.#state === "closed") return;
    if (this.#state === "open" && this.#now() >= this.#nextTrialAt) {
      this.#move("half-open");
      return;
    }
    throw new CircuitOpenError(this.name, this.retryAfterSeconds(), { cause: this.#lastError });
  }

  /** Records the outcome of an admitted call: no argument for success, the error otherwise. */
  record(error?: unknown): void {
    if (error !== undefined && this.#isFailure(error)) this.#fail(error);
    else this.#succeed();
  }

  /** Closes the circuit now (e.g. after an operator fixed the dependency). */
  reset(): void {
    this.#succeed();
  }

  /** Stops background probing; the breaker keeps answering {@link admit} from its last state. */
  dispose(): void {
    this.#disposed = true;
    this.#clearTimer();
  }

  #succeed(): void {
    this.#failures = 0;
    if (this.#state !== "closed") {
      this.#clearTimer();
      this.#move("closed");
    }
  }

  #fail(error: unknown): void {
    this.#failures++;
    this.#lastError = error;
    if (this.#state === "half-open" || (this.#state === "closed" && this.#failures >= this.#threshold)) {
      this.#openedAt = this.#now();
      this.#nextTrialAt = this.#openedAt + this.#interval;
      this.#move("open", error);
      this.#scheduleProbe();
    }
  }

  #scheduleProbe(): void {
    if (!this.#probe || this.#disposed) return;
    this.#clearTimer();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#runProbe();
    }, Math.max(0, this.#nextTrialAt - this.#now()));
    unrefTimer(this.#timer);
  }

  #runProbe(): void {
    if (this.#state !== "open" || this.#disposed) return;
    // A caller may have taken the trial already; then its outcome decides.
    if (this.#now() < this.#nextTrialAt) return this.#scheduleProbe();
    this.#move("half-open");
    Promise.resolve().then(this.#probe).then(
      () => this.#succeed(),
      (error: unknown) => this.#fail(error ?? new Error(`${this.name} probe failed`)),
    );
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #move(to: CircuitState, error?: unknown): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    const change: CircuitStateChange = error === undefined
      ? { name: this.name, from, to, failures: this.#failures, at: this.#now() }
      : { name: this.name, from, to, failures: this.#failures, at: this.#now(), error };
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch {
        // A listener's bug must not change what the breaker decides.
      }
    }
  }
}
