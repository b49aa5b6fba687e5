import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { type AnyElysia, Elysia } from "elysia";
import type { Logger } from "../../core/logging.ts";
import { loadSettings } from "../../core/settings/load.ts";
import type { Settings } from "../../core/settings/schema.ts";
import { processEnvironment } from "../../runtime/env.ts";
import { type AdmitRule, AUTH_ADMIT_KEY, authGuard, DEFAULT_PUBLIC_PATHS } from "../../http/auth-guard.ts";
import { type RouteEntry, RoutePermissions } from "../../http/auth-guard-permissions.ts";
import type { ServiceContext, ServiceModule } from "../../http/module.ts";
import { type AuthBackend, authenticateWith } from "../../http/auth-backend.ts";
import { RowAccess, type RowPolicies, type TenancyOptions } from "../../http/row-policy.ts";
import { AuthManager, type AuthManagerOptions } from "./manager.ts";
import { AUTH_ADMIN, authRoutes, requestOrigin } from "./routes.ts";
import { OidcLogin, type OidcOptions } from "./oidc.ts";
import { oidcRoutes } from "./oidc-routes.ts";
import { type MagicLinkOptions, MagicLinks } from "./magic-links.ts";
import { magicLinkRoutes } from "./magic-link-routes.ts";
import { type PasskeyOptions, Passkeys } from "./passkeys.ts";
import { passkeyRoutes } from "./passkey-routes.ts";
import { AUDIT_PARTITION, AUTH_MIGRATIONS } from "./store.ts";
import { AUDIT_TABLE } from "./schema.ts";
import { type Partitions, PARTITIONS_KEY } from "../../db/partitions.ts";
import { SamlLogin, type SamlOptions } from "./saml.ts";
import { samlRoutes } from "./saml-routes.ts";

/** Options of `withAuth` / {@link authModule}; every one has a default. */
export interface AuthOptions extends Partial<Omit<AuthManagerOptions, "logger" | "rowAccess">> {
  /** Prefix of the auth routes (default `/api/v1/auth`). */
  prefix?: string;
  /** Header carrying API keys (default `X-API-Key`). */
  apiKeyHeader?: string;
  /**
   * How long the audit log keeps its rows: whole months before the current
   * one (default: every row kept). On PostgreSQL the log is partitioned a
   * month a partition and old partitions are dropped; SQLite deletes rows.
   */
  auditRetentionMonths?: number;
  /** Paths open without credentials: exact, or prefixes ending in `/*` (default: `/`, `/docs`, `/openapi.json`, health, info). */
  publicPaths?: readonly string[];
  /** Permission overrides keyed by `METHOD /path/pattern`, e.g. `{ "GET /api/v1/config": "public" }`. */
  routePermissions?: Record<string, string>;
  /** Where the service is mounted inside a host app (default none). */
  basePath?: string;
  /** A first administrator created when no user exists (default: settings `auth.adminUsername` / `auth.adminPassword`, i.e. `CHAPKIT_ADMIN_USERNAME` / `CHAPKIT_ADMIN_PASSWORD`). */
  bootstrapAdmin?: { username: string; password: string };
  /**
   * Extra ways to authenticate (a gateway header, mTLS, LDAP…), asked in
   * order before the built-in API key and bearer token backends.
   */
  backends?: readonly AuthBackend[];
  /**
   * Row-level read/write policies per table and role, in the filter grammar
   * with `$user.*` / `$request.*` variables (see docs/auth.md). Tables of
   * `withEntity` honour them on every route; denied rows answer 404.
   */
  rowPolicies?: RowPolicies;
  /**
   * Multi-tenancy: every principal may carry a tenant (users' and keys'
   * `tenant_id`); the listed tables (each with a `tenant_id` column) are
   * scoped to the caller's tenant on every route, and so are users and keys
   * (tenant admins manage their own). See docs/auth.md.
   */
  tenancy?: TenancyOptions;
  /**
   * OpenID Connect / OAuth2 login (authorization code + PKCE): providers
   * (see `oidcPresets` for Google, Entra ID, GitHub), claim → role mapping,
   * account linking by verified e-mail. See docs/auth.md.
   */
  oidc?: OidcOptions;
  /**
   * Passwordless login by e-mail: single-use links that expire after
   * `ttlMinutes` (15), mailed through `mailer` (e.g. `smtpMailer`) to users'
   * `email`. See docs/auth.md.
   */
  magicLinks?: MagicLinkOptions & { redirectOrigins?: readonly string[] };
  /**
   * Passkeys (WebAuthn) through the optional `@simplewebauthn/server`
   * package: registration by logged-in users, passwordless login. See docs/auth.md.
   */
  passkeys?: PasskeyOptions;
  /**
   * SAML 2.0 single sign-on as a service provider, through the optional
   * `samlify` and `@authenio/samlify-node-xmllint` packages. See docs/auth.md.
   */
  saml?: SamlOptions;
  /** Variables to take the `auth.*` settings from instead of the service's settings (for tests and tools). */
  env?: Record<string, string | undefined>;
}

