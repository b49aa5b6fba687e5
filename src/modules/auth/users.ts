import { RateLimitedError, UnauthorizedError, ValidationError } from "../../core/errors.ts";
import { Manager } from "../../core/manager.ts";
import type { Repository, UpdateValues } from "../../core/repository.ts";
import { DEFAULT_SCRYPT_COST, hashPassword, needsRehash, type ScryptCost, verifyPassword } from "./password.ts";
import type { RoleRegistry } from "./roles.ts";
import { UserIn, type UserInput as UserBody, UserOut, type UserRecord } from "./schema.ts";

/** How repeated failed logins slow down and then lock an account. */
export interface LoginPolicy {
  /** Failures after which each further attempt must wait (default 3). */
  slowDownAfter: number;
  /** Seconds of the first wait; it doubles with every further failure (default 1, at most 60). */
  backoffSeconds: number;
  /** Failures after which the account locks (default 10). */
  lockAfter: number;
  /** Seconds an account stays locked (default 900). */
  lockSeconds: number;
}

/** The default login policy. */
export const DEFAULT_LOGIN_POLICY: Readonly<LoginPolicy> = {
  slowDownAfter: 3,
  backoffSeconds: 1,
  lockAfter: 10,
  lockSeconds: 900,
};

/** The users manager type. */
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
 * Checks usernames and passwords with throttling: after `slowDownAfter`
 * failures each attempt must wait an exponentially growing delay (429 with
 * `Retry-After`), after `lockAfter` failures the account locks for
 * `lockSeconds`. Unknown users cost a hash too, so timing does not reveal
 * which usernames exist.
 */
export class PasswordCheck {
  readonly #repository: Repository<UserRecord>;
  readonly #policy: LoginPolicy;
  readonly #cost: ScryptCost;
  readonly #decoy: Promise<string>;

  constructor(repository: Repository<UserRecord>, options: { policy?: Partial<LoginPolicy>; cost?: ScryptCost } = {}) {
    this.#repository = repository;
    this.#policy = { ...DEFAULT_LOGIN_POLICY, ...options.policy };
    this.#cost = options.cost ?? DEFAULT_SCRYPT_COST;
    this.#decoy = hashPassword("decoy password never used", this.#cost);
  }

  /** The user with these credentials. @throws {LoginRefused} */
  async check(username: string, password: string, now: number = Date.now()): Promise<UserRecord> {
    const [user] = await this.#repository.findMany({
      filter: { kind: "compare", field: "username", op: "eq", value: username },
      limit: 1,
    });
    const invalid = new UnauthorizedError("Invalid username or password");
    if (!user) {
      await verifyPassword(password, await this.#decoy);
      throw new LoginRefused("unknown_user", invalid, null);
    }
    const wait = this.#waitMs(user, now);
    if (wait > 0) {
      const reason = user.locked_until && Date.parse(user.locked_until) > now ? "locked" : "throttled";
      throw new LoginRefused(reason, new RateLimitedError(seconds(wait)), user);
    }
    const ok = await verifyPassword(password, user.password_hash);
    if (!ok) {
      const failures = user.failed_logins + 1;
      const lock = failures >= this.#policy.lockAfter;
      await this.#repository.update(user.id, {
        failed_logins: lock ? 0 : failures,
        last_failed_at: new Date(now).toISOString(),
        locked_until: lock ? new Date(now + this.#policy.lockSeconds * 1000).toISOString() : user.locked_until,
      });
      throw new LoginRefused(lock ? "locked" : "bad_password", invalid, user);
    }
    if (user.disabled) throw new LoginRefused("disabled", invalid, user);
    const values: UpdateValues<UserRecord> = {
      failed_logins: 0,
      locked_until: null,
      last_failed_at: null,
      last_login_at: new Date(now).toISOString(),
    };
    if (needsRehash(user.password_hash, this.#cost)) values.password_hash = await hashPassword(password, this.#cost);
    return (await this.#repository.update(user.id, values)) ?? user;
  }

  /** Milliseconds the user must still wait before the next attempt. */
  #waitMs(user: UserRecord, now: number): number {
    if (user.locked_until) {
      const left = Date.parse(user.locked_until) - now;
      if (left > 0) return left;
    }
    const over = user.failed_logins - this.#policy.slowDownAfter;
    if (over < 0 || !user.last_failed_at) return 0;
    const backoff = Math.min(60, this.#policy.backoffSeconds * 2 ** over) * 1000;
    return Math.max(0, Date.parse(user.last_failed_at) + backoff - now);
  }
}
