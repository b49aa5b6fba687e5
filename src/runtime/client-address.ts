const addresses = new WeakMap<Request, string>();
const peerLookups = new Set<(request: Request) => string | undefined>();

/** Records the peer address of a request the runtime's server accepted. */
export function rememberClientAddress(request: Request, address: string | undefined): void {
  if (address) addresses.set(request, address);
}

/**
 * Registers a server that can tell the peer address of its own requests while
 * they are in flight (Bun's `server.requestIP`), so the address is looked up
 * only for the requests that ask for it; returns the unregistration.
 */
export function addPeerLookup(lookup: (request: Request) => string | undefined): () => void {
  peerLookups.add(lookup);
  return () => peerLookups.delete(lookup);
}

function peerOf(request: Request): string | undefined {
  const remembered = addresses.get(request);
  if (remembered !== undefined) return remembered;
  for (const lookup of peerLookups) {
    const address = lookup(request);
    if (address) return address;
  }
  return undefined;
}

/**
 * The client's address: the leftmost `X-Forwarded-For` entry when the
 * service sits behind a proxy it trusts (`trustProxy`), else the socket's
 * peer address, else `unknown` (a request handed to `app.handle` directly).
 */
export function clientAddressOf(request: Request, options: { trustProxy?: boolean } = {}): string {
  if (options.trustProxy) {
    const forwarded = request.headers.get("x-forwarded-for")?.split(",")[0]?.trim();
    if (forwarded) return forwarded.slice(0, 64);
  }
  return peerOf(request) ?? "unknown";
}
