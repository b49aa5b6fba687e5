import { UnavailableError } from "../core/errors.ts";

/** The store did not answer within a deadline: as good as unreachable, for its circuit breaker too. */
export class NoAnswerError extends UnavailableError {}

/** Settles like `work`, or rejects with a {@link NoAnswerError} saying `what` did not answer within `ms`. */
export async function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NoAnswerError(`${what} did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
