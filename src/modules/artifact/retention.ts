import { type FieldError, NotFoundError, ValidationError } from "../../core/errors.ts";
import type { Driver } from "../../db/driver.ts";
import type { ArtifactManager } from "./manager.ts";
import type { ArtifactHierarchy, ArtifactRecord } from "./schema.ts";

/**
 * How long artifacts of one kind are kept: those matching `level` and
 * `type` (all that are given) go `maxAgeDays` after their creation, unless
 * under legal hold.
 */
export interface RetentionPolicy {
  /** Names the policy in reports and logs, e.g. `prediction-samples`. */
  name: string;
  /** The level (number) or its label in the hierarchy (e.g. `predictions`). */
  level?: number | string;
  /** The artifact's type: `data.type` (chap envelope) or `data.ml_type`. */
  type?: string;
  /** Days after creation the artifact is deleted (fractions allowed). */
  maxAgeDays: number;
}

/** An artifact's own retention settings (`$retention`). */
export interface ArtifactRetentionInfo {
  /** ULID of the artifact. */
  artifact_id: string;
  /** When the artifact is deleted (ISO 8601 UTC), or null: only the policies apply. */
  expires_at: string | null;
  /** While true, neither its expiry nor any policy deletes it (or a tree that holds it). */
  legal_hold: boolean;
}

/** What one enforcement deleted and spared. */
export interface RetentionReport {
  /** Artifacts deleted because their own `expires_at` passed (with their subtrees). */
  expired: number;
  /** Artifacts deleted by each policy, by policy name. */
  policies: Record<string, number>;
  /** Due artifacts kept because they, or an artifact under them, are under legal hold. */
  held: number;
}

interface RetentionRow extends Record<string, unknown> {
  artifact_id: string;
  expires_at: string | null;
  legal_hold: boolean | number;
}

const BATCH = 200;

function typeOf(data: unknown): string | undefined {
  if (typeof data !== "object" || data === null) return undefined;
  const record = data as { type?: unknown; ml_type?: unknown };
  if (typeof record.type === "string") return record.type;
  return typeof record.ml_type === "string" ? record.ml_type : undefined;
}

/**
 * Checks retention policies against a hierarchy.
 * @throws {ValidationError} a policy without a name or age, or a level label the hierarchy does not have.
 */
export function checkRetentionPolicies(policies: readonly RetentionPolicy[], hierarchy: ArtifactHierarchy): void {
  const errors: FieldError[] = [];
  const labels = new Set(Object.values(hierarchy.level_labels ?? {}));
  policies.forEach((policy, index) => {
    const loc = ["retention", index];
    if (!policy.name) errors.push({ loc: [...loc, "name"], msg: "Field required", type: "missing" });
    if (!(policy.maxAgeDays >= 0)) errors.push({ loc: [...loc, "maxAgeDays"], msg: "Input should be a number of days >= 0", type: "greater_than_equal" });
    if (typeof policy.level === "string" && !labels.has(policy.level) && !/^level_\d+$/.test(policy.level)) {
      errors.push({ loc: [...loc, "level"], msg: `No level labelled "${policy.level}" in hierarchy ${hierarchy.name}`, type: "value_error" });
    }
  });
  if (errors.length > 0) throw new ValidationError(errors);
}

/**
 * Retention of artifacts: an expiry per artifact (`expires_at`), policies
 * per level and type, and a legal hold that exempts an artifact from both.
 * {@link ArtifactRetention.enforce} deletes what is due through the
 * manager (payload references released, events published); an artifact is
 * deleted with its subtree, so a due artifact whose subtree holds an
 * artifact under legal hold is kept whole.
 */
export class ArtifactRetention {
  readonly #db: Driver;
  readonly #artifacts: ArtifactManager;
  readonly #policies: readonly RetentionPolicy[];
  readonly #hierarchy: ArtifactHierarchy;

  /** Creates the retention of a manager's artifacts with these policies. @throws {ValidationError} bad policies. */
  constructor(artifacts: ArtifactManager, policies: readonly RetentionPolicy[] = []) {
    checkRetentionPolicies(policies, artifacts.hierarchy);
    this.#artifacts = artifacts;
    this.#db = artifacts.store.db;
    this.#policies = policies;
    this.#hierarchy = artifacts.hierarchy;
  }

