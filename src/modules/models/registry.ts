/**
 * ModelRegistry: named models, their semver versions and aliases, on one
 * store, usable from code without HTTP (the routes are a thin layer over it).
 *
 * @module
 */
import { BadRequestError, ConflictError, NotFoundError, ValidationError } from "../../core/errors.ts";
import { newUlid } from "../../core/ulid.ts";
import type { Driver, Executor, Row } from "../../db/driver.ts";
import { mapDriverError } from "../../db/sql-errors.ts";
import { nextSemver, parseSemver, type SemVer } from "./_semver.ts";
import type {
  AliasEvent,
  ModelComparison,
  ModelSummary,
  ModelVersion,
  ModelVersionInput,
  ModelVersionStatus,
} from "./schema.ts";

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

/** What the registry announces: a version registered, an alias moved, a status changed. */
export type RegistryEvent =
  | { type: "model.registered"; name: string; version: string; id: string; artifact_id: string | null }
  | {
    type: "model.promoted";
    /** The audit event's id. */
    id: string;
    name: string;
    alias: string;
    from_version: string | null;
    to_version: string | null;
    action: AliasEvent["action"];
    actor: string;
  }
  | { type: "model.status_changed"; name: string; version: string; status: ModelVersionStatus };

/** Who did it and why, for the alias audit trail. */
export interface ChangeOptions {
  /** Default `system`. */
  actor?: string;
  reason?: string;
}

/** Options of {@link ModelRegistry}. */
export interface ModelRegistryOptions {
  /** The clock (tests). */
  now?: () => Date;
  /**
   * How long (ms) {@link ModelRegistry.resolve} trusts its copy of a model's
   * versions and aliases (default 1000): this bounds how late another
   * instance's alias move is seen; this instance's own writes clear it.
   */
  cacheTtlMs?: number;
}

interface Snapshot {
  at: number;
  versions: ModelVersion[];
  aliases: Record<string, string>;
}

interface VersionRow extends Row {
  id: string;
  name: string;
  version: string;
  description: string | null;
  status: ModelVersionStatus;
  metrics: string;
  params: string;
  tags: string;
  config: string | null;
  config_id: string | null;
  data_hash: string | null;
  artifact_id: string | null;
  created_at: string;
  updated_at: string;
}

const VERSION_COLUMNS =
  "id, name, version, description, status, metrics, params, tags, config, config_id, data_hash, artifact_id, created_at, updated_at";
const ORDER = "major DESC, minor DESC, patch DESC, prerelease = '' DESC, prerelease DESC";

function checkName(value: string, what: "model" | "alias"): void {
  if (!NAME.test(value)) {
    throw new ValidationError([{
      loc: ["path", what === "model" ? "name" : "alias"],
      msg: `Invalid ${what} name ${JSON.stringify(value)}: use letters, digits, _, . and - (1-100, starting with a letter or digit)`,
      type: "value_error",
    }]);
  }
}

function semverOf(version: string, loc: (string | number)[]): SemVer {
  const parsed = parseSemver(version);
  if (!parsed) {
    throw new ValidationError([{ loc, msg: `${JSON.stringify(version)} is not a semantic version (major.minor.patch)`, type: "value_error" }]);
  }
  return parsed;
}

function parseJson<T>(text: string | null, fallback: T): T {
  return text === null || text === undefined ? fallback : JSON.parse(text) as T;
}

/**
 * The model registry. Every version belongs to a named model and has a
 * unique semantic version (given, or a minor bump of the latest), its
 * metrics, params, tags, training config, data hash and artifact, and a
 * status (`active`, `deprecated`, `archived`). Aliases (`production`,
 * `champion`, any name) point at versions; a move is one transaction that
 * also writes the audit event, and `rollbackAlias` moves an alias back to
 * where its last move took it from. References such as `"name@champion"`,
 * `"name@1.2.0"` or `"name"` resolve to a version with {@link resolve}.
 *
 * @example
 * ```ts ignore
 * const registry = new ModelRegistry(db);
 * await registry.register("dengue", { metrics: { rmse: 1.2 }, artifact_id });
 * await registry.moveAlias("dengue", "production", "1.0.0", { actor: "ci" });
 * const version = await registry.resolve("dengue@production");
 * ```
 */
