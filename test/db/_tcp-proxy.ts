/** A TCP proxy a test can cut and restore, to play a database server that goes away and comes back. */
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { DATABASE_URL } from "../_support/stores.ts";

/** Sees the bytes of one proxied connection: `toServer` from the client, else from the upstream. */
export type ProxyObserver = (connection: object, toServer: boolean, chunk: Uint8Array) => void;

/** A proxy from a local port to an upstream host and port. */
export class TcpProxy {
  readonly #upstream: { host: string; port: number };
  readonly #observe: ProxyObserver | undefined;
  readonly #sockets = new Set<Socket>();
  #server: Server | null = null;
  #stalled = false;
  #port = 0;

  constructor(upstream: { host: string; port: number }, port = 0, observe?: ProxyObserver) {
    this.#upstream = upstream;
    this.#port = port;
    this.#observe = observe;
  }

  /** The local port (known once the proxy has listened). */
  get port(): number {
    return this.#port;
  }

  /** Starts accepting connections (again, on the same port after {@link TcpProxy.cut}). */
  async listen(): Promise<void> {
    const server = createServer((client) => this.#pipe(client));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.#port, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    if (address && typeof address === "object") this.#port = address.port;
    this.#server = server;
  }

  /** Stops listening (new connections are refused) and destroys every proxied socket. */
  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * Plays a server that stops answering without refusing: connections are
   * still accepted but no byte passes; the proxied connections are dropped.
   */
  stall(): void {
    this.#stalled = true;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }

  /** Ends {@link TcpProxy.stall}: held connections are dropped, new ones pass again. */
  resume(): void {
    this.#stalled = false;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }

  #pipe(client: Socket): void {
    if (this.#stalled) {
      this.#sockets.add(client);
      client.on("error", () => client.destroy());
      return;
    }
    const upstream = createConnection(this.#upstream);
    this.#sockets.add(client);
    this.#sockets.add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      this.#sockets.delete(client);
      this.#sockets.delete(upstream);
    };
    client.on("error", drop);
    upstream.on("error", drop);
    client.on("close", drop);
    upstream.on("close", drop);
    const observe = this.#observe;
    if (observe) {
      const connection = {};
      client.on("data", (chunk: Uint8Array) => observe(connection, true, chunk));
      upstream.on("data", (chunk: Uint8Array) => observe(connection, false, chunk));
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address !== "object") throw new Error("no port");
  return address.port;
}

/** DATABASE_URL pointed at a local port (and optionally with a password). */
export function databaseUrlAt(port: number, password?: string): string {
  const url = new URL(DATABASE_URL);
  url.hostname = "127.0.0.1";
  url.port = String(port);
  if (password) url.password = password;
  return url.toString();
}

/** A proxy in front of the test PostgreSQL server (`DATABASE_URL`), not yet listening. */
export function postgresProxy(port = 0, observe?: ProxyObserver): TcpProxy {
  const upstream = new URL(DATABASE_URL);
  return new TcpProxy({ host: upstream.hostname, port: Number(upstream.port || 5432) }, port, observe);
}