  /** The artifact's retention settings. @throws {NotFoundError} unknown artifact. */
  async get(id: string): Promise<ArtifactRetentionInfo> {
    if (!(await this.#artifacts.store.exists(id))) throw new NotFoundError(`Artifact with id ${id} not found`);
    const rows = await this.#db.query<RetentionRow>(
      `SELECT "artifact_id", "expires_at", "legal_hold" FROM "artifact_retention" WHERE "artifact_id" = ?`,
      [id],
    );
    const row = rows[0];
    return { artifact_id: id, expires_at: row?.expires_at ?? null, legal_hold: row ? Boolean(row.legal_hold) : false };
  }

  /**
   * Changes the artifact's expiry and legal hold (an absent field keeps its
   * value; `expires_at: null` removes the expiry).
   * @throws {NotFoundError} unknown artifact.
   */
  async set(id: string, change: { expires_at?: string | null; legal_hold?: boolean }): Promise<ArtifactRetentionInfo> {
    const current = await this.get(id);
    const next = {
      expires_at: change.expires_at === undefined ? current.expires_at : change.expires_at === null ? null : new Date(change.expires_at).toISOString(),
      legal_hold: change.legal_hold ?? current.legal_hold,
    };
    await this.#db.exec(
      `INSERT INTO "artifact_retention" ("artifact_id", "expires_at", "legal_hold") VALUES (?, ?, ?)
       ON CONFLICT ("artifact_id") DO UPDATE SET "expires_at" = excluded."expires_at", "legal_hold" = excluded."legal_hold"`,
      [id, next.expires_at, this.#db.dialect === "postgres" ? next.legal_hold : next.legal_hold ? 1 : 0],
    );
    return { artifact_id: id, ...next };
  }

  /** Deletes every artifact that is due at `now` (default: now), sparing those under legal hold. */
  async enforce(now: Date = new Date()): Promise<RetentionReport> {
    const report: RetentionReport = { expired: 0, policies: {}, held: 0 };
    const spared = new Set<string>();
    const cutoff = now.toISOString();
    report.expired = await this.#deleteDue(
      `SELECT r."artifact_id" AS "id" FROM "artifact_retention" r WHERE r."expires_at" IS NOT NULL AND r."expires_at" <= ? AND ${this.#notHeld("r")}`,
      [cutoff],
      spared,
      report,
    );
    for (const policy of this.#policies) {
      report.policies[policy.name] = await this.#enforcePolicy(policy, now, spared, report);
    }
    return report;
  }

  #notHeld(alias: string): string {
    return this.#db.dialect === "postgres" ? `NOT ${alias}."legal_hold"` : `${alias}."legal_hold" = 0`;
  }

  async #enforcePolicy(policy: RetentionPolicy, now: Date, spared: Set<string>, report: RetentionReport): Promise<number> {
    const created = new Date(now.getTime() - policy.maxAgeDays * 86_400_000).toISOString();
    const level = this.#levelOf(policy.level);
    const conditions = [`a."created_at" < ?`, `(r."legal_hold" IS NULL OR ${this.#notHeld("r")})`];
    const params: (string | number)[] = [created];
    if (level !== undefined) {
      conditions.push(`a."level" = ?`);
      params.push(level);
    }
    const select = `SELECT a."id" AS "id", a."data" AS "data" FROM "artifacts" a LEFT JOIN "artifact_retention" r ON r."artifact_id" = a."id" WHERE ${conditions.join(" AND ")}`;
    const type = policy.type;
    return this.#deleteDue(select, params, spared, report, type === undefined ? undefined : (row) => typeOf(this.#decode(row.data)) === type);
  }

  #levelOf(level: number | string | undefined): number | undefined {
    if (level === undefined || typeof level === "number") return level;
    for (const [key, label] of Object.entries(this.#hierarchy.level_labels ?? {})) if (label === level) return Number(key);
    const match = /^level_(\d+)$/.exec(level);
    return match ? Number(match[1]) : -1;
  }

  #decode(data: unknown): unknown {
    return typeof data === "string" ? JSON.parse(data) : data;
  }

  /** Deletes the artifacts `select` finds (ids after the last seen, in batches), each with its subtree unless that holds a held artifact. */
  async #deleteDue(
    select: string,
    params: (string | number)[],
    spared: Set<string>,
    report: RetentionReport,
    matches?: (row: Record<string, unknown>) => boolean,
  ): Promise<number> {
    let deleted = 0;
    let after = "";
    for (;;) {
      const rows = await this.#db.query<Record<string, unknown> & { id: string }>(
        `SELECT * FROM (${select}) due WHERE due."id" > ? ORDER BY due."id" LIMIT ${BATCH}`,
        [...params, after],
      );
      for (const row of rows) {
        if (spared.has(row.id) || (matches && !matches(row))) continue;
        if (await this.#holdsHeld(row.id)) {
          spared.add(row.id);
          report.held += 1;
          continue;
        }
        try {
          await this.#artifacts.delete(row.id);
          deleted += 1;
        } catch (error) {
          // Deleted meanwhile with an ancestor (or by another instance): nothing left to do.
          if (!(error instanceof NotFoundError)) throw error;
        }
      }
      if (rows.length < BATCH) return deleted;
      after = rows[rows.length - 1]!.id;
    }
  }

  async #holdsHeld(id: string): Promise<boolean> {
    const ids = [id, ...(await this.#artifacts.store.descendantIds(id))];
    for (let i = 0; i < ids.length; i += 500) {
      const batch = ids.slice(i, i + 500);
      const rows = await this.#db.query(
        `SELECT 1 AS "held" FROM "artifact_retention" WHERE NOT (${this.#notHeld("artifact_retention")}) AND "artifact_id" IN (${batch.map(() => "?").join(", ")}) LIMIT 1`,
        batch,
      );
      if (rows.length > 0) return true;
    }
    return false;
  }
}
