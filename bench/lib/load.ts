// Load generator, run as its own process: `bun bench/lib/load.ts '<json options>'`.
// N keep-alive HTTP/1.1 connections over raw sockets (Bun.connect), each
// sending its next request when the previous response is complete (no
// pipelining). Raw sockets cost the generator a fraction of the CPU of
// `fetch`, which matters on a small machine where generator and server
// share the cores. Prints one JSON line: {requests, errors, seconds, rps,
// histogram}; the histogram maps 10 µs latency buckets to counts so that
// several generator processes can be merged by the parent.

/** One request of a load; `{i}` in path and body is replaced by a counter. */
export interface LoadRequest {
  method: string;
  path: string;
  body?: string;
}

/** What one generator process runs. */
export interface LoadOptions {
  /** Base URL of the server (`http://host:port`). */
  base: string;
  /** Requests to cycle through. */
  requests: LoadRequest[];
  /** Concurrent keep-alive connections. */
  connections: number;
  durationMs: number;
  warmupMs: number;
  /** Prefix of the `{i}` counter, so that several processes make distinct names. */
  tag?: string;
}

/** Latency histogram bucket width, in milliseconds. */
export const BUCKET_MS = 0.01;

const CRLF2 = Buffer.from("\r\n\r\n");
const CONTENT_LENGTH = /\r\ncontent-length:\s*(\d+)/i;
const CHUNKED = /\r\ntransfer-encoding:\s*chunked/i;
const LAST_CHUNK = Buffer.from("0\r\n\r\n");

interface Socket {
  write(data: string | Uint8Array): number;
  end(): void;
}

async function main(options: LoadOptions): Promise<void> {
  const url = new URL(options.base);
  const host = `Host: ${url.host}\r\n`;
  const tag = options.tag ?? "";
  const histogram = new Map<number, number>();
  const fixed = options.requests.map((spec) =>
    spec.path.includes("{i}") || spec.body?.includes("{i}") ? undefined : Buffer.from(encode(spec, ""))
  );
  let requests = 0;
  let errors = 0;
  let counter = 0;
  let recording = false;
  let deadline = 0;

  function encode(spec: LoadRequest, n: string): string {
    const path = spec.path.replaceAll("{i}", n);
    if (spec.body === undefined) return `${spec.method} ${path} HTTP/1.1\r\n${host}\r\n`;
    const body = spec.body.replaceAll("{i}", n);
    return `${spec.method} ${path} HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  }

  function nextRequest(): string | Uint8Array {
    const i = counter++;
    const k = i % options.requests.length;
    return fixed[k] ?? encode(options.requests[k]!, tag + String(i));
  }

  const connection = (): Promise<void> =>
    new Promise((resolve, reject) => {
      let buffer: Buffer = Buffer.alloc(0);
      let expected = -1; // total bytes of the current response, -1 = headers not parsed, -2 = chunked
      let headerEnd = 0;
      let status = 0;
      let started = 0;
      const send = (socket: Socket): void => {
        if (performance.now() >= deadline) {
          socket.end();
          return resolve();
        }
        started = performance.now();
        socket.write(nextRequest());
      };
      const complete = (socket: Socket): void => {
        if (recording) {
          const bucket = Math.floor((performance.now() - started) / BUCKET_MS);
          histogram.set(bucket, (histogram.get(bucket) ?? 0) + 1);
          requests++;
          if (status >= 400) errors++;
        }
        buffer = Buffer.alloc(0);
        expected = -1;
        send(socket);
      };
      Bun.connect({
        hostname: url.hostname,
        port: Number(url.port),
        socket: {
          open: (socket) => send(socket),
          data(socket, data) {
            buffer = buffer.length === 0 ? data : Buffer.concat([buffer, data]);
            if (expected === -1) {
              const end = buffer.indexOf(CRLF2);
              if (end < 0) return;
              headerEnd = end + 4;
              const head = buffer.toString("latin1", 0, end);
              status = Number(head.slice(9, 12));
              const length = CONTENT_LENGTH.exec(head);
              expected = length ? headerEnd + Number(length[1]) : CHUNKED.test(head) ? -2 : headerEnd;
            }
            if (expected === -2) {
              const tail = buffer.subarray(buffer.length - 5);
              if (buffer.length - headerEnd >= 5 && tail.equals(LAST_CHUNK)) complete(socket);
              return;
            }
            if (buffer.length >= expected) complete(socket);
          },
          close() {
            if (performance.now() < deadline) reject(new Error("server closed a keep-alive connection"));
          },
          error(_socket, error) {
            reject(error);
          },
        },
      }).catch(reject);
    });

  // The same connections carry the warm-up and the measured run.
  let start = performance.now() + options.warmupMs;
  deadline = start + options.durationMs;
  setTimeout(() => {
    recording = true;
    start = performance.now();
    deadline = start + options.durationMs;
  }, options.warmupMs);
  await Promise.all(Array.from({ length: options.connections }, connection));
  const seconds = (performance.now() - start) / 1000;
  console.log(JSON.stringify({ requests, errors, seconds, rps: requests / seconds, histogram: Object.fromEntries(histogram) }));
}

if (import.meta.main) await main(JSON.parse(process.argv[2] ?? "{}") as LoadOptions);
