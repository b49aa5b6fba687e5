/**
 * The one outbound HTTP policy of chapkit: every call chapkit makes to another
 * service (webhooks, alerts, registration, remote models) goes through an
 * {@link OutboundPolicy}, which gives each attempt a timeout, retries failed
 * idempotent calls with exponential back-off and full jitter (honouring
 * `Retry-After`), and keeps one {@link CircuitBreaker} per origin so that a
 * dead or hanging dependency is failed fast instead of tying up callers.
 *
 * Web-standard `fetch` only, so it runs on Bun, Deno and in any layer.
 *
 * @example
 * ```ts ignore
 * const outbound = new OutboundPolicy({ timeoutMs: 2000, retries: 2 });
 * outbound.onStateChange(({ name, to }) => logger.warn("outbound.circuit", { name, to }));
 * const response = await outbound.fetch("https://chap.example.org/api/v1/register", { method: "PUT", body });
 * ```
 */
import { CircuitBreaker, type CircuitBreakerOptions, type CircuitSnapshot, type CircuitStateListener } from "./circuit-breaker.ts";
import { UnavailableError } from "./errors.ts";
import type { Settings } from "./settings/schema.ts";

/** What an {@link OutboundPolicy} does; every field has a default. */
export interface OutboundPolicyOptions {
  /** Milliseconds one attempt may take, from sending to the end of the body (default 10 000). */
  timeoutMs?: number;
  /** Retries after the first attempt (default 2, so at most 3 attempts). */
  retries?: number;
  /** Back-off before retry n is a random time in [0, min(maxBackoffMs, backoffMs × 2ⁿ)] (default 200). */
  backoffMs?: number;
  /** Longest wait before a retry, also the longest `Retry-After` honoured (default 5000). */
  maxBackoffMs?: number;
  /** Response statuses that are retried (default 408, 429, 500, 502, 503, 504). */
  retryStatuses?: readonly number[];
  /**
   * Retry methods that are not idempotent (POST, PATCH) too (default false).
   * Turn it on only when the receiver deduplicates (an idempotency key).
   */
  retryNonIdempotent?: boolean;
  /**
   * The breaker kept per origin (`https://host:port`); `false` turns breakers
   * off. Timeouts, network errors and 5xx answers count as failures; any other
   * answer proves the dependency is up. Default: 5 consecutive failures open
   * it, a trial call every 5 s.
   */
  breaker?: false | Omit<CircuitBreakerOptions, "name" | "probe">;
  /** Told after every attempt (for metrics and logs). */
  onAttempt?: (attempt: OutboundAttempt) => void;
  /** The fetch to use (default the global one). */
  fetch?: typeof fetch;
  /** Random numbers in [0, 1) for jitter (default `Math.random`). */
  random?: () => number;
}

/** One attempt of an outbound call, as {@link OutboundPolicyOptions.onAttempt} sees it. */
export interface OutboundAttempt {
  /** The origin called, which also names its breaker. */
  origin: string;
  method: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** The response status, or 0 when no answer came. */
  status: number;
  /** `ok`, `retry` (will be retried), `failed` (given up or not retryable), `timeout` or `error`. */
  outcome: "ok" | "retry" | "failed" | "timeout" | "error";
  durationMs: number;
}

/**
 * Policy options from the `outbound.*` settings, so operators tune every
 * outbound call in one place; `extra` adds what settings do not cover.
 *
 * @example
 * ```ts ignore
 * const policy = new OutboundPolicy(outboundOptions(context.settings.outbound, { onAttempt }));
 * ```
 */
export function outboundOptions(settings: Settings["outbound"], extra: OutboundPolicyOptions = {}): OutboundPolicyOptions {
  return {
    timeoutMs: settings.timeoutMs,
    retries: settings.retries,
    backoffMs: settings.backoffMs,
    maxBackoffMs: settings.maxBackoffMs,
    breaker: { failureThreshold: settings.breakerThreshold, probeIntervalMs: settings.breakerProbeMs },
    ...extra,
  };
}

const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]);
const RETRY_STATUSES = [408, 429, 500, 502, 503, 504];

/** Milliseconds to wait as a `Retry-After` header says (seconds or an HTTP date), or undefined. */
export function retryAfterMs(header: string | null, now: number = Date.now()): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Back-off before retry `n` (0 for the first retry): full jitter over an
 * exponentially growing cap, `random() × min(max, base × 2ⁿ)`.
 */
export function backoffDelay(n: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(maxMs, baseMs * 2 ** n));
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

class AttemptTimeout extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A request body that can be sent again (a stream can be read once only). */
function replayable(init: RequestInit | undefined, input: RequestInfo | URL): boolean {
  if (input instanceof Request && input.body !== null) return false;
  return !(init?.body instanceof ReadableStream);
}

/**
 * The outbound policies one service reports in its metrics and health (a
 * service provides one; see `outboundRegistryOf`). Policies not added here
 * (the process-wide one of {@link resilientFetch}, a user's own) are not
 * reported unless added.
 */
export class OutboundRegistry {
  readonly #policies = new Set<OutboundPolicy>();

  /** Reports `policy`'s breakers from now on; returns the remover. */
  add(policy: OutboundPolicy): () => void {
    this.#policies.add(policy);
    return () => this.#policies.delete(policy);
  }

  /** The breakers of every added policy. */
  snapshots(): CircuitSnapshot[] {
    return [...this.#policies].flatMap((policy) => policy.snapshots());
  }
}

/** See the module doc. One policy is meant to be shared by every call to the same kind of dependency. */
export class OutboundPolicy {
  readonly #options: OutboundPolicyOptions;
  readonly #breakers = new Map<string, CircuitBreaker>();
  readonly #listeners = new Set<CircuitStateListener>();

