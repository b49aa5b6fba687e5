import { UnauthorizedError } from "../../core/errors.ts";
import type { AuthStores } from "./store.ts";
import type { RoleRegistry } from "./roles.ts";
import type { UserRecord } from "./schema.ts";

/** What an outside identity provider asserted about a person. */
export interface ExternalIdentity {
  /** The provider's configured name. */
  provider: string;
  /** The provider's stable id of the person (`sub`, a SAML NameID). */
  subject: string;
  /** The asserted e-mail address. */
  email?: string | null;
  /** Whether the provider verified the address; only a verified address links or fills an account. */
  emailVerified?: boolean;
  /** A display or login name, used for a new user's username when there is no verified e-mail. */
  name?: string | null;
  /** The role the provider's claims map to; applied at every login when set. */
  role?: string | null;
}

/** How identities without a linked user are treated. */
export interface AccountPolicy {
  /** Create a user at the first login of an unknown person (default true). */
  createUsers?: boolean;
  /** Role of created users when the claims map to none (default `viewer`). */
  defaultRole?: string;
  /** Tenant of created users (multi-tenant services). */
  tenantId?: string | null;
}

const USERNAME_UNSAFE = /[^A-Za-z0-9._@+-]/g;
/** Created users cannot log in with a password until an administrator sets one. */
const NO_PASSWORD = "!external";

/**
 * Finds the user behind an external identity: its existing link, else the
 * user whose e-mail equals the provider's *verified* address (then linked),
 * else a new user (when allowed). An unverified address never links, so no
 * one takes over an account by claiming its address at a lax provider.
 * @throws {UnauthorizedError} when no user may be found or made.
 */
export async function resolveExternalUser(stores: AuthStores, roles: RoleRegistry, identity: ExternalIdentity, policy: AccountPolicy = {}): Promise<UserRecord> {
  const key = `${identity.provider}:${identity.subject}`;
  const email = identity.email && identity.emailVerified ? identity.email.toLowerCase() : null;
  const role = identity.role && roles.has(identity.role) ? identity.role : null;
  const [link] = await stores.identities.findMany({ filter: { kind: "compare", field: "identity", op: "eq", value: key }, limit: 1 });
  let user = link ? await stores.users.findById(link.user_id) : null;
  if (!user && email) {
    const [found] = await stores.users.findMany({ filter: { kind: "compare", field: "email", op: "eq", value: email }, limit: 1 });
    user = found ?? null;
  }
  if (!user) {
    if (policy.createUsers === false) throw new UnauthorizedError("No account is linked to this identity");
    user = await stores.users.insert({
      username: await freeUsername(stores, email ?? identity.name ?? `${identity.provider}-${identity.subject}`),
      password_hash: NO_PASSWORD,
      role: role ?? policy.defaultRole ?? "viewer",
      disabled: false,
      failed_logins: 0,
      last_failed_at: null,
      locked_until: null,
      last_login_at: null,
      tenant_id: policy.tenantId ?? null,
      email,
    });
  } else if (role && role !== user.role) {
    user = (await stores.users.update(user.id, { role })) ?? user;
  }
  if (link) {
    if (link.email !== (identity.email ?? null)) await stores.identities.update(link.id, { email: identity.email ?? null });
  } else {
    await stores.identities.insert({ identity: key, provider: identity.provider, subject: identity.subject, user_id: user.id, email: identity.email ?? null });
  }
  return user;
}

async function freeUsername(stores: AuthStores, wanted: string): Promise<string> {
  const base = wanted.replace(USERNAME_UNSAFE, "-").slice(0, 100) || "user";
  for (let i = 0; ; i++) {
    const candidate = i === 0 ? base : `${base}-${i + 1}`;
    const [taken] = await stores.users.findMany({ filter: { kind: "compare", field: "username", op: "eq", value: candidate }, limit: 1 });
    if (!taken) return candidate;
  }
}
