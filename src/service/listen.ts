import { largestBodyLimit } from "../http/body-limit.ts";
import { serve } from "../runtime/serve.ts";
import { exitProcess, onTermination } from "../runtime/signals.ts";
import type { ServiceApp } from "./lifecycle.ts";

/** Options of {@link listenService}. */
export interface ListenOptions {
  /** TCP port (default 8000; 0 picks a free one). Through a builder's `listen()`, `PORT` overrides it. */
  port?: number;
  /** Interface (default `127.0.0.1`; `0.0.0.0` in containers). Through a builder's `listen()`, `HOST` overrides it. */
  hostname?: string;
  /** How long in-flight requests may take to finish on shutdown (default 10 s). */
  graceMs?: number;
  /** Stop gracefully and exit on SIGTERM/SIGINT (default true). */
  handleSignals?: boolean;
}

/** A service that is serving. */
export interface RunningService {
  /** The app being served. */
  readonly app: ServiceApp;
  /** The bound port. */
  readonly port: number;
  /** `http://host:port` to reach it. */
  readonly url: string;
  /**
   * Stops accepting connections, lets in-flight requests finish (bounded),
   * then closes the service (hooks, modules, store).
   */
  stop(): Promise<void>;
}

/** Serves a built service with the runtime's HTTP server and wires graceful shutdown. */
export async function listenService(app: ServiceApp, options: ListenOptions = {}): Promise<RunningService> {
  const port = options.port ?? 8000;
  const hostname = options.hostname ?? "127.0.0.1";
  const logger = app.chapkit.context.logger;
  const server = await serve((request) => app.handle(request), {
    port,
    hostname,
    maxRequestBodySize: largestBodyLimit(app.chapkit.bodyLimits),
  });
  let removeSignals = (): void => {};
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      removeSignals();
      await server.stop(options.graceMs ?? 10_000);
      await app.chapkit.close();
      logger.info("service.stopped", { port: server.port });
    })();
    return stopping;
  };
  if (options.handleSignals !== false) {
    removeSignals = onTermination((signal) => {
      logger.info("service.stopping", { signal });
      stop().then(() => exitProcess(0), (error) => {
        logger.error("service.stop_failed", { error });
        exitProcess(1);
      });
    });
  }
  const host = hostname === "0.0.0.0" ? "127.0.0.1" : hostname;
  logger.info("service.started", { url: `http://${host}:${server.port}` });
  return { app, port: server.port, url: `http://${host}:${server.port}`, stop };
}
