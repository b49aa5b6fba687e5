import type { AuthPrincipal } from "./auth-guard.ts";

/**
 * One way of authenticating a request (API keys, bearer tokens, a gateway
 * header, mTLS, LDAP…). The auth guard asks its backends in order; the first
 * to answer with a principal wins.
 *
 * Contract: return `null` when the request carries no credentials of this
 * backend's kind (the next backend is asked), a principal when they are
 * good, and throw an `UnauthorizedError` (or `RateLimitedError`) when they
 * are present but bad (no other backend is asked).
 *
 * @example
 * ```ts ignore
 * const mtls: AuthBackend = {
 *   name: "mtls",
 *   authenticate: (request) => {
 *     const subject = request.headers.get("x-client-cert-subject");
 *     return subject ? { kind: "external", id: subject, name: subject, role: "viewer" } : null;
 *   },
 * };
 * new ServiceBuilder({ info }).withAuth({ backends: [mtls] });
 * ```
 */
export interface AuthBackend {
  /** A short name for logs and the audit log (`api_key`, `bearer`, `trusted_header`). */
  readonly name: string;
  /** The principal behind the request's credentials of this kind, or null when it carries none. */
  authenticate(request: Request): AuthPrincipal | null | Promise<AuthPrincipal | null>;
}

/** Asks each backend in order; the first principal wins, null when none found credentials. */
export async function authenticateWith(backends: readonly AuthBackend[], request: Request): Promise<AuthPrincipal | null> {
  for (const backend of backends) {
    const principal = await backend.authenticate(request);
    if (principal) return principal;
  }
  return null;
}
