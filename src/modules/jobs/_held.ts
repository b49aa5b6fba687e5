import type { ClaimedJob } from "./job-store.ts";
import type { JobFunction } from "./types.ts";

/** A job this process holds: a function job from submission on, a named job while claimed. */
export interface Held {
  readonly id: string;
  readonly fn: JobFunction | null;
  /** Aborted when the job is canceled, swept or the runner closes. */
  readonly controller: AbortController;
  running: boolean;
  /** False while a function job's record is being inserted: until then the store does not know it. */
  stored: boolean;
  readonly settled: Promise<void>;
  settle(): void;
}

/** A job held from now on. */
export function held(id: string, fn: JobFunction | null): Held {
  let settle!: () => void;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  return { id, fn, controller: new AbortController(), running: false, stored: fn === null, settled, settle };
}

/** The only attempt of a function job, as if claimed. */
export function functionAttempt(id: string): ClaimedJob {
  return { id, name: null, payload: null, attempt: 1, maxAttempts: 1, backoff: null, timeoutMs: null, priority: 0 };
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

