import { createHash, randomBytes } from "node:crypto";
import { UnauthorizedError, ValidationError } from "../../core/errors.ts";
import type { ExternalIdentity } from "./identities.ts";
import { safeRedirect } from "./_redirect.ts";
import type { Tickets } from "./tickets.ts";

/** The claims of an ID token or a userinfo answer. */
export type OidcClaims = Record<string, unknown> & { sub: string };

/** Claim → role mapping: the first value of `claim` found in `values` (in the map's order) names the role. */
export interface OidcRoleMapping {
  /** The claim to read, e.g. `groups` or `roles` (a string or an array of strings). */
  claim: string;
  /** Claim value → role, first match wins. */
  values: Record<string, string>;
}

/** One identity provider of `withAuth({ oidc })`. */
export interface OidcProviderConfig {
  /** The name in the routes (`/auth/oidc/{name}/$login`) and in linked identities. */
  name: string;
  /** The OpenID issuer; its discovery document is read from `{issuer}/.well-known/openid-configuration`. Absent for a plain OAuth2 provider (GitHub). */
  issuer?: string;
  /** The client id registered at the provider. */
  clientId: string;
  /** The client secret (omit for a public client that relies on PKCE alone). */
  clientSecret?: string;
  /** Scopes asked for (default `openid email profile`). */
  scopes?: readonly string[];
  /** How the client authenticates at the token endpoint (default `client_secret_basic`). */
  tokenAuth?: "client_secret_basic" | "client_secret_post";
  /** Endpoints of a plain OAuth2 provider (no ID token): the person is read from `userinfo`. */
  endpoints?: { authorization: string; token: string; userinfo: string };
  /** Turns a plain OAuth2 provider's userinfo into claims (`sub`, `email`, `email_verified`, …); may call further APIs with the access token. */
  profile?(userinfo: Record<string, unknown>, accessToken: string): OidcClaims | Promise<OidcClaims>;
  /** Claims → role: a mapping, or a function answering a role (or null for the default). */
  roles?: OidcRoleMapping | ((claims: OidcClaims) => string | null | undefined);
  /** Create a user at the first login of an unknown person (default true). */
  createUsers?: boolean;
  /** Role of created users when no mapping applies (default `viewer`). */
  defaultRole?: string;
  /** Tenant of users created through this provider. */
  tenantId?: string;
}

/** Options of `withAuth({ oidc })`. */
export interface OidcOptions {
  /** The identity providers. */
  providers: readonly OidcProviderConfig[];
  /** The service's public origin for redirect URIs, e.g. `https://lab.example.org` (default the request's origin; set it behind a proxy). */
  publicUrl?: string;
  /** Origins besides the service's own that `redirect_to` may name (a separate front-end). */
  redirectOrigins?: readonly string[];
  /** Seconds a login may take at the provider (default 600). */
  loginTtlSeconds?: number;
}

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  userinfo_endpoint?: string;
}

/** What a finished provider login yields. */
export interface OidcResult {
  /** The person, for account resolution. */
  identity: ExternalIdentity;
  /** Where the browser goes afterwards (already checked), if asked. */
  redirectTo: string | null;
}

type Jose = typeof import("jose");
type KeySet = ReturnType<Jose["createRemoteJWKSet"]>;

const b64url = (bytes: Buffer): string => bytes.toString("base64url");