export class ModelRegistry {
  readonly #db: Driver;
  readonly #now: () => Date;
  readonly #listeners = new Set<(event: RegistryEvent) => void>();
  readonly #ttl: number;
  readonly #snapshots = new Map<string, Snapshot>();

  /** Creates the registry over a migrated store (see `MODELS_MIGRATIONS`). */
  constructor(db: Driver, options: ModelRegistryOptions = {}) {
    this.#db = db;
    this.#now = options.now ?? (() => new Date());
    this.#ttl = options.cacheTtlMs ?? 1000;
  }

  async #snapshot(name: string): Promise<Snapshot> {
    const cached = this.#snapshots.get(name);
    const now = Date.now();
    if (cached && now - cached.at < this.#ttl) return cached;
    const snapshot = { at: now, versions: await this.versions(name), aliases: await this.aliases(name) };
    if (this.#ttl > 0) this.#snapshots.set(name, snapshot);
    return snapshot;
  }

  /** Calls `listener` after each committed change; returns the remover. A throwing listener is ignored. */
  onEvent(listener: (event: RegistryEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(event: RegistryEvent): void {
    this.#snapshots.delete(event.name);
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A consumer's failure must not undo a committed change.
      }
    }
  }

  /**
   * Registers a new version of `name` (the model exists once it has a version).
   *
   * @throws {ValidationError} for a bad name or version; {@link ConflictError} when the version exists.
   */
  async register(name: string, input: ModelVersionInput = {}): Promise<ModelVersion> {
    checkName(name, "model");
    if (input.version !== undefined) semverOf(input.version, ["body", "version"]);
    for (const [key, value] of Object.entries(input.metrics ?? {})) {
      if (typeof value !== "number" || !Number.isFinite(value)) {
        throw new ValidationError([{ loc: ["body", "metrics", key], msg: "Metrics must be finite numbers", type: "value_error" }]);
      }
    }
    const at = this.#now().toISOString();
    const id = newUlid();
    const insert = async (tx: Executor): Promise<string> => {
      let version = input.version;
      if (version === undefined) {
        const [latest] = await tx.query<{ version: string }>(
          `SELECT version FROM model_versions WHERE name = ? ORDER BY ${ORDER} LIMIT 1`,
          [name],
        );
        version = nextSemver(latest ? parseSemver(latest.version) : null);
      }
      const v = semverOf(version, ["body", "version"]);
      await tx.exec(
        `INSERT INTO model_versions (${VERSION_COLUMNS}, major, minor, patch, prerelease)
         VALUES (?, ?, ?, ?, 'active', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          id, name, version, input.description ?? null,
          JSON.stringify(input.metrics ?? {}), JSON.stringify(input.params ?? {}), JSON.stringify(input.tags ?? []),
          input.config === undefined || input.config === null ? null : JSON.stringify(input.config),
          input.config_id ?? null, input.data_hash ?? null, input.artifact_id ?? null, at, at,
          v.major, v.minor, v.patch, v.prerelease,
        ],
      );
      return version;
    };
    let version: string;
    try {
      version = await this.#db.transaction(insert);
    } catch (error) {
      const mapped = mapDriverError(error);
      if (mapped instanceof ConflictError) {
        // Another writer took the same automatic version: take the next one (given versions stay a conflict).
        if (input.version !== undefined) throw new ConflictError(`Model ${name} already has version ${input.version}`);
        version = await this.#db.transaction(insert).catch((again: unknown) => {
          throw mapDriverError(again);
        });
      } else throw mapped;
    }
    this.#emit({ type: "model.registered", name, version, id, artifact_id: input.artifact_id ?? null });
    return await this.version(name, version);
  }

  /** Every named model with its latest version, version count and aliases. */
  async models(): Promise<ModelSummary[]> {
    const rows = await this.#db.query<{ name: string; n: number | string; updated_at: string }>(
      "SELECT name, COUNT(*) AS n, MAX(updated_at) AS updated_at FROM model_versions GROUP BY name ORDER BY name",
    );
    return await Promise.all(rows.map((row) => this.#summary(row.name, Number(row.n), row.updated_at)));
  }

  /**
   * One named model's summary.
   *
   * @throws {NotFoundError} when it has no version.
   */
  async model(name: string): Promise<ModelSummary> {
    const [row] = await this.#db.query<{ n: number | string; updated_at: string | null }>(
      "SELECT COUNT(*) AS n, MAX(updated_at) AS updated_at FROM model_versions WHERE name = ?",
      [name],
    );
    if (!row || Number(row.n) === 0) throw new NotFoundError(`Model ${name} not found`);
    return await this.#summary(name, Number(row.n), row.updated_at ?? "");
  }

  async #summary(name: string, count: number, updatedAt: string): Promise<ModelSummary> {
    const [latest] = await this.#db.query<{ version: string }>(
      `SELECT version FROM model_versions WHERE name = ? ORDER BY ${ORDER} LIMIT 1`,
      [name],
    );
    return { name, latest_version: latest?.version ?? "", version_count: count, aliases: await this.aliases(name), updated_at: updatedAt };
  }

  /** The versions of `name`, highest first (optionally only those of one status). */
  async versions(name: string, options: { status?: ModelVersionStatus } = {}): Promise<ModelVersion[]> {
    const where = options.status ? " AND status = ?" : "";
    const rows = await this.#db.query<VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM model_versions WHERE name = ?${where} ORDER BY ${ORDER}`,
      options.status ? [name, options.status] : [name],
    );
    const aliases = await this.aliases(name);
    return rows.map((row) => this.#decode(row, aliases));
  }

  /**
   * One version.
   *
   * @throws {NotFoundError} when the model or version does not exist.
   */
  async version(name: string, version: string): Promise<ModelVersion> {
    const [row] = await this.#db.query<VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM model_versions WHERE name = ? AND version = ?`,
      [name, version],
    );
    if (!row) throw new NotFoundError(`Model ${name} has no version ${version}`);
    return this.#decode(row, await this.aliases(name));
  }

  /** The version whose trained model is artifact `artifactId`, if any. */
  async versionOfArtifact(artifactId: string): Promise<ModelVersion | null> {
    const [row] = await this.#db.query<VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM model_versions WHERE artifact_id = ? ORDER BY id DESC LIMIT 1`,
      [artifactId],
    );
    return row ? this.#decode(row, await this.aliases(row.name)) : null;
  }

  #decode(row: VersionRow, aliases: Record<string, string>): ModelVersion {
    return {
      id: row.id,
      name: row.name,
      version: row.version,
      description: row.description,
      status: row.status,
      metrics: parseJson(row.metrics, {}),
      params: parseJson(row.params, {}),
      tags: parseJson(row.tags, []),
      config: parseJson(row.config, null),
      config_id: row.config_id,
      data_hash: row.data_hash,
      artifact_id: row.artifact_id,
      aliases: Object.entries(aliases).filter(([, v]) => v === row.version).map(([alias]) => alias).sort(),
      created_at: row.created_at,
      updated_at: row.updated_at,
    };
  }

