import { RateLimitedError, UnauthorizedError, ValidationError } from "../../core/errors.ts";
import { Manager } from "../../core/manager.ts";
import type { Repository, UpdateValues } from "../../core/repository.ts";
import { DEFAULT_SCRYPT_COST, hashPassword, needsRehash, type ScryptCost, verifyPassword } from "./password.ts";
import { isRefused, type LoginThrottle } from "./login-throttle.ts";
import type { RoleRegistry } from "./roles.ts";
import { UserIn, type UserInput as UserBody, UserOut, type UserRecord } from "./schema.ts";

export { DEFAULT_LOGIN_POLICY, type LoginPolicy } from "./login-throttle.ts";

/** The manager of users: CRUD whose hooks store `password` as a scrypt hash and never return it. */
export type UserManager = Manager<UserRecord, typeof UserIn, typeof UserOut>;

type UserInput = UserBody & { password_hash?: string };

/**
 * The users entity manager: like any other entity's, except that a
 * `password` in the body is stored as a scrypt hash and never returned.
 */
export function createUserManager(
  repository: Repository<UserRecord>,
  options: { roles: RoleRegistry; cost?: ScryptCost },
): UserManager {
  const cost = options.cost ?? DEFAULT_SCRYPT_COST;
  const prepare = async (input: UserInput, creating: boolean): Promise<UserInput> => {
    if (input.role !== undefined && !options.roles.has(input.role)) {
      throw new ValidationError([{ loc: ["body", "role"], msg: `Unknown role ${input.role}`, type: "value_error" }]);
    }
    if (input.password === undefined) {
      if (creating) throw new ValidationError([{ loc: ["body", "password"], msg: "Field required", type: "missing" }]);
      return input;
    }
    const { password, ...rest } = input;
    return { ...rest, password_hash: await hashPassword(password, cost) };
  };
  return new Manager({
    repository,
    input: UserIn,
    output: UserOut,
    hooks: {
      beforeCreate: async (input) => (await prepare(input as unknown as UserInput, true)) as unknown as typeof input,
      beforeUpdate: async (input) => (await prepare(input as unknown as UserInput, false)) as unknown as typeof input,
    },
    toValues: (input, existing) => {
      const body = input as unknown as UserInput;
      const values: Record<string, unknown> = {
        username: body.username,
        role: body.role ?? existing?.role ?? "viewer",
        disabled: body.disabled ?? existing?.disabled ?? false,
        tenant_id: body.tenant_id === undefined ? existing?.tenant_id ?? null : body.tenant_id,
        email: body.email === undefined ? existing?.email ?? null : body.email?.toLowerCase() ?? null,
      };
      if (body.password_hash) values.password_hash = body.password_hash;
      if (!existing) Object.assign(values, { failed_logins: 0 });
      return values as UpdateValues<UserRecord>;
    },
    toOutput: (record) => ({
      id: record.id,
      created_at: record.created_at,
      updated_at: record.updated_at,
      username: record.username,
      role: record.role,
      disabled: record.disabled,
      last_login_at: record.last_login_at,
      locked_until: record.locked_until,
      tenant_id: record.tenant_id ?? null,
      email: record.email ?? null,
    }),
  });
}

/** Why a login was refused, for the audit log (clients see one generic message). */
export type LoginFailure = "unknown_user" | "bad_password" | "disabled" | "locked" | "throttled";

/** A refused login: the error for the client plus the reason for the audit log. */
export class LoginRefused extends Error {
  /** What the client is told. */
  readonly error: UnauthorizedError | RateLimitedError;
  /** Why, for the audit log. */
  readonly reason: LoginFailure;
  /** The user, when the username exists. */
  readonly user: UserRecord | null;
  constructor(reason: LoginFailure, error: UnauthorizedError | RateLimitedError, user: UserRecord | null) {
    super(reason);
    this.reason = reason;
    this.error = error;
    this.user = user;
  }
}

const seconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

/**
 * Checks usernames and passwords with throttling keyed by (username, client
 * address): after `slowDownAfter` failures each attempt must wait an
 * exponentially growing delay (429 with `Retry-After`), after `lockAfter`
 * failures the pair locks for `lockSeconds`, so a stranger elsewhere cannot
 * lock a user out. Unknown usernames are throttled and answered exactly like
 * known ones and cost a hash too.
 */
export class PasswordCheck {
  readonly #repository: Repository<UserRecord>;
  readonly #throttle: LoginThrottle;
  readonly #cost: ScryptCost;
  readonly #decoy: Promise<string>;

  constructor(repository: Repository<UserRecord>, throttle: LoginThrottle, options: { cost?: ScryptCost } = {}) {
    this.#repository = repository;
    this.#throttle = throttle;
    this.#cost = options.cost ?? DEFAULT_SCRYPT_COST;
    this.#decoy = hashPassword("decoy password never used", this.#cost);
  }

  /** The user with these credentials, tried from `address`. @throws {LoginRefused} */
  async check(username: string, password: string, address = "unknown", now: number = Date.now()): Promise<UserRecord> {
    const [user] = await this.#repository.findMany({
      filter: { kind: "compare", field: "username", op: "eq", value: username },
      limit: 1,
    });
    const attempt = await this.#throttle.claim(username, address, now);
    if (isRefused(attempt)) {
      throw new LoginRefused(attempt.locked ? "locked" : "throttled", new RateLimitedError(seconds(attempt.waitMs)), user ?? null);
    }
    const invalid = new UnauthorizedError("Invalid username or password");
    // The same work for unknown users: a hash is always verified.
    const ok = await verifyPassword(password, user?.password_hash ?? await this.#decoy);
    if (!user || !ok) {
      if (user && attempt.locked) await this.#repository.update(user.id, { locked_until: new Date(now + this.#lockMs()).toISOString(), last_failed_at: new Date(now).toISOString() });
      const reason = attempt.locked ? "locked" : user ? "bad_password" : "unknown_user";
      throw new LoginRefused(reason, invalid, user ?? null);
    }
    if (user.disabled) throw new LoginRefused("disabled", invalid, user);
    await this.#throttle.clear(username, address);
    const values: UpdateValues<UserRecord> = {
      failed_logins: 0,
      locked_until: null,
      last_failed_at: null,
      last_login_at: new Date(now).toISOString(),
    };
    if (needsRehash(user.password_hash, this.#cost)) values.password_hash = await hashPassword(password, this.#cost);
    return (await this.#repository.update(user.id, values)) ?? user;
  }

  #lockMs(): number {
    return this.#throttle.policy.lockSeconds * 1000;
  }
}
