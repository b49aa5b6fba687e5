/**
 * The one readiness state of a service instance. Every health path
 * (`/api/v1/health`, `/health/ready`, the chap profile's `/health`, the
 * serving profile's `/v2/health/ready`) answers 503 while the instance
 * drains, so a load balancer stops sending it new requests before it stops;
 * `/health/live` keeps answering 200 (the process is alive).
 */

/** The registry key under which a service provides its {@link Readiness} (`context.get(READINESS_KEY)`). */
export const READINESS_KEY = "readiness";

/** Told once when the instance starts draining. */
export type DrainListener = (reason: string) => void;

/** See the module doc. */
export class Readiness {
  #draining = false;
  #reason = "";
  readonly #listeners = new Set<DrainListener>();
  readonly #holds = new Map<symbol, { name: string; reason: string }>();

  /**
   * Holds readiness back (the readiness probes answer 503) until the
   * returned release is called: for work an instance must finish before it
   * takes traffic, such as warming models up. Health answers are unaffected.
   */
  hold(name: string, reason: string): () => void {
    const key = Symbol(name);
    this.#holds.set(key, { name, reason });
    return () => this.#holds.delete(key);
  }

  /** What holds readiness back now. */
  get holds(): { name: string; reason: string }[] {
    return [...this.#holds.values()];
  }

  /** Whether the instance is draining (readiness answers 503). */
  get draining(): boolean {
    return this.#draining;
  }

  /** Why it drains (`SIGTERM`, `POST /api/v1/system/$drain`), or "" while ready. */
  get reason(): string {
    return this.#reason;
  }

  /** Starts draining; later calls do nothing. Listeners run once (a throw in one is ignored). */
  drain(reason: string): void {
    if (this.#draining) return;
    this.#draining = true;
    this.#reason = reason;
    for (const listener of this.#listeners) {
      try {
        listener(reason);
      } catch {
        // One listener's failure must not stop the others from draining.
      }
    }
  }

  /** Calls `listener` when draining starts; returns the remover. */
  onDrain(listener: DrainListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