  /**
   * Sets a version's status (`deprecated`, `archived` or back to `active`).
   * An aliased version cannot be archived: move its aliases first.
   *
   * @throws {NotFoundError} for an unknown version; {@link ConflictError} when archiving an aliased version.
   */
  async setStatus(name: string, version: string, status: ModelVersionStatus): Promise<ModelVersion> {
    const current = await this.version(name, version);
    if (status === "archived" && current.aliases.length > 0) {
      throw new ConflictError(`Version ${version} of ${name} is aliased (${current.aliases.join(", ")}): move its aliases first`);
    }
    if (current.status !== status) {
      await this.#db.exec("UPDATE model_versions SET status = ?, updated_at = ? WHERE id = ?", [
        status,
        this.#now().toISOString(),
        current.id,
      ]);
      this.#emit({ type: "model.status_changed", name, version, status });
    }
    return await this.version(name, version);
  }

  /**
   * Metrics side by side and the params that differ, for two or more versions.
   *
   * @throws {BadRequestError} for fewer than two versions; {@link NotFoundError} for an unknown one.
   */
  async compare(name: string, versions: readonly string[]): Promise<ModelComparison> {
    const wanted = [...new Set(versions)];
    if (wanted.length < 2) throw new BadRequestError("Compare needs at least two distinct versions");
    const records = await Promise.all(wanted.map((v) => this.version(name, v)));
    const metrics: ModelComparison["metrics"] = {};
    for (const key of [...new Set(records.flatMap((r) => Object.keys(r.metrics)))].sort()) {
      metrics[key] = Object.fromEntries(records.map((r) => [r.version, r.metrics[key] ?? null]));
    }
    const paramsDiff: ModelComparison["params_diff"] = {};
    const paramsSame: ModelComparison["params_same"] = {};
    for (const key of [...new Set(records.flatMap((r) => Object.keys(r.params)))].sort()) {
      const values = records.map((r) => r.params[key]);
      const texts = new Set(values.map((value) => JSON.stringify(value ?? null)));
      if (texts.size === 1) paramsSame[key] = values[0];
      else paramsDiff[key] = Object.fromEntries(records.map((r) => [r.version, r.params[key] ?? null]));
    }
    return { name, versions: wanted, metrics, params_diff: paramsDiff, params_same: paramsSame };
  }

  /** Alias → version of `name`. */
  async aliases(name: string): Promise<Record<string, string>> {
    const rows = await this.#db.query<{ alias: string; version: string }>(
      "SELECT alias, version FROM model_aliases WHERE name = ? ORDER BY alias",
      [name],
    );
    return Object.fromEntries(rows.map((row) => [row.alias, row.version]));
  }

  /** Every alias of every model: `[name, alias, version]`. */
  async allAliases(): Promise<{ name: string; alias: string; version: string }[]> {
    return await this.#db.query<{ name: string; alias: string; version: string }>(
      "SELECT name, alias, version FROM model_aliases ORDER BY name, alias",
    );
  }

  /**
   * Points `alias` of `name` at `version`, atomically with its audit event.
   *
   * @throws {NotFoundError} for an unknown version; {@link ConflictError} when the version is archived.
   */
  async moveAlias(name: string, alias: string, version: string, options: ChangeOptions = {}): Promise<AliasEvent> {
    checkName(alias, "alias");
    const target = await this.version(name, version);
    if (target.status === "archived") throw new ConflictError(`Version ${version} of ${name} is archived`);
    return await this.#move(name, alias, version, "move", options);
  }

  /**
   * Moves `alias` back to the version its last move took it from.
   *
   * @throws {NotFoundError} when the alias does not exist; {@link ConflictError} when it has no earlier target.
   */
  async rollbackAlias(name: string, alias: string, options: ChangeOptions = {}): Promise<AliasEvent> {
    const [last] = await this.#db.query<{ from_version: string | null; to_version: string | null }>(
      "SELECT from_version, to_version FROM model_alias_events WHERE name = ? AND alias = ? ORDER BY id DESC LIMIT 1",
      [name, alias],
    );
    const current = (await this.aliases(name))[alias];
    if (!last || current === undefined) throw new NotFoundError(`Model ${name} has no alias ${alias}`);
    if (last.from_version === null) throw new ConflictError(`Alias ${alias} of ${name} has no earlier target to roll back to`);
    return await this.#move(name, alias, last.from_version, "rollback", options);
  }

  /**
   * Removes an alias (audited).
   *
   * @throws {NotFoundError} when it does not exist.
   */
  async deleteAlias(name: string, alias: string, options: ChangeOptions = {}): Promise<AliasEvent> {
    if ((await this.aliases(name))[alias] === undefined) throw new NotFoundError(`Model ${name} has no alias ${alias}`);
    return await this.#move(name, alias, null, "delete", options);
  }

  async #move(name: string, alias: string, to: string | null, action: AliasEvent["action"], options: ChangeOptions): Promise<AliasEvent> {
    const at = this.#now().toISOString();
    const event = await this.#db.transaction(async (tx): Promise<AliasEvent> => {
      const lock = tx.dialect === "postgres" ? " FOR UPDATE" : "";
      const [row] = await tx.query<{ version: string }>(
        `SELECT version FROM model_aliases WHERE name = ? AND alias = ?${lock}`,
        [name, alias],
      );
      if (to === null) {
        await tx.exec("DELETE FROM model_aliases WHERE name = ? AND alias = ?", [name, alias]);
      } else {
        await tx.exec(
          `INSERT INTO model_aliases (name, alias, version, updated_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at`,
          [name, alias, to, at],
        );
      }
      const event: AliasEvent = {
        id: newUlid(),
        name,
        alias,
        from_version: row?.version ?? null,
        to_version: to,
        action,
        actor: options.actor ?? "system",
        reason: options.reason ?? null,
        at,
      };
      await tx.exec(
        `INSERT INTO model_alias_events (id, name, alias, from_version, to_version, action, actor, reason, at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [event.id, name, alias, event.from_version, to, action, event.actor, event.reason, at],
      );
      return event;
    });
    this.#emit({
      type: "model.promoted",
      id: event.id,
      name,
      alias,
      from_version: event.from_version,
      to_version: event.to_version,
      action,
      actor: event.actor,
    });
    return event;
  }

  /** The audit trail of `name`'s aliases (of one alias when given), newest first. */
  async aliasHistory(name: string, alias?: string): Promise<AliasEvent[]> {
    const rows = await this.#db.query<AliasEvent & Row>(
      `SELECT id, name, alias, from_version, to_version, action, actor, reason, at FROM model_alias_events
       WHERE name = ?${alias === undefined ? "" : " AND alias = ?"} ORDER BY id DESC`,
      alias === undefined ? [name] : [name, alias],
    );
    return rows.map((row) => ({ ...row }));
  }

  /**
   * The version a reference names: `name@alias`, `name@1.2.0`, or `name`
   * alone (its `production` alias, else its highest active version).
   *
   * @throws {NotFoundError} when nothing matches; {@link ValidationError} for a malformed reference.
   */
  async resolve(reference: string): Promise<ModelVersion> {
    const at = reference.indexOf("@");
    const name = at < 0 ? reference : reference.slice(0, at);
    const selector = at < 0 ? "" : reference.slice(at + 1);
    checkName(name, "model");
    const snapshot = await this.#snapshot(name);
    const find = (version: string): ModelVersion => {
      const found = snapshot.versions.find((v) => v.version === version);
      if (!found) throw new NotFoundError(`Model ${name} has no version ${version}`);
      return found;
    };
    if (selector !== "") {
      if (parseSemver(selector)) return find(selector);
      checkName(selector, "alias");
      const version = snapshot.aliases[selector];
      if (version === undefined) throw new NotFoundError(`Model ${name} has no alias ${selector}`);
      return find(version);
    }
    const production = snapshot.aliases.production;
    if (production !== undefined) return find(production);
    const active = snapshot.versions.find((v) => v.status === "active");
    if (!active) throw new NotFoundError(`Model ${name} has no active version`);
    return active;
  }
}

