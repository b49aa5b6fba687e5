/** A request handler in the web-standard shape. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/** Options of {@link serve}. */
export interface ServeOptions {
  /** TCP port; 0 picks a free one (default 8000). */
  port?: number;
  /** Interface to bind (default `0.0.0.0`). */
  hostname?: string;
  /** Largest accepted request body in bytes, where the runtime enforces one. */
  maxRequestBodySize?: number;
}

/** A listening HTTP server. */
export interface RunningServer {
  /** The bound port. */
  readonly port: number;
  /** The bound interface. */
  readonly hostname: string;
  /**
   * Stops accepting connections and waits up to `graceMs` for in-flight
   * requests to finish; after that, open connections are closed.
   */
  stop(graceMs?: number): Promise<void>;
}

interface BunServer {
  port: number;
  hostname: string;
  stop(closeActiveConnections?: boolean): Promise<void>;
}

interface DenoServer {
  addr: { port: number; hostname: string };
  shutdown(): Promise<void>;
  finished: Promise<void>;
}

interface ServeGlobals {
  Bun?: { serve(options: Record<string, unknown>): BunServer };
  Deno?: {
    serve(options: Record<string, unknown>, handler: FetchHandler): DenoServer;
  };
}

const globals = globalThis as unknown as ServeGlobals;

function within(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([promise.then(() => true), timeout]).finally(() => clearTimeout(timer));
}

/**
 * Serves `fetch` with the runtime's own HTTP server (`Bun.serve` or
 * `Deno.serve`).
 *
 * @example
 * ```ts ignore
 * const server = await serve((request) => new Response("ok"), { port: 0 });
 * await server.stop();
 * ```
 */
export function serve(fetch: FetchHandler, options: ServeOptions = {}): Promise<RunningServer> {
  const port = options.port ?? 8000;
  const hostname = options.hostname ?? "0.0.0.0";
  if (globals.Bun) {
    const server = globals.Bun.serve({
      port,
      hostname,
      fetch,
      development: false,
      ...(options.maxRequestBodySize ? { maxRequestBodySize: options.maxRequestBodySize } : {}),
    });
    return Promise.resolve({
      port: server.port,
      hostname: server.hostname,
      async stop(graceMs = 10_000): Promise<void> {
        const drained = await within(server.stop(false), graceMs);
        if (!drained) await server.stop(true);
      },
    });
  }
  if (globals.Deno) {
    const deno = globals.Deno;
    const abort = new AbortController();
    return new Promise((resolve) => {
      const server: DenoServer = deno.serve({
        port,
        hostname,
        signal: abort.signal,
        onListen(addr: { port: number; hostname: string }) {
          resolve({
            port: addr.port,
            hostname: addr.hostname,
            async stop(graceMs = 10_000): Promise<void> {
              const drained = await within(server.shutdown(), graceMs);
              if (!drained) abort.abort();
              await server.finished;
            },
          });
        },
      }, fetch);
    });
  }
  return Promise.reject(new Error("serve() needs Bun or Deno; on Node.js pass app.fetch to an adapter"));
}
