import { jwt } from "@elysiajs/jwt";

/** The claims of a chapkit access token. */
export interface AccessClaims {
  /** The user id. */
  sub: string;
  /** The session (refresh-token family) id. */
  sid: string;
  /** Token type: always `access`. */
  typ: "access";
  /** The user's role when the token was issued (informative; the stored role applies). */
  role: string;
}

/** Options of {@link AccessTokens}. */
export interface AccessTokenOptions {
  /** HMAC secret, at least 32 characters. */
  secret: string;
  /** Issuer claim (default `chapkit`). */
  issuer?: string;
  /** Lifetime in seconds (default 900). */
  ttlSeconds?: number;
}

/** The one algorithm chapkit signs and accepts; anything else (`none`, RS*, other HS*) is refused. */
export const ACCESS_TOKEN_ALGORITHM = "HS256";

type Signer = {
  sign(payload: Record<string, unknown>): Promise<string>;
  verify(token?: string, options?: Record<string, unknown>): Promise<Record<string, unknown> | false>;
};

/**
 * Short-lived HS256 access tokens, signed and verified with `@elysiajs/jwt`
 * (jose underneath). Verification pins the algorithm, the issuer and the
 * header type, and requires an expiry, so `alg: none`, algorithm confusion,
 * forged and expired tokens all fail.
 */
export class AccessTokens {
  /** Token lifetime in seconds. */
  readonly ttlSeconds: number;
  readonly #issuer: string;
  readonly #signer: Signer;

  constructor(options: AccessTokenOptions) {
    if (options.secret.length < 32) throw new TypeError("The JWT secret must be at least 32 characters long");
    this.ttlSeconds = options.ttlSeconds ?? 900;
    this.#issuer = options.issuer ?? "chapkit";
    const plugin = jwt({ name: "jwt", secret: options.secret, alg: ACCESS_TOKEN_ALGORITHM, iss: this.#issuer });
    // The plugin's decorator works outside a request too, so the manager stays usable without HTTP.
    this.#signer = (plugin as unknown as { decorator: { jwt: Signer } }).decorator.jwt;
  }

  /** Signs an access token for these claims. */
  sign(claims: AccessClaims, now: number = Date.now()): Promise<string> {
    return this.#signer.sign({
      ...claims,
      jti: crypto.randomUUID(),
      exp: Math.floor(now / 1000) + this.ttlSeconds,
    });
  }

  /** The claims of a valid token, or null for anything forged, tampered, expired or malformed. */
  async verify(token: string): Promise<AccessClaims | null> {
    const payload = await this.#signer.verify(token, {
      algorithms: [ACCESS_TOKEN_ALGORITHM],
      issuer: this.#issuer,
      typ: "JWT",
      requiredClaims: ["exp", "iat", "sub"],
    });
    if (!payload) return null;
    const { sub, sid, typ, role } = payload;
    if (typ !== "access" || typeof sub !== "string" || typeof sid !== "string" || typeof role !== "string") return null;
    return { sub, sid, typ, role };
  }
}
