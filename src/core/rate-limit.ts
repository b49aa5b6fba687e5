/**
 * Rate limiting with a sliding window counter: the count of the current
 * fixed window plus the previous window's count weighted by how much of it
 * the sliding window still covers. It smooths the burst at window edges that
 * a fixed window allows, and needs two counters per key, so a shared store
 * (Redis) can keep it atomically for several instances.
 */

/** One limit: `limit` requests per `windowSeconds`. */
export interface RateLimitPolicy {
  /** Names the policy in the `RateLimit` and `RateLimit-Policy` headers. */
  name: string;
  /** Requests allowed per window. */
  limit: number;
  /** The window in seconds. */
  windowSeconds: number;
}

/** The outcome of one request against one policy. */
export interface RateLimitDecision {
  /** Whether the request may proceed (it was counted). */
  allowed: boolean;
  /** Requests left in the window after this one. */
  remaining: number;
  /** Seconds until the window has room again (0 while there is room). */
  retryAfterSeconds: number;
  /** Seconds until the current fixed window ends. */
  resetSeconds: number;
}

/** Where counters live: in this process, or shared (Redis) so limits hold across instances. */
export interface RateLimitStore {
  /** Counts a request of `key` under `policy` when it fits, and says whether it did. */
  consume(key: string, policy: RateLimitPolicy, now?: number): Promise<RateLimitDecision>;
  /** Releases connections and timers. */
  close?(): Promise<void>;
}

/**
 * The sliding-window arithmetic shared by every store: given the previous
 * and current window counts, whether one more request fits and what to tell
 * the client. Stores that run it elsewhere (a Redis script) mirror it.
 */
export function slidingWindow(previous: number, current: number, policy: RateLimitPolicy, now: number): RateLimitDecision & { count: number } {
  const windowMs = policy.windowSeconds * 1000;
  const elapsed = now % windowMs;
  const weight = (windowMs - elapsed) / windowMs;
  const used = previous * weight + current;
  const resetSeconds = Math.max(1, Math.ceil((windowMs - elapsed) / 1000));
  if (used + 1 > policy.limit) {
    // Room comes back when the previous window's weighted share has shrunk enough, else at the next window.
    const excess = used + 1 - policy.limit;
    const waitMs = previous > 0 && excess <= previous * weight ? (excess / previous) * windowMs : windowMs - elapsed;
    return { allowed: false, remaining: 0, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)), resetSeconds, count: current };
  }
  return { allowed: true, remaining: Math.max(0, Math.floor(policy.limit - used - 1)), retryAfterSeconds: 0, resetSeconds, count: current + 1 };
}

interface Counters {
  window: number;
  current: number;
  previous: number;
}

/** Counters in this process's memory: limits hold per instance. */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly #counters = new Map<string, Counters>();
  #sweepAt = 0;

  /** Counts a request of `key` when it fits. */
  consume(key: string, policy: RateLimitPolicy, now: number = Date.now()): Promise<RateLimitDecision> {
    const windowMs = policy.windowSeconds * 1000;
    const window = Math.floor(now / windowMs);
    const id = `${policy.name}:${policy.windowSeconds}:${key}`;
    let counters = this.#counters.get(id);
    if (!counters || counters.window < window - 1) counters = { window, current: 0, previous: 0 };
    else if (counters.window === window - 1) counters = { window, current: 0, previous: counters.current };
    const decision = slidingWindow(counters.previous, counters.current, policy, now);
    counters.current = decision.count;
    this.#counters.set(id, counters);
    if (now >= this.#sweepAt) this.#sweep(now, windowMs);
    return Promise.resolve({
      allowed: decision.allowed,
      remaining: decision.remaining,
      retryAfterSeconds: decision.retryAfterSeconds,
      resetSeconds: decision.resetSeconds,
    });
  }

  /** Drops counters two windows old, at most once a window, so memory follows the active clients. */
  #sweep(now: number, windowMs: number): void {
    this.#sweepAt = now + windowMs;
    const window = Math.floor(now / windowMs);
    for (const [id, counters] of this.#counters) if (counters.window < window - 1) this.#counters.delete(id);
  }
}