/** The registry key under which the auth module provides its {@link AuthManager}. */
export const AUTH_KEY = "auth";

/** The auth module: a service module plus the guard the builder installs around the whole app. */
export interface AuthModule extends ServiceModule {
  /** The settings in effect. */
  readonly options: AuthOptions;
  /** Row-level access (row policies), provided under `ROW_ACCESS_KEY` before modules are set up; absent when off. */
  readonly rowAccess?: RowAccess;
  /** The guard plugin; `routes` returns the app's final routes (read lazily, at the first request). */
  guard(context: ServiceContext, routes: () => readonly RouteEntry[]): AnyElysia;
}

/** Static API keys of the `auth.apiKeys` setting plus those of the `auth.apiKeyFile` file (one a line, `#` comments). */
function staticKeysOf(settings: Settings["auth"]): string[] {
  const keys = [...settings.apiKeys];
  const file = settings.apiKeyFile;
  if (file) {
    for (const line of readFileSync(file, "utf8").split(/\r?\n/)) {
      const key = line.trim();
      if (key && !key.startsWith("#")) keys.push(key);
    }
  }
  return keys;
}

/** Static API keys from `CHAPKIT_API_KEYS` (comma-separated) and `CHAPKIT_API_KEY_FILE` (one a line, `#` comments). */
export function staticKeysFromEnv(env: Record<string, string | undefined> = processEnvironment()): string[] {
  const keys = (env.CHAPKIT_API_KEYS ?? "").split(",").map((key) => key.trim()).filter(Boolean);
  return staticKeysOf({ apiKeys: keys, apiKeyFile: env.CHAPKIT_API_KEY_FILE || undefined });
}

function defaultPermissions(prefix: string): Record<string, string> {
  return {
    [`* ${prefix}/*`]: AUTH_ADMIN,
    "DELETE /api/v1/jobs/:job_id": "jobs:cancel",
    "POST /api/v1/system/$drain": AUTH_ADMIN,
  };
}

function resolveSecret(options: AuthOptions, settings: Settings["auth"], logger: Logger): string {
  const secret = options.jwtSecret ?? settings.jwtSecret;
  if (secret) return secret;
  logger.warn("auth.jwt.ephemeral_secret", {
    detail: "CHAPKIT_JWT_SECRET is not set: tokens are signed with a random secret and do not survive a restart",
  });
  return randomBytes(48).toString("base64url");
}

/**
 * Authentication and authorization: API keys (static and issued), users
 * with scrypt passwords, JWT access tokens with rotating refresh tokens,
 * roles with inheritance, and an audit log. With it, every route is denied
 * by default except the public paths.
 *
 * @example
 * ```ts ignore
 * new ServiceBuilder({ info }).withConfig(schema).withAuth({ staticKeys: ["a-long-random-key"] });
 * ```
 */