  /** Creates a policy; see {@link OutboundPolicyOptions} for the defaults. */
  constructor(options: OutboundPolicyOptions = {}) {
    this.#options = options;
  }

  /** The breaker of `url`'s origin, created closed on first use; undefined when breakers are off. */
  breakerFor(url: string | URL): CircuitBreaker | undefined {
    if (this.#options.breaker === false) return undefined;
    const origin = new URL(url).origin;
    let breaker = this.#breakers.get(origin);
    if (!breaker) {
      breaker = new CircuitBreaker({
        failureThreshold: 5,
        probeIntervalMs: 5000,
        ...this.#options.breaker,
        name: origin,
        onStateChange: (change) => {
          for (const listener of this.#listeners) listener(change);
        },
      });
      this.#breakers.set(origin, breaker);
    }
    return breaker;
  }

  /** Every breaker's state, for health reports and metrics. */
  snapshots(): CircuitSnapshot[] {
    return [...this.#breakers.values()].map((breaker) => breaker.snapshot());
  }

  /** Listens to state changes of every breaker of this policy; returns the remover. */
  onStateChange(listener: CircuitStateListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * `fetch` under the policy. Resolves with the final response, which may be
   * an error status (a 4xx, or a 5xx after the last retry): the caller reads
   * it as from `fetch`.
   *
   * @throws {CircuitOpenError} (503, `Retry-After`) while the origin's breaker is open.
   * @throws {UnavailableError} (503) when no answer came: every attempt timed out or failed on the network.
   * @throws the caller's abort reason when `init.signal` aborts.
   */
  async fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const options = this.#options;
    const url = input instanceof Request ? input.url : String(input);
    const origin = new URL(url).origin;
    const method = (init?.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
    const timeoutMs = options.timeoutMs ?? 10_000;
    const retryStatuses = options.retryStatuses ?? RETRY_STATUSES;
    const canRetry = (IDEMPOTENT.has(method) || options.retryNonIdempotent === true) && replayable(init, input);
    const attempts = 1 + (canRetry ? Math.max(0, Math.floor(options.retries ?? 2)) : 0);
    const breaker = this.breakerFor(url);
    const caller = init?.signal ?? (input instanceof Request ? input.signal : undefined);
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      breaker?.admit();
      const started = performance.now();
      const report = (status: number, outcome: OutboundAttempt["outcome"]): void =>
        options.onAttempt?.({ origin, method, attempt, status, outcome, durationMs: performance.now() - started });
      let response: Response;
      try {
        response = await this.#attempt(input, init, timeoutMs, caller);
      } catch (error) {
        if (caller?.aborted) {
          breaker?.record();
          throw caller.reason;
        }
        breaker?.record(error);
        lastError = error;
        report(0, error instanceof AttemptTimeout ? "timeout" : "error");
        if (attempt < attempts) {
          await sleep(this.#backoff(attempt - 1, undefined) ?? 0, caller ?? undefined);
          continue;
        }
        break;
      }
      const failed = response.status >= 500;
      breaker?.record(failed ? new Error(`${origin} answered ${response.status}`) : undefined);
      const retryable = retryStatuses.includes(response.status) && attempt < attempts;
      const wait = retryable ? this.#backoff(attempt - 1, response.headers.get("retry-after")) : undefined;
      if (wait === undefined) {
        report(response.status, response.ok ? "ok" : "failed");
        return response;
      }
      report(response.status, "retry");
      await response.body?.cancel().catch(() => {});
      await sleep(wait, caller ?? undefined);
    }
    throw new UnavailableError(`${method} ${origin} got no answer after ${attempts} attempt(s): ${messageOf(lastError)}`, {
      cause: lastError,
    });
  }

  /** Milliseconds before the next retry, or undefined when `Retry-After` asks for longer than allowed. */
  #backoff(n: number, retryAfter: string | null | undefined): number | undefined {
    const max = this.#options.maxBackoffMs ?? 5000;
    const asked = retryAfterMs(retryAfter ?? null);
    if (asked !== undefined) return asked <= max ? asked : undefined;
    return backoffDelay(n, this.#options.backoffMs ?? 200, max, this.#options.random);
  }

  async #attempt(input: string | URL | Request, init: RequestInit | undefined, timeoutMs: number, caller: AbortSignal | null | undefined): Promise<Response> {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new AttemptTimeout(timeoutMs)), timeoutMs);
    const signal = caller ? AbortSignal.any([caller, timeout.signal]) : timeout.signal;
    const request = input instanceof Request ? input.clone() : input;
    try {
      const response = await (this.#options.fetch ?? fetch)(request, { ...init, signal });
      // The body is read within the same deadline: buffer it so a hanging body counts as a timeout too.
      const body = await response.arrayBuffer();
      return new Response(response.status === 204 || response.status === 304 ? null : body, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
    } catch (error) {
      if (timeout.signal.aborted && !caller?.aborted) throw timeout.signal.reason;
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }
}

let shared: OutboundPolicy | undefined;

/**
 * `fetch` under the default shared {@link OutboundPolicy} (10 s timeout, 2
 * retries of idempotent calls, a breaker per origin). Components that talk to
 * one dependency often should keep their own policy instead.
 *
 * @throws {CircuitOpenError} while the origin's breaker is open.
 * @throws {UnavailableError} when no answer came.
 */
export function resilientFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  shared ??= new OutboundPolicy();
  return shared.fetch(input, init);
}
