import { NotFoundError } from "../../core/errors.ts";

/** Runs `run`, turning its not-found error into the route's own `detail` at `instance`. */
export async function located<T>(detail: string, instance: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof NotFoundError) throw new NotFoundError(detail, { instance });
    throw error;
  }
}
