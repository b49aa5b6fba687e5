import { largestBodyLimit } from "../http/body-limit.ts";
import { serve } from "../runtime/serve.ts";
import { watch } from "node:fs";
import { exitProcess, onHangup, onTermination } from "../runtime/signals.ts";
import type { ServiceApp } from "./lifecycle.ts";

/** Options of {@link listenService}. */
export interface ListenOptions {
  /** TCP port (default 8000; 0 picks a free one). Through a builder's `listen()`, `PORT` overrides it. */
  port?: number;
  /** Interface (default `127.0.0.1`; `0.0.0.0` in containers). Through a builder's `listen()`, `HOST` overrides it. */
  hostname?: string;
  /** How long in-flight requests may take to finish on shutdown (default 10 s). */
  graceMs?: number;
  /**
   * Own the process (default true): SIGTERM/SIGINT and `POST /api/v1/system/$drain`
   * drain the instance (readiness 503 for `drainDelayMs`, in-flight requests
   * finish, the service closes, the process exits 0); SIGHUP and a change of
   * the config file reload the settings.
   */
  handleSignals?: boolean;
  /** How long readiness answers 503 before the server stops accepting, when draining (default 0). */
  drainDelayMs?: number;
  /** Reload when the config file changes (default true). */
  watchConfig?: boolean;
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
  const cleanups: Array<() => void> = [];
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      for (const cleanup of cleanups) cleanup();
      await server.stop(options.graceMs ?? 10_000);
      await app.chapkit.close();
      logger.info("service.stopped", { port: server.port });
    })();
    return stopping;
  };
  if (options.handleSignals !== false) ownProcess(app, stop, options, cleanups);
  const host = hostname === "0.0.0.0" ? "127.0.0.1" : hostname;
  logger.info("service.started", { url: `http://${host}:${server.port}` });
  return { app, port: server.port, url: `http://${host}:${server.port}`, stop };
}

/** Wires draining (SIGTERM, SIGINT, `$drain`) and reloading (SIGHUP, config-file changes) of a served process. */
function ownProcess(app: ServiceApp, stop: () => Promise<void>, options: ListenOptions, cleanups: Array<() => void>): void {
  const { logger } = app.chapkit.context;
  const readiness = app.chapkit.readiness;
  cleanups.push(readiness.onDrain((reason) => {
    logger.info("service.draining", { reason, drain_delay_ms: options.drainDelayMs ?? 0 });
    setTimeout(() => {
      stop().then(() => exitProcess(0), (error) => {
        logger.error("service.stop_failed", { error });
        exitProcess(1);
      });
    }, options.drainDelayMs ?? 0);
  }));
  cleanups.push(onTermination((signal) => readiness.drain(signal)));
  const reload = (trigger: string): void => {
    app.chapkit.reload().catch((error: unknown) =>
      logger.error("settings.reload_failed", { trigger, detail: error instanceof Error ? error.message : String(error) })
    );
  };
  cleanups.push(onHangup(() => reload("SIGHUP")));
  const file = app.chapkit.settings.filePath;
  if (file && options.watchConfig !== false) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      // Editors write a file in several steps: reload once, shortly after the last.
      const watcher = watch(file, () => {
        clearTimeout(timer);
        timer = setTimeout(() => reload("config file"), 100);
      });
      cleanups.push(() => {
        clearTimeout(timer);
        watcher.close();
      });
    } catch (error) {
      logger.warn("settings.watch_failed", { file, detail: error instanceof Error ? error.message : String(error) });
    }
  }
}
