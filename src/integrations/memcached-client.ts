/**
 * A small Memcached client over the text protocol (`get`, `set`, `add`,
 * `delete`) on `node:net`, which Bun and Deno both implement: requests are
 * pipelined on one connection, reconnected on the first command after a
 * failure. It is what the Memcached cache backend needs and nothing more.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { connect, type Socket } from "node:net";

/** How a {@link MemcachedClient} connects. */
export interface MemcachedClientOptions {
  /** Milliseconds a connection attempt or a reply may take (default 2 000). */
  timeoutMs?: number;
}

type Pending =
  | { kind: "get"; values: Map<string, Uint8Array>; resolve(values: Map<string, Uint8Array>): void; reject(error: Error): void }
  | { kind: "store" | "delete"; resolve(done: boolean): void; reject(error: Error): void };

const CRLF = Buffer.from("\r\n");

/** A Memcached server error answer (`ERROR`, `CLIENT_ERROR …`, `SERVER_ERROR …`) or a lost connection. */
export class MemcachedError extends Error {
  /** Creates the error. */
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = "MemcachedError";
  }
}

/** One connection to one Memcached server; see the module doc. */
export class MemcachedClient {
  readonly #host: string;
  readonly #port: number;
  readonly #timeoutMs: number;
  #socket: Promise<Socket> | null = null;
  #buffer: Buffer = Buffer.alloc(0);
  readonly #pending: Pending[] = [];
  #closed = false;

  /** A client of `host:port`; nothing connects before the first command. */
  constructor(host: string, port: number, options: MemcachedClientOptions = {}) {
    this.#host = host;
    this.#port = port;
    this.#timeoutMs = options.timeoutMs ?? 2000;
  }

  /** The values of the keys that exist (keys must be valid Memcached keys). */
  async getMany(keys: readonly string[]): Promise<Map<string, Uint8Array>> {
    const values = new Map<string, Uint8Array>();
    // Memcached reads a request line in pieces, but one line of thousands of keys gains nothing.
    for (let start = 0; start < keys.length; start += 100) {
      const chunk = keys.slice(start, start + 100);
      await new Promise<Map<string, Uint8Array>>((resolve, reject) => {
        this.#send(Buffer.from(`get ${chunk.join(" ")}\r\n`), { kind: "get", values, resolve, reject });
      });
    }
    return values;
  }

  /** `set` (always stores) or `add` (stores only when the key holds nothing); true when stored. */
  store(command: "set" | "add", key: string, value: Uint8Array, exptime: number): Promise<boolean> {
    const head = Buffer.from(`${command} ${key} 0 ${exptime} ${value.byteLength}\r\n`);
    return new Promise((resolve, reject) => {
      this.#send(Buffer.concat([head, value, CRLF]), { kind: "store", resolve, reject });
    });
  }

  /** Deletes a key; true when it existed. */
  delete(key: string): Promise<boolean> {
    return new Promise((resolve, reject) => this.#send(Buffer.from(`delete ${key}\r\n`), { kind: "delete", resolve, reject }));
  }

  /** Closes the connection; later commands fail. */
  async close(): Promise<void> {
    this.#closed = true;
    const socket = this.#socket;
    this.#socket = null;
    this.#fail(new MemcachedError("Memcached client closed"));
    if (socket) (await socket.catch(() => null))?.destroy();
  }

  #send(bytes: Buffer, pending: Pending): void {
    if (this.#closed) return pending.reject(new MemcachedError("Memcached client closed"));
    this.#connection().then((socket) => {
      this.#pending.push(pending);
      socket.write(bytes);
    }, (error: unknown) => pending.reject(error instanceof Error ? error : new MemcachedError(String(error))));
  }

  #connection(): Promise<Socket> {
    this.#socket ??= new Promise<Socket>((resolve, reject) => {
      const socket = connect({ host: this.#host, port: this.#port });
      socket.setNoDelay(true);
      socket.setTimeout(this.#timeoutMs);
      const fail = (error: Error) => {
        socket.destroy();
        this.#socket = null;
        this.#buffer = Buffer.alloc(0);
        this.#fail(new MemcachedError(`Memcached ${this.#host}:${this.#port}: ${error.message}`, { cause: error }));
        reject(new MemcachedError(`Memcached ${this.#host}:${this.#port} is unreachable: ${error.message}`, { cause: error }));
      };
      socket.once("connect", () => resolve(socket));
      socket.on("error", fail);
      socket.on("timeout", () => {
        // An idle connection is fine; a silent one with replies owed is dead.
        if (this.#pending.length > 0) fail(new Error("no reply in time"));
      });
      socket.on("close", () => fail(new Error("connection closed")));
      socket.on("data", (chunk: Buffer) => this.#read(chunk));
    });
    return this.#socket;
  }

  #fail(error: Error): void {
    for (const pending of this.#pending.splice(0)) pending.reject(error);
  }

  #read(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const head = this.#pending[0];
      if (!head) return;
      const end = this.#buffer.indexOf(CRLF);
      if (end < 0) return;
      const line = this.#buffer.toString("latin1", 0, end);
      if (head.kind === "get" && line.startsWith("VALUE ")) {
        const [, key = "", , bytes = "0"] = line.split(" ");
        const size = Number(bytes);
        if (this.#buffer.length < end + 2 + size + 2) return;
        head.values.set(key, new Uint8Array(this.#buffer.subarray(end + 2, end + 2 + size)));
        this.#buffer = this.#buffer.subarray(end + 2 + size + 2);
        continue;
      }
      this.#buffer = this.#buffer.subarray(end + 2);
      this.#pending.shift();
      if (line === "ERROR" || line.startsWith("CLIENT_ERROR") || line.startsWith("SERVER_ERROR")) {
        head.reject(new MemcachedError(`Memcached answered ${line}`));
      } else if (head.kind === "get") {
        head.resolve(head.values);
      } else {
        head.resolve(line === "STORED" || line === "DELETED");
      }
    }
  }
}
