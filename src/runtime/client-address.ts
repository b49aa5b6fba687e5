const addresses = new WeakMap<Request, string>();

/** Records the peer address of a request the runtime's server accepted. */
export function rememberClientAddress(request: Request, address: string | undefined): void {
  if (address) addresses.set(request, address);
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
  return addresses.get(request) ?? "unknown";
}
