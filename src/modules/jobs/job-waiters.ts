import type { JobRecord } from "./types.ts";

/**
 * Who waits for a change of which job in this process: `wait()` and
 * `$stream` sleep here instead of polling the store for jobs run here.
 */
export class JobWaiters {
  readonly #listeners = new Map<string, Set<(record?: JobRecord) => void>>();

  /** Whether someone waits for this job now. */
  has(id: string): boolean {
    return this.#listeners.has(id);
  }

  /** Resolves at the job's next change (with its record, when the change brought it) or after `ms`. */
  changeOf(id: string, ms: number): Promise<JobRecord | undefined> {
    return new Promise((resolve) => {
      let listeners = this.#listeners.get(id);
      if (!listeners) this.#listeners.set(id, listeners = new Set());
      const done = (record?: JobRecord): void => {
        clearTimeout(timer);
        listeners!.delete(done);
        if (listeners!.size === 0 && this.#listeners.get(id) === listeners) this.#listeners.delete(id);
        resolve(record);
      };
      const timer = setTimeout(done, ms);
      listeners.add(done);
    });
  }

  /** Wakes the waiters of this job, handing them its record when known. */
  notify(id: string, record?: JobRecord): void {
    const listeners = this.#listeners.get(id);
    if (listeners) for (const listener of [...listeners]) listener(record);
  }
}
