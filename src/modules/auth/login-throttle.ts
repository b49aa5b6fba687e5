import type { Driver, SqlValue } from "../../db/driver.ts";
import type { Migration } from "../../db/migration.ts";

/** How repeated failed logins slow down and then lock an (account, address) pair. */
export interface LoginPolicy {
  /** Failures after which each further attempt must wait (default 3). */
  slowDownAfter: number;
  /** Seconds of the first wait; it doubles with every further failure (default 1, at most 60). */
  backoffSeconds: number;
  /** Failures after which the pair locks (default 10). */
  lockAfter: number;
  /** Seconds a pair stays locked (default 900). */
  lockSeconds: number;
}

/** Per account and client address: a wait from the 3rd failure (1 s, doubling up to 60 s), a 15-minute lock at the 10th. */
export const DEFAULT_LOGIN_POLICY: Readonly<LoginPolicy> = {
  slowDownAfter: 3,
  backoffSeconds: 1,
  lockAfter: 10,
  lockSeconds: 900,
};

/** The `login_throttles` table: one row per (account, client address) with failures. */
export function loginThrottleMigration(version: number): Migration {
  const big = { sqlite: "INTEGER", postgres: "BIGINT" };
  const create = (dialect: "sqlite" | "postgres"): string =>
    `CREATE TABLE "login_throttles" (
  "account" TEXT NOT NULL,
  "address" TEXT NOT NULL,
  "failures" INTEGER NOT NULL,
  "next_allowed_ms" ${big[dialect]},
  "locked_until_ms" ${big[dialect]},
  PRIMARY KEY ("account", "address")
);`;
  return {
    module: "auth",
    version,
    name: "create login_throttles",
    up: { sqlite: create("sqlite"), postgres: create("postgres") },
    down: `DROP TABLE "login_throttles";`,
  };
}

/** An attempt the throttle let through: the failures it counts, and whether it locked the pair. */
export interface ClaimedAttempt {
  /** Failures counted with this attempt (0 once it locked the pair). */
  failures: number;
  /** True when this attempt locked the pair. */
  locked: boolean;
}

/** An attempt the throttle refused. */
export interface RefusedAttempt {
  /** Milliseconds until the pair may try again. */
  waitMs: number;
  /** True when the pair is locked (not just slowed down). */
  locked: boolean;
}

/**
 * Failed-login counting keyed by (account, client address). Every attempt is
 * claimed first, as one conditional upsert that counts it as a failure and
 * refuses it while the pair must wait, so concurrent attempts count exactly
 * as sequential ones do; a right password then clears the pair.
 */
export class LoginThrottle {
  readonly #db: Driver;
  readonly #policy: LoginPolicy;

  /** The policy in force. */
  get policy(): Readonly<LoginPolicy> {
    return this.#policy;
  }

  /** Creates the throttle over the `login_throttles` table. */
  constructor(db: Driver, policy: Partial<LoginPolicy> = {}) {
    this.#db = db;
    this.#policy = { ...DEFAULT_LOGIN_POLICY, ...policy };
  }

  /** Milliseconds a pair waits after its `failures`-th failure (0 before `slowDownAfter`). */
  #backoffMs(failures: number): number {
    const over = failures - this.#policy.slowDownAfter;
    return over < 0 ? 0 : Math.min(60, this.#policy.backoffSeconds * 2 ** over) * 1000;
  }

  /** Counts an attempt, or refuses it while the pair must wait or is locked. */
  async claim(account: string, address: string, now: number = Date.now()): Promise<ClaimedAttempt | RefusedAttempt> {
    const { lockAfter, lockSeconds } = this.#policy;
    const lockUntil = now + lockSeconds * 1000;
    const next = (failures: number): number | null => (this.#backoffMs(failures) ? now + this.#backoffMs(failures) : null);
    const cases: string[] = [];
    const caseParams: SqlValue[] = [];
    for (let n = this.#policy.slowDownAfter; n < lockAfter; n++) {
      cases.push("WHEN CAST(? AS INTEGER) THEN CAST(? AS BIGINT)");
      caseParams.push(n, next(n));
    }
    const firstLocks = 1 >= lockAfter;
    const rows = await this.#db.query<{ failures: number | string; locked_until_ms: number | string | null }>(
      `INSERT INTO "login_throttles" ("account", "address", "failures", "next_allowed_ms", "locked_until_ms")
VALUES (?, ?, CAST(? AS INTEGER), CAST(? AS BIGINT), CAST(? AS BIGINT))
ON CONFLICT ("account", "address") DO UPDATE SET
  "failures" = CASE WHEN "login_throttles"."failures" + 1 >= CAST(? AS INTEGER) THEN 0 ELSE "login_throttles"."failures" + 1 END,
  "locked_until_ms" = CASE WHEN "login_throttles"."failures" + 1 >= CAST(? AS INTEGER) THEN CAST(? AS BIGINT) ELSE NULL END,
  "next_allowed_ms" = ${cases.length ? `CASE "login_throttles"."failures" + 1 ${cases.join(" ")} ELSE NULL END` : "NULL"}
WHERE ("login_throttles"."locked_until_ms" IS NULL OR "login_throttles"."locked_until_ms" <= CAST(? AS BIGINT))
  AND ("login_throttles"."next_allowed_ms" IS NULL OR "login_throttles"."next_allowed_ms" <= CAST(? AS BIGINT))
RETURNING "failures", "locked_until_ms"`,
      [
        account, address, firstLocks ? 0 : 1, firstLocks ? null : next(1), firstLocks ? lockUntil : null,
        lockAfter, lockAfter, lockUntil, ...caseParams, now, now,
      ],
    );
    const row = rows[0];
    if (row) {
      const locked = row.locked_until_ms !== null && Number(row.locked_until_ms) > now;
      return { failures: Number(row.failures), locked };
    }
    const [current] = await this.#db.query<{ next_allowed_ms: number | string | null; locked_until_ms: number | string | null }>(
      `SELECT "next_allowed_ms", "locked_until_ms" FROM "login_throttles" WHERE "account" = ? AND "address" = ?`,
      [account, address],
    );
    const lockedUntil = Number(current?.locked_until_ms ?? 0);
    const nextAllowed = Number(current?.next_allowed_ms ?? 0);
    return { waitMs: Math.max(1, Math.max(lockedUntil, nextAllowed) - now), locked: lockedUntil > now };
  }

  /** Forgets a pair's failures (after a right password). */
  async clear(account: string, address: string): Promise<void> {
    await this.#db.exec(`DELETE FROM "login_throttles" WHERE "account" = ? AND "address" = ?`, [account, address]);
  }

  /** Forgets every failure and lock of an account, from every address (an administrator's unlock). */
  async unlock(account: string): Promise<void> {
    await this.#db.exec(`DELETE FROM "login_throttles" WHERE "account" = ?`, [account]);
  }
}

/** Whether a claim was refused. */
export function isRefused(attempt: ClaimedAttempt | RefusedAttempt): attempt is RefusedAttempt {
  return "waitMs" in attempt;
}
