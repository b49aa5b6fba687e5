/**
 * The circuit breaker of a store: while the database is unreachable, calls
 * fail at once with a 503 problem carrying `Retry-After` instead of waiting on
 * connection attempts, and a background probe closes the circuit as soon as
 * the server accepts connections again.
 */
import { CircuitBreaker, CircuitOpenError } from "../core/circuit-breaker.ts";
import { ChapkitError, UnavailableError } from "../core/errors.ts";
import { NoAnswerError } from "./_deadline.ts";
import { isConnectionError, mapDriverError } from "./sql-errors.ts";

/** Options of a store's circuit breaker. */
export interface StoreCircuitOptions {
  /** Consecutive connection failures that open the circuit (default 3). */
  failureThreshold?: number;
  /** Milliseconds between probes while open (default 500): recovery shows within this after the server is back. */
  probeIntervalMs?: number;
}

/** Whether an error (raw, or a chapkit error wrapping one) says the store could not be reached. */
export function isStoreUnreachable(error: unknown): boolean {
  if (error instanceof CircuitOpenError) return false;
  if (isConnectionError(error) || error instanceof NoAnswerError) return true;
  return error instanceof ChapkitError && isConnectionError(error.cause);
}

/** A breaker named `Database` that counts only connection failures; `probe` runs while it is open. */
export function storeCircuit(options: StoreCircuitOptions, probe: () => Promise<unknown>): CircuitBreaker {
  return new CircuitBreaker({
    name: "Database",
    failureThreshold: options.failureThreshold ?? 3,
    probeIntervalMs: options.probeIntervalMs ?? 500,
    isFailure: isStoreUnreachable,
    probe,
  });
}

/**
 * Runs one store call through the breaker: rejected at once while open; a
 * connection failure is counted and rethrown as a 503 with `Retry-After`;
 * any other outcome proves the store answered.
 */
export async function throughCircuit<T>(circuit: CircuitBreaker, work: () => Promise<T>): Promise<T> {
  circuit.admit();
  try {
    const result = await work();
    circuit.record();
    return result;
  } catch (error) {
    circuit.record(error);
    throw unavailableWithRetry(mapDriverError(error), circuit);
  }
}

function unavailableWithRetry(error: unknown, circuit: CircuitBreaker): unknown {
  if (!(error instanceof UnavailableError) || !isStoreUnreachable(error) || error.headers["Retry-After"]) return error;
  return new UnavailableError(error.message, {
    headers: { ...error.headers, "Retry-After": String(circuit.retryAfterSeconds()) },
    cause: error.cause,
  });
}
