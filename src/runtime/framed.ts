/**
 * Requests that arrived over the runtime's HTTP server, whose body the
 * connection's framing ends at its `Content-Length`: a reader may take such a
 * body whole once the declared length is within its limit. A request made in
 * process can claim any length, so it is not marked.
 *
 * @module
 */

const framed = new WeakSet<Request>();

/** Marks a request the HTTP server received (done by `serve` for each one). */
export function markFramed(request: Request): void {
  framed.add(request);
}

/** Whether the HTTP server received this request, so its body ends at its declared length. */
export function isFramed(request: Request): boolean {
  return framed.has(request);
}