/** Reads a claim's value(s) as strings. */
function claimValues(claims: OidcClaims, name: string): string[] {
  const value = claims[name];
  if (typeof value === "string") return [value];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

/** The role that a provider's mapping gives to claims, or null. */
export function mapRole(provider: OidcProviderConfig, claims: OidcClaims): string | null {
  const roles = provider.roles;
  if (!roles) return null;
  if (typeof roles === "function") return roles(claims) ?? null;
  const held = new Set(claimValues(claims, roles.claim));
  for (const [value, role] of Object.entries(roles.values)) if (held.has(value)) return role;
  return null;
}

/**
 * OpenID Connect and OAuth2 login: the authorization code flow with PKCE
 * (S256), a state bound to the browser by a cookie, a nonce, and the ID token
 * verified against the provider's JWKS (signature, issuer, audience, expiry,
 * nonce) with `jose`. No HTTP routes here: see `oidc-routes.ts`.
 */
export class OidcLogin {
  readonly #providers = new Map<string, OidcProviderConfig>();
  readonly #tickets: Tickets;
  readonly #options: OidcOptions;
  readonly #discovery = new Map<string, Promise<Discovery>>();
  readonly #keys = new Map<string, KeySet>();

  /** Checks the providers' settings. @throws {TypeError} for a duplicate name or a provider with neither issuer nor endpoints. */
  constructor(options: OidcOptions, tickets: Tickets) {
    for (const provider of options.providers) {
      if (this.#providers.has(provider.name)) throw new TypeError(`Duplicate OIDC provider ${provider.name}`);
      if (!/^[a-z0-9][a-z0-9_-]*$/.test(provider.name)) throw new TypeError(`OIDC provider name ${provider.name} must be lower-case letters, digits, - or _`);
      if (!provider.issuer && !provider.endpoints) throw new TypeError(`OIDC provider ${provider.name} needs an issuer or endpoints`);
      this.#providers.set(provider.name, provider);
    }
    this.#options = options;
    this.#tickets = tickets;
  }

  /** The configured providers' names. */
  names(): string[] {
    return [...this.#providers.keys()];
  }

  /** A provider by name. @throws {UnauthorizedError} unknown (answered like any refused login). */
  provider(name: string): OidcProviderConfig {
    const provider = this.#providers.get(name);
    if (!provider) throw new UnauthorizedError(`Unknown identity provider ${name}`);
    return provider;
  }

  /** The redirect URI registered at the provider: `{publicUrl}{callbackPath}`. */
  redirectUri(requestUrl: string, callbackPath: string): string {
    return `${(this.#options.publicUrl ?? new URL(requestUrl).origin).replace(/\/$/, "")}${callbackPath}`;
  }

  /** A same-origin path, or a URL of an allowed origin; anything else is refused (no open redirect). @throws {ValidationError} */
  checkRedirect(target: string, requestUrl: string): string {
    return safeRedirect(target, requestUrl, { publicUrl: this.#options.publicUrl, origins: this.#options.redirectOrigins });
  }

  /**
   * Starts a login: the provider's authorization URL and a browser binding
   * to set as a cookie (the callback must bring it back).
   */
  async start(name: string, redirectUri: string, options: { redirectTo?: string | null; loginHint?: string | null } = {}): Promise<{ url: string; binding: string }> {
    const provider = this.provider(name);
    const endpoint = provider.endpoints?.authorization ?? (await this.#discover(provider)).authorization_endpoint;
    const verifier = b64url(randomBytes(32));
    const nonce = b64url(randomBytes(16));
    const binding = b64url(randomBytes(24));
    const state = await this.#tickets.issue("oidc", {
      provider: name,
      nonce,
      verifier,
      redirect_uri: redirectUri,
      binding: createHash("sha256").update(binding).digest("hex"),
      redirect_to: options.redirectTo ?? null,
    }, this.#options.loginTtlSeconds ?? 600);
    const url = new URL(endpoint);
    const params: Record<string, string> = {
      response_type: "code",
      client_id: provider.clientId,
      redirect_uri: redirectUri,
      scope: (provider.scopes ?? (provider.issuer ? ["openid", "email", "profile"] : [])).join(" "),
      state,
      code_challenge: b64url(createHash("sha256").update(verifier).digest()),
      code_challenge_method: "S256",
      ...(provider.issuer ? { nonce } : {}),
      ...(options.loginHint ? { login_hint: options.loginHint } : {}),
    };
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    return { url: url.href, binding };
  }

  /**
   * Finishes a login at the callback: checks the state (single use, not
   * expired, same browser), exchanges the code with the PKCE verifier, and
   * verifies the ID token (or reads userinfo for plain OAuth2).
   * @throws {UnauthorizedError}
   */
  async finish(name: string, query: { code?: string; state?: string; iss?: string; error?: string; error_description?: string }, binding: string | null): Promise<OidcResult> {
    const provider = this.provider(name);
    if (query.error) throw new UnauthorizedError(`The identity provider refused the login: ${query.error}${query.error_description ? ` (${query.error_description})` : ""}`.slice(0, 300));
    if (!query.code || !query.state) {
      throw new ValidationError([{ loc: ["query", query.code ? "state" : "code"], msg: "Field required", type: "missing" }]);
    }
    const ticket = await this.#tickets.redeem("oidc", query.state);
    if (!ticket || ticket.provider !== name) throw new UnauthorizedError("Unknown, used or expired login state");
    if (!binding || createHash("sha256").update(binding).digest("hex") !== ticket.binding) {
      throw new UnauthorizedError("The login was started in another browser");
    }
    // RFC 9207: a provider that names itself in the response must be the one asked (mix-up defence).
    if (query.iss && provider.issuer && query.iss !== (await this.#discover(provider)).issuer) {
      throw new UnauthorizedError("The response names another issuer");
    }
    const tokens = await this.#exchange(provider, query.code, String(ticket.verifier), String(ticket.redirect_uri));
    const claims = provider.issuer
      ? await this.#verifyIdToken(provider, tokens.id_token, String(ticket.nonce))
      : await this.#userinfo(provider, tokens.access_token);
    const identity: ExternalIdentity = {
      provider: name,
      subject: claims.sub,
      email: typeof claims.email === "string" ? claims.email : null,
      emailVerified: claims.email_verified === true || claims.email_verified === "true",
      name: typeof claims.preferred_username === "string" ? claims.preferred_username : null,
      role: mapRole(provider, claims),
    };
    return { identity, redirectTo: typeof ticket.redirect_to === "string" ? ticket.redirect_to : null };
  }

  async #discover(provider: OidcProviderConfig): Promise<Discovery> {
    let found = this.#discovery.get(provider.name);
    if (!found) {
      const issuer = provider.issuer!.replace(/\/$/, "");
      found = (async () => {
        const response = await fetch(`${issuer}/.well-known/openid-configuration`, { headers: { accept: "application/json" } });
        if (!response.ok) throw new UnauthorizedError(`The identity provider's discovery document answered ${response.status}`);
        const document = await response.json() as Discovery;
        if (document.issuer !== provider.issuer && document.issuer !== issuer) throw new UnauthorizedError("The discovery document names another issuer");
        return document;
      })();
      this.#discovery.set(provider.name, found);
      found.catch(() => this.#discovery.delete(provider.name));
    }
    return found;
  }

  async #exchange(provider: OidcProviderConfig, code: string, verifier: string, redirectUri: string): Promise<{ id_token: string; access_token: string }> {
    const endpoint = provider.endpoints?.token ?? (await this.#discover(provider)).token_endpoint;
    const body = new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: redirectUri, code_verifier: verifier });
    const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded", accept: "application/json" };
    if (provider.clientSecret && provider.tokenAuth !== "client_secret_post") {
      const pair = `${encodeURIComponent(provider.clientId)}:${encodeURIComponent(provider.clientSecret)}`;
      headers.authorization = `Basic ${Buffer.from(pair).toString("base64")}`;
    } else {
      body.set("client_id", provider.clientId);
      if (provider.clientSecret) body.set("client_secret", provider.clientSecret);
    }
    const response = await fetch(endpoint, { method: "POST", headers, body });
    const answer = await response.json().catch(() => ({})) as Record<string, unknown>;
    if (!response.ok || typeof answer.error === "string") {
      throw new UnauthorizedError(`The identity provider refused the code: ${String(answer.error ?? response.status)}`);
    }
    if (typeof answer.access_token !== "string") throw new UnauthorizedError("The identity provider answered no access token");
    if (provider.issuer && typeof answer.id_token !== "string") throw new UnauthorizedError("The identity provider answered no ID token");
    return { id_token: String(answer.id_token ?? ""), access_token: answer.access_token };
  }

  async #verifyIdToken(provider: OidcProviderConfig, idToken: string, nonce: string): Promise<OidcClaims> {
    const jose = await loadJose();
    let keys = this.#keys.get(provider.name);
    if (!keys) {
      keys = jose.createRemoteJWKSet(new URL((await this.#discover(provider)).jwks_uri));
      this.#keys.set(provider.name, keys);
    }
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jose.jwtVerify(idToken, keys, {
        issuer: (await this.#discover(provider)).issuer,
        audience: provider.clientId,
        algorithms: ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"],
        clockTolerance: 60,
        requiredClaims: ["sub", "iat", "exp"],
      }));
    } catch (error) {
      throw new UnauthorizedError(`Invalid ID token: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (payload.nonce !== nonce) throw new UnauthorizedError("Invalid ID token: the nonce does not match");
    if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp !== provider.clientId) {
      throw new UnauthorizedError("Invalid ID token: issued to another party (azp)");
    }
    return payload as OidcClaims;
  }

  async #userinfo(provider: OidcProviderConfig, accessToken: string): Promise<OidcClaims> {
    const response = await fetch(provider.endpoints!.userinfo, { headers: { authorization: `Bearer ${accessToken}`, accept: "application/json" } });
    if (!response.ok) throw new UnauthorizedError(`The identity provider's userinfo answered ${response.status}`);
    const info = await response.json() as Record<string, unknown>;
    const claims = provider.profile ? await provider.profile(info, accessToken) : info as OidcClaims;
    if (typeof claims.sub !== "string" || !claims.sub) throw new UnauthorizedError("The identity provider named no subject");
    return claims;
  }
}

async function loadJose(): Promise<Jose> {
  return await import("jose");
}

/** GitHub's user profile → claims: the numeric id, the login, and the primary verified address from `/user/emails`. */
async function githubProfile(user: Record<string, unknown>, accessToken: string): Promise<OidcClaims> {
  const response = await fetch("https://api.github.com/user/emails", { headers: { authorization: `Bearer ${accessToken}`, accept: "application/vnd.github+json" } });
  const emails = response.ok ? await response.json() as { email: string; primary: boolean; verified: boolean }[] : [];
  const primary = emails.find((entry) => entry.primary && entry.verified);
  return { sub: String(user.id), preferred_username: String(user.login ?? ""), name: user.name ?? null, email: primary?.email ?? null, email_verified: Boolean(primary) };
}

type PresetOptions = Omit<OidcProviderConfig, "name" | "issuer" | "endpoints"> & { name?: string };

/**
 * Settings of well-known providers; add `roles`, `createUsers` and the rest as
 * for any provider.
 *
 * @example
 * ```ts ignore
 * withAuth({ oidc: { providers: [oidcPresets.google({ clientId, clientSecret })] } });
 * ```
 */
export const oidcPresets: {
  /** Google (OpenID Connect; `hd` claim names a Workspace domain). */
  google(options: PresetOptions): OidcProviderConfig;
  /** Microsoft Entra ID (OpenID Connect) for one directory: `tenant` is its id (the `common` endpoint issues per-tenant issuers and cannot be verified as one). */
  entraId(options: PresetOptions & { tenant: string }): OidcProviderConfig;
  /** GitHub (plain OAuth2, no ID token): the person is read from `/user` and `/user/emails`. */
  github(options: PresetOptions): OidcProviderConfig;
} = {
  google: (options) => ({ name: "google", ...options, issuer: "https://accounts.google.com" }),
  entraId: ({ tenant, ...options }) => ({ name: "entra", ...options, issuer: `https://login.microsoftonline.com/${tenant}/v2.0` }),
  github: (options) => ({
    name: "github",
    scopes: ["read:user", "user:email"],
    tokenAuth: "client_secret_post",
    profile: githubProfile,
    ...options,
    endpoints: {
      authorization: "https://github.com/login/oauth/authorize",
      token: "https://github.com/login/oauth/access_token",
      userinfo: "https://api.github.com/user",
    },
  }),
};