export function authModule(options: AuthOptions = {}): AuthModule {
  const prefix = options.prefix ?? "/api/v1/auth";
  const apiKeyHeader = (options.apiKeyHeader ?? "X-API-Key").toLowerCase();
  const rowAccess = options.rowPolicies || options.tenancy
    ? new RowAccess(options.rowPolicies ?? {}, options.tenancy ? { tenancy: options.tenancy } : {})
    : undefined;
  return {
    name: "auth",
    options,
    ...(rowAccess ? { rowAccess } : {}),
    migrations: AUTH_MIGRATIONS,
    async setup(context: ServiceContext): Promise<void> {
      const settings = options.env ? (await loadSettings({ env: options.env })).settings.auth : context.settings.auth;
      const manager = new AuthManager(context.db, {
        ...options,
        jwtSecret: resolveSecret(options, settings, context.logger),
        staticKeys: options.staticKeys ?? staticKeysOf(settings),
        logger: context.logger.child({ module: "auth" }),
        ...(rowAccess ? { rowAccess } : {}),
      });
      await manager.loadRoles();
      const admin = options.bootstrapAdmin ??
        (settings.adminUsername && settings.adminPassword
          ? { username: settings.adminUsername, password: settings.adminPassword }
          : undefined);
      if (admin && (await manager.stores.users.count()) === 0) {
        await manager.users.create({ username: admin.username, password: admin.password, role: "admin" });
        context.logger.info("auth.admin.bootstrapped", { username: admin.username });
      }
      context.provide(AUTH_KEY, manager);
      if (context.has(PARTITIONS_KEY)) {
        const retention = options.auditRetentionMonths;
        context.get<Partitions>(PARTITIONS_KEY).add(AUDIT_TABLE.name, { ...AUDIT_PARTITION, ...(retention === undefined ? {} : { retention }) });
      }
      await rowAccess?.enableRowLevelSecurity(context.db);
    },
    routes(context: ServiceContext): AnyElysia {
      const manager = context.get<AuthManager>(AUTH_KEY);
      const trustProxy = context.settings.http.trustProxy;
      const app = new Elysia().use(authRoutes(manager, { prefix, trustProxy }));
      const origin = (request: Request, path: string) => requestOrigin(request, path, trustProxy);
      if (options.oidc) app.use(oidcRoutes(manager, new OidcLogin(options.oidc, manager.tickets), { prefix, tags: ["auth"], origin }));
      if (options.passkeys) app.use(passkeyRoutes(manager, new Passkeys(context.db, manager.tickets, options.passkeys), { prefix, tags: ["auth"], origin }));
      if (options.saml) app.use(samlRoutes(manager, new SamlLogin(options.saml, manager.tickets, prefix), { prefix, tags: ["auth"], settings: options.saml, origin }));
      const magic = options.magicLinks;
      if (magic) {
        app.use(magicLinkRoutes(manager, new MagicLinks(manager.stores, manager.tickets, magic), {
          prefix,
          tags: ["auth"],
          origin,
          logger: context.logger.child({ module: "auth" }),
          ...(magic.publicUrl ? { publicUrl: magic.publicUrl } : {}),
          ...(magic.redirectOrigins ? { redirectOrigins: magic.redirectOrigins } : {}),
        }));
      }
      return app;
    },
    guard(context: ServiceContext, routes: () => readonly RouteEntry[]): AnyElysia {
      const manager = context.get<AuthManager>(AUTH_KEY);
      const backends = [...(options.backends ?? []), ...manager.builtinBackends(apiKeyHeader)];
      const permissions = new RoutePermissions({
        routes,
        defaults: defaultPermissions(prefix),
        ...(options.routePermissions ? { overrides: options.routePermissions } : {}),
      });
      return new Elysia({ name: "chapkit-auth" }).use(authGuard({
        permissions,
        publicPaths: options.publicPaths ?? DEFAULT_PUBLIC_PATHS,
        ...(options.basePath ? { basePath: options.basePath } : {}),
        ...(rowAccess ? { rowAccess } : {}),
        ...(context.has(AUTH_ADMIT_KEY)
          ? { admit: (request: Request, path: string) => context.get<AdmitRule[]>(AUTH_ADMIT_KEY).some((rule) => rule(request, path)) }
          : {}),
        authenticate: (request) => authenticateWith(backends, request),
        authorize: (principal, permission) => manager.authorize(principal, permission),
        onDenied: (principal, permission, request) =>
          manager.audit.record({
            event: "auth.permission.denied",
            outcome: "failure",
            actor: principal,
            method: request.method,
            path: new URL(request.url).pathname,
            details: { permission },
          }),
      }));
    },
  };
}
