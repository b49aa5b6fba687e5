import { UnauthorizedError } from "../../core/errors.ts";
import type { AuthBackend } from "../../http/auth-backend.ts";
import type { AuthPrincipal } from "../../http/auth-guard.ts";
import { clientAddressOf } from "../../runtime/client-address.ts";
import { type AddressRange, addressBytes, inRange, parseRange } from "./_cidr.ts";
import type { ApiKeys } from "./api-keys.ts";
import type { Sessions } from "./sessions.ts";

/** The built-in API key backend: static and issued keys in a header (default `X-API-Key`). */
export function apiKeyBackend(keys: ApiKeys, header = "x-api-key"): AuthBackend {
  const name = header.toLowerCase();
  return {
    name: "api_key",
    async authenticate(request: Request): Promise<AuthPrincipal | null> {
      const key = request.headers.get(name);
      if (key === null) return null;
      const principal = await keys.authenticate(key.trim());
      if (!principal) throw new UnauthorizedError("Invalid API key");
      return principal;
    },
  };
}

/** The built-in bearer backend: access tokens (JWT) of live sessions in `Authorization: Bearer`. */
export function bearerTokenBackend(sessions: Sessions): AuthBackend {
  return {
    name: "bearer",
    async authenticate(request: Request): Promise<AuthPrincipal | null> {
      const authorization = request.headers.get("authorization");
      if (authorization === null) return null;
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      const principal = match ? await sessions.authenticate(match[1]!) : null;
      if (!principal) {
        throw new UnauthorizedError("Invalid or expired token", {
          headers: { "WWW-Authenticate": 'Bearer realm="chapkit", error="invalid_token"' },
        });
      }
      return principal;
    },
  };
}

/** Options of {@link trustedHeaderBackend}. */
export interface TrustedHeaderOptions {
  /**
   * Peer addresses or CIDR ranges of the proxies allowed to vouch
   * (`10.0.0.0/8`, `::1`). The socket's peer address is checked, never
   * `X-Forwarded-For`. Required: an empty list trusts no one.
   */
  trustedProxies: readonly string[];
  /** Header holding the authenticated user's name (default `X-Forwarded-User`). */
  userHeader?: string;
  /** Header holding the user's role (default none: every user gets `role`). */
  roleHeader?: string;
  /** Roles the role header may name (default `["viewer", "editor"]`); any other is refused. */
  allowedRoles?: readonly string[];
  /** Role when no role header is configured or sent (default `viewer`). */
  role?: string;
  /** Header holding the user's tenant (multi-tenant services; default none). */
  tenantHeader?: string;
}

/**
 * An example backend for deployments behind an authenticating reverse proxy
 * (oauth2-proxy, an API gateway, Pomerium): the proxy puts the user's name
 * (and optionally role) in a header. The header is believed only when the
 * TCP peer is one of `trustedProxies`; from anyone else it is a 401, so a
 * client that reaches the service directly cannot claim to be someone.
 * Strip these headers from client requests at the proxy.
 *
 * @example
 * ```ts ignore
 * new ServiceBuilder({ info }).withAuth({
 *   backends: [trustedHeaderBackend({ trustedProxies: ["10.0.0.0/8"], roleHeader: "X-Forwarded-Role" })],
 * });
 * ```
 */
export function trustedHeaderBackend(options: TrustedHeaderOptions): AuthBackend {
  const ranges: AddressRange[] = options.trustedProxies.map(parseRange);
  const userHeader = (options.userHeader ?? "x-forwarded-user").toLowerCase();
  const roleHeader = options.roleHeader?.toLowerCase();
  const tenantHeader = options.tenantHeader?.toLowerCase();
  const allowed = new Set(options.allowedRoles ?? ["viewer", "editor"]);
  const fallbackRole = options.role ?? "viewer";
  return {
    name: "trusted_header",
    authenticate(request: Request): AuthPrincipal | null {
      const user = request.headers.get(userHeader)?.trim();
      if (!user) return null;
      const peer = addressBytes(clientAddressOf(request));
      if (!peer || !ranges.some((range) => inRange(peer, range))) {
        throw new UnauthorizedError("Identity header from an untrusted source");
      }
      const role = (roleHeader ? request.headers.get(roleHeader)?.trim() : undefined) || fallbackRole;
      if (!allowed.has(role) && role !== fallbackRole) throw new UnauthorizedError(`Role ${role} may not be asserted by the proxy`);
      const tenant = tenantHeader ? request.headers.get(tenantHeader)?.trim() || null : undefined;
      return {
        kind: "external",
        id: user.slice(0, 256),
        name: user.slice(0, 256),
        role,
        scopes: null,
        ...(tenant === undefined ? {} : { tenantId: tenant }),
      };
    },
  };
}
