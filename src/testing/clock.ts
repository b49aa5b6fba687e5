/** A clock a test moves by hand, for code that takes its time from an injected `now()`. */

/** Time that only moves when the test says so. */
export class ManualClock {
  #now: number;

  /** Starts at `start` (default 2026-01-01T00:00:00Z). */
  constructor(start: Date | string | number = "2026-01-01T00:00:00.000Z") {
    this.#now = new Date(start).getTime();
  }

  /** Milliseconds since the epoch, like `Date.now()`. */
  now = (): number => this.#now;

  /** The current time as a `Date`. */
  date(): Date {
    return new Date(this.#now);
  }

  /** The current time as ISO 8601 UTC, chapkit's wire format. */
  iso(): string {
    return new Date(this.#now).toISOString();
  }

  /** Moves the clock forward by `ms` (negative values are refused). */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`a clock only moves forward; got ${ms} ms`);
    this.#now += ms;
  }

  /** Sets the clock to `time`. */
  set(time: Date | string | number): void {
    this.#now = new Date(time).getTime();
  }
}
