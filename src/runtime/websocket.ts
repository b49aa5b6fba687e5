/**
 * Server-side WebSockets on Bun (`server.upgrade` with the `websocket`
 * handlers {@link serve} installs) and Deno (`Deno.upgradeWebSocket`), behind
 * one function. Works for requests that reached `serve()`; a request handed
 * to `app.handle` directly cannot be upgraded.
 */

/** The server side of one connection. */
export interface ServerSocket {
  /** Sends a text frame; ignored once closed. */
  send(text: string): void;
  /** Closes the connection. */
  close(code?: number, reason?: string): void;
}

/** What a connection does. */
export interface SocketHandlers {
  /** The connection is open. */
  open(socket: ServerSocket): void;
  /** A text (or binary, decoded as UTF-8) frame arrived. */
  message(socket: ServerSocket, text: string): void;
  /** The connection closed. */
  close(): void;
}

/** How `serve()` upgrades a request on Bun; `headers` go on the 101 answer (e.g. the chosen subprotocol). */
type Upgrader = (request: Request, handlers: SocketHandlers, headers?: Record<string, string>) => boolean;

const upgraders = new WeakMap<Request, Upgrader>();

/** Records how a request accepted by `serve()` on Bun is upgraded. */
export function rememberUpgrader(request: Request, upgrade: Upgrader): void {
  upgraders.set(request, upgrade);
}

interface BunSocket {
  data: SocketHandlers & { socket?: ServerSocket };
  send(text: string): void;
  close(code?: number, reason?: string): void;
}

/** The `websocket` option of `Bun.serve` that dispatches to each connection's handlers. */
export const BUN_WEBSOCKET_HANDLERS: Record<string, unknown> = {
  open(ws: BunSocket): void {
    const socket: ServerSocket = { send: (text) => ws.send(text), close: (code, reason) => ws.close(code, reason) };
    ws.data.socket = socket;
    ws.data.open(socket);
  },
  message(ws: BunSocket, message: string | Uint8Array): void {
    ws.data.message(ws.data.socket!, typeof message === "string" ? message : new TextDecoder().decode(message));
  },
  close(ws: BunSocket): void {
    ws.data.close();
  },
};

interface DenoUpgrade {
  Deno?: { upgradeWebSocket(request: Request, options?: { protocol?: string }): { socket: WebSocket; response: Response } };
}

/**
 * Upgrades `request` to a WebSocket served by `handlers`, answering
 * `options.protocol` as the chosen subprotocol when given. Returns the
 * response to answer with (Deno's 101; on Bun a placeholder the server
 * ignores), or null when the request cannot be upgraded here (not a
 * WebSocket handshake, or not received by `serve()`).
 */
export function upgradeWebSocket(request: Request, handlers: SocketHandlers, options: { protocol?: string } = {}): Response | null {
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") return null;
  const bun = upgraders.get(request);
  const headers = options.protocol ? { "sec-websocket-protocol": options.protocol } : undefined;
  if (bun) return bun(request, handlers, headers) ? new Response(null, { status: 200 }) : null;
  const deno = (globalThis as unknown as DenoUpgrade).Deno;
  if (!deno) return null;
  let upgraded: { socket: WebSocket; response: Response };
  try {
    upgraded = deno.upgradeWebSocket(request, options.protocol ? { protocol: options.protocol } : undefined);
  } catch {
    return null;
  }
  const { socket: ws, response } = upgraded;
  const socket: ServerSocket = {
    send: (text) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(text);
    },
    close: (code, reason) => ws.close(code, reason),
  };
  ws.onopen = () => handlers.open(socket);
  ws.onmessage = (event) => handlers.message(socket, typeof event.data === "string" ? event.data : new TextDecoder().decode(event.data as ArrayBuffer));
  ws.onclose = () => handlers.close();
  return response;
}
