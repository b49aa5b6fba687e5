import { Elysia } from "elysia";
import { CircuitOpenError } from "../core/circuit-breaker.ts";
import type { Logger } from "../core/logging.ts";
import type { Monitoring } from "../observability/monitoring.ts";
import { fromElysiaError } from "./elysia-errors.ts";
import { problemResponse } from "./problem-response.ts";

/** Options of {@link errorHandler}. */
export interface ErrorHandlerOptions {
  /** Where unexpected errors are logged with their stack. */
  logger: Logger;
  /** Counts each problem answered in `chapkit_errors_total{type}`. */
  monitoring?: Monitoring;
  /** The prefix the service is mounted under: added to problem `instance` paths the raiser wrote without it. */
  basePath?: string;
  /** Replaces `urn:chapkit:error:` in problem types (the chap profile uses `urn:servicekit:error:`). */
  typePrefix?: string;
}

/**
 * The one error handler of a chapkit service: every error (chapkit errors,
 * request validation, malformed JSON, unknown routes, unexpected throws)
 * becomes an RFC 9457 `application/problem+json` response. Unexpected errors
 * answer 500 `urn:chapkit:error:internal`; their stack goes to the log only.
 * The hooks apply to the app that uses this plugin and to its plugins.
 */
export function errorHandler(options: ErrorHandlerOptions): Elysia {
  const { logger, monitoring } = options;
  const basePath = options.basePath ?? "";
  return new Elysia().onError({ as: "scoped" }, ({ code, error, path, set, request }) => {
    const problem = fromElysiaError(code, error);
    // A request refused by an open breaker is expected while a dependency is down: the
    // breaker's own state change is logged once, not a stack per request.
    if (problem.status >= 500 && !(problem instanceof CircuitOpenError)) {
      logger.error("http.request.error", {
        request_id: set.headers["x-request-id"],
        method: request.method,
        path,
        error: problem.cause ?? problem,
      });
    } else {
      logger.debug("chapkit.error", { path, status: problem.status, type: problem.type, detail: problem.message });
    }
    monitoring?.recordError(problem.type);
    set.status = problem.status;
    return problemResponse(problem, path, basePath, options.typePrefix);
  }) as unknown as Elysia;
}
