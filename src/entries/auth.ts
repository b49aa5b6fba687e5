/**
 * Authentication and authorization (`chapkit/auth`, `@chapkit/core/auth`):
 * the auth module behind `withAuth()` (API keys, users with scrypt passwords,
 * JWT access tokens with rotating refresh tokens, roles, an audit log), the
 * permission helpers for custom routes and the request principal. A service
 * needs only `withAuth()` from the root entry; import this one for
 * permissions on your own routes or to drive the auth manager from code.
 * Runnable: `examples/auth_api_key.ts`, `examples/auth_jwt.ts`.
 *
 * @example
 * ```ts ignore
 * import { ServiceBuilder } from "chapkit";
 * import { principalOf, withPermission } from "chapkit/auth";
 * import { Elysia } from "elysia";
 *
 * const reports = new Elysia().get("/api/v1/reports", ({ request }) => ({ by: principalOf(request)?.name }), {
 *   detail: withPermission({ summary: "Reports" }, "reports:read"),
 * });
 * await new ServiceBuilder({ info: { display_name: "Reports" } }).withAuth().use(reports).listen(8000);
 * ```
 *
 * @module
 */

export { AUTH_KEY, authModule, staticKeysFromEnv } from "../modules/auth/mod.ts";
export type { AuthModule, AuthOptions } from "../modules/auth/mod.ts";
export { AuthManager } from "../modules/auth/manager.ts";
export { apiKeyBackend, bearerTokenBackend, trustedHeaderBackend } from "../modules/auth/backends.ts";
export type { TrustedHeaderOptions } from "../modules/auth/backends.ts";
export { authenticateWith } from "../http/auth-backend.ts";
export type { AuthBackend } from "../http/auth-backend.ts";
export type { AuthManagerOptions, RequestOrigin } from "../modules/auth/manager.ts";
export type { AuthStores } from "../modules/auth/store.ts";
export type {
  ApiKeyRecord,
  AuditRecord,
  RefreshTokenRecord,
  RoleInput,
  RoleRecord,
  SessionRecord,
  UserIn,
  UserOut,
  UserRecord,
} from "../modules/auth/schema.ts";
export { BUILTIN_ROLES, grants, PERMISSIONS, RoleRegistry } from "../modules/auth/roles.ts";
export type { RoleDefinition } from "../modules/auth/roles.ts";
export { hashPassword, verifyPassword } from "../modules/auth/password.ts";
export type { ScryptCost } from "../modules/auth/password.ts";
export type { Sessions, SessionView, TokenPair } from "../modules/auth/sessions.ts";
export type { ApiKeys, ApiKeyView, IssuedApiKey } from "../modules/auth/api-keys.ts";
export type { LoginPolicy, UserManager } from "../modules/auth/users.ts";
export type { AuditEntry, AuditEvent, AuditLog, AuditOut } from "../modules/auth/audit.ts";
export {
  AUTHENTICATED,
  PERMISSION_DETAIL_KEY,
  PUBLIC,
  withPermission,
} from "../http/auth-guard-permissions.ts";
export type { RouteEntry, RoutePermission } from "../http/auth-guard-permissions.ts";
export { DEFAULT_PUBLIC_PATHS, principalOf } from "../http/auth-guard.ts";
export type { AuthPrincipal } from "../http/auth-guard.ts";
export { ROW_ACCESS_KEY, RowAccess, subjectOf } from "../http/row-policy.ts";
export { Mfa } from "../modules/auth/mfa.ts";
export { oidcPresets } from "../modules/auth/oidc.ts";
export type { OidcClaims, OidcOptions, OidcProviderConfig, OidcRoleMapping } from "../modules/auth/oidc.ts";
export type { Tickets } from "../modules/auth/tickets.ts";
export type { MagicLinkOptions } from "../modules/auth/magic-links.ts";
export type { PasskeyOptions, PasskeyView } from "../modules/auth/passkeys.ts";
export type { SamlIdentityProvider, SamlOptions } from "../modules/auth/saml.ts";
export { smtpMailer } from "../integrations/smtp-mailer.ts";
export type { Mailer, MailMessage, SmtpMailerOptions } from "../integrations/smtp-mailer.ts";
export type { IdentityRecord } from "../modules/auth/schema.ts";
export type { MfaChallenge, MfaOptions, TotpEnrolment } from "../modules/auth/mfa.ts";
export { hotp, matchTotp, otpauthUri } from "../modules/auth/totp.ts";
export type { RowAccessMode, RowPolicies, RowPolicy, TenancyOptions } from "../http/row-policy.ts";
export { bindVariables, FILTER_VARIABLES, matchesRow, variableValue } from "../core/query/mod.ts";
export type { VariableSubject, VariableUser } from "../core/query/mod.ts";
export { canSeeRow, ROW_VISIBILITY_KEY, type RowVisibility, type Viewer } from "../http/realtime/visibility.ts";
