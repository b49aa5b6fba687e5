import { UnavailableError } from "../../core/errors.ts";
import type { Logger } from "../../core/logging.ts";
import { sleep } from "./_held.ts";

/** What a {@link StoreRetry} needs. */
export interface StoreRetryOptions {
  /** Longest wait in milliseconds between retries. */
  maxDelayMs: number;
  /** True once the runner closes: calls then fail at once. */
  closed(): boolean;
  /** Told once when the store answers again after an outage. */
  back(): void;
  /** Where the outage and the recovery are logged. */
  logger?: Logger | undefined;
}

/**
 * Runs a runner's store calls through outages: a call that finds the store
 * unreachable (`UnavailableError`) is retried with a backoff capped at
 * `maxDelayMs` until it succeeds or the runner closes; other errors are
 * thrown at once. The outage is logged once, and so is the recovery.
 */
export class StoreRetry {
  readonly #options: StoreRetryOptions;
  #away = false;

  /** A retry policy for one runner. */
  constructor(options: StoreRetryOptions) {
    this.#options = options;
  }

  /** Runs `call` until the store takes it; `what` names the operation in the log. */
  async until<T>(what: string, call: () => Promise<T>): Promise<T> {
    let delay = Math.min(50, this.#options.maxDelayMs);
    for (;;) {
      try {
        const result = await call();
        this.#returned();
        return result;
      } catch (error) {
        if (!(error instanceof UnavailableError) || this.#options.closed()) throw error;
        this.#gone(what, error);
        await sleep(delay);
        delay = Math.min(delay * 2, this.#options.maxDelayMs);
      }
    }
  }

  #gone(what: string, error: unknown): void {
    if (this.#away) return;
    this.#away = true;
    this.#options.logger?.warn("jobs.store.unavailable", { operation: what, error });
  }

  #returned(): void {
    if (!this.#away) return;
    this.#away = false;
    this.#options.logger?.info("jobs.store.recovered", {});
    this.#options.back();
  }
}
