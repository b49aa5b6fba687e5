import { PayloadTooLargeError } from "../core/errors.ts";
import { addPeerLookup, rememberClientAddress } from "./client-address.ts";
import { markFramed } from "./framed.ts";
import { BUN_WEBSOCKET_HANDLERS, rememberUpgrader } from "./websocket.ts";

/** A request handler in the web-standard shape. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/** Options of {@link serve}. */
export interface ServeOptions {
  /** TCP port; 0 picks a free one (default 8000). */
  port?: number;
  /** Interface to bind (default `127.0.0.1`; `0.0.0.0` to accept connections from elsewhere, e.g. in a container). */
  hostname?: string;
  /**
   * Largest accepted request body in bytes: `Bun.serve`'s own
   * `maxRequestBodySize` (whose default, 128 MiB, would cut ML bodies short);
   * on Deno, whose server has no such setting, a larger `Content-Length`
   * answers 413 before the handler runs. Chunked bodies are counted by the
   * app's body parsers.
   */
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
  requestIP?(request: Request): { address: string } | null;
  upgrade?(request: Request, options: { data: unknown; headers?: Record<string, string> }): boolean;
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
    serve(options: Record<string, unknown>, handler: (request: Request, info: { remoteAddr?: { hostname?: string } }) => Response | Promise<Response>): DenoServer;
  };
}

const globals = globalThis as unknown as ServeGlobals;

function tooLarge(request: Request, limit: number): Response | undefined {
  const length = request.headers.get("content-length");
  if (length === null || !(Number(length) > limit)) return undefined;
  const problem = new PayloadTooLargeError(`Request body exceeds ${limit} bytes`).toProblem(new URL(request.url).pathname);
  return new Response(JSON.stringify(problem), { status: 413, headers: { "content-type": "application/problem+json" } });
}

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
  const hostname = options.hostname ?? "127.0.0.1";
  if (globals.Bun) {
    const server = globals.Bun.serve({
      port,
      hostname,
      // The peer address is looked up only for requests that ask for it (see client-address.ts).
      fetch(request: Request, bun: BunServer) {
        markFramed(request);
        if (request.headers.get("upgrade")) rememberUpgrader(request, (req, handlers, headers) => bun.upgrade!(req, { data: handlers, ...(headers ? { headers } : {}) }));
        return fetch(request);
      },
      websocket: BUN_WEBSOCKET_HANDLERS,
      development: false,
      ...(options.maxRequestBodySize ? { maxRequestBodySize: options.maxRequestBodySize } : {}),
    });
    const removeLookup = addPeerLookup((request) => {
      try {
        return server.requestIP?.(request)?.address;
      } catch {
        // Not a request of this server, or one that has ended.
        return undefined;
      }
    });
    return Promise.resolve({
      port: server.port,
      hostname: server.hostname,
      async stop(graceMs = 10_000): Promise<void> {
        removeLookup();
        const drained = await within(server.stop(false), graceMs);
        if (!drained) await server.stop(true);
      },
    });
  }
  if (globals.Deno) {
    const deno = globals.Deno;
    const limit = options.maxRequestBodySize;
    const handler = (request: Request, info: { remoteAddr?: { hostname?: string } }): Response | Promise<Response> => {
      rememberClientAddress(request, info.remoteAddr?.hostname);
      markFramed(request);
      return (limit ? tooLarge(request, limit) : undefined) ?? fetch(request);
    };
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
      }, handler);
    });
  }
  return Promise.reject(new Error("serve() needs Bun or Deno; on Node.js pass app.fetch to an adapter"));
}
