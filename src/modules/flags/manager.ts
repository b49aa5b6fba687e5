import type { Static } from "@sinclair/typebox";
import { parseFilter } from "../../core/query/filter-parse.ts";
import { Manager, type ManagerEvents } from "../../core/manager.ts";
import type { Filter } from "../../core/query/model.ts";
import type { Repository, UpdateValues } from "../../core/repository.ts";
import { FLAG_VARIABLES, type FlagSubject, matchesRule, rolloutBucket } from "./evaluate.ts";
import { type FlagInSchema, FlagInSchema as FlagIn, type FlagOutSchema, FlagOutSchema as FlagOut, type FlagRecord } from "./schema.ts";

/** How a {@link FlagManager} is made. */
export interface FlagManagerOptions {
  /** Where flags live. */
  repository: Repository<FlagRecord>;
  /**
   * How long (ms) the in-memory copy of the flags is trusted before the next
   * evaluation re-reads the table (default 1000). This bounds how late another
   * instance on the same store sees a change; this instance's own writes
   * clear the copy at once.
   */
  cacheTtlMs?: number;
  /** The clock (tests). */
  now?: () => number;
  /** Publishes `entity.*` events of committed writes (collection `flags`). */
  events?: ManagerEvents;
}

interface CompiledFlag {
  record: FlagRecord;
  rule: Filter | null;
}

type FlagInput = Static<FlagInSchema>;

/** Parses a rule as it is checked at write time: only the flag variables, errors name `rule`. */
function parseRule(rule: string): Filter {
  return parseFilter(rule, { parameter: "rule", variables: FLAG_VARIABLES });
}

/**
 * Feature flags: CRUD over the `flags` table, and {@link FlagManager.enabled}
 * which answers a flag for a subject from an in-memory copy (re-read after
 * `cacheTtlMs`, cleared by this instance's writes). A flag is on for a
 * subject when it is enabled, the subject matches its rule, and the subject's
 * key falls in its percentage (a stable hash of flag name + key, so a key
 * keeps its answer). Unknown flags are off. Rules are checked when written:
 * an unknown variable or bad syntax is a 400 `invalid-query`.
 *
 * @example
 * ```ts ignore
 * await flags.create({ name: "new-ui", percentage: 25, rule: '$user.role = "admin" || $request.header.x-beta = "1"' });
 * if (await flags.enabled("new-ui", { key: user.id, user, request })) { ... }
 * ```
 */
export class FlagManager extends Manager<FlagRecord, FlagInSchema, FlagOutSchema> {
  readonly #ttl: number;
  readonly #now: () => number;
  #cache: Map<string, CompiledFlag> | null = null;
  #loadedAt = 0;
  #loading: Promise<Map<string, CompiledFlag>> | null = null;

  constructor(options: FlagManagerOptions) {
    const check = (input: FlagInput): void => {
      if (typeof input.rule === "string") parseRule(input.rule);
    };
    const clear = (): void => this.invalidate();
    super({
      repository: options.repository,
      input: FlagIn,
      output: FlagOut,
      toValues: (input: FlagInput, existing: FlagRecord | null): UpdateValues<FlagRecord> => ({
        name: input.name,
        enabled: input.enabled ?? existing?.enabled ?? true,
        percentage: input.percentage ?? existing?.percentage ?? 100,
        rule: input.rule === undefined ? existing?.rule ?? null : input.rule,
        description: input.description === undefined ? existing?.description ?? null : input.description,
      }),
      toOutput: (record: FlagRecord) => ({
        id: record.id,
        created_at: record.created_at,
        updated_at: record.updated_at,
        name: record.name,
        enabled: Boolean(record.enabled),
        percentage: record.percentage,
        rule: record.rule,
        description: record.description,
      }),
      hooks: {
        beforeCreate: check,
        beforeUpdate: check,
        afterCreate: clear,
        afterUpdate: clear,
        afterDelete: clear,
      },
      ...(options.events ? { events: options.events } : {}),
    });
    this.#ttl = options.cacheTtlMs ?? 1000;
    this.#now = options.now ?? Date.now;
  }

  /** Drops the in-memory copy: the next evaluation re-reads the table (what SIGHUP and this instance's writes do). */
  invalidate(): void {
    this.#cache = null;
  }

  /** Whether flag `name` is on for `subject`; unknown flags are off. */
  async enabled(name: string, subject: FlagSubject): Promise<boolean> {
    const flag = (await this.#flags()).get(name);
    if (!flag || !flag.record.enabled) return false;
    if (flag.rule && !matchesRule(flag.rule, subject)) return false;
    const percentage = flag.record.percentage;
    if (percentage >= 100) return true;
    return rolloutBucket(name, subject.key) < Math.round(percentage * 100);
  }

  async #flags(): Promise<Map<string, CompiledFlag>> {
    if (this.#cache && this.#now() - this.#loadedAt < this.#ttl) return this.#cache;
    this.#loading ??= this.#load().finally(() => {
      this.#loading = null;
    });
    return await this.#loading;
  }

  async #load(): Promise<Map<string, CompiledFlag>> {
    const startedAt = this.#now();
    const records = await this.repository.findMany();
    const flags = new Map<string, CompiledFlag>();
    for (const record of records) {
      let rule: Filter | null = null;
      try {
        rule = record.rule ? parseRule(record.rule) : null;
      } catch {
        // A rule that no longer parses (written outside the API) keeps its flag off.
        flags.set(record.name, { record: { ...record, enabled: false }, rule: null });
        continue;
      }
      flags.set(record.name, { record, rule });
    }
    this.#cache = flags;
    this.#loadedAt = startedAt;
    return flags;
  }
}
